package selfimage_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"

	"github.com/imgaudit/imgaudit/internal/e2e"
	"github.com/imgaudit/imgaudit/internal/selfimage"
	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// TestDogfood builds the real imgaudit binary (static, for linux), builds
// imgaudit's image from it, and audits that image with imgaudit's own
// library: it must have no finding at medium or above, no shell and no
// package manager, and a user that is provably not root.
func TestDogfood(t *testing.T) {
	if testing.Short() || !e2e.Required() {
		// A static release build shares no compiled package with the test
		// binaries (CGO_ENABLED=0, -trimpath): minutes on a cold cache.
		t.Skip("builds the release binary from scratch (minutes cold): runs with CI=true or IMGAUDIT_E2E=1, not with -short")
	}
	// go test puts its own toolchain first on PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build imgaudit with")
	}
	// A cold build that links syft takes minutes on 2 cores; stay under go
	// test's default 10-minute limit.
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()

	dir := t.TempDir()
	binPath := filepath.Join(dir, "imgaudit")
	build := exec.CommandContext(ctx, goTool, "build", "-trimpath",
		"-ldflags", "-s -w -X main.version=dogfood -X main.commit=0000000",
		"-o", binPath, "./cmd/imgaudit")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	platform, err := selfimage.PlatformOf(bin)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(selfimage.CABundlePath)
	if err != nil {
		ca = testCA(t) // the build machine has no CA bundle; the image layout is the same
	}
	img, err := selfimage.Build(bin, platform, selfimage.WithCACertificates(ca), selfimage.WithVersion("dogfood", "0000000"))
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "image")
	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}

	rep, err := audit.Run(ctx, []string{"oci:" + layoutDir}, audit.DefaultOptions())
	if err != nil {
		t.Fatalf("audit: %v", err)
	}
	if len(rep.Images) != 1 {
		t.Fatalf("%d images in the report, want 1", len(rep.Images))
	}
	ri := rep.Images[0]
	if ri.Error != "" {
		t.Fatalf("image error: %s", ri.Error)
	}
	for _, f := range ri.Findings {
		if f.Severity >= report.Medium {
			t.Errorf("finding at %s: %s %s %s (%s)", f.Severity, f.ID, f.Path, f.Title, f.Detail)
		} else {
			t.Logf("accepted %s finding: %s %s", f.Severity, f.ID, f.Title)
		}
	}
	if !ri.Base.Distroless {
		t.Errorf("base %+v: not distroless (a shell or a package manager is reachable)", ri.Base)
	}
	if ri.User.Root || !ri.User.Verifiable || ri.User.UID == nil || *ri.User.UID != 65532 {
		t.Errorf("user %+v: want verifiable uid 65532", ri.User)
	}
	if got := ri.Platform; got != platform.String() {
		t.Errorf("platform %q, want %s", got, platform)
	}
	for _, l := range ri.Layers {
		if !strings.HasPrefix(l.CreatedBy, "selfimage: ") {
			t.Errorf("layer %d created by %q", l.Index, l.CreatedBy)
		}
	}
}
