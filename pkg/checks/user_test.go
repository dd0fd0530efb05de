package checks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	mobyuser "github.com/moby/sys/user"

	it "github.com/imgaudit/imgaudit/internal/imagetest"
)

const passwd = "root:x:0:0:root:/root:/bin/sh\n" +
	"# comment\n" +
	"+nis\n" +
	"admin:x:0:0:alias of root:/root:/bin/sh\n" +
	"app:x:1000:1000::/home/app:/sbin/nologin\n" +
	"broken:x:abc:0::/:/bin/sh\n" +
	"nonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n" +
	"app:x:0:0:a second app line is ignored, as runc takes the first\n"

const group = "root:x:0:\napp:x:1000:\nnonroot:x:65532:\n"

// withPasswd is a layer with /etc/passwd (and /etc/group).
func withPasswd(body string) it.LayerStep {
	return it.Step("FROM", it.Dir("etc", 0o755), it.Text("etc/passwd", body), it.Text("etc/group", group))
}

func intp(i int) *int { return &i }

func TestResolveUser(t *testing.T) {
	tests := []struct {
		user  string
		steps []it.LayerStep
		want  User // Problem is only checked for being set
	}{
		{"", []it.LayerStep{withPasswd(passwd)}, User{Configured: "", UID: intp(0), Root: true, Verifiable: true}},
		// The runtime looks up a user named "  " and fails; trimmed, the
		// value is unset: root.
		{"  ", []it.LayerStep{withPasswd(passwd)}, User{Configured: "  ", UID: intp(0), Root: true, Problem: "set"}},
		{"0", nil, User{Configured: "0", UID: intp(0), Root: true, Verifiable: true}},
		{"0:0", nil, User{Configured: "0:0", UID: intp(0), Root: true, Verifiable: true}},
		{"0:1000", nil, User{Configured: "0:1000", UID: intp(0), Root: true, Verifiable: true}},
		{":1000", nil, User{Configured: ":1000", UID: intp(0), Root: true, Verifiable: true}},
		// No /etc/passwd: the runtime refuses "root", which is root by
		// convention (fail closed).
		{"root", nil, User{Configured: "root", UID: intp(0), Root: true, Problem: "set"}},
		{"root:root", []it.LayerStep{withPasswd(passwd)}, User{Configured: "root:root", UID: intp(0), Root: true, InPasswd: true}},
		{"admin", []it.LayerStep{withPasswd(passwd)}, User{Configured: "admin", UID: intp(0), Root: true, InPasswd: true}},
		{"admin:app", []it.LayerStep{withPasswd(passwd)}, User{Configured: "admin:app", UID: intp(0), Root: true, InPasswd: true}},
		// A group the image lacks: the runtime refuses the value, but the
		// user part alone is root.
		{"admin:staff", []it.LayerStep{withPasswd(passwd)}, User{Configured: "admin:staff", UID: intp(0), Root: true, Problem: "set"}},
		{"1000", nil, User{Configured: "1000", UID: intp(1000), Verifiable: true}},
		{"65532:65532", []it.LayerStep{withPasswd(passwd)}, User{Configured: "65532:65532", UID: intp(65532), Verifiable: true}},
		{"1000:0", nil, User{Configured: "1000:0", UID: intp(1000), Verifiable: true}},
		{"app", []it.LayerStep{withPasswd(passwd)}, User{Configured: "app", UID: intp(1000), InPasswd: true}},
		{"app:root", []it.LayerStep{withPasswd(passwd)}, User{Configured: "app:root", UID: intp(1000), InPasswd: true}},
		{"app:staff", []it.LayerStep{withPasswd(passwd)}, User{Configured: "app:staff", Problem: "set"}},
		{"ghost", []it.LayerStep{withPasswd(passwd)}, User{Configured: "ghost", Problem: "set"}},
		// runc reads the uid field "abc" as 0.
		{"broken", []it.LayerStep{withPasswd(passwd)}, User{Configured: "broken", UID: intp(0), Root: true, InPasswd: true}},
		{"nonroot", nil, User{Configured: "nonroot", Problem: "set"}},
		{"-1", nil, User{Configured: "-1", Problem: "set"}},
		{"${APP_UID}", nil, User{Configured: "${APP_UID}", Problem: "set"}},
		{"99999999999999999999", nil, User{Configured: "99999999999999999999", Problem: "set"}},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			got := ResolveUser(build(t, v1.Config{User: tc.user}, tc.steps...))
			if d := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(User{}, "Problem")); d != "" {
				t.Errorf("ResolveUser(%q) (-want +got):\n%s", tc.user, d)
			}
			if (tc.want.Problem != "") != (got.Problem != "") {
				t.Errorf("ResolveUser(%q).Problem = %q, want it set: %v", tc.user, got.Problem, tc.want.Problem != "")
			}
		})
	}
}

// TestResolveUserAsTheRuntime: crafted /etc/passwd files and USER values on
// which a hand-written parser and the runtime's disagree. Each image is
// built, and the runtime's parser (github.com/moby/sys/user, which runc,
// Docker and containerd use) is asked too: imgaudit must give its answer.
func TestResolveUserAsTheRuntime(t *testing.T) {
	const later = "app:x:1000:1000::/home/app:/bin/sh\n"
	tests := []struct {
		name, user, passwd string
		runtimeUID         int  // what GetExecUser returns
		runtimeErr         bool // GetExecUser fails: the container does not start
		root               bool // imgaudit's finding
	}{
		{name: "short line first: the first match wins, a missing uid is 0", user: "app", passwd: "app:x:0\n" + later, runtimeUID: 0, root: true},
		{name: "leading space: lines are trimmed", user: "app", passwd: " app:x:0:0::/root:/bin/sh\n" + later, runtimeUID: 0, root: true},
		{name: "uid field with a trailing space reads as 0", user: "app", passwd: "app:x:1000 :1000::/home/app:/bin/sh\n" + later, runtimeUID: 0, root: true},
		{name: "CRLF with trailing space", user: "app", passwd: "app:x:0:0 \r\n" + strings.ReplaceAll(later, "\n", "\r\n"), runtimeUID: 0, root: true},
		{name: "doubled CR", user: "app", passwd: "app:x:0:0\r\r\n" + later, runtimeUID: 0, root: true},
		{name: "CR only: one line, uid 0", user: "app", passwd: "app:x:0:0\r" + later, runtimeUID: 0, root: true},
		{name: "CRLF endings alone change nothing", user: "app", passwd: strings.ReplaceAll("root:x:0:0::/:/bin/sh\n"+later, "\n", "\r\n"), runtimeUID: 1000},
		{name: "USER +0 is uid 0 to strconv.Atoi", user: "+0", passwd: later, runtimeUID: 0, root: true},
		{name: "USER -0", user: "-0", runtimeUID: 0, root: true},
		{name: "USER 00", user: "00:1000", runtimeUID: 0, root: true},
		{name: "USER +1000 is a uid", user: "+1000", runtimeUID: 1000},
		// The runtime looks " 0" up as a name and fails; a runtime that
		// trims runs uid 0: fail closed.
		{name: "USER with a leading space", user: " 0", passwd: later, runtimeErr: true, root: true},
		{name: "USER with a trailing space", user: "0 ", passwd: later, runtimeErr: true, root: true},
		{name: "USER 1000 with a trailing space is unverifiable", user: "1000 ", passwd: later, runtimeErr: true},
		{name: "a name whose first line is a comment-looking entry", user: "#", passwd: "#:x:0:0\n", runtimeUID: 0, root: true},
		// The runtime's scanner stops at a line over 64 KiB and refuses
		// the container; without that line the name is root.
		{name: "over-long line before a uid-0 line", user: "app", passwd: "#" + strings.Repeat("x", 70000) + "\napp:x:0:0::/:/bin/sh\n", runtimeErr: true, root: true},
		{name: "over-long line before a non-root line", user: "app", passwd: "#" + strings.Repeat("x", 70000) + "\n" + later, runtimeErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var steps []it.LayerStep
			if tc.passwd != "" {
				steps = append(steps, it.Step("FROM", it.Dir("etc", 0o755), it.Text("etc/passwd", tc.passwd)))
			}
			// What the runtime does.
			eu, err := mobyuser.GetExecUser(tc.user, nil, strings.NewReader(tc.passwd), nil)
			if tc.passwd == "" {
				eu, err = mobyuser.GetExecUser(tc.user, nil, nil, nil)
			}
			if (err != nil) != tc.runtimeErr {
				t.Fatalf("GetExecUser(%q) error = %v, the table says error: %v", tc.user, err, tc.runtimeErr)
			}
			if err == nil && eu.Uid != tc.runtimeUID {
				t.Fatalf("GetExecUser(%q) uid = %d, the table says %d", tc.user, eu.Uid, tc.runtimeUID)
			}
			// What imgaudit says.
			img := build(t, v1.Config{User: tc.user}, steps...)
			u := ResolveUser(img)
			if u.Root != tc.root {
				t.Errorf("ResolveUser(%q) = %+v, want root %v", tc.user, u, tc.root)
			}
			switch {
			case u.Root && (u.UID == nil || *u.UID != 0):
				t.Errorf("root with uid %v", u.UID)
			case !tc.runtimeErr && !u.Root && (u.UID == nil || *u.UID != tc.runtimeUID):
				t.Errorf("ResolveUser(%q) = %+v, the runtime runs uid %d", tc.user, u, tc.runtimeUID)
			case tc.runtimeErr && !u.Root && (u.UID != nil || u.Verifiable || u.InPasswd || u.Problem == ""):
				t.Errorf("ResolveUser(%q) = %+v; the runtime refuses it, want it unverifiable", tc.user, u)
			}
			// Exactly one of the user checks reports a user that is not
			// a proven non-root uid.
			var ids []string
			for _, c := range []Check{RootUser(), UserUnknown(), UserName()} {
				for _, f := range run(t, c, img) {
					ids = append(ids, c.Meta().ID+" "+f)
				}
			}
			wantID := ""
			switch {
			case tc.root:
				wantID = "IA-ROOT-USER"
			case tc.runtimeErr:
				wantID = "IA-USER-UNKNOWN"
			case u.InPasswd:
				wantID = "IA-USER-NAME"
			}
			if wantID != "" && (len(ids) != 1 || !strings.HasPrefix(ids[0], wantID+" ")) {
				t.Errorf("findings %q, want one %s", ids, wantID)
			}
			if wantID == "" && len(ids) != 0 {
				t.Errorf("findings %q, want none", ids)
			}
		})
	}
}

// TestResolveUserUnreadable: what the runtime would read but imgaudit
// cannot (a directory, an uncaptured file) never proves a name non-root.
func TestResolveUserUnreadable(t *testing.T) {
	dir := build(t, v1.Config{User: "1000"}, it.Step("FROM", it.Dir("etc/passwd", 0o755)))
	if u := ResolveUser(dir); u.Root || u.UID != nil || u.Verifiable || !strings.Contains(u.Problem, "directory") {
		t.Errorf("/etc/passwd a directory, USER 1000: %+v; the runtime fails to read it", u)
	}
	// The capture of files named passwd is by name: a link to another
	// name is not captured.
	img := build(t, v1.Config{User: "app"}, it.Step("FROM", it.Dir("etc", 0o755), it.Dir("usr/share/base", 0o755),
		it.Text("usr/share/base/users", "app:x:0:0::/:/bin/sh\n"), it.Symlink("etc/passwd", "/usr/share/base/users")))
	if u := ResolveUser(img); u.Root || u.UID != nil || u.Verifiable || u.InPasswd {
		t.Errorf("uncaptured /etc/passwd, USER app: %+v, want unverifiable", u)
	}
	img = build(t, v1.Config{User: "1000"}, it.Step("FROM", it.Dir("etc", 0o755), it.Dir("usr/share/base", 0o755),
		it.Text("usr/share/base/users", "app:x:0:0::/:/bin/sh\n"), it.Symlink("etc/passwd", "/usr/share/base/users")))
	if u := ResolveUser(img); u.Root || u.UID == nil || *u.UID != 1000 || !u.Verifiable {
		t.Errorf("uncaptured /etc/passwd, USER 1000: %+v, want uid 1000 (a uid does not depend on passwd)", u)
	}
}

func TestResolveUserNilImageParts(t *testing.T) {
	got := ResolveUser(NewImage("empty", nil, nil))
	if want := (User{UID: intp(0), Root: true, Verifiable: true}); !cmp.Equal(want, got) {
		t.Errorf("ResolveUser(empty image) = %+v, want %+v", got, want)
	}
}
