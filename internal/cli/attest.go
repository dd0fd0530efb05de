package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/attest"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/output"
	"github.com/imgaudit/imgaudit/pkg/policy"
	"github.com/imgaudit/imgaudit/pkg/report"
)

const attestLong = `Audit one image and attach the gate's verdict to it, signed.

The verdict (the gate of scan: --fail-on and the policy file) becomes an
in-toto Statement v1 about the image's manifest digest with the test-result
predicate (https://in-toto.io/attestation/test-result/v0.1): result PASSED
(no unsuppressed finding), WARNED (findings below --fail-on only) or FAILED,
the check IDs that passed, warned and failed, and a configuration naming
imgaudit's version, the threshold, the audit time and the policy file by
SHA-256. --report adds a second statement whose predicate is the JSON report
(predicate type ` + attest.PredicateReport + `).

Each statement is signed as a DSSE envelope with --key: a cosign key pair's
private key (password in COSIGN_PASSWORD) or a PKCS#8 PEM key (ECDSA P-256
or Ed25519). The envelopes are attached in the image's repository as
cosign's attestation tag (sha256-HEX.att, read by cosign verify-attestation
and Kyverno) and as OCI 1.1 referrers (the referrers fallback tag on
registries without the API). Attesting again replaces imgaudit's earlier
attestation of the same predicate type and keeps everyone else's.
--output FILE writes the envelopes (one JSON line each) instead of pushing.

Exit codes:
  0  the verdict was attested (whatever it is: check it with imgaudit verify)
  2  usage error, a key that does not load, an image that could not be
     audited completely, or a registry that refused the attestation`

func newAttestCommand(env Env) *cobra.Command {
	var (
		af         auditFlags
		key, out   string
		withReport bool
	)
	cmd := &cobra.Command{
		Use:   "attest IMAGE --key KEY",
		Short: "Attach the gate's verdict to an image, signed (in-toto)",
		Long:  attestLong,
		Example: `  COSIGN_PASSWORD=... imgaudit attest --key cosign.key registry.example.com/app
  imgaudit attest --key ci.pem --policy .imgaudit.yaml --report \
    registry.example.com/app@sha256:...
  imgaudit attest --key ci.pem --output verdict.intoto.jsonl oci:./image`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttest(cmd, env, &af, args[0], key, out, withReport)
		},
	}
	af.fo.AddFlags(cmd)
	_ = cmd.Flags().MarkHidden("all-platforms") // one image is attested
	af.lo.AddFlags(cmd)
	af.co.AddFlags(cmd)
	af.gopt.AddFlags(cmd)
	cmd.Flags().StringVar(&key, "key", "", "signing key `FILE`: a cosign private key (password in COSIGN_PASSWORD) or a PKCS#8 PEM key")
	cmd.Flags().StringVar(&out, "output", "", "write the envelopes to `FILE` (- for standard output) instead of attaching them")
	cmd.Flags().BoolVar(&withReport, "report", false, "also attest the full JSON report, as a second statement")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// runAttest loads the key, audits the image, signs the verdict and
// attaches (or writes) the envelopes.
func runAttest(cmd *cobra.Command, env Env, af *auditFlags, ref, key, out string, withReport bool) error {
	password := func() ([]byte, error) { return []byte(env.Getenv("COSIGN_PASSWORD")), nil }
	signer, err := attest.LoadPrivateKeyFile(key, password)
	if err != nil {
		return usage(err)
	}
	a, err := auditForAttest(cmd, env, af, ref)
	if err != nil {
		return err
	}
	v, err := attest.NewVerdict(a.in)
	if err != nil {
		return usage(fmt.Errorf("%s: %w", ref, err))
	}
	var reportJSON []byte
	if withReport {
		var buf bytes.Buffer
		if err := output.WriteJSON(&buf, a.rep); err != nil {
			return usage(err)
		}
		reportJSON = buf.Bytes()
	}
	atts, err := attest.SignVerdict(cmd.Context(), signer, v, reportJSON)
	if err != nil {
		return usage(err)
	}
	if out != "" {
		return writeEnvelopes(cmd, out, atts)
	}
	if a.in.Image.Source != string(fetch.SourceRegistry) {
		return usage(fmt.Errorf("%s is not in a registry: nothing to attach to (use --output FILE)", ref))
	}
	if err := attachVerdict(cmd, env, a.fetch, ref, a.in.Image.Digest, atts); err != nil {
		return usage(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "attested %s@%s: %s (%d passed, %d warned, %d failed checks)\n",
		output.Escape(v.Subject), v.Digest, v.Result, len(v.PassedTests), len(v.WarnedTests), len(v.FailedTests))
	return nil
}

// attestAudit is the audit attest signs.
type attestAudit struct {
	rep   *report.Report
	in    attest.Input
	fetch []fetch.Option // to reach the registry again, to attach
}

// auditForAttest audits ref once, without SBOM, and has the gate decide.
func auditForAttest(cmd *cobra.Command, env Env, af *auditFlags, ref string) (*attestAudit, error) {
	pol, err := af.gopt.load(env)
	if err != nil {
		return nil, usage(err)
	}
	t, prof, err := af.gopt.gate(cmd, pol, true)
	if err != nil {
		return nil, usage(err)
	}
	af.so.noSBOM = true
	opts, err := af.options(cmd, env, pol)
	if err != nil {
		return nil, usage(err)
	}
	rep, auditErr := env.RunAudit(cmd.Context(), []string{ref}, opts, nil)
	af.co.finish(cmd.ErrOrStderr())
	if auditErr != nil {
		return nil, usage(incompleteMessage(auditErr))
	}
	if rep == nil {
		return nil, usage(fmt.Errorf("the audit returned no report"))
	}
	gate := policy.Gate{FailOn: t, FailOnNew: policy.FailNever, Profile: prof}
	for _, w := range policy.EvaluateGate(rep, pol, gate, env.Now()) {
		fmt.Fprintf(cmd.ErrOrStderr(), "imgaudit: warning: %s\n", output.Escape(w.String()))
	}
	if len(rep.Images) != 1 {
		return nil, usage(fmt.Errorf("%s: %d images audited; attest takes one (use --platform)", ref, len(rep.Images)))
	}
	a := &attestAudit{rep: rep, fetch: opts.Fetch,
		in: attest.Input{Image: rep.Images[0], FailOn: t, Profile: prof, Policy: pol, ToolVersion: env.Version.String(), Time: env.Now()}}
	if pol != nil {
		if a.in.PolicyData, err = os.ReadFile(policyPath(env, af.gopt)); err != nil {
			return nil, usage(fmt.Errorf("reading the policy file: %w", err))
		}
	}
	return a, nil
}

// policyPath is the file gateOptions.load read.
func policyPath(env Env, o gateOptions) string {
	if o.file != "" {
		return o.file
	}
	return filepath.Join(env.Dir, policy.FileName)
}

func attachVerdict(cmd *cobra.Command, env Env, fopts []fetch.Option, ref, digest string, atts []attest.Attestation) error {
	c, err := fetch.NewClient(cmd.Context(), fopts...)
	if err != nil {
		return err
	}
	defer c.Close()
	subject, err := attest.Subject(c, ref, digest)
	if err != nil {
		return err
	}
	return attest.Attach(cmd.Context(), c, subject, atts, attest.AttachOptions{Now: env.Now()})
}

// writeEnvelopes writes one envelope per line to file ("-": stdout).
func writeEnvelopes(cmd *cobra.Command, file string, atts []attest.Attestation) error {
	var w io.Writer = cmd.OutOrStdout()
	if file != "-" {
		f, err := os.Create(file)
		if err != nil {
			return usage(fmt.Errorf("--output: %w", err))
		}
		defer f.Close()
		w = f
	}
	for _, a := range atts {
		if _, err := fmt.Fprintf(w, "%s\n", a.Envelope); err != nil {
			return usage(fmt.Errorf("--output: %w", err))
		}
	}
	if f, ok := w.(*os.File); ok && file != "-" {
		if err := f.Close(); err != nil {
			return usage(fmt.Errorf("--output: %w", err))
		}
	}
	return nil
}
