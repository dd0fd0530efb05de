package inflate

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe asks the kernel for a larger pipe buffer (F_SETPIPE_SZ); a
// refusal (the system's pipe-max-size) leaves the default, which is only
// slower.
func growPipe(f *os.File) {
	if sc, err := f.SyscallConn(); err == nil {
		sc.Control(func(fd uintptr) {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		})
	}
}
