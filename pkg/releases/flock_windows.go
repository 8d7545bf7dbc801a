//go:build windows

package releases

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive OS lock on fh (LockFileEx on its first byte); with wait false
// it fails at once with errLockHeld when another process holds it.
func lockFile(fh *os.File, wait bool) error {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !wait {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	err := windows.LockFileEx(windows.Handle(fh.Fd()), flags, 0, 1, 0, &windows.Overlapped{})
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLockHeld
	}
	return err
}

func unlockFile(fh *os.File) {
	_ = windows.UnlockFileEx(windows.Handle(fh.Fd()), 0, 1, 0, &windows.Overlapped{})
}

// lockHeld tells whether another process holds the exclusive lock on fh, without keeping it:
// a shared lock can be had only when nobody holds the exclusive one.
func lockHeld(fh *os.File) (bool, error) {
	err := windows.LockFileEx(windows.Handle(fh.Fd()), windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &windows.Overlapped{})
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	unlockFile(fh)
	return false, nil
}
