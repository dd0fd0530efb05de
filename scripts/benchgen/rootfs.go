package main

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
)

// splitRootfs writes the root filesystem tar at file as layers: the base
// layer (whatever no group of split takes), then one per group of split.
// Each entry is copied as it is (header and bytes) into its layer's tar
// stream, in order; a hard link follows its target. The layers are
// compressed at once, one goroutine each.
func splitRootfs(blobs, file, split string) ([]desc, []string, error) {
	var groups [][]string
	for _, g := range strings.Split(split, ",") {
		var ps []string
		for _, p := range strings.Split(g, ":") {
			if p = strings.Trim(path.Clean("/"+p), "/"); p != "" {
				ps = append(ps, p)
			}
		}
		groups = append(groups, ps)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()

	n := len(groups) + 1
	tws := make([]*tar.Writer, n)
	pws := make([]*io.PipeWriter, n)
	descs, diffIDs, errs := make([]desc, n), make([]string, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		pr, pw := io.Pipe()
		pws[i], tws[i] = pw, tar.NewWriter(pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			descs[i], diffIDs[i], errs[i] = writeTarLayer(blobs, func(w io.Writer) error {
				_, err := io.Copy(w, pr)
				return err
			})
			pr.CloseWithError(errs[i]) // unblock the writer if this failed
		}()
	}
	layerOf := func(name string) int {
		p := strings.Trim(path.Clean("/"+name), "/")
		for i, g := range groups {
			for _, pre := range g {
				if p == pre || strings.HasPrefix(p, pre+"/") {
					return i + 1
				}
			}
		}
		return 0
	}
	where := map[string]int{}
	tr := tar.NewReader(f)
	err = func() error {
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
			i := layerOf(h.Name)
			if h.Typeflag == tar.TypeLink {
				if j, ok := where[path.Clean("/"+h.Linkname)]; ok {
					i = j
				}
			}
			where[path.Clean("/"+h.Name)] = i
			if err := tws[i].WriteHeader(h); err != nil {
				return err
			}
			if _, err := io.Copy(tws[i], tr); err != nil {
				return err
			}
		}
	}()
	for i := range n {
		if cerr := tws[i].Close(); err == nil {
			err = cerr
		}
		pws[i].CloseWithError(err)
	}
	wg.Wait()
	if err != nil {
		return nil, nil, err
	}
	for _, e := range errs {
		if e != nil {
			return nil, nil, e
		}
	}
	return descs, diffIDs, nil
}
