package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

// TestAllTorture runs the whole catalogue on one image combining the
// torture cases: usrmerge, a uid-0 alias, a tool and a secret deleted in a
// later layer, setuid dropped later, busybox hardlinks behind an opaque
// directory, dangling and looping links, secrets in ENV and history.
func TestAllTorture(t *testing.T) {
	cfg := v1.Config{
		User: "admin",
		Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "DB_PASSWORD=hunter2hunter2"},
		Cmd:  []string{"/app/server"},
	}
	img := build(t, cfg,
		it.Step("FROM debian:12", items(usrmerge(), osRelease("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"), dpkgDB(
			"Package: wget\nStatus: install ok installed\nVersion: 1.21\n\nPackage: dash\nStatus: install ok installed\n"), []it.Item{
			it.Text("var/lib/dpkg/info/wget.list", "/usr/bin/wget\n"),
			it.Text("var/lib/dpkg/info/dash.list", "/bin/dash\n/bin/sh\n"),
			it.File("usr/bin/dash", 0o755, elf), it.Symlink("usr/bin/sh", "dash"),
			it.File("usr/bin/apt-get", 0o755, elf), it.File("usr/bin/chmod", 0o755, elf),
			it.File("usr/bin/su", 0o4755, elf), it.File("usr/bin/wget", 0o755, elf),
			it.Dir("tmp", 0o1777),
			it.Text("etc/passwd", passwd), it.File("etc/shadow", 0o640, []byte("root:*:19000:0:99999:7:::\n")),
			it.Symlink("usr/bin/dangling", "/nowhere"), it.Symlink("usr/bin/loop", "loop"),
		})...),
		it.Meta("ENV DB_PASSWORD=hunter2hunter2"),
		it.Step("RUN |1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c npm ci",
			it.Dir("root/.aws", 0o700), it.Text("root/.aws/credentials", "[default]\n"),
			it.Dir("opt/bb", 0o755), it.File("opt/bb/busybox", 0o755, static), it.Hardlink("opt/bb/nc", "opt/bb/busybox"),
			it.Dir("usr/local/bin", 0o755), it.Symlink("usr/local/bin/nc", "/opt/bb/nc"),
		),
		it.Step("RUN rm /usr/bin/wget /root/.aws/credentials && chmod u-s /usr/bin/su && rm -rf /opt/bb/*",
			it.Whiteout("usr/bin/wget"), it.Whiteout("root/.aws/credentials"), it.File("usr/bin/su", 0o755, elf),
			it.Dir("opt/bb", 0o755), it.Opaque("opt/bb"),
		),
		it.Step("COPY server /app/", it.Dir("app", 0o755), it.File("app/server", 0o755, static)),
		it.Meta("USER admin"),
	)
	fs, err := Run(context.Background(), img, All())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, fmt.Sprintf("%s %s", f.Severity, f.ID)+" "+rows([]Finding{f})[0])
	}
	want := []string{
		"critical IA-SECRET-ENV - DB_PASSWORD H1",
		"critical IA-SECRET-FILE /root/.aws/credentials aws-credentials L1 deleted",
		"critical IA-SECRET-HISTORY - NPM_TOKEN L1",
		"high IA-ROOT-USER - admin H5",
		"medium IA-PKG-MANAGER /usr/bin/apt-get apt-get aliases=/bin/apt-get L0",
		"medium IA-PRIVILEGE-TOOL /usr/bin/su su aliases=/bin/su L2",
		"medium IA-SHELL /usr/bin/dash dash,sh aliases=/bin/dash,/bin/sh,/usr/bin/sh L0",
		"low IA-BASE /usr/lib/os-release debian L0",
		"low IA-HEALTHCHECK -  L?",
		"low IA-PACKAGE-RECORD /usr/bin/wget wget L0 deleted",
		"low IA-PERMISSION-TOOL /usr/bin/chmod chmod aliases=/bin/chmod L0",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("findings (-want +got):\n%s", d)
	}
	for _, f := range fs {
		if f.ID == "IA-BASE" && !strings.Contains(f.Remediation, "scratch or gcr.io/distroless/static-debian12") {
			t.Errorf("IA-BASE remediation = %q, want a static base for /app/server", f.Remediation)
		}
		if f.ID == "IA-PKG-MANAGER" && (f.Layer.CreatedBy != "FROM debian:12" || !strings.HasPrefix(f.Layer.Digest, "sha256:") ||
			!strings.HasPrefix(f.Layer.DiffID, "sha256:") || f.Layer.Digest == f.Layer.DiffID || f.Layer.HistoryIndex != 0) {
			t.Errorf("IA-PKG-MANAGER layer = %+v, want layer 0's digest, diffID and step", f.Layer)
		}
		if f.ID == "IA-SECRET-HISTORY" && (f.Layer.CreatedBy != "RUN |1 NPM_TOKEN=np…(40 chars) /bin/sh -c npm ci" || f.Layer.HistoryIndex != 2) {
			t.Errorf("IA-SECRET-HISTORY layer = %+v, want step 2 with the token redacted", f.Layer)
		}
	}
	b, _ := json.Marshal(fs)
	for _, secret := range []string{"hunter2hunter2", "npm_abcdefghijklmnopqrstuvwxyz0123456789"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("findings leak %q", secret)
		}
	}
}

// TestHostilePath: the config's PATH names one directory of 2,000 tools
// under 2,000 symlinked names. Each directory is read once (2,000 tool
// entries, not 4,000,000: the check took 5.7 s before, 0.07 s now), and a
// finding still names the tool through every PATH entry.
func TestHostilePath(t *testing.T) {
	const n = 2000
	var items []it.Item
	items = append(items, usrmerge()...)
	dirs := make([]string, n)
	for i := range n {
		items = append(items, it.File(fmt.Sprintf("usr/bin/tool%04d", i), 0o755, elf), it.Symlink(fmt.Sprintf("p%04d", i), "usr/bin"))
		dirs[i] = fmt.Sprintf("/p%04d", i)
	}
	items = append(items, it.File("usr/bin/dash", 0o755, elf), it.Symlink("usr/bin/sh", "dash"))
	img := build(t, v1.Config{Env: []string{"PATH=" + strings.Join(dirs, ":")}}, it.Step("FROM hostile", items...))
	if refs := len(toolsOf(img).refs); refs != n+2 {
		t.Fatalf("%d tool entries indexed, want %d: a directory was read more than once", refs, n+2)
	}
	fs, err := Run(context.Background(), img, []Check{Shell()})
	if err != nil {
		t.Fatal(err)
	}
	if got := rows(fs); len(got) != 1 || !strings.HasPrefix(got[0], "/usr/bin/dash dash,sh ") {
		t.Fatalf("shell findings = %.200q", got)
	}
	// dash and sh through each of the 2,000 PATH entries and /bin and
	// /usr/bin (standard PATH), less the file's own path.
	if a := fs[0].Aliases; len(a) != 2*n+3 || !strings.Contains(strings.Join(a, " "), "/p1999/sh") {
		t.Errorf("%d aliases, want %d including /p1999/sh", len(a), 2*n+3)
	}
}
