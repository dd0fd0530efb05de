package fetch

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// bigConfigImage is an image whose config holds enough history steps to
// pass the config size limit.
func bigConfigImage(t *testing.T) v1.Image {
	t.Helper()
	cfg := &v1.ConfigFile{OS: "linux", Architecture: "amd64"}
	step := "/bin/sh -c " + strings.Repeat("x", 200)
	for len(cfg.History)*len(step) <= maxConfigSize {
		cfg.History = append(cfg.History, v1.History{CreatedBy: step, EmptyLayer: true})
	}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestConfigSizeLimitEverySource(t *testing.T) {
	// Whatever the source, a config over the limit is refused before it
	// is read, with an error naming the limit.
	img := bigConfigImage(t)
	dir := t.TempDir()
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker.tar")
	if err := tarball.WriteToFile(docker, name.MustParseReference("example.com/big:1"), img); err != nil {
		t.Fatal(err)
	}
	reg := newRegistry(t, nil)
	pushImage(t, reg+"/big:1", img)
	for _, ref := range []string{"oci:" + filepath.Join(dir, "layout"), "docker-archive:" + docker, reg + "/big:1"} {
		_, err := Open(context.Background(), ref, testOptions(WithInsecure())...)
		checkErr(t, err, ref, ErrUnsupported, "image config size limit", fmt.Sprint(maxConfigSize))
	}
}

func TestManifestSizeLimitRegistry(t *testing.T) {
	// go-containerregistry reads registry manifests of up to 100 MiB; the
	// image is refused past maxManifestSize.
	cfg := &v1.ConfigFile{OS: "linux", Architecture: "amd64"}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.Annotations(img, map[string]string{"pad": strings.Repeat("p", maxManifestSize)}).(v1.Image)
	reg := newRegistry(t, nil)
	pushImage(t, reg+"/fat:1", img)
	_, err = Open(context.Background(), reg+"/fat:1", testOptions(WithInsecure())...)
	checkErr(t, err, reg+"/fat:1", ErrUnsupported, "manifest size limit")
}
