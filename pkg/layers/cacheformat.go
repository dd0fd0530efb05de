package layers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The encoding of a cache entry (DiskCache's files, pkg/regcache's blobs):
//
//	magic "IACE", format version (1 byte), kind (1: index, 2: blob),
//	key (string bytes)
//	blob: bytes
//	index: digest and diffID (algorithm and hex, string bytes each),
//	  compressed and uncompressed size (varint), the string table
//	  (count, then each string's bytes), entries, captured files, partial
//	  files, anomalies (each a count, then the items)
//
// Numbers are varints (signed) or uvarints (counts, lengths, string
// numbers, modes); "bytes" is a uvarint length and the bytes. An entry's
// strings (path, link target, extended attributes, interpreter, script
// argument, key type) and an anomaly's are numbers into the string table,
// which holds each distinct string once: the decoder makes all of them
// from one allocation, where gob made one per string, and a directory's
// name repeated in thousands of paths would cost one string per path
// anyway. Decoding reads hostile bytes: every count and length is checked
// against the bytes left before anything is allocated, every string number
// against the table, and anything but one whole entry is an error.
const (
	cacheMagic   = "IACE"
	cacheFormat  = 1
	kindIndex    = 1
	kindBlob     = 2
	minEntrySize = 11 // bytes of the smallest encoded Entry
)

var errCacheEntry = errors.New("malformed cache entry")

type entryWriter struct {
	b       []byte
	strings map[string]uint64
	table   []string
}

func (w *entryWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *entryWriter) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *entryWriter) bytes(b []byte) {
	w.uvarint(uint64(len(b)))
	w.b = append(w.b, b...)
}
func (w *entryWriter) str(s string) {
	w.uvarint(uint64(len(s)))
	w.b = append(w.b, s...)
}

// ref returns s's number in the string table, adding it when new.
func (w *entryWriter) ref(s string) uint64 {
	n, ok := w.strings[s]
	if !ok {
		n = uint64(len(w.table))
		w.strings[s] = n
		w.table = append(w.table, s)
	}
	return n
}

// encodeEntry returns the encoding of an entry of key holding idx or blob
// (exactly one of them).
func encodeEntry(key string, idx *LayerIndex, blob []byte) ([]byte, error) {
	if (idx == nil) == (blob == nil) {
		return nil, errors.New("encoding cache entry: want an index or a blob")
	}
	head := append([]byte(cacheMagic), cacheFormat)
	if blob != nil {
		w := &entryWriter{b: append(head, kindBlob)}
		w.str(key)
		w.bytes(blob)
		return w.b, nil
	}
	// The body first, numbering the strings as they come; then the
	// table, which the decoder needs first.
	body := &entryWriter{strings: map[string]uint64{"": 0}, table: []string{""}}
	body.b = make([]byte, 0, 64*len(idx.Entries))
	body.uvarint(uint64(len(idx.Entries)))
	for i := range idx.Entries {
		e := &idx.Entries[i]
		body.uvarint(body.ref(e.Path))
		body.b = append(body.b, byte(e.Type))
		body.uvarint(uint64(e.Mode))
		body.varint(int64(e.UID))
		body.varint(int64(e.GID))
		body.varint(e.Size)
		body.uvarint(body.ref(e.Linkname))
		body.uvarint(uint64(len(e.Xattrs)))
		if len(e.Xattrs) > 0 {
			for _, k := range slices.Sorted(maps.Keys(e.Xattrs)) {
				body.uvarint(body.ref(k))
				body.uvarint(body.ref(e.Xattrs[k]))
			}
		}
		body.b = append(body.b, byte(e.Content.Kind))
		body.uvarint(body.ref(e.Content.Interpreter))
		if x := e.Content.Extra; x != nil {
			body.b = append(body.b, 1)
			body.uvarint(body.ref(x.ScriptArg))
			body.uvarint(body.ref(x.PrivateKey))
		} else {
			body.b = append(body.b, 0)
		}
	}
	body.uvarint(uint64(len(idx.Files)))
	for _, p := range slices.Sorted(maps.Keys(idx.Files)) {
		body.uvarint(body.ref(p))
		body.bytes(idx.Files[p])
	}
	body.uvarint(uint64(len(idx.Partials)))
	for _, p := range slices.Sorted(maps.Keys(idx.Partials)) {
		pt := idx.Partials[p]
		body.uvarint(body.ref(p))
		if pt == nil {
			body.b = append(body.b, 0)
			continue
		}
		body.b = append(body.b, 1)
		body.varint(pt.Size)
		body.uvarint(uint64(len(pt.Ranges)))
		for _, r := range pt.Ranges {
			body.varint(r.Off)
			body.bytes(r.Data)
		}
	}
	body.uvarint(uint64(len(idx.Anomalies)))
	for _, a := range idx.Anomalies {
		body.uvarint(body.ref(string(a.Kind)))
		body.uvarint(body.ref(a.Path))
		body.uvarint(body.ref(a.Detail))
		body.varint(int64(a.Layer))
	}

	w := &entryWriter{b: append(head, kindIndex)}
	size := len(body.b) + len(key) + 64
	for _, s := range body.table {
		size += len(s) + 2
	}
	w.b = slices.Grow(w.b, size)
	w.str(key)
	w.str(idx.Digest.Algorithm)
	w.str(idx.Digest.Hex)
	w.str(idx.DiffID.Algorithm)
	w.str(idx.DiffID.Hex)
	w.varint(idx.CompressedSize)
	w.varint(idx.UncompressedSize)
	// String 0 is "", not written.
	w.uvarint(uint64(len(body.table) - 1))
	for _, s := range body.table[1:] {
		w.uvarint(uint64(len(s)))
	}
	for _, s := range body.table[1:] {
		w.b = append(w.b, s...)
	}
	w.b = append(w.b, body.b...)
	return w.b, nil
}

// entryReader reads an encoded entry; the first malformed read sets err,
// after which every read returns zero values.
type entryReader struct {
	b     []byte
	err   error
	table []string
}

func (r *entryReader) fail() {
	if r.err == nil {
		r.err = errCacheEntry
	}
	r.b = nil
}

func (r *entryReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *entryReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int reads a varint that must fit an int.
func (r *entryReader) int() int {
	v := r.varint()
	if v < math.MinInt || v > math.MaxInt {
		r.fail()
		return 0
	}
	return int(v)
}

// count reads a count of items of at least min bytes each: no more than
// the bytes left can hold.
func (r *entryReader) count(min int) int {
	v := r.uvarint()
	if v > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(v)
}

// bytes reads a length and that many bytes, copied (never nil).
func (r *entryReader) bytes() []byte {
	n := r.count(1)
	out := make([]byte, n)
	copy(out, r.b[:n])
	r.b = r.b[n:]
	return out
}

func (r *entryReader) str() string {
	n := r.count(1)
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// hash reads a digest: the zero Hash, or a valid one.
func (r *entryReader) hash() v1.Hash {
	h := v1.Hash{Algorithm: r.str(), Hex: r.str()}
	if h == (v1.Hash{}) {
		return h
	}
	if _, err := v1.NewHash(h.String()); err != nil {
		r.fail()
		return v1.Hash{}
	}
	return h
}

// ref reads a string number and returns the string.
func (r *entryReader) ref() string {
	v := r.uvarint()
	if v >= uint64(len(r.table)) {
		r.fail()
		return ""
	}
	return r.table[v]
}

// decodeEntryBytes decodes what encodeEntry wrote.
func decodeEntryBytes(b []byte) (key string, idx *LayerIndex, blob []byte, err error) {
	if len(b) < len(cacheMagic)+2 || string(b[:len(cacheMagic)]) != cacheMagic {
		return "", nil, nil, fmt.Errorf("decoding cache entry: %w: not an entry", errCacheEntry)
	}
	if v := b[len(cacheMagic)]; v != cacheFormat {
		return "", nil, nil, fmt.Errorf("decoding cache entry: %w: format %d, want %d", errCacheEntry, v, cacheFormat)
	}
	r := &entryReader{b: b[len(cacheMagic)+1:]}
	kind := r.byte()
	key = r.str()
	switch kind {
	case kindBlob:
		blob = r.bytes()
	case kindIndex:
		idx = r.index()
	default:
		r.fail()
	}
	if r.err == nil && len(r.b) != 0 {
		r.fail() // trailing bytes
	}
	if r.err != nil {
		return "", nil, nil, fmt.Errorf("decoding cache entry: %w", r.err)
	}
	return key, idx, blob, nil
}

func (r *entryReader) index() *LayerIndex {
	idx := &LayerIndex{Digest: r.hash(), DiffID: r.hash()}
	idx.CompressedSize = r.varint()
	idx.UncompressedSize = r.varint()
	// The table: lengths, then the bytes of every string, made into one
	// string that each is a part of.
	n := r.count(1)
	lens := make([]uint64, n)
	total := uint64(0)
	for i := range lens {
		lens[i] = r.uvarint()
		total += lens[i]
		if total > uint64(len(r.b)) {
			r.fail()
			return nil
		}
	}
	if r.err != nil {
		return nil
	}
	all := string(r.b[:total])
	r.b = r.b[total:]
	r.table = make([]string, n+1)
	off := uint64(0)
	for i, l := range lens {
		r.table[i+1] = all[off : off+l]
		off += l
	}

	if n := r.count(minEntrySize); n > 0 {
		idx.Entries = make([]Entry, n)
		for i := range idx.Entries {
			r.entry(&idx.Entries[i])
		}
	}
	if n := r.count(2); n > 0 {
		idx.Files = make(map[string][]byte, n)
		for range n {
			p := r.ref()
			idx.Files[p] = r.bytes()
		}
	}
	if n := r.count(2); n > 0 {
		idx.Partials = make(map[string]*Partial, n)
		for range n {
			p := r.ref()
			switch r.byte() {
			case 0:
				idx.Partials[p] = nil
			case 1:
				pt := &Partial{Size: r.varint()}
				if n := r.count(2); n > 0 {
					pt.Ranges = make([]Range, n)
					for i := range pt.Ranges {
						pt.Ranges[i] = Range{Off: r.varint(), Data: r.bytes()}
					}
				}
				idx.Partials[p] = pt
			default:
				r.fail()
			}
		}
	}
	if n := r.count(4); n > 0 {
		idx.Anomalies = make([]Anomaly, n)
		for i := range idx.Anomalies {
			idx.Anomalies[i] = Anomaly{Kind: AnomalyKind(r.ref()), Path: r.ref(), Detail: r.ref(), Layer: r.int()}
		}
	}
	return idx
}

func (r *entryReader) entry(e *Entry) {
	e.Path = r.ref()
	e.Type = Type(r.byte())
	mode := r.uvarint()
	if mode > math.MaxUint32 {
		r.fail()
	}
	e.Mode = fs.FileMode(mode)
	e.UID = r.int()
	e.GID = r.int()
	e.Size = r.varint()
	e.Linkname = r.ref()
	if n := r.count(2); n > 0 {
		e.Xattrs = make(map[string]string, n)
		for range n {
			k := r.ref()
			e.Xattrs[k] = r.ref()
		}
	}
	e.Content.Kind = ContentKind(r.byte())
	e.Content.Interpreter = r.ref()
	switch r.byte() {
	case 0:
	case 1:
		e.Content.Extra = &ContentExtra{ScriptArg: r.ref(), PrivateKey: r.ref()}
	default:
		r.fail()
	}
}

// readEntry reads all of r and decodes it.
func readEntry(r io.Reader) (key string, idx *LayerIndex, blob []byte, err error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", nil, nil, fmt.Errorf("reading cache entry: %w", err)
	}
	return decodeEntryBytes(b)
}
