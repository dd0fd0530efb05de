package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// reportCacheVersion changes whenever a cached image report would no
// longer be what Target computes for the same key.
const reportCacheVersion = 1

// reportCacheKey is the key of an image's audit in the layer cache (a
// layers.BlobCache): the tool version, the image (reference, digest,
// index, platform), the checks that run, whether packages are catalogued,
// and every layer's cache key (diffID, analyzer version, captures,
// limits). "" when audits are not cached: no blob cache, or a development
// build ("dev"), whose checks may change under the same version.
func (o Options) reportCacheKey(t fetch.Target, cfg *v1.ConfigFile, cs []checks.Check, lo layers.Options) string {
	if o.blobCache() == nil || o.toolVersion() == "dev" || t.Digest.Hex == "" {
		return ""
	}
	h := sha256.New()
	fmt.Fprintf(h, "report v%d\nimgaudit %s\n%s\n%s\n%s\n%v\n%s\nsbom %t\n", reportCacheVersion, o.toolVersion(),
		t.Reference, t.Digest, t.IndexDigest, t.Platform, t.PlatformNote, o.SBOM)
	for _, m := range checks.Metas(cs) {
		fmt.Fprintln(h, m.ID)
	}
	for _, d := range cfg.RootFS.DiffIDs {
		fmt.Fprintln(h, layers.CacheKey(d, lo))
	}
	return "report-" + hex.EncodeToString(h.Sum(nil))[:32]
}

// cachedReport returns the image's audit from the cache, if it is there
// and can be read.
func (o Options) cachedReport(ctx context.Context, key string) (report.Image, bool) {
	b, err := o.blobCache().GetBlob(ctx, key)
	if err != nil || b == nil {
		return report.Image{}, false
	}
	var ri report.Image
	if err := json.Unmarshal(b, &ri); err != nil || ri.Error != "" || ri.Findings == nil {
		return report.Image{}, false
	}
	return ri, true
}

// cacheReport stores the image's audit; a cache that cannot store it costs
// a later baseline time, not this audit.
func (o Options) cacheReport(ctx context.Context, key string, ri report.Image) {
	if b, err := json.Marshal(ri); err == nil {
		_ = o.blobCache().PutBlob(ctx, key, b)
	}
}
