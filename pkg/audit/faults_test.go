package audit_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/imgaudit/imgaudit/internal/faultproxy"
	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/report"
	"github.com/imgaudit/imgaudit/pkg/sbom"
)

// Issue 6: hostile images and failing registries fail closed (an error
// naming the image and the cause, which the CLI turns into exit code 2),
// never crash, never lie (a failed image is never reported clean), never
// leak a secret, and leave nothing behind.
//
// The CLI maps any error returned by audit.Run / audit.Registry to exit
// code 2 (internal/cli/scan.go); these tests pin the errors themselves.

// rawLayer is a layer whose blob is given as is, with the digests it
// claims (hostile layers lie about them).
type rawLayer struct {
	blob           []byte
	digest, diffID v1.Hash
	mt             types.MediaType
}

func (l *rawLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *rawLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *rawLayer) Size() (int64, error)                { return int64(len(l.blob)), nil }
func (l *rawLayer) MediaType() (types.MediaType, error) { return l.mt, nil }
func (l *rawLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(l.blob)), nil
}
func (l *rawLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }

func sha(b []byte) v1.Hash { return hashOf(sha256.New(), b) }

func hashOf(h hash.Hash, b []byte) v1.Hash {
	h.Write(b)
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
}

// gzipLayer builds a gzip layer from the tar stream write produces, with
// honest digests, without holding the uncompressed stream in memory.
func gzipLayer(t *testing.T, write func(tw *tar.Writer) error) v1.Layer {
	t.Helper()
	var blob bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&blob, gzip.BestSpeed)
	diff := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diff))
	if err := write(tw); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return &rawLayer{blob: blob.Bytes(), digest: sha(blob.Bytes()), diffID: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", diff.Sum(nil))}, mt: types.OCILayer}
}

// imageOf builds an OCI image of cfg and the given layers, each made by a
// history step named after its index.
func imageOf(t *testing.T, cfg v1.Config, ls ...v1.Layer) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	for i, l := range ls {
		var err error
		img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: fmt.Sprintf("RUN step %d", i)}, MediaType: types.OCILayer})
		if err != nil {
			t.Fatal(err)
		}
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Config, cf.OS, cf.Architecture = cfg, "linux", "amd64"
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func layerOf(t *testing.T, items ...it.Item) v1.Layer {
	t.Helper()
	l, err := it.Layer(items...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func fastOptions() audit.Options {
	o := audit.DefaultOptions()
	o.Fetch = []fetch.Option{fetch.WithRetries(0), fetch.WithTimeout(2 * time.Second)}
	return o
}

// failed finds the image of ref in r.
func imageFor(t *testing.T, r *report.Report, ref string) report.Image {
	t.Helper()
	for _, img := range r.Images {
		if img.Reference == ref {
			return img
		}
	}
	t.Fatalf("no image %s in the report", ref)
	return report.Image{}
}

// errCorrupt stands for layers.ErrCorrupt or fetch.ErrCorrupt: a blob
// altered on disk is caught by whichever check reads the damage first (the
// decompressor, or the digest at the end of the blob).
var errCorrupt = errors.New("corrupt")

func TestHostileImagesFailClosed(t *testing.T) {
	good := it.WriteLayout(t, imageOf(t, v1.Config{User: "65532"}, layerOf(t, it.Dir("app", 0o755), it.File("app/server", 0o755, it.ELF("", 64)))))
	zeros := make([]byte, 1<<20)
	cases := []struct {
		name   string
		make   func(t *testing.T) string // returns the reference
		limits layers.Limits
		want   error
		detail string
	}{
		{name: "gzip bomb", limits: layers.Limits{MaxLayerBytes: 8 << 20}, want: layers.ErrLimit, detail: "max-layer-size",
			make: func(t *testing.T) string {
				// 48 MiB of zeros in ~50 KiB (the multi-GiB bomb is in pkg/layers).
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, gzipLayer(t, func(tw *tar.Writer) error {
					tw.WriteHeader(&tar.Header{Name: "zero", Typeflag: tar.TypeReg, Mode: 0o644, Size: 48 << 20})
					for i := 0; i < 48; i++ {
						tw.Write(zeros)
					}
					return nil
				})))
			}},
		{name: "millions of entries (small limit)", limits: layers.Limits{MaxEntries: 5000}, want: layers.ErrLimit, detail: "max-entries",
			make: func(t *testing.T) string {
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, gzipLayer(t, func(tw *tar.Writer) error {
					for i := 0; i < 20_000; i++ {
						if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("f%d", i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
							return err
						}
					}
					return nil
				})))
			}},
		{name: "64 KiB path name", want: layers.ErrLimit, detail: "max-path-length",
			make: func(t *testing.T) string {
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, layerOf(t, it.Text(strings.Repeat("p", 64<<10), "x"))))
			}},
		{name: "10,000-deep directories", want: layers.ErrLimit, detail: "max-path-length",
			make: func(t *testing.T) string {
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, layerOf(t, it.Text(strings.Repeat("d/", 10_000)+"f", "x"))))
			}},
		{name: "zstd window bomb", want: layers.ErrLimit, detail: "zstd window",
			make: func(t *testing.T) string {
				var buf bytes.Buffer
				zw, _ := zstd.NewWriter(&buf, zstd.WithSingleSegment(false), zstd.WithEncoderConcurrency(1))
				tb, _ := it.Tar(it.Text("a", "a"))
				zw.Write(tb)
				zw.Close()
				b := buf.Bytes()
				b[5] = (30 - 10) << 3 // a 1 GiB window
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, &rawLayer{blob: b, digest: sha(b), diffID: sha(tb), mt: types.OCILayerZStd}))
			}},
		{name: "layer diffID does not match", want: layers.ErrCorrupt, detail: "diffID",
			make: func(t *testing.T) string {
				l := gzipLayer(t, func(tw *tar.Writer) error {
					return tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644})
				})
				l.(*rawLayer).diffID = sha([]byte("something else"))
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, l))
			}},
		{name: "garbage layer blob", want: layers.ErrCorrupt, detail: "corrupt layer",
			make: func(t *testing.T) string {
				b := bytes.Repeat([]byte("not a layer "), 100)
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, &rawLayer{blob: b, digest: sha(b), diffID: sha(b), mt: types.OCILayer}))
			}},
		{name: "truncated gzip blob (digest matches)", want: layers.ErrCorrupt, detail: "corrupt layer",
			make: func(t *testing.T) string {
				full := gzipLayer(t, func(tw *tar.Writer) error {
					tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeReg, Mode: 0o644, Size: 4096})
					_, err := tw.Write(bytes.Repeat([]byte("abc"), 4096/3+1)[:4096])
					return err
				}).(*rawLayer)
				b := full.blob[:len(full.blob)/2]
				return "oci:" + it.WriteLayout(t, imageOf(t, v1.Config{}, &rawLayer{blob: b, digest: sha(b), diffID: full.diffID, mt: types.OCILayer}))
			}},
		{name: "truncated blob file", want: fetch.ErrCorrupt, detail: "bytes, descriptor says",
			make: func(t *testing.T) string {
				l := layerOf(t, it.Text("a", strings.Repeat("x", 5000)))
				dir := it.WriteLayout(t, imageOf(t, v1.Config{}, l))
				d, _ := l.Digest()
				b, _ := os.ReadFile(it.BlobPath(dir, d))
				os.WriteFile(it.BlobPath(dir, d), b[:len(b)/2], 0o644)
				return "oci:" + dir
			}},
		{name: "blob altered on disk", want: errCorrupt, detail: "corrupt",
			make: func(t *testing.T) string {
				l := layerOf(t, it.Text("a", "aaaa"))
				dir := it.WriteLayout(t, imageOf(t, v1.Config{}, l))
				d, _ := l.Digest()
				b, _ := os.ReadFile(it.BlobPath(dir, d))
				b[len(b)/2] ^= 0xff
				os.WriteFile(it.BlobPath(dir, d), b, 0o644)
				return "oci:" + dir
			}},
		{name: "missing blob", want: fetch.ErrCorrupt, detail: "missing",
			make: func(t *testing.T) string {
				l := layerOf(t, it.Text("a", "a"))
				dir := it.WriteLayout(t, imageOf(t, v1.Config{}, l))
				d, _ := l.Digest()
				os.Remove(it.BlobPath(dir, d))
				return "oci:" + dir
			}},
		{name: "manifest that names itself", want: fetch.ErrCorrupt, detail: "corrupt image",
			make: func(t *testing.T) string {
				dir := t.TempDir()
				self := sha([]byte("self"))
				doc, _ := json.Marshal(v1.IndexManifest{SchemaVersion: 2, Manifests: []v1.Descriptor{{MediaType: types.OCIImageIndex, Digest: self, Size: 100}}})
				os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
				os.WriteFile(it.BlobPath(dir, self), doc, 0o644)
				os.WriteFile(filepath.Join(dir, "index.json"), doc, 0o644)
				os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
				return "oci:" + dir
			}},
		{name: "10,000-entry index", want: fetch.ErrUnsupported, detail: "more than 4096 manifests",
			make: func(t *testing.T) string {
				dir := t.TempDir()
				idx := v1.IndexManifest{SchemaVersion: 2}
				for i := 0; i < 10_000; i++ {
					idx.Manifests = append(idx.Manifests, v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: sha([]byte(fmt.Sprint(i))), Size: 10,
						Platform: &v1.Platform{OS: "linux", Architecture: fmt.Sprint("a", i)}})
				}
				doc, _ := json.Marshal(idx)
				os.WriteFile(filepath.Join(dir, "index.json"), doc, 0o644)
				os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
				return "oci:" + dir
			}},
		{name: "garbage config", want: fetch.ErrCorrupt, detail: "config",
			make: func(t *testing.T) string {
				img := imageOf(t, v1.Config{}, layerOf(t, it.Text("a", "a")))
				dir := it.WriteLayout(t, img)
				cd, _ := img.ConfigName()
				b, _ := os.ReadFile(it.BlobPath(dir, cd))
				// Same bytes, so the digest holds, but the layout's
				// manifest now points at a config that is not JSON.
				bad := append([]byte("\x00garbage"), b...)
				os.WriteFile(it.BlobPath(dir, sha(bad)), bad, 0o644)
				m, _ := img.RawManifest()
				m2 := bytes.ReplaceAll(m, []byte(cd.Hex), []byte(sha(bad).Hex))
				m2 = bytes.Replace(m2, []byte(fmt.Sprintf(`"size":%d`, len(b))), []byte(fmt.Sprintf(`"size":%d`, len(bad))), 1)
				os.WriteFile(it.BlobPath(dir, sha(m2)), m2, 0o644)
				md, _ := img.Digest()
				ix, _ := os.ReadFile(filepath.Join(dir, "index.json"))
				ix = bytes.ReplaceAll(ix, []byte(md.Hex), []byte(sha(m2).Hex))
				ix = bytes.Replace(ix, []byte(fmt.Sprintf(`"size":%d`, len(m))), []byte(fmt.Sprintf(`"size":%d`, len(m2))), 1)
				os.WriteFile(filepath.Join(dir, "index.json"), ix, 0o644)
				return "oci:" + dir
			}},
		{name: "no such layout", want: fetch.ErrNotFound, detail: "not found",
			make: func(t *testing.T) string { return "oci:" + filepath.Join(t.TempDir(), "nothing-here") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := tc.make(t)
			o := fastOptions()
			o.Limits = tc.limits
			start := time.Now()
			r, err := audit.Run(context.Background(), []string{"oci:" + good, ref}, o)
			elapsed := time.Since(start)
			if d := 5 * time.Second; elapsed > d {
				t.Errorf("took %s", elapsed)
			}
			if !errors.Is(err, audit.ErrIncomplete) || !errors.Is(err, tc.want) && !(tc.want == errCorrupt && (errors.Is(err, layers.ErrCorrupt) || errors.Is(err, fetch.ErrCorrupt))) {
				t.Fatalf("err = %v, want ErrIncomplete and %v (exit code 2)", err, tc.want)
			}
			if r == nil || len(r.Images) != 2 || r.Summary.Errors != 1 {
				t.Fatalf("report = %+v", r)
			}
			if img := imageFor(t, r, "oci:"+good); img.Error != "" || img.Stats.Files == 0 {
				t.Errorf("the good image was not audited: %+v", img)
			}
			bad := imageFor(t, r, ref)
			t.Logf("%s: %s", elapsed.Round(time.Millisecond), bad.Error)
			if !strings.Contains(bad.Error, tc.detail) || !strings.HasPrefix(bad.Error, ref) || strings.ContainsAny(bad.Error, "\r\n") {
				t.Errorf("error %q: want one line starting with the reference and naming %q", bad.Error, tc.detail)
			}
			if len(bad.Findings) != 0 {
				t.Errorf("a failed image carries findings: %+v", bad.Findings)
			}
		})
	}
}

// snapshot lists the files below dir with their sizes and times.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fmt.Sprintf("%s %v %d %d", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jar returns a minimal Java archive: syft's Java cataloger reads it (and
// extracts archives to a temporary directory to do so).
func jar(t *testing.T, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("META-INF/MANIFEST.MF")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, "Manifest-Version: 1.0\r\nImplementation-Title: %s\r\nImplementation-Version: %s\r\n\r\n", name, version)
	w, _ = zw.Create("META-INF/maven/org.example/" + name + "/pom.properties")
	fmt.Fprintf(w, "groupId=org.example\nartifactId=%s\nversion=%s\n", name, version)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPathSafety(t *testing.T) {
	tag := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
	escape := "/tmp/imgaudit-escape-" + tag
	absolute := "/imgaudit-abs-" + tag
	hostile := imageOf(t, v1.Config{User: "daemon"}, layerOf(t,
		it.Dir("etc", 0o755), it.Dir("usr/share", 0o755),
		it.Text("../../../../../../.."+escape, "pwned"),
		it.Text(absolute, "abs"),
		it.Raw(tar.Header{Name: "../../../../../../../tmp/imgaudit-link-" + tag, Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, nil),
		it.Symlink("etc/passwd", "../../../../../../../etc/passwd"),
		it.Hardlink("etc/shadow", "../../../../../../../etc/shadow"),
		it.Symlink("data", "../../../../../usr/share"),
		it.Text("data/through-symlink", "x"),
		it.Symlink("root-link", "/../../.."),
		it.Text("root-link/tmp/imgaudit-through-"+tag, "x"),
		it.Dir("app/lib", 0o755), it.File("app/lib/lib.jar", 0o644, jar(t, "lib", "1.2.3")),
		it.File("../../../../../tmp/escape-"+tag+".jar", 0o644, jar(t, "escape", "6.6.6")),
	))
	// The same escaping link, to a passwd the image does hold (at a path
	// whose contents the scan captures: **/.netrc).
	resolvable := imageOf(t, v1.Config{User: "app"}, layerOf(t,
		it.Dir("etc", 0o755), it.Dir("host", 0o755),
		it.Text("host/.netrc", "app:x:4242:4242::/:/sbin/nologin\n"),
		it.Symlink("etc/passwd", "../../../../../../host/.netrc"),
	))
	dirA, dirB := it.WriteLayout(t, hostile), it.WriteLayout(t, resolvable)
	before := append(snapshot(t, dirA), snapshot(t, dirB)...)

	// A fresh TMPDIR, HOME and working directory: nothing may appear in them.
	tmp, home, wd := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
	t.Chdir(wd)

	r, err := audit.Run(context.Background(), []string{"oci:" + dirA, "oci:" + dirB}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{tmp, home, wd} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Errorf("%s gained %d entries", d, len(ents))
		}
	}
	if after := append(snapshot(t, dirA), snapshot(t, dirB)...); !slices.Equal(before, after) {
		t.Errorf("the layouts changed")
	}
	for _, p := range []string{escape, absolute, "/tmp/imgaudit-link-" + tag, "/tmp/imgaudit-through-" + tag,
		filepath.Join(wd, "../../../../../../.."+escape)} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists on the host (%v)", p, err)
		}
	}

	img := imageFor(t, r, "oci:"+dirA)
	got := map[string][]string{}
	for _, f := range img.Findings {
		got[f.ID] = append(got[f.ID], f.Name+" "+f.Path)
		if (f.ID == "IA-PATH-ESCAPE" || f.ID == "IA-LAYER-ANOMALY") && (f.Layer == nil || f.Layer.CreatedBy != "RUN step 0") {
			t.Errorf("%s %s: layer %+v, want step 0", f.ID, f.Path, f.Layer)
		}
	}
	for id, want := range map[string][]string{
		"IA-PATH-ESCAPE": {
			"escaping-name " + escape, "escaping-name /tmp/imgaudit-link-" + tag,
			"escaping-link /etc/passwd", "escaping-link /etc/shadow", "escaping-link /data",
		},
		"IA-LAYER-ANOMALY": {
			"absolute-name " + absolute, "through-symlink /data/through-symlink",
			"hardlink-missing /etc/shadow", "through-symlink /root-link/tmp/imgaudit-through-" + tag,
		},
	} {
		for _, w := range want {
			if !slices.Contains(got[id], w) {
				t.Errorf("no %s finding %q; have %q", id, w, got[id])
			}
		}
	}
	// Inside the image, the escaping file lands below the image root.
	// /etc/passwd -> ../../../etc/passwd is the image's own (a loop here):
	// the host's passwd, where daemon is uid 1, is never read.
	if img.User.UID != nil {
		t.Errorf("user daemon resolved to uid %d: not from this image", *img.User.UID)
	}
	// syft catalogued the Java archives (its Java cataloger works in a
	// temporary directory, which must be gone: TMPDIR is checked above).
	if img.SBOM != nil && img.SBOM.ByType["java-archive"] == 0 {
		t.Errorf("no Java archive catalogued: %+v", img.SBOM)
	}
	if u := imageFor(t, r, "oci:"+dirB).User; u.UID == nil || *u.UID != 4242 {
		t.Errorf("user app = %+v, want uid 4242 from the image's /host/.netrc", u)
	}
}

// The secret sentinels below must never appear in a report.
const (
	envSentinel  = "ghp_S3NTINELenvAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	histSentinel = "S3NTINEL-history-Pa55w0rd-zz"
)

func secretImage(t *testing.T) string {
	t.Helper()
	img, err := it.Image(v1.Config{Env: []string{"PATH=/usr/bin", "API_TOKEN=" + envSentinel, "DB_PASSWORD=" + histSentinel}},
		it.Step("RUN |1 DB_PASSWORD="+histSentinel+" /bin/sh -c ./configure --password="+histSentinel,
			it.Dir("app", 0o755), it.Text("app/.env", "API_TOKEN="+envSentinel+"\n")),
		it.Meta("ENV API_TOKEN="+envSentinel),
		it.Step("RUN curl -H 'Authorization: Bearer "+envSentinel+"' https://example.com/x", it.Text("app/x", "x")),
	)
	if err != nil {
		t.Fatal(err)
	}
	return "oci:" + it.WriteLayout(t, img)
}

func TestSecretsStaySecretInReports(t *testing.T) {
	ref := secretImage(t)
	r, err := audit.Run(context.Background(), []string{ref}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	img := r.Images[0]
	names := map[string]bool{}
	for _, f := range img.Findings {
		if strings.HasPrefix(f.ID, "IA-SECRET") {
			names[f.ID+" "+f.Name] = true
			if f.ID != "IA-SECRET-FILE" && !strings.Contains(f.Detail, "chars)") {
				t.Errorf("%s %s: detail %q shows no redacted value", f.ID, f.Name, f.Detail)
			}
		}
	}
	for _, want := range []string{"IA-SECRET-ENV API_TOKEN", "IA-SECRET-ENV DB_PASSWORD", "IA-SECRET-HISTORY DB_PASSWORD"} {
		if !names[want] {
			t.Errorf("no finding %s; have %v", want, names)
		}
	}
	// Everything but the report's list of layers (see below).
	rc := *r
	rc.Images = []report.Image{img}
	rc.Images[0].Layers = nil
	b, _ := json.Marshal(rc)
	for _, s := range []string{envSentinel, histSentinel} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the report carries %q", s)
		}
	}
}

func TestSecretsStaySecretInReportLayers(t *testing.T) {
	r, err := audit.Run(context.Background(), []string{secretImage(t)}, fastOptions())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(r)
	for _, s := range []string{envSentinel, histSentinel} {
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("the report carries %q", s)
		}
	}
}

func TestSecretsStaySecretInRegistryErrors(t *testing.T) {
	const user, pass = "auditor", "S3NTINEL-registry-Pa55-xyzzy"
	secrets := []string{pass, base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))}
	reg := registrytest.Start(t, registrytest.Options{Username: user, Password: pass})
	top := layerOf(t, it.Text("app/x", "x"))
	img, err := mutate.AppendLayers(empty.Image, top)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(reg.Ref(t, "team/app:1"), img, reg.RemoteOptions()...); err != nil {
		t.Fatal(err)
	}
	d, _ := top.Digest()
	p := faultproxy.New(t, reg.URL(), reg.Transport())
	echo := `{"errors":[{"code":"UNKNOWN","message":"storage backend failed for ` + faultproxy.AuthPlaceholder + `"}]}`
	// The keychain goes first, as it did when pkg/fetch remembered secrets
	// process-wide: each call must scrub what its own keychain resolved.
	for _, c := range []struct {
		name string
		cred fetch.Option
	}{
		{"keychain", fetch.WithKeychain(registrytest.StaticKeychain{Username: user, Password: pass})},
		{"options", fetch.WithCredentials(user, pass)},
	} {
		name, cred := c.name, c.cred
		for fname, f := range map[string]faultproxy.Fault{
			"manifest": {Kind: faultproxy.Status, Code: 500, Path: "/manifests/", Body: echo},
			"blob":     {Kind: faultproxy.Status, Code: 500, Path: d.String(), Body: echo},
			"catalog":  {Kind: faultproxy.Status, Code: 500, Path: "/_catalog", Body: echo},
			"tags":     {Kind: faultproxy.Status, Code: 500, Path: "/tags/list", Body: echo},
		} {
			t.Run(name+"/"+fname, func(t *testing.T) {
				p.Clear()
				p.Set(f)
				o := fastOptions()
				o.Fetch = append(o.Fetch, fetch.WithInsecure(), fetch.WithKeychain(authn.NewMultiKeychain()), cred)
				r, err := audit.Registry(context.Background(), p.Host, audit.RegistryOptions{}, o, nil)
				if err == nil || p.Faulted(0) == 0 {
					t.Fatalf("err = %v after %d faults", err, p.Faulted(0))
				}
				b, _ := json.Marshal(r)
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) || bytes.Contains(b, []byte(s)) {
						t.Errorf("%q leaks: error %q, report %s", s, err, b)
					}
				}
			})
		}
	}
}

func TestRegistryAuditWithFaults(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	base := layerOf(t, it.Dir("usr/lib", 0o755), it.Text("usr/lib/os-release", "ID=test\n"))
	unique := map[string]v1.Layer{}
	for _, repo := range []string{"ok1", "ok2", "broken", "reset", "stall", "corrupt", "notags"} {
		top := layerOf(t, it.Text("app/"+repo, repo))
		unique[repo] = top
		img, err := mutate.AppendLayers(empty.Image, base, top)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(reg.Ref(t, "fleet/"+repo+":1"), img, reg.RemoteOptions()...); err != nil {
			t.Fatal(err)
		}
	}
	digest := func(repo string) string { d, _ := unique[repo].Digest(); return d.String() }
	p := faultproxy.New(t, reg.URL(), reg.Transport())
	p.Set(
		faultproxy.Fault{Kind: faultproxy.Status, Code: 500, Path: "/v2/fleet/broken/manifests/"},
		faultproxy.Fault{Kind: faultproxy.Reset, N: 64, Path: "/v2/fleet/reset/blobs/" + digest("reset")},
		faultproxy.Fault{Kind: faultproxy.Stall, Delay: 10 * time.Second, Path: "/v2/fleet/stall/manifests/"},
		faultproxy.Fault{Kind: faultproxy.Corrupt, Path: "/v2/fleet/corrupt/blobs/" + digest("corrupt")},
		faultproxy.Fault{Kind: faultproxy.Status, Code: 503, Path: "/v2/fleet/notags/tags/list"},
	)
	o := audit.DefaultOptions()
	o.Fetch = []fetch.Option{fetch.WithInsecure(), fetch.WithRetries(2), fetch.WithBackoff(10*time.Millisecond, 50*time.Millisecond), fetch.WithTimeout(300 * time.Millisecond)}
	var emitted []string
	start := time.Now()
	r, err := audit.Registry(context.Background(), p.Host, audit.RegistryOptions{}, o, func(img report.Image) { emitted = append(emitted, img.Reference) })
	elapsed := time.Since(start)
	t.Logf("registry audit took %s", elapsed)
	if elapsed > 5*time.Second {
		t.Errorf("took %s", elapsed)
	}
	if !errors.Is(err, audit.ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
	for _, kind := range []error{fetch.ErrUnavailable, fetch.ErrTimeout, fetch.ErrCorrupt} {
		if !errors.Is(err, kind) {
			t.Errorf("err does not wrap %v: %v", kind, err)
		}
	}
	want := map[string]string{ // reference -> error fragment ("" for none)
		p.Host + "/fleet/ok1:1":     "",
		p.Host + "/fleet/ok2:1":     "",
		p.Host + "/fleet/broken:1":  "registry unavailable",
		p.Host + "/fleet/reset:1":   "connection reset",
		p.Host + "/fleet/stall:1":   "timeout",
		p.Host + "/fleet/corrupt:1": "corrupt image",
		p.Host + "/fleet/notags":    "registry unavailable",
	}
	if len(r.Images) != len(want) || r.Summary.Errors != 5 {
		t.Errorf("%d images, %d errors; want %d and 5", len(r.Images), r.Summary.Errors, len(want))
	}
	for _, img := range r.Images {
		frag, ok := want[img.Reference]
		switch {
		case !ok:
			t.Errorf("unexpected image %s", img.Reference)
		case frag == "" && (img.Error != "" || img.Stats.Files == 0):
			t.Errorf("%s: error %q, %d files", img.Reference, img.Error, img.Stats.Files)
		case frag != "" && (!strings.Contains(img.Error, frag) || len(img.Findings) != 0):
			t.Errorf("%s: error %q, want %q and no findings", img.Reference, img.Error, frag)
		}
	}
	if len(emitted) < len(want)-1 {
		t.Errorf("emitted %v", emitted)
	}
	// Bounded retries: the broken manifest was asked for 1+2 times, the
	// stalled one too, the reset blob once (a body is not retried).
	if n := p.Count("GET", "/v2/fleet/broken/manifests/"); n != 3 {
		t.Errorf("broken manifest requested %d times, want 3", n)
	}
	if n := p.Count("GET", "/v2/fleet/stall/manifests/"); n != 3 {
		t.Errorf("stalled manifest requested %d times, want 3", n)
	}

	t.Run("catalog failing is an error without a report", func(t *testing.T) {
		p.Clear()
		p.Set(faultproxy.Fault{Kind: faultproxy.Status, Code: 503, Path: "/v2/_catalog"})
		r, err := audit.Registry(context.Background(), p.Host, audit.RegistryOptions{}, o, nil)
		if r != nil || !errors.Is(err, fetch.ErrUnavailable) {
			t.Errorf("report %v, err %v", r, err)
		}
		if n := p.Count("GET", "/v2/_catalog"); n != 3 {
			t.Errorf("catalog requested %d times, want 3", n)
		}
	})
}

// slowImage wraps an image so that its last layer's blob is read slowly
// and says when the read has started.
type slowImage struct {
	v1.Image
	started chan struct{}
}

func (s slowImage) Layers() ([]v1.Layer, error) {
	ls, err := s.Image.Layers()
	if err != nil {
		return nil, err
	}
	ls[len(ls)-1] = slowLayerOf{ls[len(ls)-1], s.started}
	return ls, nil
}

type slowLayerOf struct {
	v1.Layer
	started chan struct{}
}

func (l slowLayerOf) Compressed() (io.ReadCloser, error) {
	rc, err := l.Layer.Compressed()
	if err != nil {
		return nil, err
	}
	return &slowReader{rc: rc, started: l.started}, nil
}

type slowReader struct {
	rc      io.ReadCloser
	started chan struct{}
	once    bool
}

func (r *slowReader) Read(p []byte) (int, error) {
	if !r.once {
		r.once = true
		close(r.started)
	}
	time.Sleep(5 * time.Millisecond)
	return r.rc.Read(p[:min(len(p), 512)])
}

func (r *slowReader) Close() error { return r.rc.Close() }

// settled waits until the number of goroutines is back to at most n.
func settled(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for runtime.NumGoroutine() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), n, buf[:runtime.Stack(buf, true)])
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCancelLeavesNothingBehind(t *testing.T) {
	// syft's license scanner is built once per process, in a goroutine the
	// first audit starts: build it now so that it is not counted below.
	if err := sbom.Prepare(); err != nil {
		t.Fatal(err)
	}
	bigLayer := func(t *testing.T) v1.Layer {
		b, err := it.SynthLayer(it.SynthSpec{Seed: 6, Files: 200, Bytes: 2 << 20, Prefix: "usr/lib/big"})
		if err != nil {
			t.Fatal(err)
		}
		l, err := layerFromGzip(b)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	t.Run("local layout", func(t *testing.T) {
		dir := it.WriteLayout(t, imageOf(t, v1.Config{}, layerOf(t, it.Text("a", "a")), bigLayer(t)))
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		before := runtime.NumGoroutine()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res, err := fetch.Open(ctx, "oci:"+dir)
		if err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{})
		tg := res.Targets[0]
		tg.Image = slowImage{tg.Image, started}
		go func() { <-started; time.Sleep(20 * time.Millisecond); cancel() }()
		start := time.Now()
		img, err := audit.Target(ctx, tg, fastOptions())
		res.Close()
		if !errors.Is(err, context.Canceled) || img.Error == "" {
			t.Fatalf("err = %v (image error %q), want context.Canceled", err, img.Error)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("cancel took %s to take effect", d)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Errorf("TMPDIR holds %d entries", len(ents))
		}
		settled(t, before)
	})

	t.Run("during SBOM cataloguing", func(t *testing.T) {
		var items []it.Item
		items = append(items, it.Dir("app/lib", 0o755))
		for i := 0; i < 300; i++ {
			items = append(items, it.File(fmt.Sprintf("app/lib/lib%d.jar", i), 0o644, jar(t, fmt.Sprintf("lib%d", i), "1.0")))
		}
		dir := it.WriteLayout(t, imageOf(t, v1.Config{}, layerOf(t, items...)))
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		before := runtime.NumGoroutine()
		for _, delay := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond} {
			ctx, cancel := context.WithCancel(context.Background())
			o := fastOptions()
			// The layer is read: cataloguing starts now.
			o.Progress = func(e audit.Event) {
				if e.Layer >= 0 {
					time.AfterFunc(delay, cancel)
				}
			}
			start := time.Now()
			_, err := audit.Run(ctx, []string{"oci:" + dir}, o)
			cancel()
			t.Logf("cancel after %s: %v after %s", delay, err, time.Since(start).Round(time.Millisecond))
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("cancel after %s: err = %v", delay, err)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("cancel after %s: TMPDIR holds %d entries", delay, len(ents))
			}
		}
		settled(t, before)
	})

	t.Run("registry", func(t *testing.T) {
		reg := registrytest.Start(t, registrytest.Options{})
		big := bigLayer(t)
		img, err := mutate.AppendLayers(empty.Image, layerOf(t, it.Text("a", "a")), big)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(reg.Ref(t, "app:1"), img, reg.RemoteOptions()...); err != nil {
			t.Fatal(err)
		}
		bd, _ := big.Digest()
		p := faultproxy.New(t, reg.URL(), reg.Transport())
		p.Set(faultproxy.Fault{Kind: faultproxy.Slow, N: 4096, Delay: 10 * time.Millisecond, Path: bd.String()})
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		before := runtime.NumGoroutine()

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			for p.Served(bd.String()) < 16<<10 {
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
		}()
		o := fastOptions()
		o.Fetch = append(o.Fetch, fetch.WithInsecure())
		start := time.Now()
		r, err := audit.Run(ctx, []string{p.Host + "/app:1"}, o)
		if !errors.Is(err, context.Canceled) || r != nil {
			t.Fatalf("report %v, err %v; want context.Canceled", r, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("took %s", d)
		}
		if served := p.Served(bd.String()); served >= 1<<20 {
			t.Errorf("%d bytes of the blob were served after the cancel", served)
		}
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Errorf("TMPDIR holds %d entries", len(ents))
		}
		p.CloseConnections()
		settled(t, before)
	})
}
