package policy

import "testing"

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		match   []string
		nomatch []string
	}{
		{"/usr/bin/passwd", []string{"/usr/bin/passwd"}, []string{"/usr/bin/passwd2", "/bin/passwd"}},
		{"/usr/bin/*", []string{"/usr/bin/su", "/usr/bin/"}, []string{"/usr/bin/x/y", "/usr/sbin/su"}},
		{"/usr/*/su", []string{"/usr/bin/su", "/usr/sbin/su"}, []string{"/usr/local/bin/su"}},
		{"/opt/**", []string{"/opt", "/opt/a", "/opt/a/b/c"}, []string{"/optx", "/op"}},
		{"/opt/**/bin/*", []string{"/opt/bin/x", "/opt/a/b/bin/x"}, []string{"/opt/bin/x/y"}},
		{"**/id_rsa", []string{"id_rsa", "/root/.ssh/id_rsa", "/id_rsa"}, []string{"/root/.ssh/id_rsa.pub"}},
		{"/etc/ssh/ssh_host_*_key", []string{"/etc/ssh/ssh_host_rsa_key"}, []string{"/etc/ssh/ssh_host_rsa_key.pub"}},
		{"/bin/?ash", []string{"/bin/bash", "/bin/dash"}, []string{"/bin/ash", "/bin//ash"}},
		{"/bin/[bd]ash", []string{"/bin/bash", "/bin/dash"}, []string{"/bin/zash"}},
		{"/bin/[!bd]ash", []string{"/bin/zash"}, []string{"/bin/bash", "/bin//ash"}},
		{"/bin/[]]x", []string{"/bin/]x"}, []string{"/bin/ax"}},
		{"/a.b+c(d)", []string{"/a.b+c(d)"}, []string{"/aXb+c(d)"}},
		{`/star\*`, []string{"/star*"}, []string{"/starx"}},
		{"registry.example.com/team/*", []string{"registry.example.com/team/app", "registry.example.com/team/app:1.2"}, []string{"registry.example.com/team/sub/app"}},
		{"**/demo", []string{"../../testdata/images/demo", "demo"}, []string{"demo2"}},
	} {
		g, err := compileGlob(tc.pattern)
		if err != nil {
			t.Errorf("%q: %v", tc.pattern, err)
			continue
		}
		for _, s := range tc.match {
			if !g.match(s) {
				t.Errorf("%q does not match %q", tc.pattern, s)
			}
		}
		for _, s := range tc.nomatch {
			if g.match(s) {
				t.Errorf("%q matches %q", tc.pattern, s)
			}
		}
	}
	for _, bad := range []string{"", "/bin/[a", `/bin/\`, "/bin/[!"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("%q compiled", bad)
		}
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com:5000/team/app:1.2": "registry.example.com:5000/team/app",
		"registry.example.com:5000/team/app":     "registry.example.com:5000/team/app",
		"app@sha256:abcd":                        "app",
		"app:1@sha256:abcd":                      "app",
		"../../testdata/images/demo":             "../../testdata/images/demo",
	} {
		if got := Repository(in); got != want {
			t.Errorf("Repository(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: no policy file makes Parse panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte("fail-on: high\nignore:\n  - check: IA-SHELL\n    path: /bin/*\n    reason: r\n    expires: 2025-01-01\n"))
	f.Add([]byte("disable: {checks: [a], categories: b}\n"))
	f.Add([]byte("ignore: [{category: x, image: '[', reason: y}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse("f.yaml", b)
		if err == nil && p == nil {
			t.Fatal("nil policy without error")
		}
	})
}
