package layers

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgaudit/imgaudit/internal/ctxio"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	// sniffSize is how many leading bytes of each regular file are looked at.
	sniffSize = 4096
	// maxZstdWindow bounds the memory a zstd layer makes the decoder hold:
	// its window (or, for a single-segment frame, its content size). zstd's
	// own levels use at most 8 MiB and --long 128 MiB; a hostile frame could
	// ask for 512 MiB or more per layer read at once.
	maxZstdWindow = 128 << 20
)

// Index reads the layer's blob once, as a stream, and returns its index.
//
// The blob is taken from Compressed() and its format is sniffed from its first
// bytes (gzip, zstd or a plain tar), so a lying media type does not matter.
// Both the blob digest and the diffID are verified against what the layer
// claims; a mismatch is an error wrapping [ErrCorrupt].
func Index(ctx context.Context, layer v1.Layer, opts Options) (*LayerIndex, error) {
	digest, err := layer.Digest()
	if err != nil {
		return nil, fmt.Errorf("reading layer digest: %w", err)
	}
	diffID, err := layer.DiffID()
	if err != nil {
		return nil, fmt.Errorf("reading layer %s diffID: %w", digest, err)
	}
	return indexKnown(ctx, layer, digest, diffID, opts)
}

// indexKnown is Index for a layer whose digest and diffID are known.
func indexKnown(ctx context.Context, layer v1.Layer, digest, diffID v1.Hash, opts Options) (*LayerIndex, error) {
	rc, err := layer.Compressed()
	if err != nil {
		return nil, fmt.Errorf("opening layer %s: %w", digest, err)
	}
	defer rc.Close()
	idx, err := IndexStream(ctx, rc, opts)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", digest, err)
	}
	if !opts.SourceVerifiesDigest && idx.Digest != digest && idx.DiffID != digest {
		return nil, fmt.Errorf("layer %s: %w: blob digest is %s", digest, ErrCorrupt, idx.Digest)
	}
	if idx.DiffID != diffID {
		return nil, fmt.Errorf("layer %s: %w: diffID is %s, config says %s", digest, ErrCorrupt, idx.DiffID, diffID)
	}
	idx.Digest = digest
	return idx, nil
}

// IndexStream indexes a layer blob read from r (gzip, zstd or plain tar).
// The returned index carries the digests it computed over what it read (the
// blob digest only without opts.SourceVerifiesDigest).
func IndexStream(ctx context.Context, r io.Reader, opts Options) (*LayerIndex, error) {
	lim := opts.Limits.withDefaults()
	// The context is checked on every read of the blob, not only between
	// tar entries: a layer of a few huge files, read slowly from a disk or
	// a network that does not watch ctx, must stop when ctx is done.
	var blobHash hash.Hash
	src := ctxio.Reader(ctx, r)
	if !opts.SourceVerifiesDigest {
		blobHash = sha256.New()
		src = io.TeeReader(src, blobHash)
	}
	counted := &countingReader{r: src}
	br := bufio.NewReaderSize(counted, 1<<16)
	magic, _ := br.Peek(4)

	// A compressed layer is inflated beside the tar parsing: Go's inflater
	// on a goroutine of its own (a pipeline of chunks), or a child process.
	// The uncompressed stream is hashed by the consumer, in both cases.
	diffHash := sha256.New()
	var tarStream io.Reader
	var closer func()
	var pipe *pipeline
	var kid Inflation
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b && opts.Inflater != nil:
		var err error
		if kid, err = opts.Inflater.Start(ctx, br); err != nil {
			return nil, fmt.Errorf("decompressor %s: %w", opts.Inflater.Name(), err)
		}
		// Large reads off the child's output, hashed by the consumer.
		pipe = newPipeline(kid, diffHash)
		tarStream = pipe
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCorrupt, err)
		}
		zr.Multistream(true)
		closer = func() { zr.Close() }
		pipe = newPipeline(zr, diffHash)
		tarStream = pipe
	case len(magic) == 4 && bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxZstdWindow), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
		}
		closer = zr.Close
		pipe = newPipeline(zr, diffHash)
		tarStream = pipe
	default:
		tarStream = io.TeeReader(br, diffHash)
	}
	// The child first (killing it ends the producer's read of its output),
	// then the producer, then the Go inflater it reads.
	defer func() {
		if kid != nil {
			kid.Wait(true)
		}
		if pipe != nil {
			pipe.stop()
		}
		if closer != nil {
			closer()
		}
	}()

	ur := &limitedReader{r: tarStream, max: lim.MaxLayerBytes}
	ix := &indexer{opts: opts, lim: lim, idx: &LayerIndex{}, capture: newMatcher(opts.Capture), layer: ur}
	err := ix.run(ctx, ur)
	if err == nil {
		// Drain what the tar reader left (padding, trailing zeros) so both
		// digests cover the whole blob: the uncompressed stream, then (once
		// nothing else reads it) the compressed one.
		_, err = io.Copy(io.Discard, ur)
		if err == nil && kid != nil {
			err = inflaterErr(opts.Inflater, kid.Wait(false))
		}
		if pipe != nil {
			if err != nil && kid != nil {
				kid.Wait(true) // its output is no longer read
			}
			pipe.stop()
		}
		if err == nil {
			_, err = io.Copy(io.Discard, br)
		}
	} else if kid != nil && errors.Is(err, io.ErrUnexpectedEOF) {
		// The child's output ended early: its own failure, when it has
		// one, is the cause.
		if kerr := kid.Wait(false); kerr != nil {
			err = inflaterErr(opts.Inflater, kerr)
		}
	}
	if err != nil {
		// Nothing else reads the blob once the inflater has stopped.
		if kid != nil {
			kid.Wait(true)
		}
		if pipe != nil {
			pipe.stop()
		}
		// A failure of the blob's own reader (network, file) is not a
		// corrupt layer: report it as what it is.
		if counted.err != nil && counted.err != io.EOF && !errors.Is(err, ErrLimit) {
			return nil, fmt.Errorf("reading blob: %w", counted.err)
		}
		return nil, wrapRead(err)
	}
	if blobHash != nil {
		ix.idx.Digest = hashOf(blobHash)
	}
	ix.idx.DiffID = hashOf(diffHash)
	ix.idx.CompressedSize = counted.n
	ix.idx.UncompressedSize = ur.n
	return ix.idx, nil
}

// inflaterErr is an inflater's failure as the layer's: corrupt, since a
// gzip stream a well-behaved inflater cannot read is one.
func inflaterErr(inf Inflater, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: decompressor %s: %w", ErrCorrupt, inf.Name(), err)
}

func hashOf(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

func wrapRead(err error) error {
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		return fmt.Errorf("%w: %w", limitErr("zstd window: memory a zstd layer may ask for", maxZstdWindow), err)
	}
	if errors.Is(err, ErrLimit) || errors.Is(err, ErrCorrupt) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var ce corruptError
	if errors.As(err, &ce) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

type corruptError interface{ corrupt() }

type countingReader struct {
	r   io.Reader
	n   int64
	err error // the last error of r
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

// limitedReader fails with ErrLimit once more than max bytes were read.
type limitedReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, limitErr("max-layer-size: decompressed bytes of one layer", l.max)
	}
	return n, err
}

type indexer struct {
	layer    *limitedReader // the layer's tar stream, counted
	opts     Options
	lim      Limits
	idx      *LayerIndex
	captured int64
	buf      []byte
	probe    []byte // probeGoData's buffer, made on first use
	capture  *matcher
	// dirs holds the directories of this layer, declared or implied by an
	// entry below them; implied counts the implied ones, which cost a node
	// each when squashed and so count against MaxEntries ("a/a/a/…/x" is one
	// entry but thousands of directories).
	dirs    map[string]struct{}
	implied int
	interps map[string]string
	// linked holds the targets of symlinks named by the capture patterns,
	// captured when they come later in this layer (see follow).
	linked map[string]bool
}

func (ix *indexer) run(ctx context.Context, r io.Reader) error {
	tr := newTarReaderContext(ctx, r)
	ix.buf = make([]byte, sniffSize)
	ix.dirs = make(map[string]struct{})
	for n := 0; ; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return wrapRead(fmt.Errorf("reading tar: %w", err))
		}
		// A sparse file counts its expanded size on top of its stored
		// bytes: the runtime writes it whole, and reading it expands it.
		if tr.sparseBytes > 0 && ix.layer != nil && tr.sparseBytes > ix.layer.max-ix.layer.n {
			return limitErr("max-layer-size: decompressed bytes of one layer, sparse files at their expanded size", ix.layer.max)
		}
		if n+ix.implied >= ix.lim.MaxEntries {
			return limitErr("max-entries: entries in one layer, implied parent directories included", int64(ix.lim.MaxEntries))
		}
		if len(hdr.Name) > ix.lim.MaxPathLen || len(hdr.Linkname) > ix.lim.MaxPathLen {
			return limitErr("max-path-length: bytes in an entry name or link target", int64(ix.lim.MaxPathLen))
		}
		if err := ix.entry(tr, hdr); err != nil {
			return err
		}
	}
}

// cleanName turns a tar name into a cleaned absolute path and reports what
// was suspicious about it.
//
// A backslash is an ordinary byte in a Linux file name, as runtimes treat it:
// "bin\\.wh.sh" is one file of that name, not a whiteout of /bin/sh.
func cleanName(name string) (p string, anomaly AnomalyKind) {
	if strings.HasPrefix(name, "/") {
		anomaly = AnomalyAbsoluteName
	}
	rel := path.Clean(strings.TrimLeft(name, "/"))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		anomaly = AnomalyEscapingName
	}
	p = path.Clean("/" + rel)
	return p, anomaly
}

func (ix *indexer) anomaly(kind AnomalyKind, p, detail string) {
	ix.idx.Anomalies = append(ix.idx.Anomalies, Anomaly{Kind: kind, Path: p, Detail: detail, Layer: -1})
}

func (ix *indexer) entry(tr io.Reader, hdr *tar.Header) error {
	if hdr.Name == "" {
		ix.anomaly(AnomalyEmptyName, "/", "")
		return nil
	}
	p, an := cleanName(hdr.Name)
	if an != "" {
		ix.anomaly(an, p, hdr.Name)
	}
	dir, base := path.Split(p)
	dir = path.Clean(dir)

	// Whiteouts.
	if strings.HasPrefix(base, whiteoutPrefix) {
		if base == opaqueMarker {
			ix.imply(dir, true)
			ix.idx.Entries = append(ix.idx.Entries, Entry{Path: dir, Type: TypeOpaque})
			return nil
		}
		target := base[len(whiteoutPrefix):]
		if target == "" || target == "." || target == ".." || p == "/" {
			ix.anomaly(AnomalyBadWhiteout, p, hdr.Name)
			return nil
		}
		ix.imply(dir, true)
		ix.idx.Entries = append(ix.idx.Entries, Entry{Path: path.Join(dir, target), Type: TypeWhiteout})
		return nil
	}

	e := Entry{
		Path:   p,
		Mode:   tarMode(hdr.Mode),
		UID:    hdr.Uid,
		GID:    hdr.Gid,
		Xattrs: xattrs(hdr),
	}
	switch hdr.Typeflag {
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		e.Type = TypeRegular
		e.Size = hdr.Size
	case tar.TypeDir:
		e.Type = TypeDir
	case tar.TypeSymlink:
		e.Type = TypeSymlink
		e.Linkname = hdr.Linkname
		ix.follow(p, hdr.Linkname)
		if !strings.HasPrefix(hdr.Linkname, "/") {
			rel := path.Join(strings.TrimPrefix(dir, "/"), hdr.Linkname)
			if rel == ".." || strings.HasPrefix(rel, "../") {
				ix.anomaly(AnomalyEscapingLink, p, hdr.Linkname)
			}
		}
	case tar.TypeLink:
		e.Type = TypeHardlink
		lp, lan := cleanName(hdr.Linkname)
		if lan == AnomalyEscapingName {
			ix.anomaly(AnomalyEscapingLink, p, hdr.Linkname)
		}
		e.Linkname = lp
	case tar.TypeChar:
		e.Type = TypeCharDevice
	case tar.TypeBlock:
		e.Type = TypeBlockDevice
	case tar.TypeFifo:
		e.Type = TypeFIFO
	default:
		ix.anomaly(AnomalyUnsupportedType, p, fmt.Sprintf("type flag %q", hdr.Typeflag))
		return nil
	}
	ix.imply(p, e.Type == TypeDir)
	if e.Type == TypeRegular && e.Size > 0 {
		if err := ix.sniff(tr, &e); err != nil {
			return err
		}
	} else if e.Type == TypeRegular {
		e.Content.Kind = ContentEmpty
		if ix.wants(p) {
			ix.store(p, nil)
		}
	}
	ix.idx.Entries = append(ix.idx.Entries, e)
	return nil
}

// imply records the parent directories of p (and p itself when it is a
// directory), counting those not seen before in this layer.
func (ix *indexer) imply(p string, isDir bool) {
	if isDir {
		ix.dirs[p] = struct{}{}
	}
	// p is clean and absolute: each parent is a prefix of it.
	for d := p[:max(strings.LastIndexByte(p, '/'), 0)]; d != ""; d = d[:strings.LastIndexByte(d, '/')] {
		if _, ok := ix.dirs[d]; ok {
			return
		}
		ix.dirs[d] = struct{}{}
		ix.implied++
	}
}

func (ix *indexer) wants(p string) bool { return ix.capture.match(p) || ix.linked[p] }

// maxLinked bounds the link targets one layer adds to its captures.
const maxLinked = 1 << 16

// follow makes the target of a symlink the capture patterns name a capture
// of this layer as well, when it comes later in the stream: a reader of
// "/usr/bin/ruby" reads "/usr/bin/ruby3.1" it links to. The target is
// resolved lexically, from the link's directory (a layer does not know the
// directory symlinks of the layers under it). A target earlier in the
// stream, or in another layer, is not captured: one pass over the layer
// has gone past it.
func (ix *indexer) follow(p, linkname string) {
	if !ix.capture.match(p) && !ix.linked[p] {
		return
	}
	target := path.Clean(linkname)
	if !strings.HasPrefix(linkname, "/") {
		target = path.Join(path.Dir(p), linkname)
	}
	target = path.Clean("/" + target)
	if target == p || len(ix.linked) >= maxLinked || ix.capture.match(target) {
		return
	}
	if ix.linked == nil {
		ix.linked = map[string]bool{}
	}
	ix.linked[target] = true
}

func (ix *indexer) store(p string, b []byte) {
	if ix.idx.Files == nil {
		ix.idx.Files = make(map[string][]byte)
	}
	ix.idx.Files[p] = b
}

// sniff reads the head of a regular file (and all of it when it is a declared
// capture, or a Go executable when those are asked for) and records what it
// found.
func (ix *indexer) sniff(tr io.Reader, e *Entry) error {
	if ix.wants(e.Path) {
		return ix.keep(tr, e, nil)
	}
	n, err := io.ReadFull(tr, ix.buf[:min(int64(len(ix.buf)), e.Size)])
	if err != nil {
		return wrapRead(fmt.Errorf("reading %s: %w", e.Path, err))
	}
	head := ix.buf[:n]
	if ix.capture.goExec && goExecutable(head) {
		// What syft's Go cataloger reads of an ELF file is in a Partial
		// (on two real Debian images, the same SBOM as with the whole
		// files, 160 MB less peak memory); a packed one is unpacked whole.
		if bytes.HasPrefix(head, []byte(elfMagic)) && !bytes.Contains(head, []byte(upxMagic)) {
			return ix.sniffPartial(tr, e, head)
		}
		return ix.keep(tr, e, head)
	}
	e.Content = ix.sniffed(head)
	if ix.capture.goExec && e.Content.Kind == ContentELF {
		if off, end, ok := goDataRange(head, e.Size); ok {
			return ix.probeGoData(tr, e, head, off, end)
		}
	}
	return nil
}

// probeGoData looks for Go build information in the writable data (off to
// end: see goDataRange) of an ELF file whose head (read already) shows no
// Go build ID: Go links without one when asked to (-ldflags=-buildid=,
// common in reproducible builds), and debug/buildinfo, so syft, still
// reads such a file's modules. The bytes are read as skipping them would
// read them (a layer is one compressed stream), into a buffer the indexer
// reuses, so an ELF file of another language costs a search of its
// writable data and no allocation; a Go one is kept as a Partial, as if
// its head had shown its build ID.
func (ix *indexer) probeGoData(tr io.Reader, e *Entry, head []byte, off, end int64) error {
	if ix.probe == nil {
		ix.probe = make([]byte, 2*partialWindow)
	}
	fail := func(err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return wrapRead(fmt.Errorf("reading %s: %w", e.Path, err))
	}
	h := ix.probe[:min(int64(partialWindow), off)]
	copy(h, head)
	if _, err := io.ReadFull(tr, h[len(head):]); err != nil {
		return fail(err)
	}
	buf := ix.probe[partialWindow:]
	for skip := off - int64(len(h)); skip > 0; {
		m, err := io.ReadFull(tr, buf[:min(skip, int64(len(buf)))])
		skip -= int64(m)
		if err != nil {
			return fail(err)
		}
	}
	// Search in chunks; a blob header may straddle two of them, so each
	// chunk is searched with the last bytes of the one before.
	const keep = len(goBuildInfoMagic) - 1
	pos, carry := off, 0 // file offset of buf[0]; bytes carried over
	for pos+int64(carry) < end {
		m, err := io.ReadFull(tr, buf[carry:min(int64(len(buf)), end-pos)])
		if err != nil {
			return fail(err)
		}
		chunk := buf[:carry+m]
		if at := findMagic(chunk, pos); at >= 0 {
			return ix.keepGoData(tr, e, h, chunk, pos, at)
		}
		carry = copy(buf, chunk[max(0, len(chunk)-keep):])
		pos += int64(len(chunk) - carry)
	}
	return nil
}

// keepGoData keeps as a Partial the ELF file whose head is h and whose Go
// build information probeGoData found at chunk[at:] (chunk: bytes read
// from file offset pos; tr is positioned after them).
func (ix *indexer) keepGoData(tr io.Reader, e *Entry, h, chunk []byte, pos int64, at int) error {
	budget := ix.lim.MaxCaptureTotal - ix.captured - int64(len(h))
	if budget < 0 {
		return nil
	}
	p := &Partial{Size: e.Size, Ranges: []Range{{Off: 0, Data: bytes.Clone(h)}}}
	pr := &posReader{r: tr, pos: pos + int64(len(chunk))}
	from := io.MultiReader(bytes.NewReader(chunk[at:]), pr)
	if err := keepGoWindow(p, pr, p.Ranges[0].Data, budget, from, false, pos+int64(at), chunk, pos); err != nil {
		return wrapRead(fmt.Errorf("reading %s: %w", e.Path, err))
	}
	ix.addPartial(e.Path, p)
	return nil
}

// keep captures a file whose first bytes, read already, are read (nil when
// none were): whole within the capture caps, as a Partial above them.
func (ix *indexer) keep(tr io.Reader, e *Entry, read []byte) error {
	max := ix.lim.MaxCaptureBytes
	if rest := ix.lim.MaxCaptureTotal - ix.captured; rest < max {
		max = rest
	}
	if e.Size > max {
		ix.anomaly(AnomalyCaptureTruncated, e.Path, fmt.Sprintf("%d bytes, cap %d", e.Size, max))
		return ix.sniffPartial(tr, e, read)
	}
	b := make([]byte, e.Size)
	copy(b, read)
	if _, err := io.ReadFull(tr, b[len(read):]); err != nil {
		return wrapRead(fmt.Errorf("reading %s: %w", e.Path, err))
	}
	ix.captured += e.Size
	ix.store(e.Path, b)
	e.Content = ix.sniffed(b)
	return nil
}

// sniffPartial reads the head of a declared file too large to capture (its
// first bytes, read already, are read) and, for an ELF file, keeps what a
// reader of its Go build information needs (see Partial).
func (ix *indexer) sniffPartial(tr io.Reader, e *Entry, read []byte) error {
	head := make([]byte, min(int64(partialWindow), e.Size))
	copy(head, read)
	n, err := io.ReadFull(tr, head[len(read):])
	if err != nil {
		return wrapRead(fmt.Errorf("reading %s: %w", e.Path, err))
	}
	head = head[:len(read)+n]
	e.Content = ix.sniffed(head[:min(n, sniffSize)])
	if e.Content.Kind != ContentELF {
		return nil
	}
	p, err := partialELF(tr, head, e.Size, ix.lim.MaxCaptureTotal-ix.captured)
	if err != nil {
		return wrapRead(fmt.Errorf("reading %s: %w", e.Path, err))
	}
	if p != nil {
		ix.addPartial(e.Path, p)
	}
	return nil
}

// addPartial records what was kept of the file at path.
func (ix *indexer) addPartial(path string, p *Partial) {
	for _, r := range p.Ranges {
		ix.captured += int64(len(r.Data))
	}
	if ix.idx.Partials == nil {
		ix.idx.Partials = map[string]*Partial{}
	}
	ix.idx.Partials[path] = p
}

// sniffed classifies a file from its head, sharing one string per distinct
// interpreter: a layer with 100,000 binaries names three or four.
func (ix *indexer) sniffed(head []byte) Content {
	c := sniffContent(head)
	if c.Interpreter == "" {
		return c
	}
	if s, ok := ix.interps[c.Interpreter]; ok {
		c.Interpreter = s
	} else if len(ix.interps) < 1024 {
		if ix.interps == nil {
			ix.interps = map[string]string{}
		}
		ix.interps[c.Interpreter] = c.Interpreter
	}
	return c
}

// paxXattr is the PAX record prefix under which tar writers (GNU tar,
// BuildKit, containerd) store extended attributes, and from which runtimes
// restore them.
const paxXattr = "SCHILY.xattr."

// xattrs returns the extended attributes hdr carries, nil when none.
func xattrs(hdr *tar.Header) map[string]string {
	var m map[string]string
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, paxXattr); ok && name != "" {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = v
		}
	}
	return m
}

// UnixMode returns m as chmod takes it, the inverse of what Index reads from
// a tar header: 04755 for a setuid 0755.
func UnixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// tarMode converts a tar header mode (Unix bits) to fs.FileMode permission
// and special bits, ignoring type bits.
func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
