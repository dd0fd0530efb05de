// Package selfimage builds imgaudit's own container image in Go, without a
// Docker engine: a static imgaudit binary on a distroless-style base with a
// numeric non-root user, CA certificates, a sticky /tmp, and no shell and no
// package manager.
//
// The image has two layers, each with its own history entry:
//
//  1. the base: /etc/passwd and /etc/group (root, nobody and nonroot
//     65532:65532), /etc/nsswitch.conf, the CA bundle at
//     /etc/ssl/certs/ca-certificates.crt, /home/nonroot (0700, owned by
//     nonroot) and /tmp (1777);
//  2. the binary at /usr/local/bin/imgaudit.
//
// The config runs as "65532:65532" with imgaudit as the entrypoint and
// carries the OCI labels org.opencontainers.image.{source,version,revision,
// created,title,description}. There is no HEALTHCHECK: imgaudit is a command
// that runs and exits, not a service (so its own IA-HEALTHCHECK, a low
// finding, reports it). Every timestamp is the [WithCreated] time (the Unix
// epoch by default), so the same inputs always give the same digest.
package selfimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Where things are in the image, and who runs it.
const (
	// BinaryPath is where the imgaudit binary is installed.
	BinaryPath = "/usr/local/bin/imgaudit"
	// CABundlePath is where the CA certificates are installed; Go's
	// crypto/x509 reads it first on Linux.
	CABundlePath = "/etc/ssl/certs/ca-certificates.crt"
	// User is the config's User: nonroot, numerically, so that a runtime
	// can verify it is not root without reading /etc/passwd.
	User = "65532:65532"
	// Home is nonroot's home directory, where imgaudit's layer cache goes
	// by default ($HOME/.cache/imgaudit).
	Home = "/home/nonroot"
	// DefaultSource is the org.opencontainers.image.source label.
	DefaultSource = "https://github.com/imgaudit/imgaudit"
)

const nonrootID = 65532

// Errors a caller may branch on.
var (
	// ErrNotStatic is returned for a binary that needs a dynamic loader.
	ErrNotStatic = errors.New("binary is not statically linked")
	// ErrNoCACertificates is returned when no CA bundle was given: imgaudit
	// in the image could then verify no registry's TLS certificate.
	ErrNoCACertificates = errors.New("no CA certificates")
)

type options struct {
	caCerts           []byte
	version, revision string
	source            string
	created           time.Time
}

// Option configures [Build].
type Option func(*options)

// WithCACertificates sets the PEM bundle installed at [CABundlePath]. It is
// required; the release build takes the build machine's
// /etc/ssl/certs/ca-certificates.crt (Debian's ca-certificates package).
func WithCACertificates(pem []byte) Option { return func(o *options) { o.caCerts = pem } }

// WithVersion sets the version and the source revision (commit) recorded in
// the OCI labels.
func WithVersion(version, revision string) Option {
	return func(o *options) { o.version, o.revision = version, revision }
}

// WithSource sets the org.opencontainers.image.source label (default
// [DefaultSource]).
func WithSource(url string) Option { return func(o *options) { o.source = url } }

// WithCreated sets the image's creation time, used for the config, the
// history, the created label and every file's modification time (default:
// the Unix epoch, for reproducible builds).
func WithCreated(t time.Time) Option { return func(o *options) { o.created = t.UTC() } }

func defaults() options {
	return options{source: DefaultSource, created: time.Unix(0, 0).UTC()}
}

// machines maps GOARCH to the ELF machine of its binaries.
var machines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"arm":     elf.EM_ARM,
	"386":     elf.EM_386,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
	"riscv64": elf.EM_RISCV,
}

// PlatformOf returns the linux platform a static ELF binary runs on. It
// fails when binary is not an ELF executable, or needs a dynamic loader
// (wrapping [ErrNotStatic]).
func PlatformOf(binary []byte) (v1.Platform, error) {
	f, err := elf.NewFile(bytes.NewReader(binary))
	if err != nil {
		return v1.Platform{}, fmt.Errorf("reading binary: %w (want a linux executable: GOOS=linux)", err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return v1.Platform{}, fmt.Errorf("binary is an ELF %s, not an executable", f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return v1.Platform{}, fmt.Errorf("%w: it needs a dynamic loader (build it with CGO_ENABLED=0)", ErrNotStatic)
		}
	}
	for arch, m := range machines {
		if m == f.Machine && (arch != "ppc64le" || f.ByteOrder.String() == "LittleEndian") {
			p := v1.Platform{OS: "linux", Architecture: arch}
			if arch == "arm" {
				p.Variant = "v7"
			}
			return p, nil
		}
	}
	return v1.Platform{}, fmt.Errorf("binary is for ELF machine %s, which has no supported GOARCH", f.Machine)
}

// Build returns imgaudit's image for platform with binary (a static linux
// executable for that platform) as its entrypoint.
func Build(binary []byte, platform v1.Platform, opts ...Option) (v1.Image, error) {
	o := defaults()
	for _, opt := range opts {
		opt(&o)
	}
	if platform.OS != "linux" {
		return nil, fmt.Errorf("platform %s: only linux images are built", platform)
	}
	got, err := PlatformOf(binary)
	if err != nil {
		return nil, err
	}
	if got.Architecture != platform.Architecture {
		return nil, fmt.Errorf("binary is for %s, not %s (set GOARCH=%s)", got.Architecture, platform.Architecture, platform.Architecture)
	}
	if err := checkPEM(o.caCerts); err != nil {
		return nil, err
	}

	base, err := layer(o.created, baseEntries(o.caCerts))
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	app, err := layer(o.created, binaryEntries(binary))
	if err != nil {
		return nil, fmt.Errorf("binary layer: %w", err)
	}
	created := v1.Time{Time: o.created}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{
			Created:   created,
			CreatedBy: "selfimage: /etc/passwd /etc/group /etc/nsswitch.conf " + CABundlePath + " " + Home + " /tmp",
			Comment:   "distroless-style base: nonroot 65532:65532, CA certificates, no shell, no package manager",
		}},
		mutate.Addendum{Layer: app, History: v1.History{
			Created:   created,
			CreatedBy: "selfimage: COPY imgaudit " + BinaryPath,
			Comment:   "static imgaudit binary (CGO_ENABLED=0)",
		}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Created = created
	cf.OS, cf.Architecture, cf.Variant = platform.OS, platform.Architecture, platform.Variant
	labels := o.labels()
	cf.Config = v1.Config{
		User:       User,
		Entrypoint: []string{BinaryPath},
		Env:        []string{"PATH=/usr/local/bin", "HOME=" + Home},
		WorkingDir: Home,
		Labels:     labels,
	}
	for _, step := range []string{
		"USER " + User,
		"ENV PATH=/usr/local/bin HOME=" + Home,
		"WORKDIR " + Home,
		`ENTRYPOINT ["` + BinaryPath + `"]`,
	} {
		cf.History = append(cf.History, v1.History{Created: created, CreatedBy: step, EmptyLayer: true})
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(img, labels).(v1.Image), nil
}

// Index returns the multi-platform index of images built by [Build], each
// described with its platform.
func Index(images ...v1.Image) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	var adds []mutate.IndexAddendum
	for i, img := range images {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("image %d: %w", i, err)
		}
		p := cf.Platform()
		if p == nil {
			return nil, fmt.Errorf("image %d has no platform", i)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	return mutate.AppendManifests(idx, adds...), nil
}

func (o options) labels() map[string]string {
	l := map[string]string{
		"org.opencontainers.image.title":       "imgaudit",
		"org.opencontainers.image.description": "Audit container images for hardening",
		"org.opencontainers.image.source":      o.source,
		"org.opencontainers.image.created":     o.created.Format(time.RFC3339),
	}
	if o.version != "" {
		l["org.opencontainers.image.version"] = o.version
	}
	if o.revision != "" {
		l["org.opencontainers.image.revision"] = o.revision
	}
	return l
}

// checkPEM accepts a bundle of one or more PEM certificates and nothing else.
func checkPEM(bundle []byte) error {
	if len(bytes.TrimSpace(bundle)) == 0 {
		return fmt.Errorf("%w: pass a PEM bundle such as /etc/ssl/certs/ca-certificates.crt", ErrNoCACertificates)
	}
	n := 0
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			if len(bytes.TrimSpace(rest)) != 0 && n == 0 {
				return fmt.Errorf("%w: the bundle holds no PEM block", ErrNoCACertificates)
			}
			break
		}
		if b.Type != "CERTIFICATE" {
			return fmt.Errorf("CA bundle holds a %q PEM block; only CERTIFICATE blocks belong there", b.Type)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("%w: the bundle holds no PEM block", ErrNoCACertificates)
	}
	return nil
}

// entry is one file or directory of a layer.
type entry struct {
	name     string // relative, no leading slash; directories end in /
	mode     int64
	uid, gid int
	body     []byte
}

func dir(name string, mode int64) entry { return entry{name: name, mode: mode} }
func file(name string, mode int64, body []byte) entry {
	return entry{name: name, mode: mode, body: body}
}

const (
	passwd = "root:x:0:0:root:/root:/sbin/nologin\n" +
		"nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
		"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"
	// nsswitch.conf makes Go's resolver (and any libc) read /etc/hosts
	// before DNS, as on a full distribution.
	nsswitch = "hosts: files dns\n"
)

func baseEntries(caCerts []byte) []entry {
	home := dir("home/nonroot/", 0o700)
	home.uid, home.gid = nonrootID, nonrootID
	return []entry{
		dir("etc/", 0o755),
		file("etc/group", 0o644, []byte(group)),
		file("etc/nsswitch.conf", 0o644, []byte(nsswitch)),
		file("etc/passwd", 0o644, []byte(passwd)),
		dir("etc/ssl/", 0o755),
		dir("etc/ssl/certs/", 0o755),
		file("etc/ssl/certs/ca-certificates.crt", 0o644, caCerts),
		dir("home/", 0o755),
		home,
		dir("tmp/", 0o1777),
	}
}

func binaryEntries(binary []byte) []entry {
	return []entry{
		dir("usr/", 0o755),
		dir("usr/local/", 0o755),
		dir("usr/local/bin/", 0o755),
		file("usr/local/bin/imgaudit", 0o755, binary),
	}
}

// layer writes entries, in order, as a gzip-compressed OCI layer.
func layer(mtime time.Time, entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: mtime,
			Format:  tar.FormatPAX,
		}
		if e.name[len(e.name)-1] == '/' {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressionLevel(gzip.BestCompression), tarball.WithCompressedCaching)
}
