package checks

import "strings"

// layerList is the layers view: a description of every layer, created_by
// redacted.
type layerList []*LayerRef

// layersOf returns the layers view of img.
func layersOf(img *Image) layerList {
	return view(img, viewLayers, func(img *Image) layerList {
		var refs layerList
		for _, l := range filesOf(img).Layers() {
			r := &LayerRef{Index: l.Index, CreatedBy: redactText(l.CreatedBy), HistoryIndex: l.HistoryIndex}
			if l.Digest.Hex != "" {
				r.Digest = l.Digest.String()
			}
			if l.DiffID.Hex != "" {
				r.DiffID = l.DiffID.String()
			}
			refs = append(refs, r)
		}
		return refs
	})
}

// layerRef returns a copy of the description of layer i of img, nil when
// there is no such layer.
func layerRef(img *Image, i int) *LayerRef {
	refs := layersOf(img)
	if i < 0 || i >= len(refs) {
		return nil
	}
	r := *refs[i]
	return &r
}

// historyRef describes history step h: its layer when it made one, else a
// reference with Index -1.
func historyRef(img *Image, h int) *LayerRef {
	for _, r := range layersOf(img) {
		if r.HistoryIndex == h {
			c := *r
			return &c
		}
	}
	hist := historyOf(img)
	if h < 0 || h >= len(hist) {
		return nil
	}
	return &LayerRef{Index: -1, CreatedBy: redactText(hist[h].CreatedBy), HistoryIndex: h}
}

// instruction splits a history created_by into its Dockerfile instruction
// (upper case) and arguments. Both the classic builder's
// "/bin/sh -c #(nop)  ENV A=b" and BuildKit's "ENV A=b" are understood; a
// RUN step of the classic builder ("/bin/sh -c apt-get ...") is "RUN".
func instruction(createdBy string) (instr, args string) {
	s := strings.TrimSpace(createdBy)
	if rest, ok := strings.CutPrefix(s, "/bin/sh -c "); ok {
		rest = strings.TrimSpace(rest)
		if nop, ok := strings.CutPrefix(rest, "#(nop)"); ok {
			s = strings.TrimSpace(nop)
		} else {
			return "RUN", rest
		}
	}
	if strings.HasPrefix(s, "|") { // classic builder RUN with build arguments: "|1 A=b /bin/sh -c ..."
		return "RUN", s
	}
	word, rest, _ := strings.Cut(s, " ")
	return strings.ToUpper(word), strings.TrimSpace(rest)
}

// lastStep returns the index of the last history step of img with the
// given instruction whose arguments satisfy match, or -1.
func lastStep(img *Image, instr string, match func(args string) bool) int {
	hist := historyOf(img)
	for i := len(hist) - 1; i >= 0; i-- {
		in, args := instruction(hist[i].CreatedBy)
		if in == instr && (match == nil || match(args)) {
			return i
		}
	}
	return -1
}

// userStep returns the reference of the last USER history step, nil when
// there is none.
func userStep(img *Image) *LayerRef {
	if i := lastStep(img, "USER", nil); i >= 0 {
		return historyRef(img, i)
	}
	return nil
}
