package layers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// AnalyzerVersion changes whenever [Index] would produce a different index
// for the same bytes, so cached indexes from older versions are not reused.
const AnalyzerVersion = 7

// CacheKey is the key under which a layer's index is cached: its diffID, the
// analyzer version, and everything in opts that changes the index.
func CacheKey(diffID v1.Hash, opts Options) string {
	caps := append([]string(nil), opts.Capture...)
	sort.Strings(caps)
	caps = slices.Compact(caps) // the same set of patterns, the same key
	lim := opts.Limits.withDefaults()
	lim.MaxLayers = 0 // a limit on the image, not on what a layer's index holds
	h := sha256.New()
	fmt.Fprintf(h, "v%d\n%s\n%+v\n", AnalyzerVersion, strings.Join(caps, "\n"), lim)
	return fmt.Sprintf("%s-%s-%s", diffID.Algorithm, diffID.Hex, hex.EncodeToString(h.Sum(nil))[:16])
}

// KeyDiffID returns the diffID a key of [CacheKey] was made from; false
// when key is not such a key.
func KeyDiffID(key string) (v1.Hash, bool) {
	parts := strings.Split(key, "-")
	if len(parts) != 3 {
		return v1.Hash{}, false
	}
	h, err := v1.NewHash(parts[0] + ":" + parts[1])
	if err != nil {
		return v1.Hash{}, false
	}
	return h, true
}
