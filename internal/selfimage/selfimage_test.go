package selfimage_test

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/imgaudit/imgaudit/internal/selfimage"
)

// testCA returns a PEM bundle holding one self-signed certificate.
func testCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "selfimage test CA"},
		NotBefore:             time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// fakeELF is the smallest 64-bit little-endian ELF executable header for
// machine, with a PT_INTERP program header when interp is set.
func fakeELF(machine elf.Machine, interp bool) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := elf.Header64{
		Ident:     [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)},
		Type:      uint16(elf.ET_EXEC),
		Machine:   uint16(machine),
		Version:   uint32(elf.EV_CURRENT),
		Phoff:     64,
		Ehsize:    64,
		Phentsize: 56,
	}
	if interp {
		hdr.Phnum = 1
	}
	binary.Write(&b, le, hdr)
	if interp {
		binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_INTERP), Off: 120, Filesz: 28, Memsz: 28})
		b.WriteString("/lib64/ld-linux-x86-64.so.2\x00")
	}
	return b.Bytes()
}

var amd64 = v1.Platform{OS: "linux", Architecture: "amd64"}

func TestPlatformOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		binary  []byte
		want    v1.Platform
		wantErr string
	}{
		{"amd64", fakeELF(elf.EM_X86_64, false), amd64, ""},
		{"arm64", fakeELF(elf.EM_AARCH64, false), v1.Platform{OS: "linux", Architecture: "arm64"}, ""},
		{"dynamic", fakeELF(elf.EM_X86_64, true), v1.Platform{}, "CGO_ENABLED=0"},
		{"not ELF", []byte("#!/bin/sh\necho hi\n"), v1.Platform{}, "GOOS=linux"},
		{"unknown machine", fakeELF(elf.EM_SPARCV9, false), v1.Platform{}, "no supported GOARCH"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selfimage.PlatformOf(tc.binary)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("platform (-want +got):\n%s", d)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	ca := testCA(t)
	static := fakeELF(elf.EM_X86_64, false)
	for _, tc := range []struct {
		name     string
		binary   []byte
		platform v1.Platform
		opts     []selfimage.Option
		is       error
		want     string
	}{
		{"no CA", static, amd64, nil, selfimage.ErrNoCACertificates, "ca-certificates.crt"},
		{"CA not PEM", static, amd64, []selfimage.Option{selfimage.WithCACertificates([]byte("hello"))}, selfimage.ErrNoCACertificates, "no PEM block"},
		{"private key in CA", static, amd64, []selfimage.Option{selfimage.WithCACertificates(
			pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1}}))}, nil, `"PRIVATE KEY"`},
		{"dynamic", fakeELF(elf.EM_X86_64, true), amd64, []selfimage.Option{selfimage.WithCACertificates(ca)}, selfimage.ErrNotStatic, "CGO_ENABLED=0"},
		{"wrong arch", static, v1.Platform{OS: "linux", Architecture: "arm64"}, []selfimage.Option{selfimage.WithCACertificates(ca)}, nil, "GOARCH=arm64"},
		{"not linux", static, v1.Platform{OS: "windows", Architecture: "amd64"}, []selfimage.Option{selfimage.WithCACertificates(ca)}, nil, "only linux"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := selfimage.Build(tc.binary, tc.platform, tc.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestBuild checks the config, the labels, the history and the files of the
// image, and that the same inputs give the same digest.
func TestBuild(t *testing.T) {
	ca := testCA(t)
	bin := fakeELF(elf.EM_X86_64, false)
	created := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	build := func() v1.Image {
		img, err := selfimage.Build(bin, amd64,
			selfimage.WithCACertificates(ca),
			selfimage.WithVersion("1.2.3", "abc123"),
			selfimage.WithCreated(created))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	img := build()
	d1, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := build().Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d1 != d2 {
		t.Errorf("two builds of the same inputs differ: %s, %s", d1, d2)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" || !cf.Created.Time.Equal(created) {
		t.Errorf("config: os %q arch %q created %v", cf.OS, cf.Architecture, cf.Created)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("User = %q", c.User)
	}
	if d := cmp.Diff([]string{"/usr/local/bin/imgaudit"}, c.Entrypoint); d != "" {
		t.Errorf("Entrypoint (-want +got):\n%s", d)
	}
	if c.Healthcheck != nil {
		t.Errorf("Healthcheck = %+v; a CLI image has none", c.Healthcheck)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.title":       "imgaudit",
		"org.opencontainers.image.description": "Audit container images for hardening",
		"org.opencontainers.image.source":      "https://github.com/imgaudit/imgaudit",
		"org.opencontainers.image.version":     "1.2.3",
		"org.opencontainers.image.revision":    "abc123",
		"org.opencontainers.image.created":     "2026-03-01T12:00:00Z",
	}
	if d := cmp.Diff(wantLabels, c.Labels); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(wantLabels, m.Annotations); d != "" {
		t.Errorf("manifest annotations (-want +got):\n%s", d)
	}

	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	nonEmpty := 0
	for _, h := range cf.History {
		if !h.EmptyLayer {
			nonEmpty++
		}
		if h.CreatedBy == "" || !h.Created.Time.Equal(created) {
			t.Errorf("history entry %+v lacks a step or the created time", h)
		}
	}
	if len(layers) != 2 || nonEmpty != 2 {
		t.Errorf("%d layers, %d history entries with a layer; want 2 and 2", len(layers), nonEmpty)
	}

	files := map[string]*tar.Header{}
	bodies := map[string][]byte{}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = h
		bodies[strings.TrimSuffix(h.Name, "/")] = body
		if !h.ModTime.Equal(created) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, created)
		}
	}
	for _, want := range []struct {
		path     string
		mode     int64
		uid      int
		contains string
	}{
		{"etc/passwd", 0o644, 0, "nonroot:x:65532:65532:"},
		{"etc/group", 0o644, 0, "nonroot:x:65532:"},
		{"etc/nsswitch.conf", 0o644, 0, "hosts: files dns"},
		{"etc/ssl/certs/ca-certificates.crt", 0o644, 0, "BEGIN CERTIFICATE"},
		{"tmp", 0o1777, 0, ""},
		{"home/nonroot", 0o700, 65532, ""},
		{"usr/local/bin/imgaudit", 0o755, 0, "\x7fELF"},
	} {
		h := files[want.path]
		if h == nil {
			t.Errorf("%s missing", want.path)
			continue
		}
		if h.Mode&0o7777 != want.mode || h.Uid != want.uid {
			t.Errorf("%s: mode %o uid %d, want %o uid %d", want.path, h.Mode, h.Uid, want.mode, want.uid)
		}
		if !strings.Contains(string(bodies[want.path]), want.contains) {
			t.Errorf("%s does not contain %q", want.path, want.contains)
		}
	}
	for name := range files {
		if strings.HasPrefix(name, "bin") || strings.HasPrefix(name, "sbin") || strings.Contains(name, "/sh") {
			t.Errorf("unexpected %s in the image", name)
		}
	}
}

func TestIndex(t *testing.T) {
	ca := selfimage.WithCACertificates(testCA(t))
	var imgs []v1.Image
	for _, m := range []elf.Machine{elf.EM_X86_64, elf.EM_AARCH64} {
		bin := fakeELF(m, false)
		p, err := selfimage.PlatformOf(bin)
		if err != nil {
			t.Fatal(err)
		}
		img, err := selfimage.Build(bin, p, ca)
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	idx, err := selfimage.Index(imgs...)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range im.Manifests {
		got = append(got, d.Platform.String())
	}
	if d := cmp.Diff([]string{"linux/amd64", "linux/arm64"}, got); d != "" {
		t.Errorf("index platforms (-want +got):\n%s", d)
	}
}
