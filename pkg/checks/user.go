package checks

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

const (
	etcPasswd = "/etc/passwd"
	etcShadow = "/etc/shadow"
)

// userNeeds are the files ResolveUser reads: /etc/passwd, and every file
// named passwd, so that an /etc/passwd that is a symlink (Nix images link it
// into /nix/store) is read at its target.
var userNeeds = []string{etcPasswd, "**/passwd"}

// User is who the container runs as, as far as the image tells.
type User struct {
	// Configured is the config's User field as written ("" when unset).
	Configured string `json:"configured"`
	// UID is the numeric user ID, nil when it cannot be known (a name absent
	// from /etc/passwd).
	UID *int `json:"uid"`
	// Root is true when the container runs as uid 0: User unset or empty,
	// "0" or "root" (with any group), or a name /etc/passwd maps to uid 0.
	Root bool `json:"root"`
	// Verifiable is true when the user is numeric (or unset), so a runtime
	// such as Kubernetes runAsNonRoot can check it without the image's
	// /etc/passwd. It is false for every name, "root" included.
	Verifiable bool `json:"verifiable"`
	// InPasswd is true when a name was found in /etc/passwd.
	InPasswd bool `json:"inPasswd,omitempty"`
}

// ResolveUser determines the user the container runs as from the config's
// User field ("user", "user:group", "uid", "uid:gid") and /etc/passwd, the
// way runc does: a numeric user is a UID (no passwd entry needed), a name is
// looked up in /etc/passwd (first match). The group part never makes a user
// root or non-root.
func ResolveUser(img *Image) User {
	configured := img.config().User
	u := User{Configured: configured}
	name, _, _ := strings.Cut(strings.TrimSpace(configured), ":")
	name = strings.TrimSpace(name)
	zero := 0
	switch {
	case name == "":
		u.UID, u.Root, u.Verifiable = &zero, true, true
	case isDigits(name):
		id, err := strconv.Atoi(name)
		if err != nil { // too large for any kernel
			return u
		}
		u.UID, u.Root, u.Verifiable = &id, id == 0, true
	default:
		if a, ok := img.passwd().lookup(name); ok {
			uid := a.uid
			u.UID, u.InPasswd = &uid, true
		}
		if name == "root" {
			u.UID = &zero
		}
		u.Root = u.UID != nil && *u.UID == 0
	}
	return u
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// account is one /etc/passwd entry.
type account struct {
	name string
	uid  int
	gid  int
	pw   string // the password field
	line int    // 1-based line number
}

// passwdFile is the parsed /etc/passwd.
type passwdFile struct {
	node     *layers.Node // nil when the image has no /etc/passwd
	captured bool
	accounts []account
}

func (p *passwdFile) lookup(name string) (account, bool) {
	for _, a := range p.accounts {
		if a.name == name {
			return a, true
		}
	}
	return account{}, false
}

// passwd parses /etc/passwd once. Malformed lines, comments and NIS "+"/"-"
// entries are skipped.
func (img *Image) passwd() *passwdFile {
	img.pwOnce.Do(func() {
		n, err := img.fsys().Stat(etcPasswd)
		if err != nil || n.Type != layers.TypeRegular {
			return
		}
		img.pw.node = n
		b, ok := img.readFile(etcPasswd)
		if !ok {
			return
		}
		img.pw.captured = true
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
		for ln := 1; sc.Scan(); ln++ {
			l := sc.Text()
			if l == "" || l[0] == '#' || l[0] == '+' || l[0] == '-' {
				continue
			}
			f := strings.Split(l, ":")
			if len(f) < 4 || f[0] == "" || !isDigits(f[2]) || !isDigits(f[3]) {
				continue
			}
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 != nil || err2 != nil {
				continue
			}
			img.pw.accounts = append(img.pw.accounts, account{name: f[0], uid: uid, gid: gid, pw: f[1], line: ln})
		}
	})
	return &img.pw
}

// userStep returns the reference of the last USER history step, nil when
// there is none.
func (img *Image) userStep() *LayerRef {
	if i := img.lastStep("USER", nil); i >= 0 {
		return img.historyRef(i)
	}
	return nil
}
