package checks

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgaudit/imgaudit/pkg/caps"
	"github.com/imgaudit/imgaudit/pkg/layers"
)

// bigImage is a usrmerge distribution-like filesystem with n files spread
// over PATH and library directories, squashed without tar streams.
func bigImage(b testing.TB, n int) *Image {
	b.Helper()
	idx := &layers.LayerIndex{Files: map[string][]byte{}}
	add := func(e layers.Entry) { idx.Entries = append(idx.Entries, e) }
	dir := func(p string) { add(layers.Entry{Path: p, Type: layers.TypeDir, Mode: 0o755}) }
	dir("/usr")
	dir("/usr/bin")
	dir("/usr/lib")
	add(layers.Entry{Path: "/bin", Type: layers.TypeSymlink, Linkname: "usr/bin"})
	exe := layers.Content{Kind: layers.ContentELF, Interpreter: "/lib64/ld-linux-x86-64.so.2"}
	for _, t := range []string{"dash", "bash", "apt", "curl", "chmod", "su"} {
		add(layers.Entry{Path: "/usr/bin/" + t, Type: layers.TypeRegular, Mode: 0o755, Size: 100, Content: exe})
	}
	add(layers.Entry{Path: "/usr/bin/sh", Type: layers.TypeSymlink, Linkname: "dash"})
	for i := 0; i < n; i++ {
		d := fmt.Sprintf("/usr/lib/pkg%d", i/100)
		if i%100 == 0 {
			dir(d)
		}
		mode := fsMode(0o644)
		if i%10 == 0 {
			add(layers.Entry{Path: fmt.Sprintf("/usr/bin/tool%d", i), Type: layers.TypeRegular, Mode: 0o755, Size: 10, Content: exe})
		}
		add(layers.Entry{Path: fmt.Sprintf("%s/file%d.so", d, i), Type: layers.TypeRegular, Mode: mode, Size: 10})
	}
	f, err := layers.Squash([]*layers.LayerIndex{idx}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return NewImage("big", &v1.ConfigFile{}, f)
}

// richFiles is the number of library files of the images BenchmarkCheck and
// BenchmarkFamily audit.
const richFiles = 100_000

// richUsers are the USER values of the rich image. The user checks exclude
// each other (one user is root, unknown or a name), so each gets the image
// variant that triggers it; every other check runs on the default.
const (
	richUserDefault = "app"   // in /etc/passwd with uid 1000: IA-USER-NAME
	richUserRoot    = "admin" // an "admin:x:0:0" alias of root: IA-ROOT-USER
	richUserUnknown = "ghost" // no such account: IA-USER-UNKNOWN
)

// richUser is the USER under which a check has something to find.
func richUser(id string) string {
	switch id {
	case "IA-ROOT-USER":
		return richUserRoot
	case "IA-USER-UNKNOWN":
		return richUserUnknown
	}
	return richUserDefault
}

// richWant is the least number of findings each check must report on the
// rich image run as user; a check missing from it (a new one) must report at
// least one, or richFS must learn to plant what it looks for.
func richWant(planted map[string]int, user string) map[string]int {
	want := map[string]int{}
	for id, n := range planted {
		want[id] = n
	}
	for _, id := range []string{"IA-ROOT-USER", "IA-USER-UNKNOWN", "IA-USER-NAME"} {
		want[id] = 0
	}
	switch user {
	case richUserRoot:
		want["IA-ROOT-USER"] = 1
	case richUserUnknown:
		want["IA-USER-UNKNOWN"] = 1
	default:
		want["IA-USER-NAME"] = 1
	}
	return want
}

// richDigest is a made-up digest, distinct for each i.
func richDigest(kind string, i int) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%s%060x", kind, i)[:64]}
}

// richConfig is the config of the rich image running as user: credentials in
// ENV and in the history, no HEALTHCHECK, a dynamically linked entrypoint,
// three layers and the empty steps between them.
func richConfig(user string) *v1.ConfigFile {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"DB_PASSWORD=hunter2hunter2",                                  // credential name
		"GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",     // credential name and token format
		"SENTRY_DSN=https://client:s3cr3tvalue@sentry.example.com/42", // URL with a password
		"TOKEN_URL=https://auth.example.com/token",                    // describes a credential, is none
		"LANG=C.UTF-8",
	}
	for i := 0; i < 30; i++ {
		env = append(env, fmt.Sprintf("APP_SETTING_%d=value-%d", i, i))
	}
	cfg := &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Config: v1.Config{
			User:       user,
			Env:        env,
			Entrypoint: []string{"/opt/app/server"},
			Cmd:        []string{"--listen", ":8080"},
			WorkingDir: "/opt/app",
		},
		History: []v1.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:6b1d5d9d7b8a in / "},
			{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`, EmptyLayer: true},
			{CreatedBy: "/bin/sh -c #(nop)  ENV DB_PASSWORD=hunter2hunter2", EmptyLayer: true},
			{CreatedBy: "ARG NPM_TOKEN", EmptyLayer: true},
			{CreatedBy: "|1 NPM_TOKEN=npm_abcdefghijklmnopqrstuvwxyz0123456789 /bin/sh -c apt-get update && " +
				"apt-get install -y --no-install-recommends curl strace gcc-12 openssh-server netcat-openbsd && " +
				"curl -fsSL -u deploy:s3cr3tPassw0rd https://artifacts.example.com/app.tar.gz | tar -xz -C /opt/app"},
			{CreatedBy: "RUN /bin/sh -c rm -f /root/.ssh/id_rsa /usr/bin/nc # buildkit"},
			{CreatedBy: "USER " + user, EmptyLayer: true},
			{CreatedBy: `ENTRYPOINT ["/opt/app/server"]`, EmptyLayer: true},
		},
	}
	for i := 0; i < 3; i++ {
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, richDigest("d1ff", i))
	}
	return cfg
}

// richFS is a three-layer Debian-like filesystem with n library files in
// which every check of the catalogue has work at scale and something to
// find:
//
//   - layer 0 (the base): usrmerge, /etc/passwd, /etc/group, /etc/shadow
//     with a password hash and an empty password, os-release, a dpkg status
//     of a few hundred packages with their info/*.list file lists, n library
//     files and n/10 executables in /usr/bin, shells, apt and dpkg, chmod,
//     setuid and setgid files, world-writable files and directories, a
//     private key in a skipped test fixture;
//   - layer 1 (RUN apt-get install): curl, strace, gcc with a GNU-triplet
//     hardlink, sshd, nc, an SSH private key, the rewritten dpkg status, a
//     file written through the /bin symlink, a hardlink to nothing;
//   - layer 2 (RUN rm): whiteouts of the key and of nc (so lower layers
//     still ship them), the application with a private key, .npmrc and .env,
//     and the anomalies a hostile tar stream leaves in an index.
//
// It returns the filesystem and the least number of findings each check
// must report (see richWant). Captured files are checked against the
// catalogue's capture patterns: a file no check asks for would not be
// captured by a real scan.
func richFS(b testing.TB, n int) (*layers.FS, map[string]int) {
	b.Helper()
	planted := map[string]int{}
	captures := Captures(All())
	exe := layers.Content{Kind: layers.ContentELF, Interpreter: "/lib64/ld-linux-x86-64.so.2"}
	newLayer := func() *layers.LayerIndex { return &layers.LayerIndex{Files: map[string][]byte{}} }
	var idx *layers.LayerIndex
	add := func(e layers.Entry) { idx.Entries = append(idx.Entries, e) }
	dir := func(p string, mode fs.FileMode) { add(layers.Entry{Path: p, Type: layers.TypeDir, Mode: mode}) }
	file := func(p string, mode fs.FileMode, c layers.Content) {
		add(layers.Entry{Path: p, Type: layers.TypeRegular, Mode: mode, Size: 4096, Content: c})
	}
	symlink := func(p, target string) { add(layers.Entry{Path: p, Type: layers.TypeSymlink, Linkname: target}) }
	capture := func(p string, mode fs.FileMode, data string) {
		if !slices.ContainsFunc(captures, func(pat string) bool { return layers.Match(pat, p) }) {
			b.Fatalf("richFS captures %s, which no check asks for (Captures(All()) = %q)", p, captures)
		}
		idx.Files[p] = []byte(data)
		add(layers.Entry{Path: p, Type: layers.TypeRegular, Mode: mode, Size: int64(len(data))})
	}

	// Packages: the base system, what layer 1 installs, and npkgs libraries
	// that own the library files and the /usr/bin executables.
	const npkgs = 300
	type pkg struct {
		name  string
		files []string // nil: no info/*.list
	}
	base := []pkg{
		{"base-files", []string{"/etc/os-release", "/usr/lib/os-release"}},
		{"bash", []string{"/bin/bash", "/usr/share/doc/bash/copyright"}},
		{"dash", []string{"/bin/dash", "/bin/sh"}},
		{"coreutils", []string{"/bin/chmod", "/bin/chown", "/bin/ls", "/bin/cat"}},
		{"login", []string{"/bin/su", "/usr/bin/passwd", "/usr/bin/chage"}},
		{"mount", []string{"/bin/mount", "/bin/umount"}},
		{"apt", []string{"/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/apt-cache"}},
		{"dpkg", []string{"/usr/bin/dpkg", "/usr/bin/dpkg-query"}},
		{"wget", nil}, // recorded, no file list, no wget in PATH: IA-PACKAGE-RECORD
	}
	installed := []pkg{
		{"curl", []string{"/usr/bin/curl"}},
		{"strace", []string{"/usr/bin/strace"}},
		{"gcc-12", []string{"/usr/bin/gcc-12", "/usr/bin/x86_64-linux-gnu-gcc-12"}},
		{"openssh-server", []string{"/usr/sbin/sshd"}},
		{"netcat-openbsd", []string{"/usr/bin/nc"}}, // deleted by layer 2: IA-PACKAGE-RECORD
	}
	planted["IA-PACKAGE-RECORD"] = 2
	libs := make([]pkg, npkgs)
	for k := range libs {
		libs[k].name = fmt.Sprintf("libbench%d", k)
	}
	status := func(ps ...[]pkg) string {
		var s strings.Builder
		for _, list := range ps {
			for _, p := range list {
				fmt.Fprintf(&s, "Package: %s\nStatus: install ok installed\nPriority: optional\nSection: libs\n"+
					"Installed-Size: 1234\nMaintainer: Bench <bench@example.com>\nArchitecture: amd64\nVersion: 1.%d-1\n"+
					"Depends: libc6 (>= 2.36)\nDescription: %s for benchmarks\n a longer description\n .\n over lines\n\n",
					p.name, len(p.files), p.name)
			}
		}
		return s.String()
	}
	lists := func(ps []pkg) {
		for _, p := range ps {
			if p.files != nil {
				capture("/var/lib/dpkg/info/"+p.name+".list", 0o644, strings.Join(p.files, "\n")+"\n")
			}
		}
	}

	// Layer 0: the base.
	l0 := newLayer()
	idx = l0
	dir("/", 0o755)
	for _, d := range []string{"/etc", "/usr", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/share", "/usr/share/doc", "/var",
		"/var/lib", "/var/lib/dpkg", "/var/lib/dpkg/info", "/var/cache", "/root", "/home", "/opt", "/opt/app"} {
		dir(d, 0o755)
	}
	dir("/tmp", fs.ModeSticky|0o777) // 1777: fine
	symlink("/bin", "usr/bin")
	symlink("/sbin", "usr/sbin")
	symlink("/lib", "usr/lib")
	passwd := "root:x:0:0:root:/root:/bin/bash\nadmin:x:0:0:admin:/root:/bin/bash\n" +
		"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nbin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
	shadow := "root:*:19000:0:99999:7:::\nadmin:!:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n"
	group := "root:x:0:\ndaemon:x:1:\nbin:x:2:\nshadow:x:42:\n"
	for i := 0; i < 40; i++ {
		passwd += fmt.Sprintf("svc%d:x:%d:%d:service %d:/nonexistent:/usr/sbin/nologin\n", i, 100+i, 100+i, i)
		shadow += fmt.Sprintf("svc%d:!:19000::::::\n", i)
		group += fmt.Sprintf("svc%d:x:%d:\n", i, 100+i)
	}
	passwd += "app:x:1000:1000:app:/home/app:/bin/bash\nguest:x:1001:1001::/home/guest:/bin/sh\n" +
		"legacy:$1$saltsalt$qjXq3Yv3pA1rWqE9k6lOY/:1002:1002::/home/legacy:/bin/sh\n" // a hash in passwd
	shadow += "app:$6$rounds=5000$salt$3fQ0Ck0lGf4Qm5V8b1rJxZpEh7Yd1u2xN9o0kLwS8tVb.:19000:0:99999:7:::\n" + // a hash
		"guest::19000:0:99999:7:::\n" // an empty password
	group += "app:x:1000:\nguest:x:1001:\nlegacy:x:1002:\n"
	planted["IA-PASSWORD"] = 3
	capture("/etc/passwd", 0o644, passwd)
	capture("/etc/shadow", 0o640, shadow)
	capture("/etc/group", 0o644, group) // the runtime's user lookup reads it
	capture("/etc/os-release", 0o644, "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n"+
		"VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"+
		"HOME_URL=\"https://www.debian.org/\"\nSUPPORT_URL=\"https://www.debian.org/support\"\n")
	for _, t := range []string{"bash", "dash", "ls", "cat", "chmod", "chown", "apt", "apt-get", "apt-cache", "dpkg", "dpkg-query", "umount"} {
		file("/usr/bin/"+t, 0o755, exe)
	}
	symlink("/usr/bin/sh", "dash")
	file("/usr/bin/su", fs.ModeSetuid|0o755, exe)
	file("/usr/bin/passwd", fs.ModeSetuid|0o755, exe)
	file("/usr/bin/mount", fs.ModeSetuid|0o755, exe)
	file("/usr/bin/chage", fs.ModeSetgid|0o755, exe)
	planted["IA-SETUID"], planted["IA-SETGID"] = 3, 1
	add(layers.Entry{Path: "/usr/bin/ping", Type: layers.TypeRegular, Mode: 0o755, Content: exe,
		Xattrs: map[string]string{caps.XattrName: string(caps.Encode(caps.FileCaps{Effective: true, Permitted: 1 << 13}))}}) // cap_net_raw+ep
	planted["IA-FILE-CAPABILITY"] = 1
	dir("/var/cache/app", 0o777) // world-writable, no sticky bit
	planted["IA-WORLD-WRITABLE"] = 1
	dir("/usr/lib/python3", 0o755)
	dir("/usr/lib/python3/tests", 0o755)
	file("/usr/lib/python3/tests/key.pem", 0o644, layers.Content{Extra: &layers.ContentExtra{PrivateKey: "RSA PRIVATE KEY"}}) // a fixture: skipped

	for i := 0; i < n; i++ {
		d := fmt.Sprintf("/usr/lib/pkg%d", i/100)
		if i%100 == 0 {
			dir(d, 0o755)
		}
		owner := &libs[(i/100)%npkgs]
		if i%10 == 0 {
			// Executables in PATH, some named like GNU triplets or versioned
			// tools, none in a tool category.
			name := fmt.Sprintf("tool%d", i)
			switch i % 30 {
			case 10:
				name = fmt.Sprintf("x86_64-linux-gnu-tool%d", i)
			case 20:
				name = fmt.Sprintf("tool-%d.2", i)
			}
			file("/usr/bin/"+name, 0o755, exe)
			owner.files = append(owner.files, "/usr/bin/"+name)
		}
		mode := fsMode(0o644)
		switch {
		case i%5000 == 1:
			mode |= fs.ModeSetuid | 0o111
			planted["IA-SETUID"]++
		case i%5000 == 2:
			mode |= fs.ModeSetgid | 0o111
			planted["IA-SETGID"]++
		case i%2000 == 3:
			mode |= 0o666
			planted["IA-WORLD-WRITABLE"]++
		}
		p := fmt.Sprintf("%s/file%d.so", d, i)
		add(layers.Entry{Path: p, Type: layers.TypeRegular, Mode: mode, Size: 4096, Content: exe})
		owner.files = append(owner.files, p)
	}
	capture("/var/lib/dpkg/status", 0o644, status(base, libs))
	lists(base)
	lists(libs)

	// Layer 1: RUN apt-get install ...
	l1 := newLayer()
	idx = l1
	for _, t := range []string{"curl", "strace", "gcc-12", "nc"} {
		file("/usr/bin/"+t, 0o755, exe)
	}
	add(layers.Entry{Path: "/usr/bin/x86_64-linux-gnu-gcc-12", Type: layers.TypeHardlink, Mode: 0o755, Linkname: "/usr/bin/gcc-12"} /* a tar writer records the shared file's mode */)
	file("/usr/sbin/sshd", 0o755, exe)
	dir("/root/.ssh", 0o700)
	file("/root/.ssh/id_rsa", 0o600, layers.Content{Extra: &layers.ContentExtra{PrivateKey: "RSA PRIVATE KEY"}}) // deleted by layer 2
	capture("/var/lib/dpkg/status", 0o644, status(base, libs, installed))
	lists(installed)
	file("/bin/extra-helper", 0o755, exe) // through the /bin symlink: IA-LAYER-ANOMALY
	add(layers.Entry{Path: "/usr/bin/gone", Type: layers.TypeHardlink, Linkname: "/usr/bin/never-was"})
	planted["IA-LAYER-ANOMALY"] = 2

	// Layer 2: RUN rm ..., then the application.
	l2 := newLayer()
	idx = l2
	l2.Entries = append(l2.Entries, layers.Entry{Path: "/root/.ssh/id_rsa", Type: layers.TypeWhiteout}, layers.Entry{Path: "/usr/bin/nc", Type: layers.TypeWhiteout})
	file("/opt/app/server", 0o755, exe)
	file("/opt/app/server.key", 0o600, layers.Content{Extra: &layers.ContentExtra{PrivateKey: "EC PRIVATE KEY"}})
	capture("/opt/app/.npmrc", 0o644, "registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789\n")
	file("/opt/app/.env", 0o644, layers.Content{})
	file("/opt/app/settings.py", 0o644, layers.Content{Extra: &layers.ContentExtra{PrivateKey: "RSA PRIVATE KEY"}}) // source code: a parser constant
	// server.key, .npmrc, .env, and the id_rsa layer 1 still ships.
	planted["IA-SECRET-FILE"] = 4
	dir("/opt/app/data", 0o777)
	planted["IA-WORLD-WRITABLE"]++
	l2.Anomalies = []layers.Anomaly{
		{Kind: layers.AnomalyEscapingName, Path: "/evil.sh", Detail: "../../evil.sh", Layer: -1},
		{Kind: layers.AnomalyEscapingLink, Path: "/opt/app/shadow", Detail: "../../../../etc/shadow", Layer: -1},
		{Kind: layers.AnomalyDuplicate, Path: "/opt/app/server", Detail: "opt/app/server", Layer: -1},
	}
	planted["IA-PATH-ESCAPE"] = 2
	planted["IA-LAYER-ANOMALY"]++
	planted["IA-SECRET-ENV"] = 3
	planted["IA-SECRET-HISTORY"] = 2

	descs := make([]v1.Descriptor, 3)
	for i := range descs {
		descs[i] = v1.Descriptor{Digest: richDigest("b10b", i), Size: 10 << 20}
	}
	f, err := layers.Squash([]*layers.LayerIndex{l0, l1, l2}, layers.Attribute(richConfig(richUserDefault), descs))
	if err != nil {
		b.Fatal(err)
	}
	return f, planted
}

// benchRun runs the checks b.N times, each time on a new Image over fsys and
// cfg: an Image derives its indexes (PATH tools, passwd, packages, ...) once
// and keeps them, so reusing one would time that work only once. The FS
// itself is immutable and derives nothing, so it is shared. Images are made
// in batches with the timer stopped, and each is dropped once run. The last
// run's findings must satisfy want (see expectFindings).
func benchRun(b *testing.B, fsys *layers.FS, cfg *v1.ConfigFile, cs []Check, want map[string]int) {
	b.Helper()
	ctx := context.Background()
	const batch = 256
	imgs := make([]*Image, batch)
	var last []Finding
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		m := min(batch, b.N-i)
		for j := 0; j < m; j++ {
			imgs[j] = NewImage("rich", cfg, fsys)
		}
		b.StartTimer()
		for j := 0; j < m; j++ {
			fs, err := Run(ctx, imgs[j], cs)
			if err != nil {
				b.Fatal(err)
			}
			imgs[j], last = nil, fs
		}
		i += m
	}
	b.StopTimer()
	expectFindings(b, cs, last, want)
}

// expectFindings fails the benchmark when a check reported fewer findings
// than want says (at least one for a check want does not name), so that a
// benchmark of a check that stopped finding anything does not go on timing
// nothing.
func expectFindings(b testing.TB, cs []Check, got []Finding, want map[string]int) {
	b.Helper()
	for _, c := range cs {
		id := c.Meta().ID
		least, ok := want[id]
		if !ok {
			least = 1
		}
		n := 0
		for _, f := range got {
			if f.ID == id {
				n++
			}
		}
		if n < least {
			b.Fatalf("%s: %d findings, want at least %d: the check found nothing it should have, or the benchmark image "+
				"(richFS, richConfig) does not plant what it looks for", id, n, least)
		}
	}
}

// BenchmarkCheck times each check alone on a fresh image of richFiles
// library files, so each pays for the indexes it derives (PATH tools,
// passwd, packages) as it would running first.
func BenchmarkCheck(b *testing.B) {
	fsys, planted := richFS(b, richFiles)
	for _, c := range All() {
		id := c.Meta().ID
		user := richUser(id)
		cfg := richConfig(user)
		want := richWant(planted, user)
		b.Run(id, func(b *testing.B) {
			benchRun(b, fsys, cfg, []Check{c}, want)
		})
	}
}

// benchFamilies maps check categories to the families BenchmarkFamily
// times together; tool checks (those with Names) form the "tools" family,
// and a check of a category not listed here gets a family of its own, named
// after its category.
var benchFamilies = map[Category]string{
	CategorySetuid:           "file-modes",
	CategorySetgid:           "file-modes",
	CategoryWorldWritable:    "file-modes",
	CategoryFileCapability:   "file-modes",
	CategoryRootUser:         "user",
	CategoryUserUnverifiable: "user",
	CategorySecret:           "secrets",
	CategoryPassword:         "secrets",
	CategoryBase:             "base+packages",
	CategoryPackageRecord:    "base+packages",
	CategorySuspiciousPath:   "anomalies",
	CategoryHealthcheck:      "config",
}

func benchFamily(m Meta) string {
	if len(m.Names) > 0 {
		return "tools"
	}
	if f, ok := benchFamilies[m.Category]; ok {
		return f
	}
	return string(m.Category)
}

// BenchmarkFamily times the checks of each family together on a fresh
// image, as a run of the catalogue does: they share the indexes the image
// derives. The image runs as the default user, so of the user family only
// IA-USER-NAME must find something.
func BenchmarkFamily(b *testing.B) {
	fsys, planted := richFS(b, richFiles)
	cfg := richConfig(richUserDefault)
	want := richWant(planted, richUserDefault)
	var order []string
	families := map[string][]Check{}
	for _, c := range All() {
		f := benchFamily(c.Meta())
		if families[f] == nil {
			order = append(order, f)
		}
		families[f] = append(families[f], c)
	}
	for _, f := range order {
		b.Run(f, func(b *testing.B) {
			benchRun(b, fsys, cfg, families[f], want)
		})
	}
}

func BenchmarkRunAll(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			var last []Finding
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				img := bigImage(b, n)
				b.StartTimer()
				fs, err := Run(context.Background(), img, All())
				if err != nil {
					b.Fatal(err)
				}
				last = fs
			}
			b.StopTimer()
			// USER unset, no HEALTHCHECK, shells and tools in PATH.
			expectFindings(b, []Check{RootUser(), Shell(), PackageManager(), NetworkTool(), PermissionTool(),
				PrivilegeTool(), BaseImage(), Healthcheck()}, last, nil)
		})
	}
	// The whole catalogue on the rich image: every check has work and
	// findings.
	var fsys *layers.FS
	var planted map[string]int
	b.Run(fmt.Sprintf("rich-%d", richFiles), func(b *testing.B) {
		if fsys == nil { // built once, not once per round of b.N
			fsys, planted = richFS(b, richFiles)
		}
		benchRun(b, fsys, richConfig(richUserDefault), All(), richWant(planted, richUserDefault))
	})
}
