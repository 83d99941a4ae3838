package sbom

import (
	"errors"
	"strconv"
	"strings"
)

// ErrLimit is wrapped by every error about input that exceeds one of the
// package's limits (MaxDocumentBytes, MaxPackages, …).
var ErrLimit = errors.New("limit exceeded")

// DecodeError says why a document could not be read, and which format it
// looked like (Format is empty when nothing could be detected).
type DecodeError struct {
	// Format is what the document was detected (or claimed) to be.
	Format Format
	// Msg says what is wrong and, where it helps, what to do.
	Msg string
	// Err is the underlying cause, if any (ErrLimit, a *json.SyntaxError, …).
	Err error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("sbom: ")
	if e.Format != "" {
		b.WriteString("reading ")
		b.WriteString(string(e.Format))
		b.WriteString(": ")
	} else {
		b.WriteString("reading SBOM: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// UsageError is a bad argument from the caller (an unknown format, gate or
// source scheme). It is never a denial.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return "sbom: " + e.Msg }

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strconv.Quote(s)
}
