package layers_test

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// lyingLayer claims a diffID its bytes do not have.
type lyingLayer struct{ v1.Layer }

func (lyingLayer) DiffID() (v1.Hash, error) {
	return v1.NewHash("sha256:0000000000000000000000000000000000000000000000000000000000000000")
}
