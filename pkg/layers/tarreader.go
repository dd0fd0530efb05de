package layers

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"strings"
)

// tarReader reads the entries of a tar stream exactly as archive/tar does,
// faster. Container runtimes unpack layers with archive/tar, so its reading is
// the truth an audit must see; but its header parsing costs about a
// microsecond per entry (format sniffing scans every header rune by rune),
// which is a third of a 1,000,000-entry scan beyond decompression.
//
// Plain ustar and GNU headers (a typeflag from '0' to '6', octal fields, a
// valid checksum: nearly every entry of a container layer) are parsed here,
// with archive/tar's rules. Any other header block (PAX and GNU long-name
// records, sparse files, V7 and STAR headers, base-256 numbers, a bad
// checksum, the end-of-archive blocks) is handed to a fresh archive/tar
// reader positioned on it, which parses it and its records and returns the
// entry; its data is then read through that reader. Because a tar stream is a
// sequence of 512-byte blocks, the next header's offset follows from the
// entry's data size, so parsing resumes here after such an entry. Sparse
// files are the exception (their stored size is not their size): after one,
// archive/tar reads the rest of the stream.
//
// Sparse files cost what they expand to, not what they store: archive/tar
// reads their holes back as zeros, and a runtime unpacking the layer writes
// every one of those bytes. The logical sizes of the sparse entries read so
// far are kept (sparseBytes) so that the caller counts them against its
// layer size limit, and every Read checks ctx, since reading a hole reads
// nothing from the stream whose reads check it.
//
// The Header returned by Next is reused by the next call.
type tarReader struct {
	ctx     context.Context
	r       countingReader
	blk     [blockSize]byte
	hdr     tar.Header
	dataEnd int64       // offset where the current entry's data ends
	next    int64       // offset of the next header block
	fb      *tar.Reader // archive/tar reading the current entry, if it does
	sticky  bool        // archive/tar reads every remaining entry
	skip    []byte
	// sparseBytes adds up the logical (expanded) sizes of the sparse
	// entries returned so far.
	sparseBytes int64
}

const blockSize = 512

func newTarReader(r io.Reader) *tarReader {
	return newTarReaderContext(context.Background(), r)
}

// newTarReaderContext returns a tarReader whose Next and Read fail with
// ctx's error once ctx is done.
func newTarReaderContext(ctx context.Context, r io.Reader) *tarReader {
	return &tarReader{ctx: ctx, r: countingReader{r: r}}
}

// Next advances to the next entry. It returns io.EOF at the end of the
// archive.
func (t *tarReader) Next() (*tar.Header, error) {
	if err := t.ctx.Err(); err != nil {
		return nil, err
	}
	if t.sticky {
		h, err := t.fb.Next()
		if err == nil && isSparse(h) {
			t.sparseBytes += h.Size
		}
		return h, err
	}
	t.fb = nil
	if err := t.skipTo(); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(&t.r, t.blk[:]); err != nil {
		return nil, err
	}
	if !t.parse() {
		return t.fallback()
	}
	size := t.hdr.Size
	if t.hdr.Typeflag != tar.TypeReg {
		size = 0 // header-only types: links, devices, directories, FIFOs
	}
	t.setData(size)
	return &t.hdr, nil
}

func (t *tarReader) setData(size int64) {
	t.dataEnd = t.r.n + size
	t.next = t.dataEnd + (-t.dataEnd & (blockSize - 1))
}

// skipTo discards the rest of the current entry's data and its padding, with
// archive/tar's errors: a stream that ends inside the data is truncated, one
// that ends inside the padding is merely over.
func (t *tarReader) skipTo() error {
	if t.r.n >= t.next {
		return nil
	}
	if t.skip == nil {
		t.skip = make([]byte, 32<<10)
	}
	for t.r.n < t.dataEnd {
		_, err := t.r.Read(t.skip[:min(int64(len(t.skip)), t.dataEnd-t.r.n)])
		if err == io.EOF && t.r.n < t.dataEnd {
			return io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return err
		}
	}
	for t.r.n < t.next {
		_, err := t.r.Read(t.skip[:t.next-t.r.n])
		if err == io.EOF && t.r.n < t.next {
			return io.EOF
		}
		if err != nil && err != io.EOF {
			return err
		}
	}
	return nil
}

// fallback lets archive/tar read the entry whose header is in t.blk.
func (t *tarReader) fallback() (*tar.Header, error) {
	blk := t.blk
	t.fb = tar.NewReader(io.MultiReader(bytes.NewReader(blk[:]), &t.r))
	h, err := t.fb.Next()
	if err != nil {
		return nil, err
	}
	if isSparse(h) {
		t.sticky = true
		t.sparseBytes += h.Size
		return h, nil
	}
	size := h.Size
	switch h.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo, tar.TypeXGlobalHeader:
		size = 0
	}
	t.setData(size)
	return h, nil
}

// isSparse reports whether archive/tar reads h as a sparse file (old GNU or
// PAX GNU sparse formats); its Size is then the expanded size.
func isSparse(h *tar.Header) bool {
	return h.Typeflag == tar.TypeGNUSparse || hasSparseRecords(h)
}

func hasSparseRecords(h *tar.Header) bool {
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// Read reads the current entry's data.
func (t *tarReader) Read(p []byte) (int, error) {
	if err := t.ctx.Err(); err != nil {
		return 0, err
	}
	if t.fb != nil {
		return t.fb.Read(p)
	}
	left := t.dataEnd - t.r.n
	if int64(len(p)) > left {
		p = p[:left]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = t.r.Read(p)
		left -= int64(n)
	}
	switch {
	case err == io.EOF && left > 0:
		return n, io.ErrUnexpectedEOF
	case err == nil && left == 0:
		return n, io.EOF
	}
	return n, err
}

// parse parses t.blk into t.hdr when it is a plain ustar or GNU header that
// archive/tar would accept, and reports whether it did.
func (t *tarReader) parse() bool {
	b := &t.blk
	flag := b[156]
	if flag < '0' || flag > '6' {
		return false
	}
	sum, ok := octal(b[148:156])
	if !ok || !checksumOK(b, sum) {
		return false
	}
	magic, version := string(b[257:263]), string(b[263:265])
	ustar := magic == "ustar\x00"
	switch {
	case ustar && string(b[508:512]) == "tar\x00": // STAR
		return false
	case ustar:
	case magic == "ustar " && version == " \x00": // GNU
		// archive/tar reparses a GNU header whose atime and ctime do not
		// parse (files from old buggy writers): leave those to it.
		if b[345] != 0 {
			if _, ok := octal(b[345:357]); !ok {
				return false
			}
		}
		if b[357] != 0 {
			if _, ok := octal(b[357:369]); !ok {
				return false
			}
		}
	default: // V7
		return false
	}
	mode, ok1 := octal(b[100:108])
	uid, ok2 := octal(b[108:116])
	gid, ok3 := octal(b[116:124])
	size, ok4 := octal(b[124:136])
	_, ok5 := octal(b[136:148]) // mtime: archive/tar rejects a bad one
	_, ok6 := octal(b[329:337]) // device major and minor, likewise
	_, ok7 := octal(b[337:345])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return false
	}
	name := cstring(b[0:100])
	var prefix []byte
	if ustar {
		prefix = cstring(b[345:500])
	}
	h := &t.hdr
	*h = tar.Header{Typeflag: flag, Mode: mode, Uid: int(uid), Gid: int(gid), Size: size}
	if len(prefix) > 0 {
		s := make([]byte, 0, len(prefix)+1+len(name))
		s = append(append(append(s, prefix...), '/'), name...)
		h.Name = string(s)
	} else {
		h.Name = string(name)
	}
	if link := cstring(b[157:257]); len(link) > 0 {
		h.Linkname = string(link)
	}
	return true
}

// checksumOK reports whether want is the header's unsigned or signed byte
// sum, the checksum field counted as spaces. The unsigned sum, which every
// writer uses, adds eight bytes at a time.
func checksumOK(b *[blockSize]byte, want int64) bool {
	const lanes = 0x00ff00ff00ff00ff
	var acc uint64 // four 16-bit lanes: 64 words add at most 64*510 to each
	for i := 0; i < blockSize; i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		acc += w&lanes + (w>>8)&lanes
	}
	u := int64(acc&0xffff + (acc>>16)&0xffff + (acc>>32)&0xffff + acc>>48)
	for _, c := range b[148:156] {
		u += int64(' ') - int64(c)
	}
	if want == u {
		return true
	}
	var s int64
	for i, c := range b {
		if i >= 148 && i < 156 {
			c = ' '
		}
		s += int64(int8(c))
	}
	return want == s
}

// cstring returns b up to its first NUL.
func cstring(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// octal parses a numeric header field as archive/tar does for octal fields:
// leading and trailing spaces and NULs trimmed, then up to the first NUL, at
// least one octal digit. A base-256 field (high bit set) is not octal.
func octal(b []byte) (int64, bool) {
	if len(b) > 0 && b[0]&0x80 != 0 {
		return 0, false
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == 0) {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == 0) {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return 0, true
	}
	b = cstring(b)
	if len(b) == 0 || len(b) > 21 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | int64(c-'0')
	}
	return v, true
}
