package report

import (
	"sort"
)

// Fleet summarises an audit of many images (a registry, or a list): what a
// security engineer reads first.
type Fleet struct {
	// ImagesFailing counts images that fail the gate: a finding at or above
	// the threshold, or an incomplete scan.
	ImagesFailing int `json:"imagesFailing"`
	// ImagesByCategory counts, per finding category, the images with at least
	// one unsuppressed finding of it ("how many images ship a shell").
	ImagesByCategory map[string]int `json:"imagesByCategory"`
	// WorstImages are the images with the most severe findings, worst first.
	WorstImages []ImageScore `json:"worstImages"`
	// OffendingLayers are the layers (by diffID) that brought findings into
	// the most images: usually shared base layers, where one fix helps many.
	OffendingLayers []LayerScore `json:"offendingLayers"`
	// Regressions are the images compared with a baseline (a registry's
	// newest tags with --baseline-tag, scan --baseline) that add
	// unsuppressed findings at or above the gate's FailOnNew, most first;
	// absent when none does.
	Regressions []Regression `json:"regressions,omitempty"`
}

// Regression is an image that adds findings over its baseline.
type Regression struct {
	Reference string `json:"reference"`
	// Baseline is what the image was compared with (its Diff.Baseline).
	Baseline string `json:"baseline"`
	// Added counts its unsuppressed added findings, FailingNew those at or
	// above the gate's FailOnNew (Image.Gate.FailingNew).
	Added      int `json:"added"`
	FailingNew int `json:"failingNew"`
}

// ImageScore counts one image's unsuppressed findings by severity.
type ImageScore struct {
	Reference string `json:"reference"`
	// AlsoKnownAs are the image's other tags and references (Image.AlsoKnownAs).
	AlsoKnownAs []string `json:"alsoKnownAs,omitempty"`
	Digest      string   `json:"digest,omitempty"`
	Critical    int      `json:"critical"`
	High        int      `json:"high"`
	Medium      int      `json:"medium"`
	Low         int      `json:"low"`
	Findings    int      `json:"findings"`
}

// LayerScore says how many images a layer brought findings into.
type LayerScore struct {
	DiffID     string   `json:"diffID"`
	CreatedBy  string   `json:"createdBy,omitempty"`
	Images     int      `json:"images"`
	Findings   int      `json:"findings"`
	Categories []string `json:"categories"`
}

// FleetTop is how many images and layers the fleet summary ranks.
const FleetTop = 10

// ComputeFleet sets r.Summary.Fleet from the images; top bounds the two
// ranked lists. An image fails the gate when its verdict (Image.Gate, set
// by policy.Evaluate) is not pass, or when it could not be scanned.
func (r *Report) ComputeFleet(top int) {
	f := &Fleet{ImagesByCategory: map[string]int{}, WorstImages: []ImageScore{}, OffendingLayers: []LayerScore{}}
	type layerAcc struct {
		score  LayerScore
		images map[string]bool
		cats   map[string]bool
	}
	byLayer := map[string]*layerAcc{}
	for _, img := range r.Images {
		if img.Error != "" || (img.Gate != nil && img.Gate.Verdict != Pass) {
			f.ImagesFailing++
		}
		cats := map[string]bool{}
		s := ImageScore{Reference: img.Reference, AlsoKnownAs: img.AlsoKnownAs, Digest: img.Digest}
		for _, fd := range img.Findings {
			if fd.Suppressed != nil {
				continue
			}
			cats[fd.Category] = true
			s.Findings++
			switch fd.Severity {
			case Critical:
				s.Critical++
			case High:
				s.High++
			case Medium:
				s.Medium++
			case Low:
				s.Low++
			}
			if fd.Layer == nil || fd.Layer.DiffID == "" {
				continue
			}
			acc := byLayer[fd.Layer.DiffID]
			if acc == nil {
				acc = &layerAcc{score: LayerScore{DiffID: fd.Layer.DiffID, CreatedBy: fd.Layer.CreatedBy}, images: map[string]bool{}, cats: map[string]bool{}}
				byLayer[fd.Layer.DiffID] = acc
			}
			acc.score.Findings++
			acc.images[img.Reference+"@"+img.Digest] = true
			acc.cats[fd.Category] = true
		}
		for c := range cats {
			f.ImagesByCategory[c]++
		}
		if s.Findings > 0 {
			f.WorstImages = append(f.WorstImages, s)
		}
		if img.Diff != nil && img.Gate != nil && img.Gate.FailingNew > 0 {
			reg := Regression{Reference: img.Reference, Baseline: img.Diff.Baseline, FailingNew: img.Gate.FailingNew}
			for _, fd := range img.Diff.Added {
				if fd.Suppressed == nil {
					reg.Added++
				}
			}
			f.Regressions = append(f.Regressions, reg)
		}
	}
	sort.Slice(f.Regressions, func(i, j int) bool {
		a, b := f.Regressions[i], f.Regressions[j]
		if a.FailingNew != b.FailingNew {
			return a.FailingNew > b.FailingNew
		}
		if a.Added != b.Added {
			return a.Added > b.Added
		}
		return a.Reference < b.Reference
	})
	sort.Slice(f.WorstImages, func(i, j int) bool {
		a, b := f.WorstImages[i], f.WorstImages[j]
		ka := [5]int{a.Critical, a.High, a.Medium, a.Low, a.Findings}
		kb := [5]int{b.Critical, b.High, b.Medium, b.Low, b.Findings}
		for k := range ka {
			if ka[k] != kb[k] {
				return ka[k] > kb[k]
			}
		}
		return a.Reference < b.Reference
	})
	if len(f.WorstImages) > top {
		f.WorstImages = f.WorstImages[:top]
	}
	for _, acc := range byLayer {
		acc.score.Images = len(acc.images)
		for c := range acc.cats {
			acc.score.Categories = append(acc.score.Categories, c)
		}
		sort.Strings(acc.score.Categories)
		f.OffendingLayers = append(f.OffendingLayers, acc.score)
	}
	sort.Slice(f.OffendingLayers, func(i, j int) bool {
		a, b := f.OffendingLayers[i], f.OffendingLayers[j]
		if a.Images != b.Images {
			return a.Images > b.Images
		}
		if a.Findings != b.Findings {
			return a.Findings > b.Findings
		}
		return a.DiffID < b.DiffID
	})
	if len(f.OffendingLayers) > top {
		f.OffendingLayers = f.OffendingLayers[:top]
	}
	r.Summary.Fleet = f
}
