package checks

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

func TestSecretHistory(t *testing.T) {
	ghp := "ghp_" + strings.Repeat("Z", 36)
	tests := []struct {
		name    string
		env     []string
		steps   []it.LayerStep
		want    []string
		secrets []string
	}{{
		name: "build argument in a BuildKit RUN step, attributed to its layer",
		steps: []it.LayerStep{
			it.Step("FROM", it.Text("a", "a")),
			it.Step("RUN |1 GITHUB_TOKEN="+ghp+" /bin/sh -c make", it.Text("b", "b")),
		},
		want:    []string{"- GITHUB_TOKEN L1"},
		secrets: []string{ghp},
	}, {
		name:    "classic builder RUN with build arguments",
		steps:   []it.LayerStep{it.Step("|2 NPM_TOKEN=npmtok-123456789 OTHER=x /bin/sh -c npm ci", it.Text("a", "a"))},
		want:    []string{"- NPM_TOKEN L0"},
		secrets: []string{"npmtok-123456789"},
	}, {
		name:    "ARG with a default and --build-arg",
		steps:   []it.LayerStep{it.Meta("ARG DB_PASSWORD=topsecret1"), it.Meta("RUN docker build --build-arg API_KEY=abcdef123456 .")},
		want:    []string{"- API_KEY H1", "- DB_PASSWORD H0"},
		secrets: []string{"topsecret1", "abcdef123456"},
	}, {
		name:    "ENV overwritten later still leaks through history; the current one is IA-SECRET-ENV's",
		env:     []string{"DB_PASSWORD=", "API_TOKEN=current-token-1"},
		steps:   []it.LayerStep{it.Meta("ENV DB_PASSWORD=oldpassword"), it.Meta("ENV DB_PASSWORD="), it.Meta("ENV API_TOKEN=current-token-1")},
		want:    []string{"- DB_PASSWORD H0"},
		secrets: []string{"oldpassword"},
	}, {
		name: "command-line credentials",
		steps: []it.LayerStep{
			it.Meta(`RUN curl -fsSL -u deploy:Passw0rd! https://repo.example.com/x.tgz | tar xz`),
			it.Meta(`RUN git clone https://oauth2:glpat-abcdefghijklmnopqrstu@gitlab.example.com/x.git`),
			it.Meta(`RUN wget --http-password=wgetpass1 https://x && mysql -uroot -pmysqlpass1 -e 'select 1'`),
			it.Meta(`RUN curl -H "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abc" https://api`),
			it.Meta(`RUN echo 'root:Docker!123' | chpasswd && echo "app:$APP_PASS" | chpasswd`),
		},
		want: []string{
			"- authorization header H3",
			"- chpasswd H4",
			"- curl -u H0",
			"- gitlab-token H1",
			"- mysql -p H2",
			"- password option H2",
		},
		secrets: []string{"Passw0rd!", "glpat-abcdefghijklmnopqrstu", "wgetpass1", "mysqlpass1", "eyJhbGciOiJIUzI1NiJ9abc", "Docker!123"},
	}, {
		name: "no credentials: references, other -u/-p options, versions",
		steps: []it.LayerStep{
			it.Meta(`RUN curl -u "$REPO_USER:$REPO_PASS" https://x`),
			it.Meta(`RUN --mount=type=secret,id=tok TOKEN=$(cat /run/secrets/tok) make`),
			it.Meta(`RUN useradd -u 1000 app && docker run -u 1000:1000 x && mkdir -p /app && sort -u f`),
			it.Meta(`ENV PYTHON_VERSION=3.12.1 GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305`),
			it.Meta(`RUN mysql -p -e 'select 1' && echo password=$PASSWORD`),
			it.Meta(`USER 1000`),
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, v1.Config{Env: tc.env}, tc.steps...)
			got := run(t, SecretHistory(), img)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			// No finding of any check, layer history included, shows a secret.
			fs, err := Run(context.Background(), img, All())
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(fs)
			for _, s := range tc.secrets {
				if strings.Contains(string(b), s) {
					t.Errorf("findings leak %q:\n%s", s, b)
				}
			}
		})
	}
}

func TestRedactText(t *testing.T) {
	for in, want := range map[string]string{
		"RUN |1 TOKEN=abcdefghijklmnop /bin/sh -c make": "RUN |1 TOKEN=ab…(16 chars) /bin/sh -c make",
		`ENV PASSWORD="two words"`:                      `ENV PASSWORD="…(9 chars)"`,
		"RUN apt-get install -y curl=7.88":              "RUN apt-get install -y curl=7.88",
	} {
		if got := redactText(in); got != want {
			t.Errorf("redactText(%q) = %q, want %q", in, got, want)
		}
	}
}
