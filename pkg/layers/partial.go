package layers

import (
	"bytes"
	"errors"
	"io"
	"sort"
)

// Partial is what a scan keeps of a declared file too large to capture
// whole (see [Limits.MaxCaptureBytes]) when a reader of that kind of file
// needs only some of it: for an ELF executable, its first 64 KiB (ELF and
// program headers) and the 64 KiB from the Go build information blob
// ("\xff Go buildinf:", where Go records its version and every module it
// linked), found while the file streams past, and, when they lie past
// those, the ELF section headers with the 4 KiB before them (where linkers
// put the section name table: Go up to 1.19 and external linkers write
// both at the end of the file, and debug/elf refuses a file without them),
// and the section name table alone when the headers are in the head (Go's
// linker since 1.20) and the table at the end (debug/buildinfo finds a
// position-independent executable's build information by its section's
// name). A Go service binary of 100 MB costs 128-140 KiB, and its modules
// can still be listed.
type Partial struct {
	// Size is the file's size.
	Size int64
	// Ranges hold the kept bytes, sorted by offset, not overlapping.
	Ranges []Range
}

// Range is kept bytes of a file at an offset.
type Range struct {
	Off  int64
	Data []byte
}

// GoBuildInfo reports whether the kept bytes include Go build information.
func (p *Partial) GoBuildInfo() bool {
	for _, r := range p.Ranges {
		if bytes.HasPrefix(r.Data, []byte(goBuildInfoMagic)) {
			return true
		}
	}
	return false
}

// Head returns the kept bytes at offset 0.
func (p *Partial) Head() []byte {
	if len(p.Ranges) > 0 && p.Ranges[0].Off == 0 {
		return p.Ranges[0].Data
	}
	return nil
}

// Open returns a reader of the whole file in which the bytes not kept read
// as zeros. It is an io.ReaderAt and an io.Seeker, so a parser can jump to
// the kept ranges without reading the file's size into memory.
func (p *Partial) Open() *PartialReader { return &PartialReader{p: p} }

// PartialReader reads a Partial (see [Partial.Open]).
type PartialReader struct {
	p   *Partial
	off int64
}

// ReadAt reads as if the whole file were there, zeros where it is not.
func (r *PartialReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("partial file: negative offset")
	}
	if off >= r.p.Size {
		return 0, io.EOF
	}
	n := len(b)
	if rest := r.p.Size - off; int64(n) > rest {
		n = int(rest)
	}
	out := b[:n]
	clear(out)
	end := off + int64(n)
	// The first range that ends after off.
	i := sort.Search(len(r.p.Ranges), func(i int) bool {
		rg := r.p.Ranges[i]
		return rg.Off+int64(len(rg.Data)) > off
	})
	for ; i < len(r.p.Ranges) && r.p.Ranges[i].Off < end; i++ {
		rg := r.p.Ranges[i]
		lo, hi := max(off, rg.Off), min(end, rg.Off+int64(len(rg.Data)))
		copy(out[lo-off:hi-off], rg.Data[lo-rg.Off:hi-rg.Off])
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}

func (r *PartialReader) Read(b []byte) (int, error) {
	n, err := r.ReadAt(b, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (r *PartialReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.p.Size
	default:
		return 0, errors.New("partial file: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("partial file: negative position")
	}
	r.off = offset
	return offset, nil
}

// Close does nothing.
func (r *PartialReader) Close() error { return nil }

// goBuildInfoMagic starts the Go build information blob of an executable.
const goBuildInfoMagic = "\xff Go buildinf:"

const partialWindow = 64 << 10

// partialELF keeps the head of an ELF file already read (head) and, reading
// on from r (positioned after head), the 64 KiB from the first Go build
// information blob, whose header is aligned on 16 bytes. It stops reading
// there; the caller skips the rest. It returns nil when head is not ELF.
// budget bounds the bytes kept.
func partialELF(r io.Reader, head []byte, size int64, budget int64) (*Partial, error) {
	if !bytes.HasPrefix(head, []byte(elfMagic)) || int64(len(head)) > budget {
		return nil, nil
	}
	p := &Partial{Size: size, Ranges: []Range{{Off: 0, Data: bytes.Clone(head)}}}
	budget -= int64(len(head))
	pr := &posReader{r: r, pos: int64(len(head))}
	r = pr
	keepGo := func(from io.Reader, fromHead bool, at int64, held []byte, heldOff int64) error {
		return keepGoWindow(p, pr, head, budget, from, fromHead, at, held, heldOff)
	}
	if at := findMagic(head, 0); at >= 0 {
		return p, keepGo(r, true, int64(at), head, 0)
	}
	// Stream the rest in chunks; a blob header may straddle two of them,
	// so each chunk is searched with the last bytes of the one before.
	const keep = 15
	buf := make([]byte, keep+256<<10)
	carry := copy(buf, head[max(0, len(head)-keep):])
	pos := int64(len(head)) - int64(carry) // file offset of buf[0]
	for {
		n, err := io.ReadFull(r, buf[carry:])
		chunk := buf[:carry+n]
		if at := findMagic(chunk, pos); at >= 0 {
			return p, keepGo(io.MultiReader(bytes.NewReader(chunk[at:]), r), false, pos+int64(at), chunk, pos)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return p, nil // no Go build information: an ELF file of another language
		}
		if err != nil {
			return nil, err
		}
		carry = copy(buf, chunk[len(chunk)-keep:])
		pos += int64(len(chunk) - carry)
	}
}

// keepGoWindow adds to p, whose first range is head, the window at the Go
// build information at file offset at, read from from (which is positioned
// at at, or, when fromHead, after head: see keepFrom), then the section
// headers when they come after it (see keepSectionHeaders). held are bytes
// read already, from file offset heldOff; pr is the file's stream, and
// budget bounds the bytes kept beyond head.
func keepGoWindow(p *Partial, pr *posReader, head []byte, budget int64, from io.Reader, fromHead bool, at int64, held []byte, heldOff int64) error {
	var h []byte
	if fromHead {
		h = head
	}
	if err := keepFrom(p, from, h, at, budget); err != nil {
		return err
	}
	if err := keepSectionHeaders(p, pr, head, held, heldOff, budget-(p.kept()-int64(len(head)))); err != nil {
		return err
	}
	return keepNameTable(p, pr, head, budget-(p.kept()-int64(len(head))))
}

// keepNameTable adds to p the ELF file's section name table when p holds
// the section headers (in its head, as Go's linker writes them since Go
// 1.20, or kept past it) but not the table, which then lies at the end of
// the file: debug/buildinfo finds the build information of a
// position-independent executable by its section's name, and a partial
// whose names read as zeros lists no module of it. A table already passed
// in the stream, or larger than 64 KiB, adds nothing.
func keepNameTable(p *Partial, r *posReader, head []byte, budget int64) error {
	shoff, shsize, ok := sectionHeaderTable(head)
	if !ok {
		return nil
	}
	bo := elfByteOrder(head)
	var idx uint64
	var entsize int64
	switch head[4] {
	case 1:
		idx, entsize = uint64(bo.Uint16(head[0x32:])), int64(bo.Uint16(head[0x2e:]))
	case 2:
		idx, entsize = uint64(bo.Uint16(head[0x3e:])), int64(bo.Uint16(head[0x3a:]))
	}
	least := int64(40)
	if head[4] == 2 {
		least = 64
	}
	if entsize < least || int64(idx+1)*entsize > shsize {
		return nil
	}
	sh := make([]byte, entsize)
	if !p.holds(shoff+int64(idx)*entsize, sh) {
		return nil
	}
	var off, n uint64
	if head[4] == 1 {
		off, n = uint64(bo.Uint32(sh[0x10:])), uint64(bo.Uint32(sh[0x14:]))
	} else {
		off, n = bo.Uint64(sh[0x18:]), bo.Uint64(sh[0x20:])
	}
	if n == 0 || n > 64<<10 || int64(n) > budget || off < uint64(r.pos) || off+n > uint64(p.Size) {
		return nil
	}
	if _, err := io.CopyN(io.Discard, r, int64(off)-r.pos); err != nil {
		return nil // the file ends before its name table: keep what there is
	}
	b := make([]byte, n)
	m, err := io.ReadFull(r, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	if m > 0 {
		p.Ranges = append(p.Ranges, Range{Off: int64(off), Data: b[:m]})
	}
	return nil
}

// holds copies into b the kept bytes at file offset off and reports
// whether all of them were kept, in one range.
func (p *Partial) holds(off int64, b []byte) bool {
	for _, r := range p.Ranges {
		if off >= r.Off && off+int64(len(b)) <= r.Off+int64(len(r.Data)) {
			copy(b, r.Data[off-r.Off:])
			return true
		}
	}
	return false
}

// goDataRange returns the part of an ELF file (head: its first bytes;
// size: its size) where Go build information can be when its head shows no
// build ID: from its first loadable segment that is writable and not
// executable (where debug/buildinfo looks when no section is named
// ".go.buildinfo") to the end of the last such segment in the file. Go's
// own linker puts the build information first in the first of them, or,
// for a position-independent executable, first in the one after the
// relocated read-only data; an external linker puts it after the C
// runtime's and that data, so up to hundreds of KiB in. ok is false when
// the program headers are not in head, name no such segment, or it does
// not lie in the file past head.
func goDataRange(head []byte, size int64) (off, end int64, ok bool) {
	bo := elfByteOrder(head)
	if bo == nil || len(head) < 0x40 {
		return 0, 0, false
	}
	var phoff uint64
	var entsize, num, want int
	switch head[4] {
	case 1:
		phoff, entsize, num, want = uint64(bo.Uint32(head[0x1c:])), int(bo.Uint16(head[0x2a:])), int(bo.Uint16(head[0x2c:])), 32
	case 2:
		phoff, entsize, num, want = bo.Uint64(head[0x20:]), int(bo.Uint16(head[0x36:])), int(bo.Uint16(head[0x38:])), 56
	default:
		return 0, 0, false
	}
	if entsize < want || phoff >= uint64(len(head)) {
		return 0, 0, false
	}
	const ptLoad, pfX, pfW = 1, 1, 2
	var lo, hi uint64
	for i := range num {
		at := phoff + uint64(i)*uint64(entsize)
		if at+uint64(want) > uint64(len(head)) {
			return 0, 0, false
		}
		ph := head[at:]
		var typ, flags uint32
		var poff, filesz uint64
		if head[4] == 1 {
			typ, poff, filesz, flags = bo.Uint32(ph), uint64(bo.Uint32(ph[4:])), uint64(bo.Uint32(ph[16:])), bo.Uint32(ph[24:])
		} else {
			typ, flags, poff, filesz = bo.Uint32(ph), bo.Uint32(ph[4:]), bo.Uint64(ph[8:]), bo.Uint64(ph[32:])
		}
		if typ != ptLoad || flags&(pfX|pfW) != pfW || poff >= uint64(size) {
			continue
		}
		e := min(poff+min(filesz, uint64(size)), uint64(size))
		if hi == 0 {
			lo = poff
		}
		hi = max(hi, e)
	}
	if hi == 0 || lo < uint64(len(head)) || hi < lo+32 {
		return 0, 0, false
	}
	return int64(lo), int64(hi), true
}

// findMagic returns the index in b of the first Go build information magic
// at a 16-byte-aligned file offset (b starts at file offset pos), or -1.
func findMagic(b []byte, pos int64) int {
	for from := 0; ; {
		i := bytes.Index(b[from:], []byte(goBuildInfoMagic))
		if i < 0 {
			return -1
		}
		at := from + i
		if (pos+int64(at))%16 == 0 {
			return at
		}
		from = at + 1
	}
}

// keepFrom adds to p the window at file offset off: from head when it
// holds it, else read from r, which is positioned at off.
func keepFrom(p *Partial, r io.Reader, head []byte, off int64, budget int64) error {
	size := min(int64(partialWindow), p.Size-off, budget)
	if size <= 0 {
		return nil
	}
	if off+size <= int64(len(head)) {
		return nil // already in the head range
	}
	if off < int64(len(head)) {
		// Overlaps the head: keep what follows it.
		r = io.MultiReader(bytes.NewReader(head[off:]), r)
	}
	b := make([]byte, size)
	n, err := io.ReadFull(r, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	b = b[:n]
	if off < int64(len(head)) {
		// Merge into the head range to keep ranges disjoint.
		p.Ranges[0].Data = append(p.Ranges[0].Data[:off], b...)
		return nil
	}
	p.Ranges = append(p.Ranges, Range{Off: off, Data: b})
	return nil
}

func (p *Partial) kept() int64 {
	var n int64
	for _, r := range p.Ranges {
		n += int64(len(r.Data))
	}
	return n
}

// posReader counts the file offset of the next byte it reads.
type posReader struct {
	r   io.Reader
	pos int64
}

func (r *posReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.pos += int64(n)
	return n, err
}

// shstrtabWindow is how many bytes before the section header table are
// kept with it: linkers put the section name table right before the
// headers (Go's own linker up to Go 1.19, and external linkers).
const shstrtabWindow = 4096

// keepSectionHeaders adds to p the section header table of the ELF file
// whose head is head, with the shstrtabWindow bytes before it, when the
// table lies at or after r's position: Go's linker up to Go 1.19 and
// external linkers put it at the end of the file, and debug/elf (which
// debug/buildinfo opens the file with) refuses a file whose section name
// table does not read back. A table in the head, or already passed, adds
// nothing.
func keepSectionHeaders(p *Partial, r *posReader, head, held []byte, heldOff int64, budget int64) error {
	off, n, ok := sectionHeaderTable(head)
	if !ok || off+n <= int64(len(head)) || off+n > p.Size {
		return nil
	}
	last := p.Ranges[len(p.Ranges)-1]
	low := max(heldOff, last.Off+int64(len(last.Data))) // kept or gone before this
	if held == nil {
		low = max(low, r.pos)
	}
	if off < low {
		return nil
	}
	start := max(off-shstrtabWindow, low)
	if off+n-start > budget {
		return nil
	}
	var src io.Reader = r
	if start < r.pos && start-heldOff > int64(len(held)) {
		return nil // not held: cannot happen, never panic on it
	}
	if start < r.pos {
		src = io.MultiReader(bytes.NewReader(held[start-heldOff:]), r)
	} else if _, err := io.CopyN(io.Discard, r, start-r.pos); err != nil {
		return nil // the file ends before its section headers: keep what there is
	}
	b := make([]byte, off+n-start)
	m, err := io.ReadFull(src, b)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return err
	}
	if m > 0 {
		p.Ranges = append(p.Ranges, Range{Off: start, Data: b[:m]})
	}
	return nil
}

// sectionHeaderTable returns the file range of an ELF file's section
// header table from its header, when it is plausible (at most 64 KiB).
func sectionHeaderTable(head []byte) (off, n int64, ok bool) {
	if len(head) < 0x40 {
		return 0, 0, false
	}
	bo := elfByteOrder(head)
	if bo == nil {
		return 0, 0, false
	}
	var shoff uint64
	var entsize, num uint16
	switch head[4] {
	case 1:
		shoff, entsize, num = uint64(bo.Uint32(head[0x20:])), bo.Uint16(head[0x2e:]), bo.Uint16(head[0x30:])
	case 2:
		shoff, entsize, num = bo.Uint64(head[0x28:]), bo.Uint16(head[0x3a:]), bo.Uint16(head[0x3c:])
	default:
		return 0, 0, false
	}
	size := uint64(entsize) * uint64(num)
	if size == 0 || size > 64<<10 || shoff > 1<<62 {
		return 0, 0, false
	}
	return int64(shoff), int64(size), true
}
