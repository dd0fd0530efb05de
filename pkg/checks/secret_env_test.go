package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestSecretEnv(t *testing.T) {
	const aws = "AKIAIOSFODNN7EXAMPLE"
	tests := []struct {
		name  string
		env   []string
		steps []it.LayerStep
		want  []string
	}{{
		name:  "credential names with values, attributed to their ENV step",
		env:   []string{"DB_PASSWORD=hunter2", "apiKey=0123456789abcdef", "JWT_SECRET=s3cr3t-value-xyz"},
		steps: []it.LayerStep{it.Meta("ENV DB_PASSWORD=hunter2"), it.Meta("/bin/sh -c #(nop)  ENV apiKey=0123456789abcdef JWT_SECRET=s3cr3t-value-xyz")},
		want:  []string{"- DB_PASSWORD H0", "- JWT_SECRET H1", "- apiKey H1"},
	}, {
		name: "token formats under any name",
		env:  []string{"UPSTREAM=" + aws, "DATABASE_URL=postgres://app:pa55word@db:5432/app", "GH=ghp_" + strings.Repeat("a", 36)},
		want: []string{"- DATABASE_URL L?", "- GH L?", "- UPSTREAM L?"},
	}, {
		name: "not credentials: file references, variable references, switches, metadata names, GPG_KEY, PWD",
		env: []string{
			"DB_PASSWORD_FILE=/run/secrets/db", "GOOGLE_APPLICATION_CREDENTIALS=/secrets/sa.json", "TOKEN=$TOKEN", "NPM_TOKEN=${NPM_TOKEN}",
			"MYSQL_ALLOW_EMPTY_PASSWORD=yes", "PASSWORD_MIN_LENGTH=12", "TOKEN_URL=https://auth.example.com/token", "SECRET_NAME=prod-db",
			"GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "PWD=/app", "PASSENGER_APP_ENV=production", "API_TOKEN=",
			"PROXY=http://proxy:3128", "CLONE=https://${USER}:${PASS}@git.example.com/x.git",
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, v1.Config{Env: tc.env}, tc.steps...)
			got := run(t, SecretEnv(), img)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			fs, _ := Run(context.Background(), img, []Check{SecretEnv()})
			for _, f := range fs {
				for _, secret := range []string{"hunter2", "s3cr3t-value-xyz", aws, "pa55word", strings.Repeat("a", 36)} {
					if strings.Contains(f.Detail, secret) || (f.Layer != nil && strings.Contains(f.Layer.CreatedBy, secret)) {
						t.Errorf("finding %+v leaks %q", f, secret)
					}
				}
			}
		})
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"PASSWORD": true, "DB_PASS": true, "db_password": true, "dbPassword": true, "MYSQL_ROOT_PASSWORD": true,
		"AWS_SECRET_ACCESS_KEY": true, "AWS_ACCESS_KEY_ID": true, "GITHUB_TOKEN": true, "NODE_AUTH_TOKEN": true,
		"PRIVATE_KEY": true, "SECRET_KEY_BASE": true, "CLIENT_SECRET": true, "DD_API_KEY": true, "STRIPE_APIKEY": true,
		"CREDENTIALS": true, "LICENSE_KEY": true,
		"PWD": false, "OLDPWD": false, "GPG_KEY": false, "GPG_KEYS": false, "KEY": false, "PASSENGER_APP_ENV": false,
		"TOKEN_URL": false, "PASSWORD_FILE": false, "SECRETS_DIR": false, "PATH": false, "BYPASS_CACHE": false, "": false,
	} {
		if got := isSecretName(name); got != want {
			t.Errorf("isSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRedactValue(t *testing.T) {
	for v, want := range map[string]string{
		"hunter2":                  "…(7 chars)",
		"AKIAIOSFODNN7EXAMPLE":     "AK…(20 chars)",
		"":                         "…(0 chars)",
		"ünïcödé-secret-value-123": "ün…(24 chars)",
	} {
		if got := redactValue(v); got != want {
			t.Errorf("redactValue(%q) = %q, want %q", v, got, want)
		}
	}
}
