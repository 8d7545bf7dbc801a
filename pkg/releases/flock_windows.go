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
