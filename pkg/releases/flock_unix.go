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

// lockHeld tells whether another process holds the exclusive lock on fh, without taking it:
// a shared lock can be had only when nobody holds the exclusive one.
func lockHeld(fh *os.File) (bool, error) {
	err := syscall.Flock(int(fh.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	unlockFile(fh)
	return false, nil
}
