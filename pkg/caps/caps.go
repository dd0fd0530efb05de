// Package caps decodes Linux file capabilities: the value of the
// security.capability extended attribute (struct vfs_cap_data, revisions 1,
// 2 and 3, as include/uapi/linux/capability.h defines it and
// security/commoncap.c get_vfs_caps_from_disk reads it) and capability names.
//
// It is pure: no I/O, no state. pkg/workload uses it to predict exec failures
// of file-capable binaries; pkg/checks reads the same attribute from PAX
// SCHILY.xattr.security.capability records.
package caps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// XattrName is the extended attribute that holds file capabilities.
const XattrName = "security.capability"

// PAXRecord is the PAX header key under which tar writers (GNU tar, BuildKit,
// Docker) store XattrName.
const PAXRecord = "SCHILY.xattr." + XattrName

// Layout constants of vfs_cap_data (include/uapi/linux/capability.h).
const (
	revisionMask  = 0xFF000000
	flagEffective = 0x000001
	revision1     = 0x01000000
	revision2     = 0x02000000
	revision3     = 0x03000000
	size1         = 4 + 1*8
	size2         = 4 + 2*8
	size3         = size2 + 4
)

// Last is the highest capability number this package names
// (CAP_CHECKPOINT_RESTORE, CAP_LAST_CAP as of Linux 6.x).
const Last = 40

// names returns the capability names by bit number
// (include/uapi/linux/capability.h). The array is returned by value, so no
// caller can change the table; TestNames checks that every entry is set.
func names() [Last + 1]string {
	return [Last + 1]string{
		"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
		"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
		"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
		"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
		"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
		"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
		"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
		"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
		"CAP_CHECKPOINT_RESTORE",
	}
}

// Set is a set of capabilities, bit n for capability n.
type Set uint64

// All is every capability this package names.
const All = Set(1)<<(Last+1) - 1

// Has reports whether the set holds capability n.
func (s Set) Has(n int) bool { return n >= 0 && n < 64 && s&(1<<n) != 0 }

// Names returns the names of the capabilities in the set, in bit order, as
// "CAP_NET_BIND_SERVICE"; a bit without a name is "CAP_<n>".
func (s Set) Names() []string {
	out := make([]string, 0, bits.OnesCount64(uint64(s)))
	for n := range 64 {
		if s.Has(n) {
			out = append(out, Name(n))
		}
	}
	return out
}

// String is the names joined with commas.
func (s Set) String() string { return strings.Join(s.Names(), ",") }

// Name returns the name of capability n, or "CAP_<n>" when it has none.
func Name(n int) string {
	if n >= 0 && n <= Last {
		return names()[n]
	}
	return fmt.Sprintf("CAP_%d", n)
}

// Parse returns the number of a capability given by name, the way the
// container runtimes read a Kubernetes capability: case-insensitive, with or
// without the CAP_ prefix ("net_bind_service", "CAP_NET_BIND_SERVICE").
func Parse(name string) (int, bool) {
	u := strings.ToUpper(strings.TrimSpace(name))
	if !strings.HasPrefix(u, "CAP_") {
		u = "CAP_" + u
	}
	for n, s := range names() {
		if s == u {
			return n, true
		}
	}
	return 0, false
}

// FileCaps is a decoded security.capability value.
type FileCaps struct {
	// Revision is 1, 2 or 3.
	Revision int
	// Effective is the effective flag: when set, the permitted capabilities
	// become effective at exec, and the kernel refuses the exec (EPERM) when
	// it cannot grant all of them (security/commoncap.c
	// bprm_caps_from_vfs_caps, "insufficient to execute correctly").
	Effective bool
	// Permitted and Inheritable are the file's capability sets.
	Permitted, Inheritable Set
	// RootID is the namespace root uid a revision 3 value is bound to (0
	// for the other revisions).
	RootID uint32
}

// ErrInvalid is returned for a value the kernel would reject.
var ErrInvalid = errors.New("invalid security.capability value")

// Decode decodes a security.capability value. It accepts exactly what
// get_vfs_caps_from_disk accepts: a known revision with its exact size.
// Bits above the last known capability are kept (Names prints them as
// CAP_<n>); the kernel masks them off.
func Decode(b []byte) (FileCaps, error) {
	if len(b) < 4 {
		return FileCaps{}, fmt.Errorf("%w: %d bytes", ErrInvalid, len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	fc := FileCaps{Effective: magic&flagEffective != 0}
	words := 0
	switch magic & revisionMask {
	case revision1:
		fc.Revision, words = 1, 1
		if len(b) != size1 {
			return FileCaps{}, fmt.Errorf("%w: revision 1 with %d bytes", ErrInvalid, len(b))
		}
	case revision2:
		fc.Revision, words = 2, 2
		if len(b) != size2 {
			return FileCaps{}, fmt.Errorf("%w: revision 2 with %d bytes", ErrInvalid, len(b))
		}
	case revision3:
		fc.Revision, words = 3, 2
		if len(b) != size3 {
			return FileCaps{}, fmt.Errorf("%w: revision 3 with %d bytes", ErrInvalid, len(b))
		}
		fc.RootID = binary.LittleEndian.Uint32(b[size2:])
	default:
		return FileCaps{}, fmt.Errorf("%w: unknown revision %#x", ErrInvalid, magic&revisionMask)
	}
	for i := range words {
		p := binary.LittleEndian.Uint32(b[4+8*i:])
		in := binary.LittleEndian.Uint32(b[8+8*i:])
		fc.Permitted |= Set(p) << (32 * i)
		fc.Inheritable |= Set(in) << (32 * i)
	}
	return fc, nil
}

// Encode returns the security.capability value for fc (revision 2 when
// fc.Revision is 0). Tests use it to build images; it is the inverse of
// Decode.
func Encode(fc FileCaps) []byte {
	rev := fc.Revision
	if rev == 0 {
		rev = 2
	}
	size, magic := size2, uint32(revision2)
	switch rev {
	case 1:
		size, magic = size1, revision1
	case 3:
		size, magic = size3, revision3
	}
	if fc.Effective {
		magic |= flagEffective
	}
	b := make([]byte, size)
	binary.LittleEndian.PutUint32(b, magic)
	for i := 0; 4+8*i+8 <= min(size, size2); i++ {
		binary.LittleEndian.PutUint32(b[4+8*i:], uint32(fc.Permitted>>(32*i)))
		binary.LittleEndian.PutUint32(b[8+8*i:], uint32(fc.Inheritable>>(32*i)))
	}
	if rev == 3 {
		binary.LittleEndian.PutUint32(b[size2:], fc.RootID)
	}
	return b
}
