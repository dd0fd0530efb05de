package layers_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// Resource limits: sparse files, cancellation. Every layer here is made of
// hand-written tar blocks, since archive/tar writes no sparse files.

// ustarBlock is a ustar header block with a valid checksum.
func ustarBlock(name string, flag byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:], name)
	copy(b[100:], "0000755\x00")
	copy(b[108:], "0000000\x00")
	copy(b[116:], "0000000\x00")
	copy(b[124:], fmt.Sprintf("%011o\x00", size))
	copy(b[136:], "00000000000\x00")
	b[156] = flag
	copy(b[257:], "ustar\x0000")
	return checksummed(b)
}

func checksummed(b []byte) []byte {
	copy(b[148:156], "        ")
	var sum int64
	for _, c := range b[:512] {
		sum += int64(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func padBlock(b []byte) []byte { return append(b, make([]byte, (512-len(b)%512)%512)...) }

// paxRecord formats one PAX record, its length prefix included.
func paxRecord(k, v string) string {
	s := " " + k + "=" + v + "\n"
	n := len(s)
	for {
		l := len(strconv.Itoa(n)) + len(s)
		if l == n {
			return strconv.Itoa(n) + s
		}
		n = l
	}
}

func paxEntry(recs string, flag byte, name string, size int64, data []byte) []byte {
	out := ustarBlock("PaxHeaders/"+name, 'x', int64(len(recs)))
	out = append(out, padBlock([]byte(recs))...)
	out = append(out, ustarBlock(name, flag, size)...)
	return append(out, padBlock(data)...)
}

// sparseEntry is a sparse file named name of logical size realsize whose
// only data, head, sits at offset 0, the rest being one hole, in one of the
// GNU sparse formats archive/tar reads.
func sparseEntry(format, name string, realsize int64, head []byte) []byte {
	size := strconv.FormatInt(realsize, 10)
	n := strconv.Itoa(len(head))
	switch format {
	case "pax1.0": // the map is in the data, before the file's bytes
		m := padBlock([]byte("2\n0\n" + n + "\n" + size + "\n0\n"))
		recs := paxRecord("GNU.sparse.major", "1") + paxRecord("GNU.sparse.minor", "0") +
			paxRecord("GNU.sparse.name", name) + paxRecord("GNU.sparse.realsize", size)
		return paxEntry(recs, '0', "GNUSparseFile.0/"+name, int64(len(m)+len(head)), append(m, head...))
	case "pax0.1":
		recs := paxRecord("GNU.sparse.size", size) + paxRecord("GNU.sparse.numblocks", "2") +
			paxRecord("GNU.sparse.map", "0,"+n+","+size+",0") + paxRecord("GNU.sparse.name", name)
		return paxEntry(recs, '0', "GNUSparseFile.0/"+name, int64(len(head)), head)
	case "pax0.0":
		recs := paxRecord("GNU.sparse.size", size) + paxRecord("GNU.sparse.numblocks", "2") +
			paxRecord("GNU.sparse.offset", "0") + paxRecord("GNU.sparse.numbytes", n) +
			paxRecord("GNU.sparse.offset", size) + paxRecord("GNU.sparse.numbytes", "0")
		return paxEntry(recs, '0', name, int64(len(head)), head)
	case "oldgnu":
		b := make([]byte, 512)
		copy(b[0:], name)
		copy(b[100:], "0000755\x00")
		copy(b[108:], "0000000\x00")
		copy(b[116:], "0000000\x00")
		copy(b[124:], fmt.Sprintf("%011o\x00", len(head)))
		copy(b[136:], "00000000000\x00")
		b[156] = 'S'
		copy(b[257:], "ustar  \x00")
		copy(b[386:], fmt.Sprintf("%011o\x00", 0)) // entry 0: the head
		copy(b[398:], fmt.Sprintf("%011o\x00", len(head)))
		base256(b[410:422], realsize) // entry 1: empty, at the end
		copy(b[422:], fmt.Sprintf("%011o\x00", 0))
		base256(b[483:495], realsize)
		return append(checksummed(b), padBlock(head)...)
	}
	panic(format)
}

// base256 writes v in a 12-byte numeric field in GNU's binary form.
func base256(f []byte, v int64) {
	clear(f)
	for i := len(f) - 1; i > 0 && v > 0; i-- {
		f[i] = byte(v)
		v >>= 8
	}
	f[0] = 0x80
}

var sparseFormats = []string{"pax1.0", "pax0.1", "pax0.0", "oldgnu"}

// elfHead is the head of a 64-bit little-endian ELF file: captured files
// too large to keep whole are searched for Go build information.
func elfHead() []byte {
	h := make([]byte, 4096)
	copy(h, "\x7fELF\x02\x01\x01")
	return h
}

func sparseLayer(format string, realsize int64) []byte {
	b := sparseEntry(format, "usr/bin/app", realsize, elfHead())
	return append(b, make([]byte, 1024)...) // end of archive
}

func TestSparseFormatsReadAsArchiveTarDoes(t *testing.T) {
	// The hand-made entries are what archive/tar calls sparse files, of
	// the size claimed.
	for _, f := range sparseFormats {
		tr := tar.NewReader(bytes.NewReader(sparseLayer(f, 1<<20)))
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n, err := io.Copy(io.Discard, tr)
		if err != nil || h.Name != "usr/bin/app" || n != 1<<20 {
			t.Fatalf("%s: %q, %d bytes, %v", f, h.Name, n, err)
		}
	}
}

func TestSparseCountsExpandedSize(t *testing.T) {
	// A petabyte sparse file at a captured name is a layer over the size
	// limit, known from its header: nothing is expanded.
	opts := layers.Options{Capture: []string{"/usr/bin/app"}}
	for _, f := range sparseFormats {
		t.Run(f, func(t *testing.T) {
			blob := sparseLayer(f, 1<<50)
			var err error
			bounded(t, 10*time.Second, 16<<20, func() {
				_, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), opts)
			})
			wantErr(t, err, layers.ErrLimit, "max-layer-size", "sparse")
		})
	}
	// Several sparse files add up.
	var blob []byte
	for i := range 3 {
		blob = append(blob, sparseEntry("pax1.0", fmt.Sprintf("f%d", i), 1<<20, []byte("x"))...)
	}
	blob = append(blob, make([]byte, 1024)...)
	_, err := layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Limits: layers.Limits{MaxLayerBytes: 5 << 19}})
	wantErr(t, err, layers.ErrLimit, "max-layer-size")
}

func TestSparseUnderTheLimitIsRead(t *testing.T) {
	// Below the limit a sparse file is an ordinary file of its logical
	// size: sniffed, and searched for Go build information.
	for _, f := range sparseFormats {
		blob := sparseLayer(f, 64<<20)
		var idx *layers.LayerIndex
		var err error
		bounded(t, 10*time.Second, 32<<20, func() {
			idx, err = layers.IndexStream(context.Background(), bytes.NewReader(blob), layers.Options{Capture: []string{"/usr/bin/app"}})
		})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(idx.Entries) != 1 || idx.Entries[0].Size != 64<<20 || idx.Entries[0].Content.Kind != layers.ContentELF {
			t.Fatalf("%s: entries %+v", f, idx.Entries)
		}
		if p := idx.Partials["/usr/bin/app"]; p == nil || p.Size != 64<<20 {
			t.Fatalf("%s: partial %+v", f, p)
		}
	}
}

func TestCancelStopsSparseExpansion(t *testing.T) {
	// A terabyte of holes allowed by the limit: cancelling stops the
	// search for Go build information in it at once.
	blob := sparseLayer("pax1.0", 1<<40)
	opts := layers.Options{Capture: []string{"/usr/bin/app"}, Limits: layers.Limits{MaxLayerBytes: 1 << 41}}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := layers.IndexStream(ctx, bytes.NewReader(blob), opts)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("returned %s after the start, want < 2s", el)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// countingImage counts the manifest and config reads of its image, and
// its layers fail when asked for their diffID.
type countingImage struct {
	v1.Image
	manifests, configs *atomic.Int64
}

func (c countingImage) Manifest() (*v1.Manifest, error) {
	c.manifests.Add(1)
	return c.Image.Manifest()
}

func (c countingImage) ConfigFile() (*v1.ConfigFile, error) {
	c.configs.Add(1)
	return c.Image.ConfigFile()
}

func (c countingImage) Layers() ([]v1.Layer, error) {
	ls, err := c.Image.Layers()
	for i := range ls {
		ls[i] = noDiffID{ls[i]}
	}
	return ls, err
}

// noDiffID is a layer whose DiffID is never to be asked: go-containerregistry
// answers it by reading the whole manifest and config again.
type noDiffID struct{ v1.Layer }

func (noDiffID) DiffID() (v1.Hash, error) { return v1.Hash{}, errors.New("DiffID asked") }

func manyLayers(t *testing.T, n int) v1.Image {
	t.Helper()
	var adds []mutate.Addendum
	for i := range n {
		l, err := it.Layer(it.Text(fmt.Sprintf("f%d", i), "x"))
		if err != nil {
			t.Fatal(err)
		}
		adds = append(adds, mutate.Addendum{Layer: l})
	}
	img, err := mutate.Append(empty.Image, adds...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestLayerCountIsLinear(t *testing.T) {
	// Manifest and config are read once per scan whatever the number of
	// layers, and no layer is asked for its diffID.
	var manifests, configs atomic.Int64
	img := countingImage{manyLayers(t, 100), &manifests, &configs}
	for _, opts := range []layers.ImageOptions{{}, {Flight: layers.NewFlight()}} {
		manifests.Store(0)
		configs.Store(0)
		f, err := layers.Scan(context.Background(), img, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Layers()) != 100 || f.Len() != 100 {
			t.Fatalf("%d layers, %d files", len(f.Layers()), f.Len())
		}
		if manifests.Load() > 1 || configs.Load() > 1 {
			t.Errorf("%d manifest and %d config reads for 100 layers, want 1 each", manifests.Load(), configs.Load())
		}
	}
	if _, err := layers.IndexImage(context.Background(), img, layers.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestMaxLayers(t *testing.T) {
	img := manyLayers(t, 12)
	_, err := layers.Scan(context.Background(), img, layers.ImageOptions{Options: layers.Options{Limits: layers.Limits{MaxLayers: 11}}})
	wantErr(t, err, layers.ErrLimit, "max-layers", "12 layers")
	_, err = layers.IndexImage(context.Background(), img, layers.ImageOptions{Options: layers.Options{Limits: layers.Limits{MaxLayers: 11}}})
	wantErr(t, err, layers.ErrLimit, "max-layers")
	if _, err := layers.Scan(context.Background(), img, layers.ImageOptions{Options: layers.Options{Limits: layers.Limits{MaxLayers: 12}}}); err != nil {
		t.Fatal(err)
	}
	// The default admits far more than real images have.
	if d := layers.DefaultLimits().MaxLayers; d < 128 {
		t.Errorf("default MaxLayers = %d", d)
	}
}
