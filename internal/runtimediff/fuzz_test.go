package runtimediff_test

import (
	"testing"

	rd "github.com/imgaudit/imgaudit/internal/runtimediff"
)

// FuzzRuntimeDiff decodes the fuzzer's bytes into a layer stack (the
// generator of TestGenerated, each byte one choice) and fails where the
// audit departs from containerd. It needs root and overlayfs, as
// scripts/fuzz.sh has them.
func FuzzRuntimeDiff(f *testing.F) {
	rd.Require(f)
	for _, seed := range [][]byte{
		{},
		{3, 5, 2, 1, 4, 3, 0, 6, 2, 4, 1},
		{1, 3, 9, 1, 2, 0, 5, 7, 1, 0, 0, 3, 8, 1},
		{2, 2, 4, 2, 3, 4, 1, 0, 1, 5, 3, 2, 0, 0, 6, 3, 4, 0},
		{0, 1, 9, 2, 1, 3, 0, 2},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := rd.Gen(rd.ByteSource(data))
		tars, err := s.Tars()
		if err != nil {
			t.Fatal(err)
		}
		rd.Check(t, tars, false, s.String)
	})
}
