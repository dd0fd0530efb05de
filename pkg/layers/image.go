package layers

import (
	"context"
	"fmt"
	"runtime"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/internal/parallel"
)

// Cache stores layer indexes by key (see [CacheKey]). Implementations must be
// safe for concurrent use. A Get miss returns (nil, nil).
type Cache interface {
	Get(ctx context.Context, key string) (*LayerIndex, error)
	Put(ctx context.Context, key string, idx *LayerIndex) error
}

// Prober is a Cache that can tell cheaply, without reading an entry, that
// it holds none for a key. [IndexImage] asks it about every layer first, so
// that the layers it lacks are read at once while the cached ones are
// decoded, rather than after them.
type Prober interface {
	// Has reports whether Get may find key: false means it will not
	// (true promises nothing: the entry may turn out unreadable).
	Has(ctx context.Context, key string) bool
}

// BlobCache is a Cache that also keeps opaque bytes by key: analyses of a
// whole image (its SBOM) next to those of its layers, evicted with them.
// GetBlob returns (nil, nil) on a miss.
type BlobCache interface {
	GetBlob(ctx context.Context, key string) ([]byte, error)
	PutBlob(ctx context.Context, key string, b []byte) error
}

// ImageOptions configure [IndexImage] and [Scan].
type ImageOptions struct {
	Options
	// Concurrency is how many layers are read at once; 0 means GOMAXPROCS.
	Concurrency int
	// Cache, when set, is consulted by diffID before a layer is read.
	Cache Cache
	// Flight, when set, makes concurrent scans share the read of a layer
	// they both need (and, from NewReadFlight, bounds the layers they read
	// at once, all together).
	Flight *Flight
	// OnLayer, when set, is called after each layer is indexed (from the
	// worker goroutine): i is the layer position, cached tells whether the
	// index came from the cache.
	OnLayer func(i int, idx *LayerIndex, cached bool)
}

// IndexImage indexes every layer of img, several at once, each read once.
// The first error cancels the remaining work.
func IndexImage(ctx context.Context, img v1.Image, opts ImageOptions) ([]*LayerIndex, error) {
	m, cfg, err := readImage(img, opts)
	if err != nil {
		return nil, err
	}
	return indexImage(ctx, img, m, cfg, opts, true)
}

// readImage reads img's manifest and config once, and checks that their
// layer lists agree and stay within Limits.MaxLayers.
func readImage(img v1.Image, opts ImageOptions) (*v1.Manifest, *v1.ConfigFile, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading manifest: %w", err)
	}
	max := opts.Limits.withDefaults().MaxLayers
	if len(m.Layers) > max {
		return nil, nil, fmt.Errorf("manifest lists %d layers: %w", len(m.Layers), limitErr("max-layers: layers in one image", int64(max)))
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, nil, fmt.Errorf("reading config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, nil, fmt.Errorf("%w: manifest has %d layers but config lists %d diffIDs", ErrCorrupt, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	return m, cfg, nil
}

// indexImage indexes every layer; keep says whether the indexes are
// returned (Scan squashes them as they come and keeps none). Each layer's
// diffID is taken from cfg by position, read once: asking each layer for it
// (partial.BlobToDiffID) re-reads the manifest and the config per layer,
// quadratic work in the number of layers.
func indexImage(ctx context.Context, img v1.Image, m *v1.Manifest, cfg *v1.ConfigFile, opts ImageOptions, keep bool) ([]*LayerIndex, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	if len(ls) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("%w: image has %d layers but config lists %d diffIDs", ErrCorrupt, len(ls), len(cfg.RootFS.DiffIDs))
	}
	n := opts.Concurrency
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	out := make([]*LayerIndex, len(ls))
	var once sync.Once
	var first error
	done := func(i int, idx *LayerIndex, cached bool) {
		if keep {
			out[i] = idx
		}
		if opts.OnLayer != nil {
			opts.OnLayer(i, idx, cached)
		}
	}
	// n workers, not one goroutine per layer: a hostile manifest may list
	// hundreds of thousands of layers. With a cache, n more look the layers
	// up before they are handed out, and only the misses go to the readers.
	// A layer to read (the new top layer of a rebuild) starts at once, not
	// behind the decoding of the cached ones: a cache that can say it lacks
	// a layer (a Prober) is asked about every layer first, and those it
	// lacks are handed out, in order, while the others are looked up.
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(n, 1), len(ls)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					continue
				}
				idx, cached, err := indexLayer(ctx, ls[i], cfg.RootFS.DiffIDs[i], opts)
				if err != nil {
					once.Do(func() { first = fmt.Errorf("layer %d: %w", i, err); cancel(first) })
					continue
				}
				done(i, idx, cached)
			}
		}()
	}
	read := func(i int) {
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	lookup, misses := probe(ctx, cfg.RootFS.DiffIDs, opts)
	// The misses are handed out from here, first: the lookups, on their
	// own goroutine, start meanwhile, and at the latest when every reader
	// is busy.
	var looked sync.WaitGroup
	looked.Go(func() {
		parallel.Each(ctx, len(lookup), n, func(k int) {
			i := lookup[k]
			if idx := cachedIndex(ctx, ls[i], cfg.RootFS.DiffIDs[i], opts); idx != nil {
				done(i, idx, true)
				return
			}
			read(i)
		})
	})
	for _, i := range misses {
		if ctx.Err() != nil {
			break
		}
		read(i)
	}
	looked.Wait()
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	return out, nil
}

// probe splits the layers, by position, into those to look up in
// opts.Cache and those it surely lacks (every layer when there is no
// cache; none when the cache is not a Prober), each list in order.
func probe(ctx context.Context, diffIDs []v1.Hash, opts ImageOptions) (lookup, misses []int) {
	all := make([]int, len(diffIDs))
	for i := range all {
		all[i] = i
	}
	if opts.Cache == nil {
		return nil, all
	}
	p, ok := opts.Cache.(Prober)
	if !ok {
		return all, nil
	}
	for i, d := range diffIDs {
		if p.Has(ctx, CacheKey(d, opts.Options)) {
			lookup = append(lookup, i)
		} else {
			misses = append(misses, i)
		}
	}
	return lookup, misses
}

// cachedIndex returns l's index from opts.Cache, nil when it is not
// there (or there is no cache, or l's digest cannot be read: indexLayer
// then reports it).
func cachedIndex(ctx context.Context, l v1.Layer, diffID v1.Hash, opts ImageOptions) *LayerIndex {
	if opts.Cache == nil {
		return nil
	}
	digest, err := l.Digest()
	if err != nil {
		return nil
	}
	idx, err := opts.Cache.Get(ctx, CacheKey(diffID, opts.Options))
	if err != nil || idx == nil {
		return nil
	}
	// The same diffID may be stored under another blob digest (another
	// compression): the index is shared, the digest is this layer's.
	c := *idx
	c.Digest = digest
	return &c
}

// indexLayer indexes l, whose diffID the config gives.
func indexLayer(ctx context.Context, l v1.Layer, diffID v1.Hash, opts ImageOptions) (*LayerIndex, bool, error) {
	digest, err := l.Digest()
	if err != nil {
		return nil, false, fmt.Errorf("reading digest: %w", err)
	}
	if opts.Cache == nil && opts.Flight == nil {
		idx, err := indexKnown(ctx, l, digest, diffID, opts.Options)
		return idx, false, err
	}
	key := CacheKey(diffID, opts.Options)
	load := func() (*LayerIndex, bool, error) {
		if opts.Cache != nil {
			if idx, err := opts.Cache.Get(ctx, key); err == nil && idx != nil {
				return idx, true, nil
			}
		}
		end, err := opts.Flight.startRead(ctx)
		if err != nil {
			return nil, false, err
		}
		idx, err := indexKnown(ctx, l, digest, diffID, opts.Options)
		end()
		if err != nil {
			return nil, false, err
		}
		if opts.Cache != nil {
			// A cache that cannot store is only slower, never wrong.
			_ = opts.Cache.Put(ctx, key, idx)
		}
		return idx, false, nil
	}
	var idx *LayerIndex
	cached := false
	if opts.Flight != nil {
		var shared bool
		idx, shared, err = opts.Flight.do(ctx, key, func() (*LayerIndex, error) {
			x, c, err := load()
			cached = c
			return x, err
		})
		cached = cached || shared
	} else {
		idx, cached, err = load()
	}
	if err != nil {
		return nil, false, err
	}
	// The same diffID may be stored under another blob digest (another
	// compression): the index is shared, the digest is this layer's.
	c := *idx
	c.Digest = digest
	return &c, cached, nil
}

// Scan indexes img's layers and squashes them, with history attribution.
func Scan(ctx context.Context, img v1.Image, opts ImageOptions) (*FS, error) {
	m, cfg, err := readImage(img, opts)
	if err != nil {
		return nil, err
	}
	// Squash each layer as soon as it and every layer below it are indexed,
	// and let its index go: the tree grows while later layers are still
	// being read, and peak memory holds the tree plus the indexes not yet
	// applied, rather than every index at once.
	n := len(m.Layers)
	sq := newSquasher()
	ready := make([]*LayerIndex, n)
	sizes := make([]int64, n)
	next := 0
	var mu sync.Mutex
	var squashErr error
	prev := opts.OnLayer
	opts.OnLayer = func(i int, idx *LayerIndex, cached bool) {
		if prev != nil {
			prev(i, idx, cached)
		}
		mu.Lock()
		defer mu.Unlock()
		ready[i] = idx
		for next < n && ready[next] != nil {
			if squashErr == nil {
				squashErr = sq.apply(next, ready[next])
			}
			sizes[next] = ready[next].UncompressedSize
			ready[next] = nil
			next++
		}
		if squashErr == nil && next < n && ready[next] == nil {
			sq.idle()
		}
	}
	if _, err := indexImage(ctx, img, m, cfg, opts, false); err != nil {
		return nil, err
	}
	if squashErr != nil {
		return nil, squashErr
	}
	if next != n {
		return nil, fmt.Errorf("squash: %d of %d layers indexed", next, n)
	}
	info := Attribute(cfg, m.Layers)
	for i := range info {
		info[i].UncompressedSize = sizes[i]
	}
	return sq.finish(info), nil
}
