package checks

import (
	"context"
	"fmt"
	"strings"
)

type secretHistory struct{}

var _ Check = (*secretHistory)(nil)

// SecretHistory reports credentials leaked into the history's created_by
// lines.
func SecretHistory() Check { return &secretHistory{} }

func (*secretHistory) Meta() Meta {
	return Meta{
		ID:       "IA-SECRET-HISTORY",
		Title:    "Credential in build history",
		Category: CategorySecret,
		Severity: Critical,
		Rationale: "Every build step's command line is kept in the image config (`docker history --no-trunc`): build arguments used by RUN steps, " +
			"ENV values that a later step overwrote, and passwords typed on command lines stay readable by anyone who can pull the image.",
		Fix: "Rotate it; pass it with `RUN --mount=type=secret`.",
		Remediation: "Rotate the credential, and pass it with a BuildKit secret mount (`RUN --mount=type=secret,id=token ...`) " +
			"instead of ARG, ENV or a command-line option.",
		Notes: "Looks for NAME=value assignments with a credential name (ARG, ENV, RUN's |N NAME=value build-argument prefix, --build-arg, " +
			"shell variables; the same name and value rules as IA-SECRET-ENV), `curl -u user:pass`, `--password=...`, `docker login -p`, " +
			"`sshpass -p`, `mysql -pPASS`, `echo user:pass | chpasswd`, Authorization/PRIVATE-TOKEN headers, and known token formats. An ENV step whose value the config " +
			"still holds is reported by IA-SECRET-ENV instead.",
	}
}

func (*secretHistory) Run(_ context.Context, img *Image) ([]Finding, error) {
	env := envOf(img)
	var out []Finding
	for i, h := range historyOf(img) {
		instr, _ := instruction(h.CreatedBy)
		seen := map[string]bool{}
		for _, s := range findTextSecrets(h.CreatedBy) {
			value := strings.Trim(s.value, `"'`)
			if instr == "ENV" {
				if v, ok := env[s.name]; ok && v == value {
					continue // still in the config: IA-SECRET-ENV reports it
				}
			}
			key := s.name + "\x00" + value
			if seen[key] {
				continue
			}
			seen[key] = true
			detail := fmt.Sprintf("history step %d (%s): %s", i, instr, redactValue(value))
			if isSecretName(s.name) {
				detail = fmt.Sprintf("history step %d (%s): %s=%s", i, instr, s.name, redactValue(value))
			}
			out = append(out, Finding{Name: s.name, Detail: detail, Layer: historyRef(img, i)})
		}
	}
	return out, nil
}
