//go:build !windows

package releases

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive OS lock on fh; with wait false it fails at once with
// errLockHeld when another process holds it.
func lockFile(fh *os.File, wait bool) error {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	err := syscall.Flock(int(fh.Fd()), how)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLockHeld
	}
	return err
}

func unlockFile(fh *os.File) { _ = syscall.Flock(int(fh.Fd()), syscall.LOCK_UN) }
