package main

import (
	"errors"
	"fmt"
	"io"
)

// Exit codes, the same for every command (DESIGN.md).
const (
	exitOK        = 0 // every check passed
	exitDenied    = 1 // a check ran and failed
	exitUndecided = 2 // could not decide: bad usage or input, registry or network error, timeout
)

// denier is implemented by every error that means "verification ran and
// failed" (verify.Error with a denial reason, sbom.GateError, the CLI's own
// batch denials). Anything else is "could not decide".
type denier interface{ Denied() bool }

// exitCode maps an error to the process exit code. It is the only place
// where errors become exit codes.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var d denier
	if errors.As(err, &d) && d.Denied() {
		return exitDenied
	}
	return exitUndecided
}

// report prints err (if any) on w and returns the exit code for it.
// Errors that were already reported in detail (silentError) print nothing more.
func report(w io.Writer, err error) int {
	code := exitCode(err)
	var s silentError
	if err != nil && !errors.As(err, &s) {
		fmt.Fprintf(w, "Error: %v\n", err)
	}
	return code
}

// silentError wraps an error whose details the command has already written
// to its output; main only turns it into an exit code.
type silentError struct{ err error }

func (e silentError) Error() string { return e.err.Error() }
func (e silentError) Unwrap() error { return e.err }

// deniedError is the CLI's own "a check failed" error, for batch commands
// that have already reported each failure.
type deniedError struct{ msg string }

func (e deniedError) Error() string { return e.msg }
func (e deniedError) Denied() bool  { return true }

// usageError is bad usage: exit 2, with a hint.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// batchError combines per-item outcomes: denied outranks could-not-decide.
func batchError(denied, undecided int) error {
	switch {
	case denied > 0 && undecided > 0:
		return silentError{deniedError{fmt.Sprintf("%d denied, %d could not be decided", denied, undecided)}}
	case denied > 0:
		return silentError{deniedError{fmt.Sprintf("%d denied", denied)}}
	case undecided > 0:
		return silentError{fmt.Errorf("%d could not be decided", undecided)}
	}
	return nil
}
