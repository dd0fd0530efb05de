package audit

import "github.com/imgaudit/imgaudit/internal/oneline"

// imageError is the error of one image: its reference, then the cause, on
// one printable line (a hostile layer's file names and a registry's error
// bodies end up in causes).
type imageError struct {
	ref string
	err error
}

func (e *imageError) Error() string { return oneline.Fold(e.ref + ": " + e.err.Error()) }

func (e *imageError) Unwrap() error { return e.err }
