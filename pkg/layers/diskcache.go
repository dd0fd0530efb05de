package layers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DiskCache stores layer indexes as files in one directory, one file per key.
// Several processes may share a directory: entries are written to a temporary
// file and renamed into place, so a reader sees a whole entry or none, and no
// lock is ever held. When the directory grows past its cap, the least
// recently used entries are removed.
type DiskCache struct {
	dir      string
	maxBytes int64

	// total estimates the bytes in dir: listed once, then grown by each
	// write, and listed again only when it passes maxBytes. Listing the
	// directory on every write made a scan of n new layers cost O(n²)
	// (10,000 layers: minutes of system time).
	mu     sync.Mutex
	listed bool
	total  int64
}

const cacheSuffix = ".idx"

// NewDiskCache opens (creating it if needed) a cache in dir holding at most
// maxBytes (0: no cap).
func NewDiskCache(dir string, maxBytes int64) (*DiskCache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating cache directory: %w", err)
	}
	return &DiskCache{dir: dir, maxBytes: maxBytes}, nil
}

// Dir returns the cache directory.
func (c *DiskCache) Dir() string { return c.dir }

func (c *DiskCache) path(key string) string {
	return filepath.Join(c.dir, key+cacheSuffix)
}

// Get returns the index stored under key, or (nil, nil) when there is none.
// An unreadable entry, one of another key, or an index of another diffID
// than its key names, is removed and reported as a miss.
func (c *DiskCache) Get(_ context.Context, key string) (*LayerIndex, error) {
	idx, _, err := c.read(key, kindIndex)
	return idx, err
}

// Has reports whether an entry is stored under key (a file; whether it
// can be read, Get tells). It makes DiskCache a [Prober].
func (c *DiskCache) Has(_ context.Context, key string) bool {
	_, err := os.Stat(c.path(key))
	return !errors.Is(err, fs.ErrNotExist)
}

// Put stores idx under key, atomically (a concurrent reader sees the old
// entry or the new one), then evicts least recently used entries beyond the
// size bound.
func (c *DiskCache) Put(_ context.Context, key string, idx *LayerIndex) error {
	if idx == nil {
		return errors.New("storing cache entry: no index")
	}
	return c.write(key, idx, nil)
}

// GetBlob returns the bytes stored under key by PutBlob, or (nil, nil) when
// there are none. It makes DiskCache a [BlobCache].
func (c *DiskCache) GetBlob(_ context.Context, key string) ([]byte, error) {
	_, b, err := c.read(key, kindBlob)
	return b, err
}

// PutBlob stores b under key, like Put.
func (c *DiskCache) PutBlob(_ context.Context, key string, b []byte) error {
	if b == nil {
		b = []byte{}
	}
	return c.write(key, nil, b)
}

// read returns the entry stored under key, when it is one of kind.
func (c *DiskCache) read(key string, kind int) (*LayerIndex, []byte, error) {
	p := c.path(key)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading cache entry: %w", err)
	}
	got, idx, blob, err := decodeEntryBytes(b)
	if err == nil && idx != nil {
		if d, ok := KeyDiffID(key); ok && idx.DiffID != d {
			err = errCacheEntry
		}
	}
	if err != nil || got != key {
		os.Remove(p)
		return nil, nil, nil
	}
	if (kind == kindIndex) != (idx != nil) {
		return nil, nil, nil // the other kind: not this caller's
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // recency for eviction; best effort
	return idx, blob, nil
}

// EncodeCacheEntry writes an entry in the encoding DiskCache stores: key
// with idx, or with blob for an entry of [BlobCache.PutBlob] (exactly one
// of them). Other caches (pkg/regcache) store the same bytes.
func EncodeCacheEntry(w io.Writer, key string, idx *LayerIndex, blob []byte) error {
	b, err := encodeEntry(key, idx, blob)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("encoding cache entry: %w", err)
	}
	return nil
}

// DecodeCacheEntry reads an entry EncodeCacheEntry wrote: its key and
// either an index or a blob. Bytes from elsewhere are hostile: anything
// but a whole entry is an error, never a panic.
func DecodeCacheEntry(r io.Reader) (key string, idx *LayerIndex, blob []byte, err error) {
	return readEntry(r)
}

func (c *DiskCache) write(key string, idx *LayerIndex, blob []byte) error {
	b, err := encodeEntry(key, idx, blob)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("creating cache entry: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing cache entry: %w", err)
	}
	size := int64(len(b))
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing cache entry: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path(key)); err != nil {
		return fmt.Errorf("storing cache entry: %w", err)
	}
	if c.maxBytes > 0 {
		return c.account(size)
	}
	return nil
}

// account adds a written entry's size to the estimate and prunes when it
// passes the cap. The estimate only overcounts (a replaced entry, another
// process's evictions), which prunes early, never late; other processes'
// writes are seen at the next listing. A prune goes down to 90% of the cap,
// so that a full cache is listed once per tenth of its size written rather
// than on every write.
func (c *DiskCache) account(size int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listed {
		c.total += size
		if c.total <= c.maxBytes {
			return nil
		}
	}
	total, err := c.prune(c.maxBytes, c.maxBytes-c.maxBytes/10)
	if err != nil {
		return err
	}
	c.listed, c.total = true, total
	return nil
}

type cacheFile struct {
	path string
	size int64
	mod  time.Time
}

func (c *DiskCache) entries() ([]cacheFile, int64, error) {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, 0, fmt.Errorf("listing cache: %w", err)
	}
	var out []cacheFile
	var total int64
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), cacheSuffix) {
			continue
		}
		info, err := de.Info()
		if err != nil {
			continue // removed by another process meanwhile
		}
		out = append(out, cacheFile{filepath.Join(c.dir, de.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	return out, total, nil
}

// prune lists the cache and, when it holds more than max bytes, removes
// least recently used entries until it holds at most to. It returns the
// bytes left.
func (c *DiskCache) prune(max, to int64) (int64, error) {
	files, total, err := c.entries()
	if err != nil || total <= max {
		return total, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	for _, f := range files {
		if total <= to {
			break
		}
		if err := os.Remove(f.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= f.size
		}
	}
	return total, nil
}

// Stats returns the number of entries and their bytes.
func (c *DiskCache) Stats() (entries int, bytes int64, err error) {
	files, total, err := c.entries()
	return len(files), total, err
}

// Clean removes every entry (and stale temporary files).
func (c *DiskCache) Clean() (removed int, err error) {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("listing cache: %w", err)
	}
	for _, de := range des {
		if strings.HasSuffix(de.Name(), cacheSuffix) || strings.HasPrefix(de.Name(), ".tmp-") {
			if err := os.Remove(filepath.Join(c.dir, de.Name())); err == nil && strings.HasSuffix(de.Name(), cacheSuffix) {
				removed++
			}
		}
	}
	return removed, nil
}
