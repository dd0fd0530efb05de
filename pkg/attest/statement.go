// Package attest turns imgaudit's verdict on an image into signed in-toto
// attestations, attaches them to the image in its registry where cosign,
// Kyverno, the sigstore policy-controller and OCI 1.1 clients find them,
// and verifies them.
//
// The verdict is never decided here: [NewVerdict] reads the gate that
// policy.Evaluate wrote into the report (report.Image.Gate) and only names
// the checks. A statement is signed as a DSSE envelope ([Sign]) with a
// cosign key pair or a PKCS#8 key ([LoadPrivateKey]); [Attach] pushes
// envelopes as cosign's "sha256-HEX.att" tag and as OCI 1.1 referrers;
// [VerifyImage] finds, checks and reads them back.
package attest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	testresult "github.com/in-toto/attestation/go/predicates/test_result/v0"
	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/imgaudit/imgaudit/pkg/checks"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

// Predicate types, payload type and media types.
const (
	// PredicateTestResult is the in-toto test-result predicate: the
	// verdict and the check IDs that passed, warned and failed.
	PredicateTestResult = "https://in-toto.io/attestation/test-result/v0.1"
	// PredicateReport carries imgaudit's whole JSON report of the image
	// (schema version 1, docs/schema) as the predicate.
	PredicateReport = "https://github.com/imgaudit/imgaudit/attestation/report/v1"
	// PayloadType is the DSSE payload type of an in-toto statement.
	PayloadType = "application/vnd.in-toto+json"
	// EnvelopeMediaType is the media type of a DSSE envelope: the layers
	// of cosign's attestation image and the artifact type of imgaudit's
	// OCI 1.1 referrers.
	EnvelopeMediaType = "application/vnd.dsse.envelope.v1+json"
)

// Results of the test-result predicate.
const (
	Passed = "PASSED" // the gate passed and no finding is left unsuppressed
	Warned = "WARNED" // the gate passed with unsuppressed findings below its threshold
	Failed = "FAILED" // the gate failed
)

// ToolURI names imgaudit in a statement's configuration.
const ToolURI = "https://github.com/imgaudit/imgaudit"

// ErrIncomplete is returned by NewVerdict for an image that could not be
// audited completely: there is no verdict to attest.
var ErrIncomplete = errors.New("the image could not be audited completely: nothing to attest")

// Input is what a verdict is built from.
type Input struct {
	// Image is the audited image, already evaluated by policy.Evaluate
	// (its Gate is set). Its Digest is the statement's subject.
	Image report.Image
	// FailOn is the gate's threshold; findings at or above it are the
	// failed tests, the other unsuppressed ones the warned tests.
	FailOn policy.Threshold
	// Profile is the gate's profile, when it has one: its checks' findings
	// fail too, whatever FailOn says.
	Profile policy.Profile
	// Policy is the policy file the gate applied (nil: none). Its name
	// and the SHA-256 of PolicyData go into the configuration.
	Policy     *policy.Policy
	PolicyData []byte
	// ToolVersion is imgaudit's version; Time is when the audit ran.
	ToolVersion string
	Time        time.Time
}

// Verdict is what a test-result statement says about one image.
type Verdict struct {
	// Subject is the image's repository, Digest its manifest digest
	// ("sha256:…").
	Subject, Digest string
	// Result is Passed, Warned or Failed.
	Result string
	// PassedTests, WarnedTests and FailedTests are check IDs.
	PassedTests, WarnedTests, FailedTests []string
	// FailOn is the gate's threshold, Profile its profile ("" for none),
	// ToolVersion imgaudit's version, Time when the audit ran.
	FailOn, Profile, ToolVersion string
	Time                         time.Time
	// PolicyName and PolicyDigest ("sha256:…") name the policy file; empty
	// without one.
	PolicyName, PolicyDigest string
}

// NewVerdict reads the verdict the gate wrote into in.Image and names the
// checks: failed are the checks with an unsuppressed finding at or above
// in.FailOn, warned those with only lower unsuppressed findings, passed
// every other check that ran (the catalogue less what the policy
// disables).
func NewVerdict(in Input) (Verdict, error) {
	img := in.Image
	if img.Gate == nil {
		return Verdict{}, errors.New("the image has no verdict (the report was not evaluated)")
	}
	if img.Gate.Verdict == report.Incomplete || img.Error != "" {
		return Verdict{}, ErrIncomplete
	}
	if !strings.HasPrefix(img.Digest, "sha256:") {
		return Verdict{}, fmt.Errorf("the image has no sha256 manifest digest (%q)", img.Digest)
	}
	v := Verdict{
		Subject: subjectName(img), Digest: img.Digest, FailOn: in.FailOn.String(), Profile: in.Profile.Name,
		ToolVersion: in.ToolVersion, Time: in.Time.UTC().Truncate(time.Second),
	}
	failed, warned := map[string]bool{}, map[string]bool{}
	for _, f := range img.Findings {
		switch {
		case f.Suppressed != nil:
		case policy.Gate{FailOn: in.FailOn, Profile: in.Profile}.Fails(f):
			failed[f.ID] = true
		default:
			warned[f.ID] = true
		}
	}
	for _, m := range checks.Metas(checks.All()) {
		switch {
		case failed[m.ID]:
			v.FailedTests = append(v.FailedTests, m.ID)
		case warned[m.ID]:
			v.WarnedTests = append(v.WarnedTests, m.ID)
		case !disabled(in.Policy, m.ID, string(m.Category)):
			v.PassedTests = append(v.PassedTests, m.ID)
		}
	}
	v.FailedTests = addUnknown(v.FailedTests, failed)
	v.WarnedTests = addUnknown(v.WarnedTests, warned)
	switch {
	case img.Gate.Verdict == report.Fail:
		v.Result = Failed
	case len(v.WarnedTests) > 0 || len(v.FailedTests) > 0:
		v.Result = Warned
	default:
		v.Result = Passed
	}
	if in.Policy != nil {
		v.PolicyName = in.Policy.File
		v.PolicyDigest = sha256Digest(in.PolicyData)
	}
	return v, nil
}

// addUnknown appends the IDs of set that are not in the catalogue
// (findings of checks this build does not know), sorted.
func addUnknown(ids []string, set map[string]bool) []string {
	var extra []string
	for id := range set {
		if !slices.Contains(ids, id) {
			extra = append(extra, id)
		}
	}
	slices.Sort(extra)
	return append(ids, extra...)
}

func disabled(p *policy.Policy, id, category string) bool {
	if p == nil {
		return false
	}
	eq := func(s string) func(string) bool { return func(x string) bool { return strings.EqualFold(x, s) } }
	return slices.ContainsFunc(p.DisabledChecks, eq(id)) || slices.ContainsFunc(p.DisabledCategories, eq(category))
}

// subjectName is the image's repository, without tag or digest.
func subjectName(img report.Image) string {
	ref := img.Reference
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// Annotations of the imgaudit entry of a test-result's configuration.
const (
	annotationTime    = "auditedAt"
	annotationFailOn  = "failOn"
	annotationProfile = "profile"
	annotationVersion = "version"
)

// Statement returns the in-toto Statement v1 of v, as JSON.
func (v Verdict) Statement() ([]byte, error) {
	ann := map[string]any{
		annotationVersion: v.ToolVersion,
		annotationFailOn:  v.FailOn,
		annotationTime:    v.Time.UTC().Format(time.RFC3339),
	}
	if v.Profile != "" {
		ann[annotationProfile] = v.Profile
	}
	tool, err := structpb.NewStruct(ann)
	if err != nil {
		return nil, err
	}
	conf := []*ita1.ResourceDescriptor{{Name: "imgaudit", Uri: ToolURI, Annotations: tool}}
	if v.PolicyDigest != "" {
		alg, hex, _ := strings.Cut(v.PolicyDigest, ":")
		conf = append(conf, &ita1.ResourceDescriptor{Name: v.PolicyName, Digest: map[string]string{alg: hex}})
	}
	pred, err := toStruct(&testresult.TestResult{
		Result: v.Result, Configuration: conf,
		PassedTests: v.PassedTests, WarnedTests: v.WarnedTests, FailedTests: v.FailedTests,
	})
	if err != nil {
		return nil, err
	}
	return statement(v.Subject, v.Digest, PredicateTestResult, pred)
}

// ReportStatement returns the in-toto Statement v1 whose predicate is
// reportJSON, imgaudit's JSON report of the image digest names.
func ReportStatement(subject, digest string, reportJSON []byte) ([]byte, error) {
	var pred structpb.Struct
	if err := protojson.Unmarshal(reportJSON, &pred); err != nil {
		return nil, fmt.Errorf("the report is not a JSON object: %w", err)
	}
	return statement(subject, digest, PredicateReport, &pred)
}

func statement(subject, digest, predicateType string, pred *structpb.Struct) ([]byte, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return nil, fmt.Errorf("malformed digest %q", digest)
	}
	st := &ita1.Statement{
		Type:          ita1.StatementTypeUri,
		Subject:       []*ita1.ResourceDescriptor{{Name: subject, Digest: map[string]string{alg: hex}}},
		PredicateType: predicateType,
		Predicate:     pred,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("building the statement: %w", err)
	}
	return protojson.Marshal(st)
}

func toStruct(m *testresult.TestResult) (*structpb.Struct, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, err
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseStatement decodes an in-toto statement and returns its subject
// digests ("sha256:…") and predicate type.
func ParseStatement(b []byte) (*ita1.Statement, error) {
	var st ita1.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("not a valid in-toto statement: %w", err)
	}
	return &st, nil
}

// ParseVerdict reads a test-result statement written by imgaudit.
func ParseVerdict(st *ita1.Statement) (Verdict, error) {
	if st.GetPredicateType() != PredicateTestResult {
		return Verdict{}, fmt.Errorf("predicate type %q is not %s", st.GetPredicateType(), PredicateTestResult)
	}
	b, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return Verdict{}, err
	}
	var tr testresult.TestResult
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &tr); err != nil {
		return Verdict{}, fmt.Errorf("not a test-result predicate: %w", err)
	}
	v := Verdict{Result: tr.GetResult(), PassedTests: tr.GetPassedTests(), WarnedTests: tr.GetWarnedTests(), FailedTests: tr.GetFailedTests()}
	if s := st.GetSubject(); len(s) == 1 {
		v.Subject = s[0].GetName()
		if h, ok := s[0].GetDigest()["sha256"]; ok {
			v.Digest = "sha256:" + h
		}
	}
	found := false
	for _, c := range tr.GetConfiguration() {
		if c.GetUri() == ToolURI && !found {
			found = true
			a := c.GetAnnotations().AsMap()
			v.ToolVersion, _ = a[annotationVersion].(string)
			v.FailOn, _ = a[annotationFailOn].(string)
			v.Profile, _ = a[annotationProfile].(string)
			ts, _ := a[annotationTime].(string)
			if v.Time, err = time.Parse(time.RFC3339, ts); err != nil {
				return Verdict{}, fmt.Errorf("the statement has no valid audit time: %w", err)
			}
		} else if h, ok := c.GetDigest()["sha256"]; ok {
			v.PolicyName, v.PolicyDigest = c.GetName(), "sha256:"+h
		}
	}
	if !found {
		return Verdict{}, errors.New("the statement was not written by imgaudit (no imgaudit configuration)")
	}
	switch v.Result {
	case Passed, Warned, Failed:
	default:
		return Verdict{}, fmt.Errorf("unknown result %q", v.Result)
	}
	return v, nil
}
