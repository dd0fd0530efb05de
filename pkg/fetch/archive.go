package fetch

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Bounds on the archives we index.
const (
	maxArchiveMembers = 100_000
	maxLinkHops       = 16
)

// archive is a tar file indexed once by its headers; member contents are
// served as section readers over the file and never copied to disk.
type archive struct {
	f       *os.File
	size    int64
	members map[string]member
}

// member is one entry of the archive: a regular file's data range, or a
// link to another member.
type member struct {
	offset, size int64
	link         string // cleaned target name for symlinks and hardlinks
	isLink       bool
}

// compressorOf names the whole-archive compressor whose magic number head
// starts with (archives so compressed are refused), or "".
func compressorOf(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "gzip"
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return "zstd"
	case bytes.HasPrefix(head, []byte("BZh")):
		return "bzip2"
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return "xz"
	}
	return ""
}

// indexArchive reads every tar header of f, seeking over the contents.
func indexArchive(f *os.File) (*archive, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 6)
	n, _ := f.ReadAt(head, 0)
	if c := compressorOf(head[:n]); c != "" {
		return nil, kindError(ErrUnsupported, "%s-compressed archive; decompress it first", c)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	a := &archive{f: f, size: fi.Size(), members: map[string]member{}}
	// tar.Reader reads f directly (no buffering) and seeks over member
	// data, so the file offset right after Next is where the data starts.
	tr := tar.NewReader(f)
	for count := 0; ; count++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if count > 0 && !endsWithTrailer(f) {
				return nil, kindError(ErrCorrupt, "archive ends without a tar trailer; it is truncated")
			}
			break
		}
		if err != nil {
			if count == 0 {
				return nil, kindError(ErrUnsupported, "not a tar archive (%v)", err)
			}
			return nil, kindError(ErrCorrupt, "reading tar header %d: %v", count+1, err)
		}
		if count >= maxArchiveMembers {
			return nil, kindError(ErrUnsupported, "archive has more than %d members", maxArchiveMembers)
		}
		name := cleanMemberName(hdr.Name)
		if name == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg: // the reader turns the legacy '\x00' into TypeReg
			if isSparse(hdr) {
				continue // not something an image archive holds
			}
			off, err := f.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, err
			}
			if hdr.Size < 0 || off+hdr.Size > a.size {
				return nil, kindError(ErrCorrupt, "archive is truncated in %q", hdr.Name)
			}
			a.members[name] = member{offset: off, size: hdr.Size}
		case tar.TypeSymlink:
			target := hdr.Linkname
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			a.members[name] = member{link: cleanMemberName(target), isLink: true}
		case tar.TypeLink:
			a.members[name] = member{link: cleanMemberName(hdr.Linkname), isLink: true}
		}
	}
	return a, nil
}

// endsWithTrailer reports whether the block before the reader's position
// is a zero block, as tar writers end archives; an archive cut at a member
// boundary lacks it. (A cut right after a member whose own data ends in
// zeros goes unnoticed; the blobs' digests catch the rest.)
func endsWithTrailer(f *os.File) bool {
	pos, err := f.Seek(0, io.SeekCurrent)
	if err != nil || pos < 512 {
		return false
	}
	blk := make([]byte, 512)
	if _, err := f.ReadAt(blk, pos-512); err != nil {
		return false
	}
	for _, b := range blk {
		if b != 0 {
			return false
		}
	}
	return true
}

// isSparse reports GNU sparse members, whose data is not a plain range.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// cleanMemberName makes tar names comparable: no leading "/" or "./".
func cleanMemberName(name string) string {
	name = path.Clean("/" + name)
	return strings.TrimPrefix(name, "/")
}

// lookup resolves name, following links, to a regular member.
func (a *archive) lookup(name string) (member, error) {
	name = cleanMemberName(name)
	for range maxLinkHops {
		m, ok := a.members[name]
		if !ok {
			return member{}, fmt.Errorf("%s: %w", name, fs.ErrNotExist)
		}
		if !m.isLink {
			return m, nil
		}
		name = m.link
	}
	return member{}, kindError(ErrCorrupt, "%s: too many levels of links", name)
}

// has reports whether name exists as a regular member.
func (a *archive) has(name string) bool {
	_, err := a.lookup(name)
	return err == nil
}

// open returns a reader over a member's data.
func (a *archive) open(name string) (*io.SectionReader, error) {
	m, err := a.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(a.f, m.offset, m.size), nil
}

// readFile reads a whole member of at most limit bytes.
func (a *archive) readFile(name string, limit int64) ([]byte, error) {
	sr, err := a.open(name)
	if err != nil {
		return nil, err
	}
	if sr.Size() > limit {
		return nil, tooLarge(name, sr.Size(), limit)
	}
	return io.ReadAll(sr)
}

// openBlob implements blobSource for archives holding an OCI layout.
func (a *archive) openBlob(h v1.Hash) (io.ReadCloser, int64, error) {
	sr, err := a.open("blobs/" + h.Algorithm + "/" + h.Hex)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(sr), sr.Size(), nil
}

// openMember is a blob opener for members named by path.
func (a *archive) openMember(name string) (io.ReadCloser, int64, error) {
	sr, err := a.open(name)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(sr), sr.Size(), nil
}

// isNotExist reports a missing file or member.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
