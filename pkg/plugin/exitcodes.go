package plugin

import (
	"errors"
	"strings"

	"github.com/sherpack/kubectl-sherpack/pkg/retry"
)

// Exit codes are a contract with scripts and CI jobs (see ARCHITECTURE.md).
const (
	ExitOK       = 0 // success
	ExitFailed   = 1 // the operation failed
	ExitChanges  = 2 // diff --detailed-exitcode found changes
	ExitUsage    = 3 // usage error or bad input
	ExitNotFound = 4 // release not found
	ExitLocked   = 5 // release locked by another operation
)

// ExitCoder is implemented by errors that decide the process exit code.
type ExitCoder interface {
	error
	ExitCode() int
}

// UsageError is bad input: a flag, an argument, a file. Exit code 3.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }
func (e *UsageError) ExitCode() int { return ExitUsage }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: sprintf(format, args...)} }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ec ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	if isCobraUsage(err) {
		return ExitUsage
	}
	return ExitFailed
}

// ErrorMessage is what the user reads after "Error: ".
func ErrorMessage(err error) string {
	msg := err.Error()
	if msg != "" && retry.Unreachable(err) {
		msg += "\nThe API server did not accept the connection: is it running, and is this the right context (kubectl config current-context, --context, --kubeconfig)?"
	}
	return msg
}

// cobra reports flag and argument mistakes as plain errors; recognise them by their wording.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand flag", "unknown command", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
