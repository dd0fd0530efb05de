package imagetest

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/klauspost/compress/gzip"
)

// SynthSpec describes a deterministic synthetic layer: Files regular files
// spread over directories, their sizes drawn so that the layer holds about
// Bytes bytes in all, with a few large files and many small ones, and
// contents that compress like real binaries and text (about 3:1).
type SynthSpec struct {
	Seed  uint64
	Files int
	Bytes int64
	// Prefix is the directory the files go under, e.g. "usr/lib/app0".
	Prefix string
	// RandomPercent is the share of files (in percent) whose contents are
	// random bytes, which do not compress at all (media, compressed
	// archives); 0 keeps every file compressible as above.
	RandomPercent int
}

// SynthTar writes the layer's uncompressed tar stream to w.
func SynthTar(w io.Writer, s SynthSpec) error {
	rng := rand.New(rand.NewPCG(s.Seed, 0x1a9a0d17))
	tw := tar.NewWriter(w)
	dirs := max(1, s.Files/64)
	for d := 0; d < dirs; d++ {
		if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("%s/d%04d/", s.Prefix, d), Typeflag: tar.TypeDir, Mode: 0o755, ModTime: Epoch}); err != nil {
			return err
		}
	}
	// 90% of the bytes go to 1% of the files (at least one).
	bigN := max(1, s.Files/100)
	bigBytes := s.Bytes * 9 / 10
	smallBytes := s.Bytes - bigBytes
	chunk := makeChunk(rng)
	for i := 0; i < s.Files; i++ {
		var size int64
		if i < bigN {
			size = bigBytes / int64(bigN)
		} else if s.Files > bigN {
			avg := smallBytes / int64(s.Files-bigN)
			size = rng.Int64N(2*avg + 1)
		}
		mode := int64(0o644)
		if i%7 == 0 {
			mode = 0o755
		}
		h := &tar.Header{Name: fmt.Sprintf("%s/d%04d/f%07d", s.Prefix, i%dirs, i), Typeflag: tar.TypeReg, Mode: mode, Size: size, ModTime: Epoch}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		fill := writeFill
		if s.RandomPercent > 0 && rng.IntN(100) < s.RandomPercent {
			fill = writeRandom
		}
		if err := fill(tw, rng, chunk, size); err != nil {
			return err
		}
	}
	return tw.Close()
}

// SynthLayer returns the gzip-compressed synthetic layer blob.
func SynthLayer(s SynthSpec) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	if err := SynthTar(zw, s); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// makeChunk builds 64 KiB of material with the statistics of mixed text and
// machine code: words from a small vocabulary with random bytes sprinkled in.
func makeChunk(rng *rand.Rand) []byte {
	words := make([][]byte, 512)
	for i := range words {
		w := make([]byte, 2+rng.IntN(10))
		for j := range w {
			w[j] = byte(rng.IntN(256))
		}
		words[i] = w
	}
	out := make([]byte, 0, 64<<10+16)
	for len(out) < 64<<10 {
		if rng.IntN(4) == 0 {
			out = append(out, byte(rng.IntN(256)), byte(rng.IntN(256)))
		}
		out = append(out, words[rng.IntN(len(words))]...)
	}
	return out[:64<<10]
}

func writeFill(w io.Writer, rng *rand.Rand, chunk []byte, n int64) error {
	for n > 0 {
		off := rng.IntN(len(chunk) / 2)
		part := chunk[off:]
		if int64(len(part)) > n {
			part = part[:n]
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
		n -= int64(len(part))
	}
	return nil
}

// writeRandom writes n random bytes (chunk is the buffer it fills).
func writeRandom(w io.Writer, rng *rand.Rand, chunk []byte, n int64) error {
	buf := make([]byte, len(chunk))
	for n > 0 {
		part := buf[:min(int64(len(buf)), n)]
		for i := 0; i+8 <= len(part); i += 8 {
			binary.LittleEndian.PutUint64(part[i:], rng.Uint64())
		}
		for i := len(part) &^ 7; i < len(part); i++ {
			part[i] = byte(rng.Uint64())
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
		n -= int64(len(part))
	}
	return nil
}
