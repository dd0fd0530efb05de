package regcache

import (
	"context"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Tiered puts a local cache (a layers.DiskCache) in front of a registry
// cache: Get asks the local cache, then the registry, and keeps a registry
// hit locally; Put writes both. The registry's failures are misses and
// lost writes, counted by the Cache and never returned: a shared cache that
// cannot be reached makes an audit slower, never wrong or failed. It
// implements layers.Cache and layers.BlobCache.
type Tiered struct {
	local  layers.Cache // nil: the registry alone
	shared *Cache
}

var (
	_ layers.Cache     = (*Tiered)(nil)
	_ layers.BlobCache = (*Tiered)(nil)
)

// NewTiered returns shared behind local (nil for none). Blobs are kept
// locally when local is also a layers.BlobCache.
func NewTiered(local layers.Cache, shared *Cache) *Tiered {
	return &Tiered{local: local, shared: shared}
}

// Shared returns the registry cache.
func (t *Tiered) Shared() *Cache { return t.shared }

// Get returns key's index from the local cache or else from the registry.
func (t *Tiered) Get(ctx context.Context, key string) (*layers.LayerIndex, error) {
	if t.local != nil {
		if idx, err := t.local.Get(ctx, key); err == nil && idx != nil {
			return idx, nil
		}
	}
	idx, err := t.shared.Get(ctx, key)
	if err != nil || idx == nil {
		return nil, nil
	}
	if t.local != nil {
		_ = t.local.Put(ctx, key, idx) // a local cache that cannot store costs time only
	}
	return idx, nil
}

// Put stores idx in both caches; only the local cache's error is
// returned.
func (t *Tiered) Put(ctx context.Context, key string, idx *layers.LayerIndex) error {
	var err error
	if t.local != nil {
		err = t.local.Put(ctx, key, idx)
	}
	_ = t.shared.Put(ctx, key, idx)
	return err
}

func (t *Tiered) localBlobs() layers.BlobCache {
	bc, _ := t.local.(layers.BlobCache)
	return bc
}

// GetBlob returns key's bytes from the local cache or else from the
// registry.
func (t *Tiered) GetBlob(ctx context.Context, key string) ([]byte, error) {
	local := t.localBlobs()
	if local != nil {
		if b, err := local.GetBlob(ctx, key); err == nil && b != nil {
			return b, nil
		}
	}
	b, err := t.shared.GetBlob(ctx, key)
	if err != nil || b == nil {
		return nil, nil
	}
	if local != nil {
		_ = local.PutBlob(ctx, key, b)
	}
	return b, nil
}

// PutBlob stores b in both caches; only the local cache's error is
// returned.
func (t *Tiered) PutBlob(ctx context.Context, key string, b []byte) error {
	var err error
	if local := t.localBlobs(); local != nil {
		err = local.PutBlob(ctx, key, b)
	}
	_ = t.shared.PutBlob(ctx, key, b)
	return err
}
