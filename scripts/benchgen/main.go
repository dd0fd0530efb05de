// Command benchgen writes a deterministic synthetic image as an OCI image
// layout, for benchmarks: -size MiB of uncompressed contents spread over
// -layers layers (the first one holding half the bytes, as a distro or
// application layer does) and -files files, gzip-compressed like real images.
// Layers are generated in parallel and streamed to disk; memory stays small.
// -packages N adds a last layer with package databases (N Debian packages,
// N/4 Python and N/4 Node.js ones), for the SBOM benchmark.
//
// -rootfs FILE takes real content instead: a root filesystem as a tar
// stream (as `mmdebstrap --format=tar` writes it) split into layers by path
// (-split: groups of prefixes, layers separated by ",", prefixes within
// one layer by ":"; what no group takes goes into the first, base layer),
// each entry in its original order; a hard link goes into the layer of
// its target. The same rootfs and -split give the same image, byte for
// byte. -images adds the small per-image layers on top as usual.
package main

import (
	"archive/tar"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func main() {
	out := flag.String("out", "", "layout directory to create")
	size := flag.Int64("size", 1024, "uncompressed MiB in all")
	nLayers := flag.Int("layers", 6, "number of layers")
	files := flag.Int("files", 20000, "number of files in all")
	packages := flag.Int("packages", 0, "add a last layer with a Debian package database of this many packages\n(md5sums, .list files), a quarter as many Python and Node.js packages")
	images := flag.Int("images", 1, "write this many images sharing the generated layers, each with a small layer of its\nown on top, named app000, app001, ... (org.opencontainers.image.ref.name): a fleet")
	tags := flag.Int("tags", 1, "with -images: this many tags per image, each with a small layer of its own, named\nappNNN:T (T from 1)")
	bases := flag.Int("bases", 1, "with -images: image i sits on base i%bases, base b being the first (b+1)/bases of the\nlayers (rounded up): a handful of shared bases")
	rootfs := flag.String("rootfs", "", "split this root filesystem tar into layers instead of generating them")
	split := flag.String("split", "usr/lib,usr/bin:usr/sbin:usr/libexec,var/lib/dpkg,usr/share/doc", "with -rootfs: path prefixes of the layers above the base layer")
	flag.Parse()
	if *out == "" || *nLayers < 1 || *images < 1 || *tags < 1 || *bases < 1 {
		fmt.Fprintln(os.Stderr, "usage: benchgen -out DIR [-size MiB] [-layers N] [-files N] [-packages N] [-images N] [-rootfs TAR [-split P,P:P]]")
		os.Exit(2)
	}
	base := func(blobs string) ([]desc, []string, error) {
		return generated(blobs, *size<<20, *nLayers, *files)
	}
	if *rootfs != "" {
		base = func(blobs string) ([]desc, []string, error) { return splitRootfs(blobs, *rootfs, *split) }
	}
	if err := run(*out, base, *packages, fleet{images: *images, tags: *tags, bases: *bases}); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// fleet is how many images share the layers: images x tags, each image on
// one of bases bases.
type fleet struct{ images, tags, bases int }

func run(out string, base func(blobs string) ([]desc, []string, error), packages int, f fleet) error {
	blobs := filepath.Join(out, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	layers, diffIDs, err := base(blobs)
	if err != nil {
		return err
	}
	if packages > 0 {
		d, diffID, err := writeTarLayer(blobs, func(w io.Writer) error { return packageTar(w, packages) })
		if err != nil {
			return err
		}
		layers, diffIDs = append(layers, d), append(diffIDs, diffID)
	}
	var manifests []desc
	for img := 0; img < f.images; img++ {
		nb := (len(layers)*(img%f.bases+1) + f.bases - 1) / f.bases
		for tag := 1; tag <= f.tags; tag++ {
			ls, ids := layers[:nb], diffIDs[:nb]
			name := fmt.Sprintf("app%03d", img)
			if f.tags > 1 {
				name = fmt.Sprintf("app%03d:%d", img, tag)
			}
			if f.images > 1 || f.tags > 1 {
				seed := uint64(1000 + img)
				if f.tags > 1 {
					seed = uint64(100000 + img*1000 + tag)
				}
				d, diffID, err := writeLayer(blobs, it.SynthSpec{Seed: seed, Files: 20, Bytes: 256 << 10, Prefix: strings.ReplaceAll(name, ":", "-")})
				if err != nil {
					return err
				}
				ls, ids = append(slices.Clone(ls), d), append(slices.Clone(ids), diffID)
			}
			md, err := writeImage(blobs, ls, ids)
			if err != nil {
				return err
			}
			if f.images > 1 || f.tags > 1 {
				md.Annotations = map[string]string{"org.opencontainers.image.ref.name": name}
			}
			manifests = append(manifests, md)
		}
	}
	idx, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})
	if err := os.WriteFile(filepath.Join(out, "index.json"), idx, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

// generated writes n synthetic layers of total bytes and files in all, the
// first holding half of both.
func generated(blobs string, total int64, n, files int) ([]desc, []string, error) {
	specs := make([]it.SynthSpec, n)
	for i := range specs {
		share := total / 2 / int64(max(1, n-1))
		f := files / 2 / max(1, n-1)
		if i == 0 || n == 1 {
			share, f = total/2, files/2
			if n == 1 {
				share, f = total, files
			}
		}
		specs[i] = it.SynthSpec{Seed: uint64(i + 1), Files: max(1, f), Bytes: share, Prefix: fmt.Sprintf("layer%03d", i)}
	}
	layers := make([]desc, n)
	diffIDs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			layers[i], diffIDs[i], errs[i] = writeLayer(blobs, specs[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	return layers, diffIDs, nil
}

// writeImage writes the config and manifest of an image made of layers.
func writeImage(blobs string, layers []desc, diffIDs []string) (desc, error) {
	hist := make([]map[string]string, len(layers))
	for i := range hist {
		hist[i] = map[string]string{"created": "2024-01-01T00:00:00Z", "created_by": fmt.Sprintf("RUN generate layer %d", i)}
	}
	cfg := map[string]any{
		"architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
		"config":  map[string]any{"User": "65532", "Env": []string{"PATH=/usr/bin:/bin"}},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": diffIDs},
		"history": hist,
	}
	cd, err := writeJSON(blobs, cfg, "application/vnd.oci.image.config.v1+json")
	if err != nil {
		return desc{}, err
	}
	return writeJSON(blobs, map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
		"config": cd, "layers": layers,
	}, "application/vnd.oci.image.manifest.v1+json")
}

func writeLayer(blobs string, s it.SynthSpec) (desc, string, error) {
	return writeTarLayer(blobs, func(w io.Writer) error { return it.SynthTar(w, s) })
}

// packageTar writes a layer holding n Debian packages (status database,
// md5sums and .list files, one file each), n/4 Python distributions and n/4
// Node.js packages, for SBOM benchmarks.
func packageTar(w io.Writer, n int) error {
	tw := tar.NewWriter(w)
	file := func(name, body string) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body)), ModTime: it.Epoch}); err != nil {
			return err
		}
		_, err := io.WriteString(tw, body)
		return err
	}
	var status strings.Builder
	if err := file("etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n"); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-pkg%04d", i)
		fmt.Fprintf(&status, "Package: %s\nStatus: install ok installed\nPriority: optional\nArchitecture: amd64\nVersion: 1.%d.0-1\nDescription: benchmark package %d\n\n", name, i, i)
		body := fmt.Sprintf("data of %s\n", name)
		sum := md5.Sum([]byte(body))
		if err := file("usr/share/"+name+"/data", body); err != nil {
			return err
		}
		if err := file("var/lib/dpkg/info/"+name+".md5sums", fmt.Sprintf("%x  usr/share/%s/data\n", sum, name)); err != nil {
			return err
		}
		if err := file("var/lib/dpkg/info/"+name+".list", fmt.Sprintf("/.\n/usr\n/usr/share\n/usr/share/%s\n/usr/share/%s/data\n", name, name)); err != nil {
			return err
		}
	}
	if err := file("var/lib/dpkg/status", status.String()); err != nil {
		return err
	}
	for i := 0; i < n/4; i++ {
		if err := file(fmt.Sprintf("usr/lib/python3/dist-packages/benchmod%04d-1.%d.dist-info/METADATA", i, i),
			fmt.Sprintf("Metadata-Version: 2.1\nName: benchmod%04d\nVersion: 1.%d\n", i, i)); err != nil {
			return err
		}
		if err := file(fmt.Sprintf("app/node_modules/bench-mod%04d/package.json", i),
			fmt.Sprintf(`{"name": "bench-mod%04d", "version": "1.%d.0"}`, i, i)); err != nil {
			return err
		}
	}
	return tw.Close()
}

// writeTarLayer writes the gzip-compressed tar stream that gen produces as
// a blob, and returns its descriptor and diffID.
func writeTarLayer(blobs string, gen func(io.Writer) error) (desc, string, error) {
	tmp, err := os.CreateTemp(blobs, "layer-*")
	if err != nil {
		return desc{}, "", err
	}
	defer os.Remove(tmp.Name())
	blobHash, diffHash := sha256.New(), sha256.New()
	cw := &counter{w: io.MultiWriter(tmp, blobHash)}
	zw, _ := gzip.NewWriterLevel(cw, gzip.DefaultCompression)
	if err := gen(io.MultiWriter(zw, diffHash)); err != nil {
		return desc{}, "", err
	}
	if err := zw.Close(); err != nil {
		return desc{}, "", err
	}
	if err := tmp.Close(); err != nil {
		return desc{}, "", err
	}
	d := hexOf(blobHash)
	if err := os.Rename(tmp.Name(), filepath.Join(blobs, d)); err != nil {
		return desc{}, "", err
	}
	return desc{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: "sha256:" + d, Size: cw.n}, "sha256:" + hexOf(diffHash), nil
}

func writeJSON(blobs string, v any, mt string) (desc, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return desc{}, err
	}
	sum := sha256.Sum256(b)
	d := hex.EncodeToString(sum[:])
	return desc{MediaType: mt, Digest: "sha256:" + d, Size: int64(len(b))}, os.WriteFile(filepath.Join(blobs, d), b, 0o644)
}

func hexOf(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
