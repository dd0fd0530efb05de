package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/imgaudit/imgaudit/internal/cli"
	"github.com/imgaudit/imgaudit/internal/imagetest"
	"github.com/imgaudit/imgaudit/internal/registrytest"
	"github.com/imgaudit/imgaudit/internal/testimages"
	"github.com/imgaudit/imgaudit/pkg/report"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Execute(context.Background(), cli.Env{
		Args: args, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv:  func(k string) string { return env[k] },
		Version: cli.VersionInfo{Version: "test"},
	})
	return result{code, out.String(), errb.String()}
}

// runEnv runs the command line with env, filling in the streams, the
// version ("test") and an empty environment where env leaves them unset.
func runEnv(t *testing.T, env cli.Env, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env.Args = args
	env.Stdout, env.Stderr = &out, &errb
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	env.Version = cli.VersionInfo{Version: "test"}
	code := cli.Execute(context.Background(), env)
	return result{code, out.String(), errb.String()}
}

func decode(t *testing.T, s string) report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		t.Fatalf("decoding report: %v\n%s", err, s)
	}
	return r
}

// TestScanRealRegistry pushes the demo image to the real CNCF registry, once
// over plain HTTP and once over TLS with htpasswd auth, and scans it by
// reference through the CLI.
func TestScanRealRegistry(t *testing.T) {
	img, err := testimages.Demo()
	if err != nil {
		t.Fatal(err)
	}
	want := scanLocal(t, "demo")
	for _, tc := range []struct {
		name string
		opts registrytest.Options
	}{
		{"plain", registrytest.Options{}},
		{"tls+htpasswd", registrytest.Options{TLS: true, Username: "ci", Password: "s3ntinel-Pa55word"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.Start(t, tc.opts)
			ref := reg.Ref(t, "team/demo:1.0")
			if err := remote.Write(ref, img, reg.RemoteOptions()...); err != nil {
				t.Fatal(err)
			}
			args := []string{"scan", "--format", "json", "--retries", "0"}
			env := map[string]string{}
			stdin := ""
			if tc.opts.TLS {
				args = append(args, "--ca-file", reg.CAFile, "--username", reg.Username, "--password-stdin")
				stdin = reg.Password + "\n"
			} else {
				args = append(args, "--insecure")
			}
			r := run(t, env, stdin, append(args, reg.Host+"/team/demo:1.0")...)
			if r.code == 2 {
				t.Fatalf("exit 2: %s", r.stderr)
			}
			got := decode(t, r.stdout)
			if len(got.Images) != 1 || got.Images[0].Source != "registry" {
				t.Fatalf("images = %+v", got.Images)
			}
			compareImages(t, want.Images[0], got.Images[0])
			if strings.Contains(r.stdout+r.stderr, "s3ntinel-Pa55word") {
				t.Error("the password appears in the output")
			}
			// attest and verify (an encrypted key, its password in
			// COSIGN_PASSWORD) show neither password nor the key either.
			priv, pub := keyPair(t, "", t.TempDir())
			conn := args[3:] // --retries 0 and the connection flags
			for _, cmd := range [][]string{{"attest", "--key", priv}, {"verify", "--key", pub}} {
				e := cli.Env{Stdin: strings.NewReader(stdin), Getenv: func(k string) string { return map[string]string{"COSIGN_PASSWORD": keyPassword}[k] }}
				r := runEnv(t, e, append(append(cmd, conn...), reg.Host+"/team/demo:1.0")...)
				noSecrets(t, cmd[0], r, priv)
				if r.code == 2 {
					t.Errorf("%s: exit 2: %s", cmd[0], r.stderr)
				}
			}

			if tc.opts.TLS {
				// Without credentials the registry refuses: one line, exit 2.
				r := run(t, nil, "", "scan", "--ca-file", reg.CAFile, "--retries", "0", reg.Host+"/team/demo:1.0")
				if r.code != 2 || !strings.Contains(r.stderr, "unauthorized") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
					t.Errorf("anonymous scan: code %d, stderr %q", r.code, r.stderr)
				}
				// Without the CA the TLS handshake fails.
				r = run(t, nil, "", "scan", "--retries", "0", "-u", "ci", "--password-stdin", reg.Host+"/team/demo:1.0")
				if r.code != 2 {
					t.Errorf("scan without CA: code %d, stderr %q", r.code, r.stderr)
				}
			}
		})
	}
}

func scanLocal(t *testing.T, name string) report.Report {
	t.Helper()
	r := run(t, nil, "", "scan", "--format", "json", filepath.Join("..", "..", "testdata", "images", name))
	if r.code == 2 {
		t.Fatalf("scan %s: %s", name, r.stderr)
	}
	return decode(t, r.stdout)
}

// compareImages checks that two reads of the same image saw the same layers,
// files, user, base and findings.
func compareImages(t *testing.T, want, got report.Image) {
	t.Helper()
	if len(want.Layers) != len(got.Layers) {
		t.Fatalf("layers: %d vs %d", len(want.Layers), len(got.Layers))
	}
	for i := range want.Layers {
		if want.Layers[i].DiffID != got.Layers[i].DiffID || want.Layers[i].CreatedBy != got.Layers[i].CreatedBy {
			t.Errorf("layer %d: %+v vs %+v", i, want.Layers[i], got.Layers[i])
		}
	}
	if want.Stats.Files != got.Stats.Files || want.Stats.UncompressedBytes != got.Stats.UncompressedBytes || want.Stats.DeletedFiles != got.Stats.DeletedFiles {
		t.Errorf("stats: %+v vs %+v", want.Stats, got.Stats)
	}
	wf, _ := json.Marshal(want.Findings)
	gf, _ := json.Marshal(got.Findings)
	if !bytes.Equal(wf, gf) {
		t.Errorf("findings differ:\n%s\n%s", wf, gf)
	}
	wu, _ := json.Marshal([]any{want.User, want.Base})
	gu, _ := json.Marshal([]any{got.User, got.Base})
	if !bytes.Equal(wu, gu) {
		t.Errorf("user/base differ: %s vs %s", wu, gu)
	}
}

// TestSameImageEverySource reads each example image from its OCI layout, an
// oci-archive and a docker-archive, and expects the same audit.
func TestSameImageEverySource(t *testing.T) {
	for _, n := range testimages.Names() {
		t.Run(n, func(t *testing.T) {
			want := scanLocal(t, n)
			dir := t.TempDir()
			img, err := testimages.Builders[n]()
			if err != nil {
				t.Fatal(err)
			}
			tag, _ := name.NewTag("example.com/" + n + ":1")
			dockerTar := filepath.Join(dir, n+".docker.tar")
			if err := tarball.WriteToFile(dockerTar, tag, img); err != nil {
				t.Fatal(err)
			}
			ociTar := filepath.Join(dir, n+".oci.tar")
			if err := imagetest.TarDir(filepath.Join("..", "..", "testdata", "images", n), ociTar); err != nil {
				t.Fatal(err)
			}
			for _, ref := range []string{"docker-archive:" + dockerTar, dockerTar, "oci-archive:" + ociTar, "oci:" + filepath.Join("..", "..", "testdata", "images", n)} {
				r := run(t, nil, "", "scan", "--format", "json", ref)
				if r.code == 2 {
					t.Fatalf("%s: %s", ref, r.stderr)
				}
				got := decode(t, r.stdout)
				compareImages(t, want.Images[0], got.Images[0])
			}
		})
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no args", []string{"scan"}, 2, "requires at least 1 arg"},
		{"bad flag", []string{"scan", "--nope", "x"}, 2, "unknown flag"},
		{"bad format", []string{"scan", "--format", "xml", "x"}, 2, "unknown format"},
		{"missing layout", []string{"scan", "oci:/nonexistent/dir"}, 2, "oci:/nonexistent/dir"},
		{"unreachable registry", []string{"scan", "--retries", "0", "--timeout", "2s", "127.0.0.1:1/app:1"}, 2, "127.0.0.1:1/app:1"},
		{"bad platform", []string{"scan", "--platform", "linux/", "x"}, 2, "platform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("code %d stderr %q; want %d containing %q", r.code, r.stderr, tc.code, tc.msg)
			}
			if n := strings.Count(strings.TrimSpace(r.stderr), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, r.stderr)
			}
		})
	}
}
