package checks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/moby/sys/user"

	"github.com/imgaudit/imgaudit/pkg/layers"
)

const (
	etcPasswd = "/etc/passwd"
	etcGroup  = "/etc/group"
	etcShadow = "/etc/shadow"
)

// userNeeds are the files ResolveUser reads: /etc/passwd and /etc/group,
// and every file named passwd or group, so that a file that is a symlink
// (Nix images link them into /nix/store) is read at its target.
func userNeeds() []string { return []string{etcPasswd, "**/passwd", etcGroup, "**/group"} }

// runtimeLineMax is the longest /etc/passwd line the runtime's parser
// (github.com/moby/sys/user, a bufio.Scanner with its default buffer) reads:
// a longer line makes it fail the whole lookup.
const runtimeLineMax = bufio.MaxScanTokenSize - 1

// User is who the container runs as, as far as the image tells.
type User struct {
	// Configured is the config's User field as written ("" when unset).
	Configured string `json:"configured"`
	// UID is the numeric user ID, nil when it cannot be known (a name absent
	// from /etc/passwd, a value the runtime rejects).
	UID *int `json:"uid"`
	// Root is true when the container may run as uid 0: the runtime resolves
	// the user to uid 0 (User unset or empty, "0", "+0", "00", a name
	// /etc/passwd maps to uid 0 by its first matching line), or another
	// reading of the value does (see [ResolveUser]).
	Root bool `json:"root"`
	// Verifiable is true when the user is numeric (or unset), so a runtime
	// such as Kubernetes runAsNonRoot can check it without the image's
	// /etc/passwd. It is false for every name, "root" included.
	Verifiable bool `json:"verifiable"`
	// InPasswd is true when a name was found in /etc/passwd.
	InPasswd bool `json:"inPasswd,omitempty"`
	// Problem says why the runtime's answer is not the whole story: the
	// runtime's error (it refuses to start the container), or the other
	// reading that makes the user root. Empty when there is nothing to say.
	Problem string `json:"problem,omitempty"`
}

// ResolveUser determines the user the container runs as from the config's
// User field and the image's /etc/passwd and /etc/group, with the parser
// runc, Docker and containerd use (github.com/moby/sys/user GetExecUser):
// the value is split at ":" as is (no trimming); a user part that
// strconv.Atoi accepts ("1000", "+0", "00") is a uid; a name is looked up
// in /etc/passwd, first matching line winning, where every line is trimmed
// and a field that is not a number ("1000 ", "") reads as 0.
//
// It fails closed. When the runtime rejects the value (a name or group it
// cannot find, a uid out of range, an unreadable /etc/passwd) or imgaudit
// cannot read what the runtime would (/etc/passwd too large to capture),
// the user is not verifiable and UID is nil, unless another reading makes
// it root: the user part alone (without its group), the value with
// surrounding white space trimmed, /etc/passwd without its over-long lines,
// or the name "root". Any reading that gives uid 0 makes Root true.
func ResolveUser(img *Image) User {
	u, _ := resolveUser(img)
	return u
}

// resolved is the resolved-user view: the user and the runtime's error.
type resolved struct {
	user User
	err  error
}

// resolveUser is ResolveUser that also returns the runtime's error, nil
// when the runtime accepts the value. It is computed once per image.
func resolveUser(img *Image) (User, error) {
	r := view(img, viewUser, func(img *Image) resolved {
		u, err := buildUser(img)
		return resolved{u, err}
	})
	u := r.user
	if u.UID != nil {
		uid := *u.UID // a copy: callers may keep or change theirs
		u.UID = &uid
	}
	return u, r.err
}

func buildUser(img *Image) (User, error) {
	spec := configOf(img).User
	u := User{Configured: spec}
	db := usersOf(img)
	userPart, _, _ := strings.Cut(spec, ":")
	_, numErr := strconv.Atoi(userPart)
	numeric := numErr == nil

	uid, err := db.resolve(spec, true)
	switch {
	case err == nil:
		u.UID = &uid
		u.Root = uid == 0
		u.Verifiable = numeric || userPart == ""
		u.InPasswd = !u.Verifiable
	default:
		u.Problem = err.Error()
	}
	if u.Root {
		return u, err
	}
	if why := db.rootReading(spec); why != "" {
		zero := 0
		u.UID, u.Root = &zero, true
		if u.Problem != "" {
			u.Problem += "; " + why
		} else {
			u.Problem = fmt.Sprintf("the runtime resolves it to uid %d, but %s", uid, why)
		}
	}
	return u, err
}

// errUnreadable marks a lookup imgaudit cannot decide: the runtime would
// read a file whose contents were not captured.
type errUnreadable struct{}

func (errUnreadable) Error() string { return "/etc/passwd could not be read" }

// rootReading returns how another reading of spec than the runtime's gives
// uid 0, or "".
func (db *passwdFile) rootReading(spec string) string {
	userPart, _, _ := strings.Cut(spec, ":")
	trimmed := strings.TrimSpace(userPart)
	switch {
	case trimmed == "root":
		return `"root" is uid 0 by convention`
	case db.isRoot(userPart, false):
		return "the user part alone (without its group) is uid 0"
	case trimmed != userPart && db.isRoot(trimmed, false):
		return fmt.Sprintf("read as %q (white space trimmed) it is uid 0", trimmed)
	case db.passwd.hasLongLine() && (db.isRoot(userPart, true) || (trimmed != userPart && db.isRoot(trimmed, true))):
		return fmt.Sprintf("/etc/passwd without its lines over %d bytes maps it to uid 0", runtimeLineMax)
	}
	return ""
}

func (db *passwdFile) isRoot(userPart string, shortLines bool) bool {
	if strings.Contains(userPart, ":") {
		return false
	}
	var uid int
	var err error
	if shortLines {
		uid, err = lookupUID(userPart, bytes.NewReader(dropLongLines(db.passwd.data)), nil)
	} else {
		uid, err = db.resolve(userPart, false)
	}
	return err == nil && uid == 0
}

// resolve returns the uid the runtime gives spec, reading /etc/group only
// when withGroup is set.
func (db *passwdFile) resolve(spec string, withGroup bool) (int, error) {
	userPart, _, _ := strings.Cut(spec, ":")
	pw, ok := db.passwd.reader()
	if !ok {
		if _, err := strconv.Atoi(userPart); err != nil && userPart != "" {
			return 0, errUnreadable{}
		}
		// A uid does not depend on /etc/passwd: the runtime reads it only
		// to fill in the group and home.
		pw = nil
	}
	var gr io.Reader
	if withGroup {
		if gr, ok = db.group.reader(); !ok {
			gr = nil // only the group part or supplementary groups depend on it
		}
	}
	return lookupUID(spec, pw, gr)
}

// lookupUID calls the runtime's resolution.
func lookupUID(spec string, passwd, group io.Reader) (int, error) {
	eu, err := user.GetExecUser(spec, nil, passwd, group)
	if err != nil {
		return 0, err
	}
	return eu.Uid, nil
}

// dropLongLines returns b without the lines the runtime's parser cannot
// read.
func dropLongLines(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		if len(line) <= runtimeLineMax {
			out = append(append(out, line...), '\n')
		}
		b = rest
	}
	return out
}

// userFile is /etc/passwd or /etc/group as the runtime would open it.
type userFile struct {
	node     *layers.Node // the regular file the path resolves to; nil when none
	isDir    bool         // the path resolves to a directory
	exists   bool         // the path resolves to something
	data     []byte
	captured bool
}

// reader returns what the runtime's parser reads and whether imgaudit knows
// it: nil when the file cannot be opened (runc then passes no reader), a
// failing reader for a directory (it opens, then fails to read).
func (f *userFile) reader() (io.Reader, bool) {
	switch {
	case !f.exists:
		return nil, true
	case f.isDir:
		return errReader{}, true
	case f.captured:
		return bytes.NewReader(f.data), true
	}
	return nil, false
}

// hasLongLine reports whether the captured file has a line the runtime's
// parser cannot read.
func (f *userFile) hasLongLine() bool {
	if !f.captured || f.isDir {
		return false
	}
	for b := f.data; len(b) > 0; {
		line, rest, _ := bytes.Cut(b, []byte("\n"))
		if len(line) > runtimeLineMax {
			return true
		}
		b = rest
	}
	return false
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("is a directory") }

func openUserFile(img *Image, p string) userFile {
	var f userFile
	n, err := filesOf(img).Stat(p)
	if err != nil {
		return f // cannot be opened: missing, dangling, a loop
	}
	f.exists = true
	switch n.Type {
	case layers.TypeDir:
		f.isDir = true
	case layers.TypeRegular:
		f.node = n
		f.data, f.captured = readFile(img, p)
	}
	return f
}

// account is one /etc/passwd entry, as the password check reads it.
type account struct {
	name string
	pw   string // the password field
}

// passwdFile is what the image says about its users.
type passwdFile struct {
	passwd, group userFile
	// accounts are the well-formed /etc/passwd lines (at least four fields,
	// numeric uid and gid; comments and NIS "+"/"-" entries skipped), the
	// way glibc reads them for su and login: only their password fields are
	// used.
	accounts []account
}

// usersOf returns the users view of img: /etc/passwd and /etc/group.
func usersOf(img *Image) *passwdFile {
	return view(img, viewUsers, func(img *Image) *passwdFile {
		db := &passwdFile{passwd: openUserFile(img, etcPasswd), group: openUserFile(img, etcGroup)}
		if db.passwd.captured {
			db.accounts = parseAccounts(db.passwd.data)
		}
		return db
	})
}

// parseAccounts reads the password fields of well-formed /etc/passwd lines.
func parseAccounts(b []byte) []account {
	var out []account
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, len(b)+1) // a long line must not end the parse early
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' || l[0] == '+' || l[0] == '-' {
			continue
		}
		f := strings.Split(l, ":")
		if len(f) < 4 || f[0] == "" || !isDigits(f[2]) || !isDigits(f[3]) {
			continue
		}
		out = append(out, account{name: f[0], pw: f[1]})
	}
	return out
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
