package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/imgaudit/imgaudit/pkg/attest"
	"github.com/imgaudit/imgaudit/pkg/fetch"
	"github.com/imgaudit/imgaudit/pkg/output"
)

const verifyLong = `Verify imgaudit's signed verdict on an image (see imgaudit attest).

The test-result attestations attached to the image (cosign's attestation
tag and OCI 1.1 referrers) are checked with the public key: the DSSE
signature, the statement's subject (the image's current manifest digest;
from a multi-platform index, the platform's manifest, as attest audited
it: --platform, default linux/amd64), the audit time against --max-age,
and the result against --require (passed: PASSED only; warned: PASSED or
WARNED). The newest valid one decides.

Exit codes:
  0  a valid attestation's verdict meets --require
  1  the newest valid attestation's verdict does not meet --require
  2  no valid attestation: none attached, a bad signature (tampered, or
     another key), a statement about another digest, or one older than
     --max-age (the message says which); or a usage or registry error`

func newVerifyCommand(env Env) *cobra.Command {
	var (
		fo                    fetchOptions
		key, maxAge, required string
	)
	cmd := &cobra.Command{
		Use:   "verify IMAGE --key PUB",
		Short: "Verify an image's signed imgaudit verdict",
		Long:  verifyLong,
		Example: `  imgaudit verify --key cosign.pub registry.example.com/app:1.2
  imgaudit verify --key cosign.pub --max-age 7d --require warned \
    registry.example.com/app@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, env, &fo, args[0], key, maxAge, required)
		},
	}
	fo.AddFlags(cmd)
	_ = cmd.Flags().MarkHidden("all-platforms") // one image is verified
	cmd.Flags().StringVar(&key, "key", "", "public key `FILE` (cosign.pub, or a PEM ECDSA P-256 or Ed25519 key)")
	cmd.Flags().StringVar(&maxAge, "max-age", "", "reject verdicts audited longer ago than `AGE` (e.g. 7d, 36h)")
	cmd.Flags().StringVar(&required, "require", string(attest.RequirePassed), "least result accepted: passed, warned")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

func runVerify(cmd *cobra.Command, env Env, fo *fetchOptions, ref, key, maxAge, required string) error {
	o := attest.VerifyOptions{Now: env.Now()}
	var err error
	if o.Require, err = attest.ParseRequirement(required); err != nil {
		return usage(fmt.Errorf("--require: %w", err))
	}
	if maxAge != "" {
		if o.MaxAge, err = attest.ParseMaxAge(maxAge); err != nil {
			return usage(fmt.Errorf("--max-age: %w", err))
		}
	}
	v, err := attest.LoadPublicKeyFile(key)
	if err != nil {
		return usage(err)
	}
	fopts, err := fo.toFetch(cmd, env)
	if err != nil {
		return usage(err)
	}
	c, err := fetch.NewClient(cmd.Context(), fopts...)
	if err != nil {
		return usage(err)
	}
	defer c.Close()
	d, err := attest.Target(cmd.Context(), c, ref, fopts...)
	if err != nil {
		return usage(err)
	}
	vd, err := attest.VerifyImage(cmd.Context(), c, d, v, o)
	if errors.Is(err, attest.ErrRequirement) {
		return &exitError{code: ExitFindings, err: fmt.Errorf("%s: %w", output.Escape(d.String()), err)}
	}
	if err != nil {
		var fe *fetch.Error
		if !errors.As(err, &fe) {
			err = fmt.Errorf("%s: %w", output.Escape(d.String()), err)
		}
		return usage(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: %s, audited %s by imgaudit %s (fail-on %s%s)\n", output.Escape(d.String()), vd.Result,
		vd.Time.Format(time.RFC3339), output.Escape(vd.ToolVersion), output.Escape(vd.FailOn), policyNote(vd))
	return nil
}

func policyNote(v attest.Verdict) string {
	if v.PolicyDigest == "" {
		return ", no policy file"
	}
	return ", policy " + output.Escape(v.PolicyName) + " " + v.PolicyDigest
}
