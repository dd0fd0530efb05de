// Command buildimage builds imgaudit's own container image without a Docker
// engine (see internal/selfimage) and writes it as an OCI image layout; with
// -push it also pushes it to a registry.
//
//	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o /tmp/amd64/imgaudit ./cmd/imgaudit
//	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -trimpath -o /tmp/arm64/imgaudit ./cmd/imgaudit
//	go run ./scripts/buildimage -binary /tmp/amd64/imgaudit -binary /tmp/arm64/imgaudit -out dist/image
//	go run ./cmd/imgaudit scan --fail-on medium dist/image
//
// Each -binary is a static linux executable; its platform is read from its
// ELF header. One binary gives an image, several give a multi-platform
// index. The CA bundle installed in the image is -ca-bundle, by default the
// build machine's /etc/ssl/certs/ca-certificates.crt (on Debian, from the
// ca-certificates package): the image trusts what that machine trusted at
// build time. Timestamps come from -created, else $SOURCE_DATE_EPOCH, else
// the Unix epoch, so a build is reproducible.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgaudit/imgaudit/internal/selfimage"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type config struct {
	binaries          stringList
	out, tag, push    string
	version, revision string
	source, created   string
	caBundle          string
}

func main() {
	var c config
	flag.Var(&c.binaries, "binary", "static linux imgaudit `PATH` (repeatable: one per platform)")
	flag.StringVar(&c.out, "out", "", "OCI image layout `DIR` to write (its index.json is replaced)")
	flag.StringVar(&c.tag, "tag", "", "ref.name annotation in the layout (default: -version, else latest)")
	flag.StringVar(&c.push, "push", "", "also push the image to `REF` (Docker keychain credentials)")
	flag.StringVar(&c.version, "version", "", "org.opencontainers.image.version label")
	flag.StringVar(&c.revision, "revision", "", "org.opencontainers.image.revision label (the commit)")
	flag.StringVar(&c.source, "source", selfimage.DefaultSource, "org.opencontainers.image.source label")
	flag.StringVar(&c.created, "created", "", "creation time, RFC 3339 (default: $SOURCE_DATE_EPOCH, else the Unix epoch)")
	flag.StringVar(&c.caBundle, "ca-bundle", selfimage.CABundlePath, "PEM bundle of CA certificates to install in the image")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: buildimage -binary PATH [-binary PATH...] (-out DIR | -push REF) [flags]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if len(c.binaries) == 0 || (c.out == "" && c.push == "") || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, c)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "buildimage:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	created, err := createdTime(c.created)
	if err != nil {
		return err
	}
	ca, err := os.ReadFile(c.caBundle)
	if err != nil {
		return fmt.Errorf("reading the CA bundle: %w (install ca-certificates, or pass -ca-bundle)", err)
	}
	opts := []selfimage.Option{
		selfimage.WithCACertificates(ca),
		selfimage.WithVersion(c.version, c.revision),
		selfimage.WithSource(c.source),
		selfimage.WithCreated(created),
	}
	var images []v1.Image
	seen := map[string]string{}
	for _, path := range c.binaries {
		bin, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		p, err := selfimage.PlatformOf(bin)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if prev, ok := seen[p.String()]; ok {
			return fmt.Errorf("%s and %s are both %s binaries", prev, path, p)
		}
		seen[p.String()] = path
		img, err := selfimage.Build(bin, p, opts...)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		images = append(images, img)
	}

	tag := c.tag
	if tag == "" {
		tag = c.version
	}
	if tag == "" {
		tag = "latest"
	}
	anns := map[string]string{"org.opencontainers.image.ref.name": tag}
	var idx v1.ImageIndex
	if len(images) > 1 {
		if idx, err = selfimage.Index(images...); err != nil {
			return err
		}
	}

	if c.out != "" {
		p, err := layout.Write(c.out, empty.Index)
		if err != nil {
			return err
		}
		if idx != nil {
			err = p.AppendIndex(idx, layout.WithAnnotations(anns))
		} else {
			err = p.AppendImage(images[0], layout.WithAnnotations(anns))
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", c.out, err)
		}
		fmt.Printf("wrote %s (%s)\n", c.out, describe(images, idx))
	}
	if c.push != "" {
		ref, err := name.ParseReference(c.push)
		if err != nil {
			return err
		}
		ro := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
		if idx != nil {
			err = remote.WriteIndex(ref, idx, ro...)
		} else {
			err = remote.Write(ref, images[0], ro...)
		}
		if err != nil {
			return fmt.Errorf("pushing %s: %w", ref, err)
		}
		fmt.Printf("pushed %s (%s)\n", ref, describe(images, idx))
	}
	return nil
}

// describe names the digest and the platforms written.
func describe(images []v1.Image, idx v1.ImageIndex) string {
	var d v1.Hash
	var err error
	if idx != nil {
		d, err = idx.Digest()
	} else {
		d, err = images[0].Digest()
	}
	if err != nil {
		return err.Error()
	}
	var ps []string
	for _, img := range images {
		if cf, err := img.ConfigFile(); err == nil {
			ps = append(ps, cf.Platform().String())
		}
	}
	return d.String() + ", " + strings.Join(ps, ", ")
}

// createdTime parses -created, else $SOURCE_DATE_EPOCH
// (https://reproducible-builds.org/specs/source-date-epoch/).
func createdTime(flagValue string) (time.Time, error) {
	if flagValue != "" {
		t, err := time.Parse(time.RFC3339, flagValue)
		if err != nil {
			return time.Time{}, fmt.Errorf("-created: %w", err)
		}
		return t, nil
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, errors.New("SOURCE_DATE_EPOCH is not a number of seconds")
		}
		return time.Unix(n, 0), nil
	}
	return time.Unix(0, 0), nil
}
