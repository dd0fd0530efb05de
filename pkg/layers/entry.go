package layers

import (
	"io/fs"
)

// Type is the kind of a filesystem entry.
type Type uint8

// Entry types. TypeWhiteout and TypeOpaque are the whiteout markers of a
// layer, kept in [LayerIndex.Entries] in tar order (where they stand matters
// to runtimes); they never appear in the final filesystem.
const (
	TypeRegular Type = iota + 1
	TypeDir
	TypeSymlink
	TypeHardlink
	TypeCharDevice
	TypeBlockDevice
	TypeFIFO
	// TypeWhiteout deletes Path from lower layers (a ".wh.NAME" entry).
	TypeWhiteout
	// TypeOpaque hides the lower-layer contents of directory Path (a
	// ".wh..wh..opq" entry inside it).
	TypeOpaque
)

// String returns a short lowercase name such as "file" or "symlink".
func (t Type) String() string {
	switch t {
	case TypeRegular:
		return "file"
	case TypeDir:
		return "dir"
	case TypeSymlink:
		return "symlink"
	case TypeHardlink:
		return "hardlink"
	case TypeCharDevice:
		return "char-device"
	case TypeBlockDevice:
		return "block-device"
	case TypeFIFO:
		return "fifo"
	case TypeWhiteout:
		return "whiteout"
	case TypeOpaque:
		return "opaque"
	}
	return "unknown"
}

// ContentKind says what the first bytes of a regular file look like.
type ContentKind uint8

// Content kinds sniffed from the head of regular files.
const (
	ContentUnknown ContentKind = iota
	ContentEmpty               // zero-length file
	ContentELF                 // ELF object (executable or shared library)
	ContentScript              // starts with "#!"
)

// Content holds the facts sniffed from the first bytes of a regular file
// during the streaming pass. It is small on purpose: there is one per entry,
// and an image can hold millions; the rare facts hang off Extra.
type Content struct {
	Kind ContentKind
	// Interpreter is the shebang interpreter ("/bin/sh", "/usr/bin/env")
	// for scripts, or the ELF program interpreter (PT_INTERP, e.g.
	// "/lib64/ld-linux-x86-64.so.2") for dynamically linked ELF files.
	// It is empty for statically linked ELF files.
	Interpreter string
	// Extra holds what few files have; nil when they have none of it.
	Extra *ContentExtra
}

// ContentExtra holds the facts few files have.
type ContentExtra struct {
	// ScriptArg is the first argument of a shebang line ("python3" in
	// "#!/usr/bin/env python3").
	ScriptArg string
	// PrivateKey is set when the file's head holds a PEM or OpenSSH private
	// key block; the value is the block type, e.g. "RSA PRIVATE KEY".
	PrivateKey string
}

// ScriptArg is the first argument of a shebang line, "" when none.
func (c Content) ScriptArg() string {
	if c.Extra == nil {
		return ""
	}
	return c.Extra.ScriptArg
}

// PrivateKey is the type of the private key block the file's head holds, ""
// when none.
func (c Content) PrivateKey() string {
	if c.Extra == nil {
		return ""
	}
	return c.Extra.PrivateKey
}

// Entry is one filesystem entry of a layer.
type Entry struct {
	// Path is absolute and cleaned: "/usr/bin/sh". The root is "/".
	Path string
	Type Type
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid and
	// fs.ModeSticky; the type bits are not set (see Type).
	Mode fs.FileMode
	UID  int
	GID  int
	// Size is the size of a regular file's contents in the layer.
	Size int64
	// Linkname is the symlink target exactly as stored (it may be relative or
	// absolute), or, for a hardlink, the cleaned absolute path of its target.
	Linkname string
	// Xattrs are the extended attributes the layer sets on the entry (PAX
	// SCHILY.xattr.* records), by name without that prefix, e.g.
	// "security.capability"; nil when none. Values are raw bytes.
	Xattrs  map[string]string
	Content Content
}

// IsExecutable reports whether any execute bit is set.
func (e *Entry) IsExecutable() bool { return e.Mode&0o111 != 0 }

// AnomalyKind names a suspicious construct found in a layer or while squashing.
type AnomalyKind string

// Anomaly kinds. They are facts about the image, reported to the user; they
// never stop a scan (limits do, see [ErrLimit]).
const (
	AnomalyEscapingName      AnomalyKind = "escaping-name"      // entry name with ".." that climbs above the root
	AnomalyAbsoluteName      AnomalyKind = "absolute-name"      // entry name starting with "/"
	AnomalyEscapingLink      AnomalyKind = "escaping-link"      // relative link target that climbs above the root
	AnomalyHardlinkMissing   AnomalyKind = "hardlink-missing"   // hardlink to a path that does not exist
	AnomalyThroughSymlink    AnomalyKind = "through-symlink"    // entry written below a symlinked directory
	AnomalyParentNotDir      AnomalyKind = "parent-not-dir"     // entry below a non-directory
	AnomalyDuplicate         AnomalyKind = "duplicate"          // the same path twice in one layer
	AnomalyUnsupportedType   AnomalyKind = "unsupported-type"   // tar type flag we do not model
	AnomalyCaptureTruncated  AnomalyKind = "capture-truncated"  // a declared file was larger than the capture cap
	AnomalyBadWhiteout       AnomalyKind = "bad-whiteout"       // whiteout of "." or ".." or the root
	AnomalyEmptyName         AnomalyKind = "empty-name"         // entry with an empty name
	AnomalyRuntimeDivergence AnomalyKind = "runtime-divergence" // runtimes unpack this path differently; the audit reports the union
)

// Anomaly is one suspicious construct, with the path it concerns.
type Anomaly struct {
	Kind   AnomalyKind
	Path   string // cleaned absolute path the anomaly concerns
	Detail string // the raw name or link target, quoted as found
	Layer  int    // index of the layer, set by Squash; -1 inside a LayerIndex
}
