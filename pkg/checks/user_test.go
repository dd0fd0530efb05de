package checks

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

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

func withPasswd(body string) it.LayerStep {
	return it.Step("FROM", it.Dir("etc", 0o755), it.Text("etc/passwd", body))
}

func intp(i int) *int { return &i }

func TestResolveUser(t *testing.T) {
	tests := []struct {
		user  string
		steps []it.LayerStep
		want  User
	}{
		{"", []it.LayerStep{withPasswd(passwd)}, User{Configured: "", UID: intp(0), Root: true, Verifiable: true}},
		{"  ", []it.LayerStep{withPasswd(passwd)}, User{Configured: "  ", UID: intp(0), Root: true, Verifiable: true}},
		{"0", nil, User{Configured: "0", UID: intp(0), Root: true, Verifiable: true}},
		{"0:0", nil, User{Configured: "0:0", UID: intp(0), Root: true, Verifiable: true}},
		{"0:1000", nil, User{Configured: "0:1000", UID: intp(0), Root: true, Verifiable: true}},
		{"root", nil, User{Configured: "root", UID: intp(0), Root: true}},
		{"root:root", []it.LayerStep{withPasswd(passwd)}, User{Configured: "root:root", UID: intp(0), Root: true, InPasswd: true}},
		{"admin", []it.LayerStep{withPasswd(passwd)}, User{Configured: "admin", UID: intp(0), Root: true, InPasswd: true}},
		{"admin:app", []it.LayerStep{withPasswd(passwd)}, User{Configured: "admin:app", UID: intp(0), Root: true, InPasswd: true}},
		{"1000", nil, User{Configured: "1000", UID: intp(1000), Verifiable: true}},
		{"65532:65532", []it.LayerStep{withPasswd(passwd)}, User{Configured: "65532:65532", UID: intp(65532), Verifiable: true}},
		{"1000:0", nil, User{Configured: "1000:0", UID: intp(1000), Verifiable: true}},
		{"app", []it.LayerStep{withPasswd(passwd)}, User{Configured: "app", UID: intp(1000), InPasswd: true}},
		{"app:root", []it.LayerStep{withPasswd(passwd)}, User{Configured: "app:root", UID: intp(1000), InPasswd: true}},
		{"ghost", []it.LayerStep{withPasswd(passwd)}, User{Configured: "ghost"}},
		{"broken", []it.LayerStep{withPasswd(passwd)}, User{Configured: "broken"}},
		{"nonroot", nil, User{Configured: "nonroot"}},
		{"-1", nil, User{Configured: "-1"}},
		{"${APP_UID}", nil, User{Configured: "${APP_UID}"}},
		{"99999999999999999999", nil, User{Configured: "99999999999999999999"}},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			got := ResolveUser(build(t, v1.Config{User: tc.user}, tc.steps...))
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("ResolveUser(%q) (-want +got):\n%s", tc.user, d)
			}
		})
	}
}

func TestResolveUserNilImageParts(t *testing.T) {
	got := ResolveUser(NewImage("empty", nil, nil))
	if want := (User{UID: intp(0), Root: true, Verifiable: true}); !cmp.Equal(want, got) {
		t.Errorf("ResolveUser(empty image) = %+v, want %+v", got, want)
	}
}
