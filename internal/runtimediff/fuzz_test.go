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
	// The choices of generated stacks that show each kind of divergence
	// the survey found, and an empty input (one plain directory).
	f.Add([]byte{})
	for _, seed := range []uint64{0, 3, 5, 14, 25, 68, 71, 93, 113, 123, 355, 463, 942, 1113} {
		f.Add(rd.Choices(seed))
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
