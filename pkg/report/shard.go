package report

// Shard names the part of a sharded audit a report covers (imgaudit
// registry or scan --shard I/N): the repositories whose stable hash picks
// Index among Count shards. A shard's jsonl report starts with a line
// holding only its Shard and repeats it in its summary line, so that
// imgaudit merge can tell a complete shard from a missing or cut one.
// Absent from an unsharded report and from a merged one.
type Shard struct {
	// Index is the shard's number, 0 ≤ Index < Count.
	Index int `json:"index"`
	// Count is the number of shards the audit was split into.
	Count int `json:"count"`
	// Target is what was partitioned, the same in every shard of one
	// audit: the registry and the selection flags, or the digest of the
	// reference list.
	Target string `json:"target"`
	// Errors are the shard's audit errors, one line each (the errors that
	// made the shard exit 2); absent when there were none, and always
	// absent from the first line, written before the audit.
	Errors []string `json:"errors,omitempty"`
}

// TallyGate sets g's counts and verdict from the images' verdicts
// (Image.Gate, as policy.EvaluateGate wrote them): Failing, FailingNew and
// Incomplete are summed over the images, and the verdict is incomplete
// when an image is, else fail when a finding fails, else pass. It decides
// nothing about an image; a workload run is tallied on its workloads by
// pkg/policy instead.
func (r *Report) TallyGate(g *Gate) {
	g.Failing, g.FailingNew, g.Incomplete = 0, 0, 0
	for _, img := range r.Images {
		if img.Gate == nil {
			continue
		}
		g.Failing += img.Gate.Failing
		g.FailingNew += img.Gate.FailingNew
		if img.Gate.Verdict == Incomplete {
			g.Incomplete++
		}
	}
	g.SetVerdict()
}

// SetVerdict sets Failed and Verdict from the gate's counts.
func (g *Gate) SetVerdict() {
	g.Failed = g.Failing > 0 || g.FailingNew > 0
	switch {
	case g.Incomplete > 0:
		g.Verdict = Incomplete
	case g.Failed:
		g.Verdict = Fail
	default:
		g.Verdict = Pass
	}
}
