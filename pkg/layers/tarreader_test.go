package layers

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// tarRecord is what the indexer takes from one entry.
type tarRecord struct {
	Name, Linkname string
	Typeflag       byte
	Mode, Size     int64
	UID, GID       int
	Data           string // the first bytes of the entry's data
	ReadErr        bool
}

type tarNexter interface {
	Next() (*tar.Header, error)
	Read([]byte) (int, error)
}

// readTar reads every entry, reading the data of every other entry (half
// partially) so that both the read and the skip paths are exercised.
func readTar(r tarNexter) ([]tarRecord, error) {
	var out []tarRecord
	for i := 0; ; i++ {
		h, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec := tarRecord{Name: h.Name, Linkname: h.Linkname, Typeflag: h.Typeflag, Mode: h.Mode, Size: h.Size, UID: h.Uid, GID: h.Gid}
		switch i % 3 {
		case 0:
			b, err := io.ReadAll(io.LimitReader(r, 1<<20))
			rec.Data, rec.ReadErr = string(b), err != nil
		case 1:
			b := make([]byte, 7)
			n, err := io.ReadFull(r, b)
			rec.Data, rec.ReadErr = string(b[:n]), err != nil && err != io.ErrUnexpectedEOF && err != io.EOF
		}
		out = append(out, rec)
	}
}

// sameAsArchiveTar fails t when tarReader reads data differently from
// archive/tar: other entries, fields, data, or an error at another entry.
func sameAsArchiveTar(t *testing.T, data []byte) {
	t.Helper()
	want, werr := readTar(tar.NewReader(bytes.NewReader(data)))
	got, gerr := readTar(newTarReader(bytes.NewReader(data)))
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("error: archive/tar %v, tarReader %v", werr, gerr)
	}
	if len(want) != len(got) {
		t.Fatalf("archive/tar read %d entries (err %v), tarReader %d (err %v)", len(want), werr, len(got), gerr)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("entry %d:\narchive/tar %+v\ntarReader   %+v", i, want[i], got[i])
		}
	}
}

// tarOf writes hdrs (with data for regular files) in format f.
func tarOf(t testing.TB, f tar.Format, hdrs ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		h.Format = f
		data := ""
		if h.Typeflag == tar.TypeReg {
			data = strings.Repeat(h.Name[:1], int(h.Size))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sampleHeaders() []tar.Header {
	long := strings.Repeat("d/", 60) + "file"
	return []tar.Header{
		{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: "etc/passwd", Typeflag: tar.TypeReg, Mode: 0o644, Size: 33},
		{Name: "bin/sh", Typeflag: tar.TypeSymlink, Linkname: "dash", Mode: 0o777},
		{Name: "bin/ash", Typeflag: tar.TypeLink, Linkname: "bin/sh"},
		{Name: "usr/bin/su", Typeflag: tar.TypeReg, Mode: 0o4755, Uid: 0, Gid: 0, Size: 512},
		{Name: "x/" + long, Typeflag: tar.TypeReg, Mode: 0o600, Uid: 65532, Gid: 65532, Size: 1},
		{Name: "dev/null", Typeflag: tar.TypeChar, Devmajor: 1, Devminor: 3, Mode: 0o666},
		{Name: "fifo", Typeflag: tar.TypeFifo, Mode: 0o600},
		{Name: "empty", Typeflag: tar.TypeReg, Mode: 0o644},
		{Name: "link/" + long, Typeflag: tar.TypeSymlink, Linkname: long},
	}
}

func TestTarReaderMatchesArchiveTar(t *testing.T) {
	hdrs := sampleHeaders()
	for _, f := range []tar.Format{tar.FormatUSTAR, tar.FormatPAX, tar.FormatGNU} {
		hs := hdrs
		if f == tar.FormatUSTAR {
			hs = hs[:5] // USTAR cannot hold the long names
		}
		t.Run(f.String(), func(t *testing.T) { sameAsArchiveTar(t, tarOf(t, f, hs...)) })
	}
	// Native and archive/tar entries interleaved: PAX records (a large uid,
	// xattrs, a long name) between plain headers, and a global header.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i, h := range append(hdrs, tar.Header{Name: "big-uid", Typeflag: tar.TypeReg, Uid: 1 << 30, Size: 3},
		tar.Header{Name: "caps", Typeflag: tar.TypeReg, Size: 5, PAXRecords: map[string]string{"SCHILY.xattr.security.capability": "\x01"}},
		tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "x"}},
		tar.Header{Name: "after", Typeflag: tar.TypeReg, Size: 700}) {
		if i%2 == 0 && h.Format == tar.FormatUnknown && h.Typeflag != tar.TypeXGlobalHeader {
			h.Format = tar.FormatGNU
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			io.WriteString(tw, strings.Repeat("z", int(h.Size)))
		}
	}
	tw.Close()
	t.Run("mixed", func(t *testing.T) { sameAsArchiveTar(t, buf.Bytes()) })
}

func TestTarReaderHostile(t *testing.T) {
	base := tarOf(t, tar.FormatGNU, sampleHeaders()...)
	ustar := tarOf(t, tar.FormatUSTAR, sampleHeaders()[:5]...)
	set := func(b []byte, off int, s string) []byte {
		c := bytes.Clone(b)
		copy(c[off:], s)
		return c
	}
	cases := map[string][]byte{
		"empty":                 nil,
		"one byte":              {1},
		"truncated in header":   base[:300],
		"truncated in data":     base[:512*3+10],
		"truncated in padding":  ustar[:512*3+40],
		"truncated after entry": ustar[:512*4],
		"bad checksum":          set(base, 148, "0000001\x00"),
		"base-256 checksum":     set(base, 148, "\x80\x00\x00\x00\x00\x00\x00\x01"),
		"bad mode":              set(ustar, 100, "9999999\x00"),
		"bad mtime":             set(ustar, 136, "zz"),
		"base-256 uid":          set(ustar, 108, "\x80\x00\x00\x00\x00\x00\x10\x00"),
		"v7 magic":              set(ustar, 257, "\x00\x00\x00\x00\x00\x00\x00\x00"),
		"star trailer":          set(ustar, 508, "tar\x00"),
		"regA":                  set(ustar, 156, "\x00"),
		"zero then data":        append(make([]byte, 512), ustar...),
		"one zero block":        append(bytes.Clone(ustar[:len(ustar)-1024]), make([]byte, 512)...),
		"garbage after end":     append(bytes.Clone(ustar), "garbage"...),
		"cont type":             set(ustar, 156, "7"),
		"gnu bad atime":         set(base, 345, "zzz"),
		"negative size":         set(ustar, 124, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"),
		"spaces in number":      set(ustar, 100, " 0 755 \x00"),
		"nul inside number":     set(ustar, 100, "07\x0055\x00\x00\x00"),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			// The cases edit the first header, whose checksum is then
			// stale; test both the stale and the recomputed checksum.
			sameAsArchiveTar(t, data)
			if len(data) >= 512 {
				sameAsArchiveTar(t, fixChecksum(bytes.Clone(data)))
			}
		})
	}
}

// fixChecksum rewrites the first header's checksum to match its bytes.
func fixChecksum(b []byte) []byte {
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b[:512] {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func TestTarReaderSparse(t *testing.T) {
	// An old GNU sparse file (type 'S'): archive/tar reads it and every
	// entry after it.
	var h [512]byte
	copy(h[0:], "sparse")
	copy(h[100:], "0000644\x00")
	copy(h[108:], "0000000\x00")
	copy(h[116:], "0000000\x00")
	copy(h[124:], "00000001000\x00") // 512 bytes stored
	copy(h[136:], "00000000000\x00")
	h[156] = 'S'
	copy(h[257:], "ustar  \x00")
	copy(h[386:], "00000010000\x00") // sparse entry 0: offset 4096
	copy(h[398:], "00000001000\x00") // length 512
	copy(h[483:], "00000011000\x00") // real size 4608
	data := append(fixChecksum(h[:]), bytes.Repeat([]byte{'s'}, 512)...)
	data = append(data, tarOf(t, tar.FormatGNU, sampleHeaders()...)...)
	sameAsArchiveTar(t, data)
}

func FuzzTarReader(f *testing.F) {
	f.Add(tarOf(f, tar.FormatGNU, sampleHeaders()...))
	f.Add(tarOf(f, tar.FormatPAX, sampleHeaders()...))
	f.Add(tarOf(f, tar.FormatUSTAR, sampleHeaders()[:5]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsArchiveTar(t, data)
		// Recompute every plausible header's checksum so mutations get
		// past it and reach the field parsers.
		d := bytes.Clone(data)
		for off := 0; off+512 <= len(d); off += 512 {
			fixChecksum(d[off:])
		}
		sameAsArchiveTar(t, d)
	})
}

func TestTarReaderErrorsPassThrough(t *testing.T) {
	boom := errors.New("boom")
	data := tarOf(t, tar.FormatGNU, sampleHeaders()...)
	r := newTarReader(io.MultiReader(bytes.NewReader(data[:1000]), iotestErr{boom}))
	_, err := readTar(r)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }
