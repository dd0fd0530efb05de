package report

// Diff is an image compared with a baseline (an earlier version of the
// image, or an earlier report): what its findings and facts gained and
// lost. Findings are matched by identity, never by digest or layer (see
// pkg/diff): a rebuild that changes nothing adds nothing.
type Diff struct {
	// Baseline is the reference (or report file) the image was compared
	// with; BaselineDigest its manifest digest when known.
	Baseline       string `json:"baseline"`
	BaselineDigest string `json:"baselineDigest,omitempty"`
	// Added are the findings the baseline did not have, Removed those it had
	// and the image no longer has, each as in Image.Findings (Removed carry
	// the baseline's evidence). A policy ignore marks them Suppressed as
	// elsewhere; suppressed findings are classified all the same.
	Added   []Finding `json:"added"`
	Removed []Finding `json:"removed"`
	// Unchanged counts the findings both sides have.
	Unchanged int `json:"unchanged"`
	// User and Base are set when the user the container runs as, or the
	// base (kind and distribution), changed.
	User *Change `json:"user,omitempty"`
	Base *Change `json:"base,omitempty"`
	// Packages is set when the package count changed (both sides
	// catalogued); Size when the uncompressed size changed.
	Packages *CountChange `json:"packages,omitempty"`
	Size     *CountChange `json:"size,omitempty"`
	// LayersAdded and LayersRemoved are the layers (by diffID) only one
	// side has; a layer both have at other positions is neither.
	LayersAdded   []Layer `json:"layersAdded,omitempty"`
	LayersRemoved []Layer `json:"layersRemoved,omitempty"`
}

// Change is a fact that differs between the baseline (Old) and the image
// (New).
type Change struct {
	Old string `json:"old"`
	New string `json:"new"`
}

// CountChange is a number that differs between the baseline and the image.
type CountChange struct {
	Old int64 `json:"old"`
	New int64 `json:"new"`
}
