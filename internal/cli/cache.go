package cli

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/layers"
	"github.com/imgaudit/imgaudit/pkg/output"
)

// cacheOptions say where layer analyses are cached between runs.
type cacheOptions struct {
	dir     string
	noCache bool
	maxSize byteSize
}

const defaultCacheSize = 5 << 30

func (o *cacheOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.dir, "cache-dir", "", "`DIR` of the layer-analysis cache (default $IMGAUDIT_CACHE_DIR, else $XDG_CACHE_HOME/imgaudit or ~/.cache/imgaudit)")
	f.BoolVar(&o.noCache, "no-cache", false, "neither read nor write the layer-analysis cache")
	o.maxSize = defaultCacheSize
	f.Var(&o.maxSize, "cache-size", "most bytes the cache may hold (e.g. 5GiB, 500MB); least recently used entries go first")
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

// open returns the cache, or nil when caching is off or has no home.
func (o *cacheOptions) open(env Env) (layers.Cache, error) {
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
