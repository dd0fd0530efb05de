package runtimediff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/pkg/archive"
	"github.com/containerd/log"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

// quiet returns ctx with a logger that drops containerd's warnings
// ("ignored xattr …"): the harness reads what the applier did, not what it
// said.
func quiet(ctx context.Context) context.Context {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return log.WithLogger(ctx, logrus.NewEntry(l))
}

// ApplyNative applies the layer tars (uncompressed, base first) in order into
// dir, an empty directory, with archive.Apply's defaults: what containerd's
// native snapshotter ships. An error means containerd refuses the stack.
func ApplyNative(ctx context.Context, dir string, tars [][]byte) error {
	ctx = quiet(ctx)
	for i, b := range tars {
		if _, err := archive.Apply(ctx, dir, bytes.NewReader(b)); err != nil {
			return fmt.Errorf("native: layer %d: %w", i, err)
		}
	}
	return nil
}

// ApplyOverlay applies each layer tar into a directory of its own under dir
// (dir/l0, dir/l1, …) the way containerd's overlay snapshotter and diff
// applier do, and returns those directories, base first.
//
// The base layer has no parent: the snapshotter hands it out as a bind
// mount, so it is applied with archive.Apply's defaults. Every later layer is
// an active snapshot over an overlay mount, which the diff applier
// (core/diff/apply, apply_linux.go) unpacks straight into the upper directory
// with archive.OverlayConvertWhiteout (whiteouts become 0/0 character
// devices, opaque markers the trusted.overlay.opaque xattr) and the lower
// directories, topmost first, as parents (implied parent directories copy
// their metadata from there). An error means containerd refuses the stack.
func ApplyOverlay(ctx context.Context, dir string, tars [][]byte) ([]string, error) {
	ctx = quiet(ctx)
	var lowers []string
	for i, b := range tars {
		d := filepath.Join(dir, fmt.Sprintf("l%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
		var opts []archive.ApplyOpt
		if i > 0 {
			parents := slices.Clone(lowers)
			slices.Reverse(parents)
			opts = append(opts, archive.WithConvertWhiteout(archive.OverlayConvertWhiteout), archive.WithParents(parents))
		}
		if _, err := archive.Apply(ctx, d, bytes.NewReader(b), opts...); err != nil {
			return nil, fmt.Errorf("overlay: layer %d: %w", i, err)
		}
		lowers = append(lowers, d)
	}
	return lowers, nil
}

// MountOverlay mounts the layer directories (base first) read-only as the
// container's root would be: lowerdir=Ln:…:L1 over an empty upper directory
// (dir/upper, dir/work), with index=off where the kernel has the option, as
// the overlay snapshotter mounts it. The merged view is dir/merged; unmount
// may be called more than once.
func MountOverlay(dir string, lowers []string) (merged string, unmount func() error, err error) {
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	merged = filepath.Join(dir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return "", nil, err
		}
	}
	rev := slices.Clone(lowers)
	slices.Reverse(rev)
	for _, d := range append(rev, upper, work) {
		if strings.ContainsAny(d, ",:\\") {
			return "", nil, fmt.Errorf("overlay: directory %q has a character mount options cannot carry", d)
		}
	}
	opts := "lowerdir=" + strings.Join(rev, ":") + ",upperdir=" + upper + ",workdir=" + work
	if _, err := os.Stat("/sys/module/overlay/parameters/index"); err == nil {
		opts += ",index=off"
	}
	if err := unix.Mount("overlay", merged, "overlay", unix.MS_RDONLY, opts); err != nil {
		return "", nil, fmt.Errorf("mounting overlay: %w", err)
	}
	mounted := true
	unmount = func() error {
		if !mounted {
			return nil
		}
		if err := unix.Unmount(merged, 0); err != nil {
			return fmt.Errorf("unmounting overlay: %w", err)
		}
		mounted = false
		return nil
	}
	return merged, unmount, nil
}

// Probe reports why the harness cannot run here (not root, no overlayfs),
// nil when it can. It mounts and unmounts a two-layer overlay under dir.
func Probe(dir string) error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	var lowers []string
	for _, n := range []string{"p0", "p1"} {
		d := filepath.Join(dir, n)
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		lowers = append(lowers, d)
	}
	_, unmount, err := MountOverlay(dir, lowers)
	if err != nil {
		return err
	}
	return unmount()
}

// Audit computes the audit's final filesystem for the layer tars: one
// layers.IndexStream per layer, then layers.Squash.
func Audit(ctx context.Context, tars [][]byte) (Tree, error) {
	idx := make([]*layers.LayerIndex, len(tars))
	for i, b := range tars {
		var err error
		if idx[i], err = layers.IndexStream(ctx, bytes.NewReader(b), layers.Options{}); err != nil {
			return nil, fmt.Errorf("audit: layer %d: %w", i, err)
		}
	}
	fsys, err := layers.Squash(idx, nil)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return FromFS(fsys)
}
