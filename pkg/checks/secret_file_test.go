package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

const rsaKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n-----END RSA PRIVATE KEY-----\n"

func TestSecretFile(t *testing.T) {
	tests := []struct {
		name  string
		steps []it.LayerStep
		want  []string
	}{{
		name: "private keys by content and by name",
		steps: []it.LayerStep{it.Step("COPY . /",
			it.Dir("root/.ssh", 0o700), it.File("root/.ssh/id_ed25519", 0o600, []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n")),
			it.Text("root/.ssh/id_ed25519.pub", "ssh-ed25519 AAAA user@host"),
			it.Dir("app", 0o755), it.Text("app/server.key", rsaKey), it.Text("app/tls.pem", "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n"),
			it.Text("app/cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
			it.Text("app/parser.py", "MARKER = '"+strings.TrimSpace(rsaKey)+"'\n"),
			it.Dir("home/dev/.ssh", 0o700), it.Text("home/dev/.ssh/id_rsa", "encrypted, unrecognisable"),
		)},
		want: []string{
			"/app/server.key private-key L0",
			"/app/tls.pem private-key L0",
			"/home/dev/.ssh/id_rsa ssh-private-key L0",
			"/root/.ssh/id_ed25519 private-key L0",
		},
	}, {
		name: "credential files by name; templates and empty files are not",
		steps: []it.LayerStep{it.Step("COPY . /app",
			it.Dir("app", 0o755), it.Text("app/.env", "DB_PASSWORD=x\n"), it.Text("app/.env.production", "X=1\n"),
			it.Text("app/.env.example", "DB_PASSWORD=\n"), it.File("app/.env.local", 0o644, nil),
			it.Dir("root/.aws", 0o700), it.Text("root/.aws/credentials", "[default]\naws_secret_access_key=x\n"), it.Text("root/.aws/config", "[default]\nregion=eu-west-1\n"),
			it.Text("root/.git-credentials", "https://u:p@github.com\n"),
			it.Dir("venv/.env", 0o755),
		)},
		want: []string{
			"/app/.env dotenv L0",
			"/app/.env.production dotenv L0",
			"/root/.aws/credentials aws-credentials L0",
			"/root/.git-credentials git-credentials L0",
		},
	}, {
		name: "files whose contents decide",
		steps: []it.LayerStep{it.Step("COPY",
			it.Dir("root/.docker", 0o700), it.Text("root/.docker/config.json", `{"auths":{"ghcr.io":{"auth":"dXNlcjpwYXNz"}}}`),
			it.Dir("home/ci/.docker", 0o700), it.Text("home/ci/.docker/config.json", `{"auths":{"ghcr.io":{}},"credsStore":"desktop"}`),
			it.Text("root/.npmrc", "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n"),
			it.Dir("home/ci", 0o755), it.Text("home/ci/.npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\nalways-auth=true\n"),
			it.Text("root/.pypirc", "[pypi]\nusername = __token__\npassword = pypi-xyz\n"),
			it.Text("root/.netrc", "machine example.com login me password hunter22\n"),
			it.Dir("etc", 0o755), it.Text("etc/pip.conf", "[global]\nindex-url = https://user:pw123@pypi.example.com/simple\n"),
			it.Text("home/ci/.my.cnf", "[client]\nuser=ci\n"),
		)},
		want: []string{
			"/etc/pip.conf pip-conf L0",
			"/root/.docker/config.json docker-config L0",
			"/root/.netrc netrc L0",
			"/root/.npmrc npmrc L0",
			"/root/.pypirc pypirc L0",
		},
	}, {
		name: "secrets deleted by a later layer are still shipped",
		steps: []it.LayerStep{
			it.Step("FROM", it.Text("base", "x")),
			it.Step("COPY credentials /root/.aws/credentials", it.Dir("root/.aws", 0o700), it.Text("root/.aws/credentials", "[default]\nk=v\n"), it.Text("root/.npmrc", "_authToken=abcdef123456\n")),
			it.Step("RUN rm -rf /root/.aws && echo > /root/.npmrc", it.Whiteout("root/.aws"), it.Text("root/.npmrc", "\n")),
			it.Step("RUN git clone", it.Dir("src", 0o755), it.Text("src/id_rsa", rsaKey)),
			it.Step("RUN rm", it.Dir("src", 0o755), it.Opaque("src")),
		},
		want: []string{
			"/root/.aws/credentials aws-credentials L1 deleted",
			"/root/.npmrc npmrc L1 deleted",
			"/src/id_rsa private-key L3 deleted",
		},
	}, {
		name:  "hardlinked key once",
		steps: []it.LayerStep{it.Step("COPY", it.Dir("keys", 0o700), it.Text("keys/a.key", rsaKey), it.Hardlink("keys/b.key", "keys/a.key"))},
		want:  []string{"/keys/a.key private-key aliases=/keys/b.key L0"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := build(t, zeroConfig, tc.steps...)
			got := run(t, SecretFile(), img)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			fs, _ := SecretFile().Run(context.Background(), img)
			for _, f := range fs {
				if strings.Contains(f.Detail, "MIIE") || strings.Contains(f.Detail, "hunter22") {
					t.Errorf("finding leaks file contents: %+v", f)
				}
			}
		})
	}
}

func TestSecretFileNotCaptured(t *testing.T) {
	e := elfEntry(100)
	for _, p := range []string{"/root/.npmrc", "/root/.docker/config.json"} {
		if kind, why := secretFileKind(p, &e, func() ([]byte, bool) { return nil, false }); kind == "" || !strings.Contains(why, "not inspected") {
			t.Errorf("secretFileKind(%s, uncaptured) = %q, %q; want a fail-closed finding", p, kind, why)
		}
	}
	if kind, _ := secretFileKind("/root/.npmrc", &e, func() ([]byte, bool) { return []byte("registry=https://r\n"), true }); kind != "" {
		t.Errorf("npmrc without token: kind %q, want none", kind)
	}
}

// TestSecretFileTestData: a directory named test exempts nothing by itself
// (WORKDIR /app/test, or an attacker, would hide a real key); inside a
// package tree that ships test data the key is reported at low severity.
func TestSecretFileTestData(t *testing.T) {
	key := func(p string) it.Item { return it.Text(p, rsaKey) }
	img := build(t, zeroConfig,
		it.Step("FROM golang",
			it.Dir("usr/local/go/src/crypto/tls/testdata", 0o755), key("usr/local/go/src/crypto/tls/testdata/key.pem"),
			it.Dir("usr/lib/go-1.22/src/crypto/x509/testdata", 0o755), key("usr/lib/go-1.22/src/crypto/x509/testdata/k.pem"),
			it.Dir("usr/lib/golang/src/testdata", 0o755), key("usr/lib/golang/src/testdata/k.pem"),
			it.Dir("root/go/pkg/mod/golang.org/x/crypto@v0.1.0/ssh/testdata", 0o755), key("root/go/pkg/mod/golang.org/x/crypto@v0.1.0/ssh/testdata/id.pem"),
			it.Dir("go/pkg/mod/example.com/m@v1/examples", 0o755), key("go/pkg/mod/example.com/m@v1/examples/server.key"),
			it.Dir("usr/lib/python3/dist-packages/tornado/test", 0o755), key("usr/lib/python3/dist-packages/tornado/test/test.key"),
			it.Dir("usr/local/lib/python3.12/site-packages/pkg/tests", 0o755), key("usr/local/lib/python3.12/site-packages/pkg/tests/k.pem"),
			it.Dir("app/node_modules/ws/test/fixtures", 0o755), key("app/node_modules/ws/test/fixtures/key.pem"),
			it.Dir("usr/share/doc/openvpn/examples/sample-keys", 0o755), key("usr/share/doc/openvpn/examples/sample-keys/server.key"),
			it.Dir("usr/share/doc/pkg", 0o755), key("usr/share/doc/pkg/key.pem"),
		),
		it.Step("COPY . /app",
			it.Dir("app/test", 0o755), key("app/test/real.key"),
			it.Dir("app/testing", 0o755), key("app/testing/real.key"),
			it.Dir("srv/fixtures", 0o755), key("srv/fixtures/id.pem"),
			it.Dir("app/node_modules/ws/lib", 0o755), key("app/node_modules/ws/lib/server.key"),
			it.Dir("opt/site-packages-x/test", 0o755), key("opt/site-packages-x/test/k.pem"),
			it.Dir("root/go/pkg/modx/test", 0o755), key("root/go/pkg/modx/test/k.pem"),
			it.Dir("usr/local/go/srcx/testdata", 0o755), key("usr/local/go/srcx/testdata/k.pem"),
		),
		it.Step("RUN rm", it.Whiteout("app/node_modules/ws/test/fixtures/key.pem"), it.Whiteout("app/test/real.key")),
	)
	fs, err := Run(context.Background(), img, []Check{SecretFile()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		s := f.Severity.String() + " " + f.Path
		if f.Deleted {
			s += " deleted"
		}
		got = append(got, s)
		if f.Severity == Low && !strings.Contains(f.Detail, "published test data") {
			t.Errorf("%s: low severity without saying why: %q", f.Path, f.Detail)
		}
	}
	want := []string{
		"critical /app/node_modules/ws/lib/server.key",
		"critical /app/test/real.key deleted",
		"critical /app/testing/real.key",
		"critical /opt/site-packages-x/test/k.pem",
		"critical /root/go/pkg/modx/test/k.pem",
		"critical /srv/fixtures/id.pem",
		"critical /usr/local/go/srcx/testdata/k.pem",
		"low /app/node_modules/ws/test/fixtures/key.pem deleted",
		"low /go/pkg/mod/example.com/m@v1/examples/server.key",
		"low /root/go/pkg/mod/golang.org/x/crypto@v0.1.0/ssh/testdata/id.pem",
		"low /usr/lib/go-1.22/src/crypto/x509/testdata/k.pem",
		"low /usr/lib/golang/src/testdata/k.pem",
		"low /usr/lib/python3/dist-packages/tornado/test/test.key",
		"low /usr/local/go/src/crypto/tls/testdata/key.pem",
		"low /usr/local/lib/python3.12/site-packages/pkg/tests/k.pem",
		"low /usr/share/doc/openvpn/examples/sample-keys/server.key",
		"low /usr/share/doc/pkg/key.pem",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
}

func TestTestDataTree(t *testing.T) {
	for p, want := range map[string]string{
		"/usr/lib/golang/src/testdata/k.pem": "Go toolchain source",
		"/usr/lib/gox/src/testdata/k.pem":    "",
		"/a/pkg/mod/testdata/k.pem":          "Go module cache",
		"/a/testdata/pkg/mod/k.pem":          "",
		"/app/node_modules/test":             "",
		"/usr/lib/go/src/x/testdata/k.pem":   "Go toolchain source",
		"/usr/share/go-1.22/src/testdata/k":  "Go toolchain source",
		"/usr/lib/go-1.22/src/k.pem":         "",
		"/node_modules/test/k":               "node_modules",
		"/test/node_modules/k":               "",
		"/usr/share/doc/k":                   "/usr/share/doc",
		"/usr/share/docs/test/k":             "",
	} {
		if got := testDataTree(p); got != want {
			t.Errorf("testDataTree(%s) = %q, want %q", p, got, want)
		}
	}
}

// TestCredentialNames: every credential file known by path suffix passes
// the base-name gate, so that the gate drops no file the suffixes name.
func TestCredentialNames(t *testing.T) {
	for _, r := range credentialSuffixes() {
		base := r.suffix[strings.LastIndexByte(r.suffix, '/')+1:]
		if !credentialName(base) {
			t.Errorf("%s (%s): base name %q not in credentialName", r.suffix, r.kind, base)
		}
		e := &layers.Entry{Path: "/home/u" + r.suffix, Type: layers.TypeRegular, Size: 10}
		if kind, _ := secretFileKind(e.Path, e, func() ([]byte, bool) { return nil, false }); kind != r.kind {
			t.Errorf("%s: kind %q, want %q", e.Path, kind, r.kind)
		}
	}
}
