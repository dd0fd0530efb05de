package checks

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

type secretEnv struct{}

var _ Check = (*secretEnv)(nil)

// SecretEnv reports credentials in the config's environment.
func SecretEnv() Check { return &secretEnv{} }

func (*secretEnv) Meta() Meta {
	return Meta{
		ID:       "IA-SECRET-ENV",
		Title:    "Credential in ENV",
		Category: CategorySecret,
		Severity: Critical,
		Rationale: "ENV values are stored in the image config: anyone who can pull the image reads them (`docker inspect`), " +
			"and every process in the container, and its crash dumps, inherit them.",
		Fix: "Remove the ENV, rotate it, pass secrets at runtime.",
		Remediation: "Remove the ENV instruction and rotate the credential; pass secrets at runtime (Kubernetes Secrets, a secret manager, " +
			"a mounted file with a *_FILE variable pointing to it) and use `RUN --mount=type=secret` at build time.",
		Notes: "A variable is reported when its name says it holds a credential (words PASSWORD, PASSWD, PASSPHRASE, PASS, PWD, SECRET, TOKEN, " +
			"CREDENTIAL(S), CREDS; API/ACCESS/PRIVATE/SECRET/AUTH/ENCRYPTION/SIGNING/MASTER/ACCOUNT/SESSION/LICENSE/CLIENT/APP/SERVICE followed by KEY) " +
			"and its value is not empty, a boolean-like switch, a $VARIABLE reference or a file path; names ending in a describing word " +
			"(_URL, _FILE, _PATH, _NAME, _USER, _LENGTH, _TTL, ...) are not credentials. Any variable whose value has a known token format " +
			"(AWS access key ID, GitHub, GitLab, Slack, Stripe, Google API, npm, PyPI, Docker Hub, OpenAI, Anthropic, Hugging Face, SendGrid, JWT, " +
			"a private key block, a URL with user:password@) is reported too. Values are never shown: only their first two characters " +
			"(for values of 12 characters or more) and length.",
	}
}

func (*secretEnv) Run(_ context.Context, img *Image) ([]Finding, error) {
	env := envOf(img)
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	slices.Sort(names)
	var out []Finding
	for _, name := range names {
		v := env[name]
		why := ""
		if isSecretName(name) && isSecretValue(v) {
			why = "credential name"
		} else if ts := findTokens(v); len(ts) > 0 {
			why = ts[0].name
		}
		if why == "" {
			continue
		}
		f := Finding{
			Name:   name,
			Detail: fmt.Sprintf("%s=%s (%s)", name, redactValue(v), why),
		}
		if i := lastStep(img, "ENV", func(args string) bool { return envStepSets(args, name) }); i >= 0 {
			f.Layer = historyRef(img, i)
		}
		out = append(out, f)
	}
	return out, nil
}

// envStepSets reports whether ENV arguments set name ("NAME=..." or the
// legacy "NAME value").
func envStepSets(args, name string) bool {
	for _, m := range assignment.FindAllStringSubmatch(args, -1) {
		if m[1] == name {
			return true
		}
	}
	first, _, _ := strings.Cut(args, " ")
	return first == name
}
