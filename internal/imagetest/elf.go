package imagetest

import "encoding/binary"

// ELF returns the head of a 64-bit little-endian x86-64 ELF executable. With
// a non-empty interp it carries a PT_INTERP program header naming it (a
// dynamically linked binary); with "" it is statically linked. pad bytes of
// zeros follow, to give the file a size.
func ELF(interp string, pad int) []byte {
	const ehsize, phsize = 64, 56
	nph := 1
	if interp != "" {
		nph = 2
	}
	strOff := ehsize + nph*phsize
	b := make([]byte, strOff+len(interp)+1+pad)
	copy(b, []byte{0x7f, 'E', 'L', 'F', 2, 1, 1, 0})
	le := binary.LittleEndian
	le.PutUint16(b[16:], 2)    // ET_EXEC
	le.PutUint16(b[18:], 0x3e) // EM_X86_64
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], 0x401000)
	le.PutUint64(b[32:], ehsize) // e_phoff
	le.PutUint16(b[52:], ehsize)
	le.PutUint16(b[54:], phsize)
	le.PutUint16(b[56:], uint16(nph))
	ph := b[ehsize:]
	if interp != "" {
		le.PutUint32(ph[0:], 3) // PT_INTERP
		le.PutUint32(ph[4:], 4)
		le.PutUint64(ph[8:], uint64(strOff))
		le.PutUint64(ph[32:], uint64(len(interp)+1))
		le.PutUint64(ph[40:], uint64(len(interp)+1))
		copy(b[strOff:], interp)
		ph = ph[phsize:]
	}
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 5)
	return b
}

// WritableELF returns a 64-bit ELF file of size bytes with no interpreter
// whose second PT_LOAD segment, writable, holds segSize bytes from file
// offset seg; the caller writes what the segment holds.
func WritableELF(seg, segSize, size int) []byte {
	b := ELF("", 0)[:64+56]
	le := binary.LittleEndian
	le.PutUint16(b[56:], 2) // e_phnum
	ph := make([]byte, 56)
	le.PutUint32(ph[0:], 1) // PT_LOAD
	le.PutUint32(ph[4:], 6) // PF_R|PF_W
	le.PutUint64(ph[8:], uint64(seg))
	le.PutUint64(ph[32:], uint64(segSize))
	b = append(b, ph...)
	return append(b, make([]byte, size-len(b))...)
}

// Script returns a shell script body with the given shebang line.
func Script(shebang, body string) []byte { return []byte("#!" + shebang + "\n" + body) }
