package fetch

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fixture holds one image and one index written in every local form.
type fixture struct {
	img     v1.Image // linux/amd64, 2 layers
	img2    v1.Image // a second image for multi-image archives
	idx     v1.ImageIndex
	idxImgs map[string]v1.Image

	tagged     string // layout: img tagged "v1", idx tagged "multi"
	single     string // layout: img only, untagged
	indexRoot  string // layout whose index.json is idx itself
	taggedTar  string // oci-archive of tagged
	singleTar  string // oci-archive of single
	dockerOne  string // ggcr tarball of img as example.com/app:1
	dockerTwo  string // ggcr tarball of img and img2
	legacy     string // hand-made docker save (uncompressed layers, symlinked duplicate)
	docker25   string // docker save of Docker 25+: OCI layout + manifest.json
	archiveDir string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{img: randomImage(t, 2, amd64), img2: randomImage(t, 1, arm64)}
	f.idx, f.idxImgs = multiIndex(t, amd64, arm64, armv7)
	root := t.TempDir()
	f.archiveDir = root

	f.tagged = filepath.Join(root, "tagged")
	p, err := layout.Write(f.tagged, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(f.img, layout.WithAnnotations(map[string]string{annotationRefName: "v1"})); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendIndex(f.idx, layout.WithAnnotations(map[string]string{annotationRefName: "multi"})); err != nil {
		t.Fatal(err)
	}

	f.single = filepath.Join(root, "single")
	p, err = layout.Write(f.single, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(f.img); err != nil {
		t.Fatal(err)
	}

	f.indexRoot = filepath.Join(root, "indexroot")
	if _, err := layout.Write(f.indexRoot, f.idx); err != nil {
		t.Fatal(err)
	}

	f.taggedTar = filepath.Join(root, "tagged.tar")
	tarDir(t, f.tagged, f.taggedTar)
	f.singleTar = filepath.Join(root, "single.tar")
	tarDir(t, f.single, f.singleTar)

	f.dockerOne = filepath.Join(root, "docker-one.tar")
	if err := tarball.WriteToFile(f.dockerOne, name.MustParseReference("example.com/app:1"), f.img); err != nil {
		t.Fatal(err)
	}
	f.dockerTwo = filepath.Join(root, "docker-two.tar")
	if err := tarball.MultiRefWriteToFile(f.dockerTwo, map[name.Reference]v1.Image{
		name.MustParseReference("example.com/app:1"): f.img,
		name.MustParseReference("other:2"):           f.img2,
	}); err != nil {
		t.Fatal(err)
	}
	f.legacy = filepath.Join(root, "legacy.tar")
	writeLegacyDockerSave(t, f.legacy, f.img, "legacy:1", true)
	f.docker25 = filepath.Join(root, "docker25.tar")
	writeDocker25Save(t, f.docker25, f.img, "example.com/app:1")
	return f
}

// writeLegacyDockerSave writes what docker save wrote before Docker 25:
// <id>/layer.tar files holding uncompressed tars, <config>.json, and
// manifest.json. With dup, the first layer is listed again at the end
// through a symlinked layer.tar, as docker save does for shared layers;
// the config gets a matching extra diff_id.
func writeLegacyDockerSave(t *testing.T, dst string, img v1.Image, tag string, dup bool) {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	var entries []tarEntry
	var paths []string
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := fmt.Sprintf("%064d/layer.tar", i+1)
		entries = append(entries, tarEntry{Name: p, Body: b})
		paths = append(paths, p)
	}
	if dup {
		p := fmt.Sprintf("%064d/layer.tar", 99)
		entries = append(entries, tarEntry{Name: p, Linkname: fmt.Sprintf("../%064d/layer.tar", 1)})
		paths = append(paths, p)
		cf.RootFS.DiffIDs = append(cf.RootFS.DiffIDs, cf.RootFS.DiffIDs[0])
		cf.History = append(cf.History, v1.History{CreatedBy: "dup"})
	}
	rawCfg, err := json.Marshal(cf)
	if err != nil {
		t.Fatal(err)
	}
	cfgName := digestOf(rawCfg).Hex + ".json"
	manifest, err := json.Marshal([]dockerEntry{{Config: cfgName, RepoTags: []string{tag}, Layers: paths}})
	if err != nil {
		t.Fatal(err)
	}
	entries = append(entries,
		tarEntry{Name: cfgName, Body: rawCfg},
		tarEntry{Name: "manifest.json", Body: manifest},
		tarEntry{Name: "repositories", Body: []byte(`{}`)},
	)
	writeTar(t, dst, entries)
}

// writeDocker25Save writes an OCI layout plus a manifest.json pointing
// into blobs/, as docker save does since Docker 25.
func writeDocker25Save(t *testing.T, dst string, img v1.Image, tag string) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.ParseReference(tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		annotationContainerName: r.Name(),
		annotationRefName:       "1",
	})); err != nil {
		t.Fatal(err)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	e := dockerEntry{Config: "blobs/sha256/" + m.Config.Digest.Hex, RepoTags: []string{tag}}
	for _, l := range m.Layers {
		e.Layers = append(e.Layers, "blobs/sha256/"+l.Digest.Hex)
	}
	b, err := json.Marshal([]dockerEntry{e})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	tarDir(t, dir, dst)
}

func TestOpenLocal(t *testing.T) {
	f := newFixture(t)
	imgD := mustDigest(t, f.img).String()
	idxD := mustDigest(t, f.idx).String()
	child := func(p string) string { return mustDigest(t, f.idxImgs[p]).String() }
	amdNote := "linux/amd64 (default; index has 3 platforms)"

	tests := []struct {
		name string
		ref  string
		opts []Option
		want []summary
	}{
		{"oci tag", "oci:" + f.tagged + ":v1", nil, []summary{{SourceOCILayout, imgD, "", "linux/amd64", ""}}},
		{"oci digest", "oci:" + f.tagged + "@" + imgD, nil, []summary{{SourceOCILayout, imgD, "", "linux/amd64", ""}}},
		{"oci index tag default", "oci:" + f.tagged + ":multi", nil, []summary{{SourceOCILayout, child("linux/amd64"), idxD, "linux/amd64", amdNote}}},
		{"oci index tag platform", "oci:" + f.tagged + ":multi", []Option{WithPlatform("linux/arm/v7")}, []summary{{SourceOCILayout, child("linux/arm/v7"), idxD, "linux/arm/v7", ""}}},
		{"oci index all", "oci:" + f.tagged + ":multi", []Option{WithAllPlatforms()}, []summary{
			{SourceOCILayout, child("linux/amd64"), idxD, "linux/amd64", ""},
			{SourceOCILayout, child("linux/arm64/v8"), idxD, "linux/arm64/v8", ""},
			{SourceOCILayout, child("linux/arm/v7"), idxD, "linux/arm/v7", ""},
		}},
		{"oci digest of a platform image inside an index", "oci:" + f.tagged + "@" + child("linux/arm64/v8"), nil,
			[]summary{{SourceOCILayout, child("linux/arm64/v8"), idxD, "linux/arm64/v8", ""}}},
		{"oci single untagged", "oci:" + f.single, nil, []summary{{SourceOCILayout, imgD, "", "linux/amd64", ""}}},
		{"bare dir", f.single, nil, []summary{{SourceOCILayout, imgD, "", "linux/amd64", ""}}},
		{"oci index.json is the index", "oci:" + f.indexRoot, nil, []summary{{SourceOCILayout, child("linux/amd64"), "", "linux/amd64", amdNote}}},
		{"oci index.json is the index, platform", f.indexRoot, []Option{WithPlatform("linux/arm64")}, []summary{{SourceOCILayout, child("linux/arm64/v8"), "", "linux/arm64/v8", ""}}},

		{"oci-archive tag", "oci-archive:" + f.taggedTar + ":v1", nil, []summary{{SourceOCIArchive, imgD, "", "linux/amd64", ""}}},
		{"oci-archive digest", "oci-archive:" + f.taggedTar + "@" + imgD, nil, []summary{{SourceOCIArchive, imgD, "", "linux/amd64", ""}}},
		{"oci-archive index", "oci-archive:" + f.taggedTar + ":multi", nil, []summary{{SourceOCIArchive, child("linux/amd64"), idxD, "linux/amd64", amdNote}}},
		{"oci-archive single", "oci-archive:" + f.singleTar, nil, []summary{{SourceOCIArchive, imgD, "", "linux/amd64", ""}}},
		{"bare oci archive", f.singleTar, nil, []summary{{SourceOCIArchive, imgD, "", "linux/amd64", ""}}},

		{"docker-archive single", "docker-archive:" + f.dockerOne, nil, []summary{{SourceDockerArchive, imgD, "", "linux/amd64", ""}}},
		{"docker-archive by tag", "docker-archive:" + f.dockerTwo + ":example.com/app:1", nil, []summary{{SourceDockerArchive, imgD, "", "linux/amd64", ""}}},
		{"docker-archive other tag", "docker-archive:" + f.dockerTwo + ":other:2", nil, []summary{{SourceDockerArchive, mustDigest(t, f.img2).String(), "", "linux/arm64/v8", ""}}},
		{"docker-archive normalized tag", "docker-archive:" + f.dockerTwo + ":index.docker.io/library/other:2", nil, []summary{{SourceDockerArchive, mustDigest(t, f.img2).String(), "", "linux/arm64/v8", ""}}},
		{"bare docker archive", f.dockerOne, nil, []summary{{SourceDockerArchive, imgD, "", "linux/amd64", ""}}},
		{"docker 25 archive keeps the real manifest", "docker-archive:" + f.docker25, nil, []summary{{SourceDockerArchive, imgD, "", "linux/amd64", ""}}},
		{"docker 25 archive as OCI, containerd name", "oci-archive:" + f.docker25 + ":example.com/app:1", nil, []summary{{SourceOCIArchive, imgD, "", "linux/amd64", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := openOK(t, tc.ref, tc.opts...)
			if diff := cmp.Diff(tc.want, summarize(res.Targets)); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
			for _, tg := range res.Targets {
				if got := mustDigest(t, tg.Image); got != tg.Digest {
					t.Errorf("Image digest %s != Target.Digest %s", got, tg.Digest)
				}
				readLayers(t, tg.Image)
			}
		})
	}
}

func TestOpenLegacyDockerArchive(t *testing.T) {
	f := newFixture(t)
	res := openOK(t, "docker-archive:"+f.legacy+":legacy:1")
	if len(res.Targets) != 1 {
		t.Fatalf("got %d targets", len(res.Targets))
	}
	tg := res.Targets[0]
	if diff := cmp.Diff([]summary{{SourceDockerArchive, tg.Digest.String(), "", "linux/amd64", ""}}, summarize(res.Targets)); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
	want := readLayers(t, f.img)
	want.DiffIDs = append(want.DiffIDs, want.DiffIDs[0])
	want.Bytes = append(want.Bytes, want.Bytes[0])
	if diff := cmp.Diff(want, readLayers(t, tg.Image)); diff != "" {
		t.Errorf("layers (-want +got):\n%s", diff)
	}

	// Uncompressed layers: Compressed() is the raw tar and Digest() is
	// the digest of those bytes (= DiffID); nothing is gzipped on the fly.
	layers, err := tg.Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("layer %d: Compressed() is gzip", i)
		}
		if diff := cmp.Diff(want.Bytes[i], b); diff != "" {
			t.Errorf("layer %d: Compressed() is not the raw tar", i)
		}
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		if got := digestOf(b); got != d {
			t.Errorf("layer %d: Digest() = %s, bytes hash to %s", i, d, got)
		}
		mt, err := l.MediaType()
		if err != nil {
			t.Fatal(err)
		}
		if mt != "application/vnd.docker.image.rootfs.diff.tar" {
			t.Errorf("layer %d: media type %s", i, mt)
		}
	}
}

// TestSameImageEverywhere reads one image from a registry, an OCI layout,
// an OCI archive, a ggcr docker archive, a Docker 25 archive and a legacy
// docker save, and compares layer DiffIDs and uncompressed bytes.
func TestSameImageEverywhere(t *testing.T) {
	f := newFixture(t)
	host := newRegistry(t, nil)
	pushImage(t, host+"/app:1", f.img)
	legacy := filepath.Join(t.TempDir(), "legacy-nodup.tar")
	writeLegacyDockerSave(t, legacy, f.img, "legacy:1", false)

	want := readLayers(t, f.img)
	wantCfg, err := f.img.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{
		host + "/app:1",
		"oci:" + f.tagged + ":v1",
		"oci-archive:" + f.taggedTar + ":v1",
		"docker-archive:" + f.dockerOne,
		"docker-archive:" + f.docker25,
		"docker-archive:" + legacy,
	} {
		t.Run(ref, func(t *testing.T) {
			res := openOK(t, ref)
			img := res.Targets[0].Image
			if diff := cmp.Diff(want, readLayers(t, img)); diff != "" {
				t.Errorf("layers (-want +got):\n%s", diff)
			}
			cfg, err := img.RawConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wantCfg, cfg) {
				t.Errorf("config differs")
			}
		})
	}
}

func TestOpenLocalErrors(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	gz := filepath.Join(dir, "image.tar.gz")
	{
		raw, err := os.ReadFile(f.dockerOne)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
		if err := os.WriteFile(gz, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	notTar := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notTar, bytes.Repeat([]byte("hello world\n"), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	// Archives cut inside a member, and exactly at a member boundary.
	truncated := filepath.Join(dir, "truncated.tar")
	atBoundary := filepath.Join(dir, "boundary.tar")
	{
		raw, err := os.ReadFile(f.taggedTar)
		if err != nil {
			t.Fatal(err)
		}
		a := openArchiveForTest(t, f.taggedTar)
		m, err := a.lookup("index.json")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(truncated, raw[:m.offset+m.size/2], 0o644); err != nil {
			t.Fatal(err)
		}
		end := (m.offset + m.size + 511) / 512 * 512
		if err := os.WriteFile(atBoundary, raw[:end], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	otherTar := filepath.Join(dir, "other.tar")
	writeTar(t, otherTar, []tarEntry{{Name: "hello.txt", Body: []byte("hi")}})
	missingLayer := filepath.Join(dir, "missing-layer.tar")
	writeTar(t, missingLayer, []tarEntry{
		{Name: "cfg.json", Body: []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:` + strings.Repeat("a", 64) + `"]}}`)},
		{Name: "manifest.json", Body: []byte(`[{"Config":"cfg.json","RepoTags":["x:1"],"Layers":["nope/layer.tar"]}]`)},
	})
	emptyDir := t.TempDir()

	tests := []struct {
		name      string
		ref       string
		opts      []Option
		want      error
		fragments []string
	}{
		{name: "oci several manifests no tag", ref: "oci:" + f.tagged, want: ErrInvalidReference, fragments: []string{"2 manifests", "v1 (sha256:", "multi (sha256:"}},
		{name: "oci unknown tag", ref: "oci:" + f.tagged + ":nope", want: ErrNotFound, fragments: []string{`no tag "nope"`, "v1 (sha256:"}},
		{name: "oci unknown digest", ref: "oci:" + f.tagged + "@sha256:" + strings.Repeat("1", 64), want: ErrNotFound},
		{name: "oci missing dir", ref: "oci:" + filepath.Join(dir, "nothere"), want: ErrNotFound},
		{name: "oci on a file", ref: "oci:" + f.taggedTar, want: ErrInvalidReference, fragments: []string{"not a directory"}},
		{name: "oci empty dir", ref: "oci:" + emptyDir, want: ErrNotFound, fragments: []string{"no index.json"}},
		{name: "oci empty path", ref: "oci:", want: ErrInvalidReference},
		{name: "oci index missing platform", ref: "oci:" + f.tagged + ":multi", opts: []Option{WithPlatform("windows/amd64")}, want: ErrNoPlatform,
			fragments: []string{"available: linux/amd64, linux/arm64/v8, linux/arm/v7"}},
		{name: "oci single image other platform", ref: "oci:" + f.single, opts: []Option{WithPlatform("linux/arm64")}, want: ErrNoPlatform},
		{name: "oci-archive several manifests", ref: "oci-archive:" + f.taggedTar, want: ErrInvalidReference},
		{name: "oci-archive on a dir", ref: "oci-archive:" + f.tagged, want: ErrInvalidReference},
		{name: "oci-archive missing file", ref: "oci-archive:" + filepath.Join(dir, "nothere.tar"), want: ErrNotFound},
		{name: "oci-archive of a docker archive without index.json", ref: "oci-archive:" + f.dockerOne, want: ErrUnsupported},
		{name: "gzip archive", ref: gz, want: ErrUnsupported, fragments: []string{"gzip"}},
		{name: "gzip docker-archive", ref: "docker-archive:" + gz, want: ErrUnsupported},
		{name: "not a tar", ref: "docker-archive:" + notTar, want: ErrUnsupported},
		{name: "bare file that is not an archive", ref: notTar, want: ErrUnsupported},
		{name: "tar of something else", ref: otherTar, want: ErrUnsupported, fragments: []string{"neither a docker nor an OCI archive"}},
		{name: "truncated archive", ref: "oci-archive:" + truncated + ":v1", want: ErrCorrupt, fragments: []string{"truncated"}},
		{name: "archive cut at a member boundary", ref: "oci-archive:" + atBoundary + ":v1", want: ErrCorrupt, fragments: []string{"truncated"}},
		{name: "docker several images", ref: "docker-archive:" + f.dockerTwo, want: ErrInvalidReference, fragments: []string{"2 images", "other:2"}},
		{name: "docker unknown tag", ref: "docker-archive:" + f.dockerTwo + ":nope:1", want: ErrNotFound, fragments: []string{"example.com/app:1"}},
		{name: "docker bad tag", ref: "docker-archive:" + f.dockerTwo + ":Bad Tag", want: ErrInvalidReference},
		{name: "docker missing layer", ref: "docker-archive:" + missingLayer, want: ErrCorrupt, fragments: []string{"nope/layer.tar"}},
		{name: "docker-archive of an OCI archive", ref: "docker-archive:" + f.singleTar, want: ErrUnsupported, fragments: []string{"oci-archive:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(context.Background(), tc.ref, testOptions(tc.opts...)...)
			checkErr(t, err, tc.ref, tc.want, tc.fragments...)
		})
	}
}

func TestCorruptBlobIsDetected(t *testing.T) {
	f := newFixture(t)
	// Flip a byte in the middle of the first layer of the legacy archive:
	// the layer's Digest() is its DiffID, so reading it must fail.
	raw, err := os.ReadFile(f.legacy)
	if err != nil {
		t.Fatal(err)
	}
	a := openArchiveForTest(t, f.legacy)
	m, err := a.lookup(fmt.Sprintf("%064d/layer.tar", 1))
	if err != nil {
		t.Fatal(err)
	}
	raw[m.offset+m.size/2] ^= 0xff
	bad := filepath.Join(t.TempDir(), "bad.tar")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	res := openOK(t, "docker-archive:"+bad)
	layers, err := res.Targets[0].Image.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.Copy(io.Discard, rc); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("reading a corrupted layer: err = %v, want ErrCorrupt", err)
	}
}

func openArchiveForTest(t *testing.T, p string) *archive {
	t.Helper()
	file, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	a, err := indexArchive(file)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestArchivesWriteNothing reads every archive form completely and checks
// that no file appeared anywhere we can see: not in TMPDIR, not next to the
// archives.
func TestArchivesWriteNothing(t *testing.T) {
	f := newFixture(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := listTree(t, f.archiveDir)

	for _, ref := range []string{
		"oci-archive:" + f.taggedTar + ":v1",
		"oci-archive:" + f.taggedTar + ":multi",
		f.singleTar,
		"docker-archive:" + f.dockerOne,
		"docker-archive:" + f.dockerTwo + ":other:2",
		"docker-archive:" + f.legacy,
		"docker-archive:" + f.docker25,
		f.dockerOne,
	} {
		res, err := Open(context.Background(), ref, testOptions(WithAllPlatforms())...)
		if err != nil {
			t.Fatalf("Open(%q): %v", ref, err)
		}
		for _, tg := range res.Targets {
			readLayers(t, tg.Image)
			if _, err := tg.Image.ConfigFile(); err != nil {
				t.Fatal(err)
			}
		}
		if err := res.Close(); err != nil {
			t.Fatal(err)
		}
	}

	if diff := cmp.Diff(before, listTree(t, f.archiveDir)); diff != "" {
		t.Errorf("archive directory changed (-before +after):\n%s", diff)
	}
	if got := listTree(t, tmp); len(got) != 0 {
		t.Errorf("files appeared in TMPDIR: %v", got)
	}
}

// listTree lists every path under dir with its size and modification time.
func listTree(t *testing.T, dir string) []string {
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
		out = append(out, fmt.Sprintf("%s %d %d", p, fi.Size(), fi.ModTime().UnixNano()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out[1:] // without dir itself
}

func TestResultCloseStopsArchiveReads(t *testing.T) {
	f := newFixture(t)
	res, err := Open(context.Background(), "docker-archive:"+f.legacy, testOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	img := res.Targets[0].Image
	if err := res.Close(); err != nil {
		t.Fatal(err)
	}
	if err := res.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Compressed()
	if err == nil {
		_, err = io.Copy(io.Discard, rc)
	}
	if err == nil {
		t.Fatal("reading after Close succeeded")
	}
}

func TestSplitPathRef(t *testing.T) {
	dir := t.TempDir()
	withColon := filepath.Join(dir, "a:b")
	if err := os.Mkdir(withColon, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "x.tar")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	h := "sha256:" + strings.Repeat("ab", 32)
	tests := []struct {
		in         string
		dir        bool
		wantPath   string
		wantSuffix string
		wantDigest string
	}{
		{dir, true, dir, "", ""},
		{dir + ":tag", true, dir, "tag", ""},
		{dir + "@" + h, true, dir, "", h},
		{withColon, true, withColon, "", ""},
		{withColon + ":t", true, withColon, "t", ""},
		{file + ":registry.example.com:5000/app:1", false, file, "registry.example.com:5000/app:1", ""},
		{file + ":alpine:3.20", false, file, "alpine:3.20", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			p, suffix, dg, err := splitPathRef("ref", tc.in, tc.dir)
			if err != nil {
				t.Fatal(err)
			}
			gotDigest := ""
			if dg != nil {
				gotDigest = dg.String()
			}
			if diff := cmp.Diff([]string{tc.wantPath, tc.wantSuffix, tc.wantDigest}, []string{p, suffix, gotDigest}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// A directory that is not a layout does not shadow a registry name.
func TestBareDirNotLayoutFallsBackToRegistry(t *testing.T) {
	host := newRegistry(t, nil)
	img := randomImage(t, 1, amd64)
	pushImage(t, host+"/app:1", img)
	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.MkdirAll(filepath.Join(host, "app:1"), 0o755); err != nil {
		t.Fatal(err)
	}
	res := openOK(t, host+"/app:1")
	if got := res.Targets[0].Source; got != SourceRegistry {
		t.Errorf("source = %s, want registry", got)
	}
}
