package releases

import "errors"

// errLockHeld: another process holds the OS file lock (file driver).
var errLockHeld = errors.New("file lock held by another process")
