package layers

import (
	"container/list"
	"context"
	"sync"
)

// MemoryCache keeps recently used layer indexes in memory, in front of an
// optional slower Cache (such as a DiskCache), so that the images of one
// audit that share a layer decode or read it once. Its size is bounded by
// the total number of entries it holds, since that is what an index's memory
// grows with.
type MemoryCache struct {
	next       Cache
	maxEntries int

	mu      sync.Mutex
	entries int
	lru     *list.List // of *memItem, front = most recent
	items   map[string]*list.Element
}

type memItem struct {
	key string
	idx *LayerIndex
}

// NewMemoryCache returns a cache holding at most maxEntries filesystem
// entries in all, backed by next (which may be nil).
func NewMemoryCache(next Cache, maxEntries int) *MemoryCache {
	return &MemoryCache{next: next, maxEntries: maxEntries, lru: list.New(), items: map[string]*list.Element{}}
}

// Get returns the index from memory, or from the next cache (keeping it in
// memory), or (nil, nil).
func (c *MemoryCache) Get(ctx context.Context, key string) (*LayerIndex, error) {
	c.mu.Lock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		idx := el.Value.(*memItem).idx
		c.mu.Unlock()
		return idx, nil
	}
	c.mu.Unlock()
	if c.next == nil {
		return nil, nil
	}
	idx, err := c.next.Get(ctx, key)
	if err != nil || idx == nil {
		return idx, err
	}
	c.remember(key, idx)
	return idx, nil
}

// Has reports whether key's index is in memory or may be in the next
// cache: false only when neither holds it (the next cache is a [Prober]
// that says so, or there is none). It makes MemoryCache a Prober.
func (c *MemoryCache) Has(ctx context.Context, key string) bool {
	c.mu.Lock()
	_, ok := c.items[key]
	c.mu.Unlock()
	if ok {
		return true
	}
	if c.next == nil {
		return false
	}
	if p, ok := c.next.(Prober); ok {
		return p.Has(ctx, key)
	}
	return true
}

// Put stores idx in memory and in the next cache.
func (c *MemoryCache) Put(ctx context.Context, key string, idx *LayerIndex) error {
	c.remember(key, idx)
	if c.next != nil {
		return c.next.Put(ctx, key, idx)
	}
	return nil
}

func (c *MemoryCache) remember(key string, idx *LayerIndex) {
	n := len(idx.Entries)
	if n > c.maxEntries {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.lru.MoveToFront(el)
		return
	}
	c.items[key] = c.lru.PushFront(&memItem{key: key, idx: idx})
	c.entries += n
	for c.entries > c.maxEntries {
		el := c.lru.Back()
		it := el.Value.(*memItem)
		c.lru.Remove(el)
		delete(c.items, it.key)
		c.entries -= len(it.idx.Entries)
	}
}
