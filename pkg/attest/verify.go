package attest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	ita1 "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Reasons an attestation is not valid. Verify's error wraps one of them,
// or ErrRequirement when a valid attestation's verdict does not meet the
// requirement.
var (
	ErrNoAttestation = errors.New("no imgaudit attestation")
	ErrOtherDigest   = errors.New("attestation for another digest")
	ErrExpired       = errors.New("attestation too old")
	ErrNotImgaudit   = errors.New("not an imgaudit verdict")
	ErrRequirement   = errors.New("verdict does not meet the requirement")
)

// Requirement is the least result Verify accepts.
type Requirement string

// Requirements.
const (
	RequirePassed Requirement = "passed" // PASSED only
	RequireWarned Requirement = "warned" // PASSED or WARNED
)

// ParseRequirement parses "passed" or "warned".
func ParseRequirement(s string) (Requirement, error) {
	switch r := Requirement(strings.ToLower(s)); r {
	case RequirePassed, RequireWarned:
		return r, nil
	}
	return "", fmt.Errorf("unknown requirement %q (want passed or warned)", s)
}

// Accepts reports whether result meets r.
func (r Requirement) Accepts(result string) bool {
	return result == Passed || (r == RequireWarned && result == Warned)
}

// VerifyOptions are the checks Verify makes besides the signature.
type VerifyOptions struct {
	// Digest is the image's manifest digest ("sha256:…"): the statement's
	// subject must name it.
	Digest string
	// MaxAge, when positive, rejects a verdict audited longer ago than
	// that, as of Now.
	MaxAge time.Duration
	Now    time.Time
	// Require is the least result accepted (default RequirePassed).
	Require Requirement
}

// Verify checks the test-result envelopes found next to an image with
// the public key v and returns the newest valid verdict. A verdict is
// valid when its envelope verifies, its statement is imgaudit's test
// result for o.Digest and it is not older than o.MaxAge. The error says
// why none is valid (wrapping ErrNoAttestation when nothing was found,
// else ErrBadSignature, ErrOtherDigest, ErrNotImgaudit or ErrExpired: the
// reason of the candidate that came closest), or wraps ErrRequirement
// with the valid verdict returned when its result does not meet
// o.Require.
func Verify(ctx context.Context, found []Found, v signature.Verifier, o VerifyOptions) (Verdict, error) {
	if o.Require == "" {
		o.Require = RequirePassed
	}
	var (
		best     Verdict
		ok       bool
		failure  error
		rank     = -1
		seen     = map[[32]byte]bool{}
		distinct int
	)
	for _, f := range found {
		if f.PredicateType != PredicateTestResult {
			continue
		}
		key := sha256.Sum256(f.Envelope)
		if seen[key] {
			continue // the same envelope as a tag layer and as a referrer
		}
		seen[key] = true
		distinct++
		vd, r, err := check(ctx, f, v, o)
		if err != nil {
			if r > rank {
				rank, failure = r, fmt.Errorf("%s: %w", f.Where, err)
			}
			continue
		}
		if !ok || vd.Time.After(best.Time) {
			best, ok = vd, true
		}
	}
	switch {
	case ok && !o.Require.Accepts(best.Result):
		return best, fmt.Errorf("%w: %s%s, --require %s", ErrRequirement, best.Result, which(best), o.Require)
	case ok:
		return best, nil
	case distinct == 0:
		return Verdict{}, ErrNoAttestation
	}
	if distinct > 1 {
		failure = fmt.Errorf("none of %d attestations is valid; closest: %w", distinct, failure)
	}
	return Verdict{}, failure
}

// check validates one envelope; rank says how far it got (0 bad
// signature, 1 not imgaudit's, 2 another digest, 3 expired).
func check(ctx context.Context, f Found, v signature.Verifier, o VerifyOptions) (Verdict, int, error) {
	payload, err := Open(ctx, f.Envelope, v)
	if err != nil {
		return Verdict{}, 0, err
	}
	st, err := ParseStatement(payload)
	if err != nil {
		return Verdict{}, 1, fmt.Errorf("%w: %w", ErrNotImgaudit, err)
	}
	vd, err := ParseVerdict(st)
	if err != nil {
		return Verdict{}, 1, fmt.Errorf("%w: %w", ErrNotImgaudit, err)
	}
	if len(st.GetSubject()) != 1 || vd.Digest != o.Digest {
		return Verdict{}, 2, fmt.Errorf("%w: the statement's subject is %s, the image is %s", ErrOtherDigest, subjectDigests(st.GetSubject()), o.Digest)
	}
	if o.MaxAge > 0 && o.Now.Sub(vd.Time) > o.MaxAge {
		return Verdict{}, 3, fmt.Errorf("%w: audited %s, more than --max-age %s ago", ErrExpired, vd.Time.Format(time.RFC3339), o.MaxAge)
	}
	return vd, 4, nil
}

func subjectDigests(rds []*ita1.ResourceDescriptor) string {
	var out []string
	for _, rd := range rds {
		for alg, hex := range rd.GetDigest() {
			out = append(out, alg+":"+hex)
		}
	}
	if len(out) == 0 {
		return "no digest"
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// ParseMaxAge parses a Go duration ("36h") or a number of days ("7d").
func ParseMaxAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("malformed age %q (want e.g. 7d or 36h)", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("malformed age %q (want e.g. 7d or 36h)", s)
	}
	return d, nil
}

// which names the checks behind a WARNED or FAILED result, at most five.
func which(v Verdict) string {
	ids, word := v.FailedTests, "failed"
	if v.Result == Warned {
		ids, word = v.WarnedTests, "warned"
	}
	if len(ids) == 0 {
		return ""
	}
	more := ""
	if len(ids) > 5 {
		ids, more = ids[:5], fmt.Sprintf(" and %d more", len(ids)-5)
	}
	return " (" + word + ": " + strings.Join(ids, ", ") + more + ")"
}
