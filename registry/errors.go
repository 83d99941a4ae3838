package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors. Every error from a Client call that concerns a registry
// or layout answer wraps one of them, so callers decide with errors.Is:
// ErrNotFound means "not there"; every other one means "could not look",
// which a verifier must report as "could not decide", never as "unsigned".
var (
	// ErrNotFound: the registry answered 404 (MANIFEST_UNKNOWN, NAME_UNKNOWN,
	// BLOB_UNKNOWN…) or the layout has no such entry.
	ErrNotFound = errors.New("not found")
	// ErrUnauthorized: the registry answered 401 or 403.
	ErrUnauthorized = errors.New("access denied")
	// ErrTooManyRequests: the registry answered 429 and kept doing so.
	ErrTooManyRequests = errors.New("rate limited")
	// ErrUnavailable: the registry answered 5xx, or could not be reached.
	ErrUnavailable = errors.New("registry unavailable")
	// ErrTooLarge: a size over one of the Max… limits, claimed or actual.
	ErrTooLarge = errors.New("too large")
	// ErrTooMany: a count over one of the Max… limits (layers, referrers,
	// pages, attachments).
	ErrTooMany = errors.New("too many")
	// ErrDigestMismatch: content does not hash to the digest it was asked for
	// or announced with. The registry, a proxy or a file is lying.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrMalformed: a manifest, index or layout that cannot be parsed or
	// breaks the OCI rules.
	ErrMalformed = errors.New("malformed")
)

// Error is a failed registry or layout operation. It never contains
// credentials: URLs are reduced to the repository and the object asked for.
type Error struct {
	// Op is what was being done: "resolve", "fetch manifest", "list referrers",
	// "fetch blob", "push manifest", "push blob", "ping".
	Op string
	// Target is what it was done to: a reference such as
	// ghcr.io/acme/app:sha256-….sig, or oci-dir:PATH.
	Target string
	// StatusCode is the HTTP status, 0 when there was none.
	StatusCode int
	// Code is the registry's error code (MANIFEST_UNKNOWN, TOOMANYREQUESTS…)
	// when it sent one.
	Code string
	// Err is the cause; it wraps one of the sentinels above, or a
	// context error on deadline or cancellation.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Target != "" {
		b.WriteString(" ")
		b.WriteString(e.Target)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if hint := e.hint(); hint != "" {
		b.WriteString(" (")
		b.WriteString(hint)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later may succeed: rate limits,
// server errors, network failures and timeouts.
func (e *Error) Temporary() bool {
	return errors.Is(e.Err, ErrTooManyRequests) || errors.Is(e.Err, ErrUnavailable) ||
		errors.Is(e.Err, context.DeadlineExceeded)
}

func (e *Error) hint() string {
	switch {
	case errors.Is(e.Err, ErrUnauthorized):
		return "log in to the registry (docker login), or check the repository name and your access to it"
	case errors.Is(e.Err, ErrTooManyRequests):
		return "the registry is throttling; retry later or authenticate for a higher limit"
	case errors.Is(e.Err, ErrUnavailable):
		return "retry later; if it persists, check the registry address and network"
	case errors.Is(e.Err, ErrDigestMismatch):
		return "the registry, a proxy or a file changed the content; do not trust this source"
	case errors.Is(e.Err, context.DeadlineExceeded):
		return "the deadline passed; allow more time"
	}
	return ""
}

// statusError builds the sentinel-wrapping cause for an HTTP status.
func statusError(status int, code, msg string) error {
	text := fmt.Sprintf("%d %s", status, http.StatusText(status))
	if code != "" {
		text += " " + code
	}
	if msg != "" {
		text += ": " + msg
	}
	switch {
	case status == http.StatusNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, text)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("%w: %s", ErrUnauthorized, text)
	case status == http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s", ErrTooManyRequests, text)
	case status >= 500:
		return fmt.Errorf("%w: %s", ErrUnavailable, text)
	}
	return fmt.Errorf("unexpected answer %s", text)
}

// retryable reports whether a status is worth another attempt.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusRequestTimeout,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
