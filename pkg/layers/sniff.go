package layers

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"
)

// Match reports whether the absolute path p matches a capture pattern.
// Patterns use path.Match syntax on the whole path ("/etc/passwd",
// "/var/lib/dpkg/status.d/*"); a pattern ending in "/**" matches everything
// below its prefix at any depth, and a pattern starting with "**/" matches
// its rest against the last path element in any directory ("**/.npmrc",
// "**/id_*").
func Match(pattern, p string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		return strings.HasPrefix(p, prefix+"/")
	}
	if base, ok := strings.CutPrefix(pattern, "**/"); ok {
		ok, err := path.Match(base, path.Base(p))
		return err == nil && ok
	}
	ok, err := path.Match(pattern, p)
	return err == nil && ok
}

// elfMagic starts every ELF file.
const elfMagic = "\x7fELF"

// sniffContent classifies a file from its first bytes.
func sniffContent(head []byte) Content {
	var c Content
	switch {
	case len(head) == 0:
		c.Kind = ContentEmpty
	case bytes.HasPrefix(head, []byte(elfMagic)):
		c.Kind = ContentELF
		c.Interpreter = elfInterp(head)
	case bytes.HasPrefix(head, []byte("#!")):
		c.Kind = ContentScript
		var arg string
		c.Interpreter, arg = shebang(head)
		if arg != "" {
			c.Extra = &ContentExtra{ScriptArg: arg}
		}
	}
	if c.Kind != ContentELF {
		if k := privateKeyType(head); k != "" {
			if c.Extra == nil {
				c.Extra = &ContentExtra{}
			}
			c.Extra.PrivateKey = k
		}
	}
	return c
}

// shebang parses "#!/usr/bin/env python3 -u" into ("/usr/bin/env", "python3").
func shebang(head []byte) (interp, arg string) {
	line := head[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	fields := strings.Fields(strings.TrimSpace(string(line)))
	if len(fields) == 0 {
		return "", ""
	}
	interp = fields[0]
	if len(fields) > 1 {
		arg = fields[1]
		if path.Base(interp) == "env" && strings.HasPrefix(arg, "-") && len(fields) > 2 {
			arg = fields[2] // "env -S python3"
		}
	}
	return interp, arg
}

// elfInterp returns the PT_INTERP path of an ELF file if its program headers
// and the interpreter string lie within head, "" otherwise (static binaries,
// or headers beyond the sniffed bytes).
func elfInterp(head []byte) string {
	if len(head) < 0x34 {
		return ""
	}
	bo := elfByteOrder(head)
	if bo == nil {
		return ""
	}
	var phoff, phentsize, phnum uint64
	is64 := head[4] == 2
	if is64 {
		if len(head) < 0x40 {
			return ""
		}
		phoff = bo.Uint64(head[0x20:])
		phentsize = uint64(bo.Uint16(head[0x36:]))
		phnum = uint64(bo.Uint16(head[0x38:]))
	} else {
		phoff = uint64(bo.Uint32(head[0x1c:]))
		phentsize = uint64(bo.Uint16(head[0x2a:]))
		phnum = uint64(bo.Uint16(head[0x2c:]))
	}
	if phnum > 256 || phentsize < 32 || phentsize > 256 {
		return ""
	}
	for i := uint64(0); i < phnum; i++ {
		off := phoff + i*phentsize
		if off+phentsize > uint64(len(head)) || off < phoff {
			return ""
		}
		ph := head[off : off+phentsize]
		if bo.Uint32(ph) != 3 { // PT_INTERP
			continue
		}
		var o, sz uint64
		if is64 {
			o, sz = bo.Uint64(ph[8:]), bo.Uint64(ph[32:])
		} else {
			o, sz = uint64(bo.Uint32(ph[4:])), uint64(bo.Uint32(ph[16:]))
		}
		if sz == 0 || sz > 4096 || o > uint64(len(head)) || o+sz > uint64(len(head)) {
			return "?" // dynamic, interpreter not within the sniffed head
		}
		return strings.TrimRight(string(head[o:o+sz]), "\x00")
	}
	return ""
}

// privateKeyType finds a PEM or OpenSSH private key header in head.
func privateKeyType(head []byte) string {
	const begin = "-----BEGIN "
	const tail = "PRIVATE KEY-----"
	for off := 0; ; {
		i := bytes.Index(head[off:], []byte(begin))
		if i < 0 {
			return ""
		}
		start := off + i + len(begin)
		rest := head[start:]
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[:nl]
		}
		if j := bytes.Index(rest, []byte(tail)); j >= 0 && j <= 40 {
			return strings.TrimSpace(strings.TrimSpace(string(rest[:j])) + " PRIVATE KEY")
		}
		off = start
	}
}

// CaptureGoExecutables is a capture pattern (for [Options.Capture]) that
// names no path: it asks the scan to keep what a reader of Go build
// information needs of every executable whose first bytes (the 4 KiB
// sniffed of every file) show that Go built it, wherever it lies. An ELF
// file is kept as a [Partial] whatever its size (its head, build
// information and section headers: at most about 136 KiB), a PE or Mach-O
// file or a UPX-packed ELF file (which must be unpacked whole) as a
// declared capture is, whole within the capture caps. Other executables
// are not kept, so the memory a scan holds grows with the number of Go
// executables an image has, not with their bytes nor with all its
// binaries. A file a pattern names is captured as before: whole.
//
// The Go linker writes its build ID near the start of every executable it
// links: in ELF files as the ".note.go.buildid" note (owner "Go", type 4),
// which it places right after the program headers, and in PE and Mach-O
// files as the "\xff Go build ID: " string that starts the text. An ELF
// file packed by UPX shows neither, and a Go one still yields its build
// information once unpacked (as syft does), so an ELF file carrying UPX's
// "UPX!" header in its head is kept as well. Go links without a build ID
// when asked to (-ldflags=-buildid=, as reproducible builds do): an ELF
// file whose head shows none is still kept when Go build information lies
// in its writable segments, searched as the file streams past (see
// goDataRange).
const CaptureGoExecutables = "<go-executables>"

const (
	goBuildIDString = "\xff Go build ID: \""
	upxMagic        = "UPX!"
	// goNoteType is NT_GO_BUILDID, the type of Go's build ID note.
	goNoteType = 4
)

// goExecutable reports whether head, the first bytes of a file, is that of
// an executable Go linked, or of an ELF file UPX packed (see
// [CaptureGoExecutables]).
func goExecutable(head []byte) bool {
	switch {
	case bytes.HasPrefix(head, []byte(elfMagic)):
		return goNote(head) || bytes.Contains(head, []byte(goBuildIDString)) ||
			bytes.Contains(head, []byte(goBuildInfoMagic)) || bytes.Contains(head, []byte(upxMagic))
	case bytes.HasPrefix(head, []byte("MZ")), // PE
		bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xce}), bytes.HasPrefix(head, []byte{0xce, 0xfa, 0xed, 0xfe}), // Mach-O 32-bit
		bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa, 0xcf}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}), // Mach-O 64-bit
		bytes.HasPrefix(head, []byte{0xca, 0xfe, 0xba, 0xbe}): // Mach-O universal (or a Java class: the build ID is then absent)
		return bytes.Contains(head, []byte(goBuildIDString)) || bytes.Contains(head, []byte(goBuildInfoMagic))
	}
	return false
}

// goNote reports whether the ELF head holds Go's build ID note: a 4-byte
// aligned note header whose name is "Go" (namesz 3, or 4 as Go 1.19 and
// older wrote it) and whose type is NT_GO_BUILDID, in the file's byte
// order.
func goNote(head []byte) bool {
	if len(head) < 0x14 {
		return false
	}
	bo := elfByteOrder(head)
	if bo == nil {
		return false
	}
	const name = "Go\x00\x00"
	for from := 0; ; {
		i := bytes.Index(head[from:], []byte(name))
		if i < 0 {
			return false
		}
		at := from + i
		from = at + 1
		if at%4 != 0 || at < 12 {
			continue
		}
		namesz, typ := bo.Uint32(head[at-12:]), bo.Uint32(head[at-4:])
		if (namesz == 3 || namesz == 4) && typ == goNoteType {
			return true
		}
	}
}

// elfByteOrder is the byte order an ELF header (head, at least 6 bytes)
// declares, nil when it declares none.
func elfByteOrder(head []byte) binary.ByteOrder {
	if len(head) < 6 {
		return nil
	}
	switch head[5] {
	case 1:
		return binary.LittleEndian
	case 2:
		return binary.BigEndian
	}
	return nil
}
