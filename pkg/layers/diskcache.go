package layers

import (
	"bufio"
	"context"
	"encoding/gob"
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

type cacheEntry struct {
	Key   string
	Index *LayerIndex
	Blob  []byte // for GetBlob and PutBlob
}

// Get returns the index stored under key, or (nil, nil) when there is none.
// An unreadable entry is removed and reported as a miss.
func (c *DiskCache) Get(_ context.Context, key string) (*LayerIndex, error) {
	e, err := c.read(key)
	if err != nil || e == nil || e.Index == nil {
		return nil, err
	}
	return e.Index, nil
}

// Put stores idx under key, atomically (a concurrent reader sees the old
// entry or the new one), then evicts least recently used entries beyond the
// size bound.
func (c *DiskCache) Put(_ context.Context, key string, idx *LayerIndex) error {
	return c.write(cacheEntry{Key: key, Index: idx})
}

// GetBlob returns the bytes stored under key by PutBlob, or (nil, nil) when
// there are none. It makes DiskCache a [BlobCache].
func (c *DiskCache) GetBlob(_ context.Context, key string) ([]byte, error) {
	e, err := c.read(key)
	if err != nil || e == nil || e.Blob == nil {
		return nil, err
	}
	return e.Blob, nil
}

// PutBlob stores b under key, like Put.
func (c *DiskCache) PutBlob(_ context.Context, key string, b []byte) error {
	if b == nil {
		b = []byte{}
	}
	return c.write(cacheEntry{Key: key, Blob: b})
}

func (c *DiskCache) read(key string) (*cacheEntry, error) {
	p := c.path(key)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening cache entry: %w", err)
	}
	defer f.Close()
	e, err := decodeEntry(bufio.NewReaderSize(f, 1<<16))
	if err != nil || e.Key != key {
		os.Remove(p)
		return nil, nil
	}
	now := time.Now()
	_ = os.Chtimes(p, now, now) // recency for eviction; best effort
	return e, nil
}

// EncodeCacheEntry writes an entry in the encoding DiskCache stores (gob):
// key with idx, or with blob for an entry of [BlobCache.PutBlob]. Other
// caches (pkg/regcache) store the same bytes.
func EncodeCacheEntry(w io.Writer, key string, idx *LayerIndex, blob []byte) error {
	if err := gob.NewEncoder(w).Encode(cacheEntry{Key: key, Index: idx, Blob: blob}); err != nil {
		return fmt.Errorf("encoding cache entry: %w", err)
	}
	return nil
}

// DecodeCacheEntry reads an entry EncodeCacheEntry wrote: its key and
// either an index or a blob. Bytes from elsewhere are hostile: anything
// but a whole entry is an error, never a panic.
func DecodeCacheEntry(r io.Reader) (key string, idx *LayerIndex, blob []byte, err error) {
	e, err := decodeEntry(r)
	if err != nil {
		return "", nil, nil, err
	}
	if (e.Index == nil) == (e.Blob == nil) {
		return "", nil, nil, errors.New("decoding cache entry: want an index or a blob")
	}
	return e.Key, e.Index, e.Blob, nil
}

func decodeEntry(r io.Reader) (e *cacheEntry, err error) {
	defer func() {
		if p := recover(); p != nil {
			e, err = nil, fmt.Errorf("decoding cache entry: %v", p)
		}
	}()
	e = &cacheEntry{}
	if err := gob.NewDecoder(r).Decode(e); err != nil {
		return nil, fmt.Errorf("decoding cache entry: %w", err)
	}
	return e, nil
}

func (c *DiskCache) write(e cacheEntry) error {
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("creating cache entry: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<16)
	if err := gob.NewEncoder(w).Encode(e); err != nil {
		tmp.Close()
		return fmt.Errorf("writing cache entry: %w", err)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing cache entry: %w", err)
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		tmp.Close()
		return fmt.Errorf("writing cache entry: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing cache entry: %w", err)
	}
	if err := os.Rename(tmp.Name(), c.path(e.Key)); err != nil {
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
