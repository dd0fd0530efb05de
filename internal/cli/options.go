package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/audit"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// fetchOptions are the flags that say how to reach images.
type fetchOptions struct {
	platform      string
	allPlatforms  bool
	username      string
	passwordStdin bool
	insecure      bool
	caFile        string
	timeout       time.Duration
	retries       int
}

func (o *fetchOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.platform, "platform", "", "platform to scan from a multi-platform image, os/arch[/variant] (default linux/amd64 when present)")
	f.BoolVar(&o.allPlatforms, "all-platforms", false, "scan every platform of a multi-platform image")
	f.StringVarP(&o.username, "username", "u", "", "registry user name (or IMGAUDIT_USERNAME); default: the Docker keychain")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the registry password from standard input (or set IMGAUDIT_PASSWORD)")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain HTTP and unverified TLS registries")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of a CA to trust for registry TLS")
	f.DurationVar(&o.timeout, "timeout", fetch.DefaultTimeout, "timeout for connecting to, and for each stall while hearing from, a registry")
	f.IntVar(&o.retries, "retries", fetch.DefaultRetries, "retries on 429/5xx and network errors")
}

func (o *fetchOptions) toFetch(cmd *cobra.Command, env Env) ([]fetch.Option, error) {
	if o.platform != "" && o.allPlatforms {
		return nil, fmt.Errorf("--platform and --all-platforms cannot be used together")
	}
	var opts []fetch.Option
	opts = append(opts, fetch.WithVersion(env.Version.String()))
	if o.platform != "" {
		opts = append(opts, fetch.WithPlatform(o.platform))
	}
	if o.allPlatforms {
		opts = append(opts, fetch.WithAllPlatforms())
	}
	user := o.username
	if user == "" {
		user = env.Getenv("IMGAUDIT_USERNAME")
	}
	pass := env.Getenv("IMGAUDIT_PASSWORD")
	if o.passwordStdin {
		if user == "" {
			return nil, fmt.Errorf("--password-stdin needs --username")
		}
		b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<10))
		if err != nil {
			return nil, fmt.Errorf("reading password from stdin: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	}
	if user != "" {
		if pass == "" {
			return nil, fmt.Errorf("a registry user name was given but no password (use --password-stdin or IMGAUDIT_PASSWORD)")
		}
		opts = append(opts, fetch.WithCredentials(user, pass))
	}
	if o.insecure {
		opts = append(opts, fetch.WithInsecure())
	}
	if o.caFile != "" {
		opts = append(opts, fetch.WithCAFile(o.caFile))
	}
	if o.timeout > 0 {
		opts = append(opts, fetch.WithTimeout(o.timeout))
	}
	if o.retries < 0 {
		return nil, fmt.Errorf("--retries %d: want 0 or more", o.retries)
	}
	opts = append(opts, fetch.WithRetries(o.retries))
	return opts, nil
}

// limitOptions bound what one image may make imgaudit do.
type limitOptions struct {
	maxEntries       int
	maxLayerSize     byteSize
	maxPathLen       int
	maxLayers        int
	concurrency      int
	layerConcurrency int
	decompressor     string
}

func (o *limitOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	d := layers.DefaultLimits()
	f.IntVar(&o.maxEntries, "max-entries", d.MaxEntries, "most tar entries one layer may hold")
	o.maxLayerSize = byteSize(d.MaxLayerBytes)
	f.Var(&o.maxLayerSize, "max-layer-size", "most decompressed bytes one layer may hold (e.g. 64GiB, 500MB)")
	f.IntVar(&o.maxPathLen, "max-path-length", d.MaxPathLen, "most bytes in one entry name or link target")
	f.IntVar(&o.maxLayers, "max-layers", d.MaxLayers, "most layers one image may have")
	f.IntVar(&o.concurrency, "concurrency", audit.DefaultConcurrency, "images audited at once")
	f.IntVar(&o.layerConcurrency, "layer-concurrency", 0, "layers of one image read at once (0: the number of CPUs, for all the images audited at once together)")
	f.StringVar(&o.decompressor, "decompressor", "go", "gzip inflater: go (memory-safe), igzip or pigz (a C program\nparsing the layer's bytes, faster), auto (igzip, pigz, go)")
}

func (o *limitOptions) limits() layers.Limits {
	return layers.Limits{MaxLayers: o.maxLayers, MaxEntries: o.maxEntries, MaxLayerBytes: int64(o.maxLayerSize), MaxPathLen: o.maxPathLen}
}
