package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/regcache"
)

// cacheOptions say where layer analyses are cached between runs.
type cacheOptions struct {
	dir     string
	noCache bool
	maxSize byteSize
	repo    string
	// shared is the registry cache open opened for --cache-repo.
	shared *regcache.Cache
}

const defaultCacheSize = 5 << 30

func (o *cacheOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.dir, "cache-dir", "", "`DIR` of the layer-analysis cache (default $IMGAUDIT_CACHE_DIR, else $XDG_CACHE_HOME/imgaudit or ~/.cache/imgaudit)")
	f.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the local layer-analysis cache (--cache-repo still applies)")
	o.maxSize = defaultCacheSize
	f.Var(&o.maxSize, "cache-size", "most bytes the cache may hold (e.g. 5GiB, 500MB); least recently used entries go first")
	f.StringVar(&o.repo, "cache-repo", "", "share layer analyses with other runs and machines as OCI artifacts in `REGISTRY/REPO`, behind the local cache (default $IMGAUDIT_CACHE_REPO); reached with the registry flags")
}

// resolveDir returns the cache directory, "" when none can be found.
func (o *cacheOptions) resolveDir(env Env) string {
	if o.dir != "" {
		return o.dir
	}
	if d := env.Getenv("IMGAUDIT_CACHE_DIR"); d != "" {
		return d
	}
	if d := env.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "imgaudit")
	}
	if h := env.Getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "imgaudit")
	}
	return ""
}

// open returns the cache: the local one (unless --no-cache), with the
// registry's behind it for --cache-repo, reached with fo; nil when there is
// none. The registry cache's first warnings of each kind go to warn.
func (o *cacheOptions) open(ctx context.Context, env Env, fo []fetch.Option, warn io.Writer) (layers.Cache, error) {
	local, err := o.openLocal(env)
	repo := o.repo
	if repo == "" {
		repo = env.Getenv("IMGAUDIT_CACHE_REPO")
	}
	if err != nil || repo == "" {
		return local, err
	}
	shared, err := regcache.Open(ctx, repo, regcache.Options{Fetch: fo, Warn: func(err error) {
		fmt.Fprintf(warn, "imgaudit: warning: %s\n", output.Escape(err.Error()))
	}})
	if err != nil {
		return nil, fmt.Errorf("--cache-repo: %w", err)
	}
	o.shared = shared
	return regcache.NewTiered(local, shared), nil
}

// skip names the registry cache's repository, which a registry audit
// leaves out; nil without --cache-repo.
func (o *cacheOptions) skip() []string {
	if o.shared == nil {
		return nil
	}
	return []string{o.shared.Repository()}
}

// finish says what the registry cache rejected or failed to do in the
// run, if anything, and closes it.
func (o *cacheOptions) finish(w io.Writer) {
	if o.shared == nil {
		return
	}
	if p := o.shared.Stats().Problems(); p != "" {
		fmt.Fprintf(w, "imgaudit: warning: cache repository %s: %s\n", output.Escape(o.shared.Repository()), p)
	}
	o.shared.Close()
	o.shared = nil
}

// openLocal returns the disk cache, or nil when it is off or has no home.
func (o *cacheOptions) openLocal(env Env) (layers.Cache, error) {
	if o.noCache {
		return nil, nil
	}
	dir := o.resolveDir(env)
	if dir == "" {
		return nil, nil
	}
	c, err := layers.NewDiskCache(dir, int64(o.maxSize))
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", dir, err)
	}
	return c, nil
}

func newCacheCommand(env Env) *cobra.Command {
	var co cacheOptions
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Show or clean the layer-analysis cache",
		Long: `imgaudit caches the analysis of each layer, keyed by the layer's diffID,
the analyzer version and the options that change the analysis, so a layer
shared by many images (or scanned again) is neither downloaded nor read twice.
Each image's package catalogue (SBOM) is cached next to its layers, keyed by
the image digest, the layers' keys and the syft and imgaudit versions, so a
re-scan runs no cataloguer either.`,
		Example: `  imgaudit cache info
  imgaudit cache clean --cache-dir /var/cache/imgaudit`,
		Args: cobra.NoArgs,
	}
	info := newCacheInfoCommand(env, &co)
	clean := newCacheCleanCommand(env, &co)
	for _, c := range []*cobra.Command{info, clean} {
		c.Flags().StringVar(&co.dir, "cache-dir", "", "`DIR` of the layer-analysis cache (default $IMGAUDIT_CACHE_DIR, else $XDG_CACHE_HOME/imgaudit or ~/.cache/imgaudit)")
	}
	cmd.AddCommand(info, clean)
	return cmd
}

// openExisting opens the cache the cache commands look at.
func (o *cacheOptions) openExisting(env Env) (string, *layers.DiskCache, error) {
	dir := o.resolveDir(env)
	if dir == "" {
		return "", nil, &exitError{code: ExitError, err: fmt.Errorf("no cache directory: set --cache-dir, IMGAUDIT_CACHE_DIR or HOME")}
	}
	c, err := layers.NewDiskCache(dir, 0)
	if err != nil {
		return "", nil, &exitError{code: ExitError, err: err}
	}
	return dir, c, nil
}

func newCacheInfoCommand(env Env, co *cacheOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "info",
		Short: "Print the cache directory, its entries and size",
		Example: `  imgaudit cache info
  imgaudit cache info --cache-dir /var/cache/imgaudit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, c, err := co.openExisting(env)
			if err != nil {
				return err
			}
			n, size, err := c.Stats()
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "directory: %s\nentries:   %d\nsize:      %s\n", dir, n, output.HumanBytes(size))
			return nil
		},
	}
}

func newCacheCleanCommand(env Env, co *cacheOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "clean",
		Short:   "Remove every cached layer analysis",
		Example: `  imgaudit cache clean`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, c, err := co.openExisting(env)
			if err != nil {
				return err
			}
			n, err := c.Clean()
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed %d entries from %s\n", n, dir)
			return nil
		},
	}
}
