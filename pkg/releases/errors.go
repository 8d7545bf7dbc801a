package releases

import (
	"errors"
	"fmt"
	"time"
)

// Exit codes of the errors below (ARCHITECTURE.md): the plugin reads them through ExitCode().
const (
	exitFailed   = 1
	exitNotFound = 4
	exitLocked   = 5
)

// ErrLockLost: the lock was taken over while the operation ran (it could not renew in time).
var ErrLockLost = errors.New("lost the release lock")

// NotFoundError: no such release (or revision).
type NotFoundError struct {
	Namespace, Name string
	Revision        int // 0: the release as a whole
}

func (e *NotFoundError) Error() string {
	if e.Revision > 0 {
		return fmt.Sprintf("release %s has no revision %d in namespace %s", e.Name, e.Revision, e.Namespace)
	}
	return fmt.Sprintf("release %s not found in namespace %s", e.Name, e.Namespace)
}

// ExitCode is 4.
func (e *NotFoundError) ExitCode() int { return exitNotFound }

// IsNotFound tells whether err says a release or revision does not exist.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// LockedError: another operation holds the release lock and is still renewing it.
type LockedError struct {
	Namespace, Name string
	Holder          Holder
	RenewedAt       time.Time
	Expires         time.Time
}

func (e *LockedError) Error() string {
	ago := time.Since(e.RenewedAt).Round(time.Second)
	expiry := "the lock is freed when that process exits"
	if !e.Expires.IsZero() {
		expiry = "the lock expires at " + e.Expires.Local().Format("15:04:05") + " unless renewed"
	}
	return fmt.Sprintf("release %s is locked: %s, lease renewed %s ago.\n"+
		"Wait for it, or if that process is gone: kubectl sherpack recover %s -n %s (%s)",
		e.Name, e.Holder, ago, e.Name, e.Namespace, expiry)
}

// ExitCode is 5.
func (e *LockedError) ExitCode() int { return exitLocked }

// IsLocked tells whether err says the release is locked by someone else.
func IsLocked(err error) bool {
	var le *LockedError
	return errors.As(err, &le)
}

// ConflictError: the stored object changed since it was read; nothing was overwritten.
type ConflictError struct {
	Object string
	Err    error
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s was changed by someone else since it was read; nothing was overwritten: %v", e.Object, e.Err)
}
func (e *ConflictError) Unwrap() error { return e.Err }

// ExitCode is 1.
func (e *ConflictError) ExitCode() int { return exitFailed }

// IsConflict tells whether err is an optimistic-concurrency conflict.
func IsConflict(err error) bool {
	var ce *ConflictError
	return errors.As(err, &ce)
}

// ExistsError: a revision with that number is already stored.
type ExistsError struct{ Object string }

func (e *ExistsError) Error() string { return fmt.Sprintf("%s already exists", e.Object) }

// IsExists tells whether err says the revision already exists.
func IsExists(err error) bool {
	var ee *ExistsError
	return errors.As(err, &ee)
}

// CorruptError: a stored payload could not be decoded.
type CorruptError struct {
	Object string
	Err    error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("release record %s is corrupt or unreadable: %v", e.Object, e.Err)
}
func (e *CorruptError) Unwrap() error { return e.Err }

// IsCorrupt tells whether err is an undecodable record.
func IsCorrupt(err error) bool {
	var ce *CorruptError
	return errors.As(err, &ce)
}
