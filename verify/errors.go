package verify

import (
	"context"
	"errors"
	"fmt"
)

// Reason is a stable, machine-readable code for why a verification did not
// pass. Reasons appear in JSON output and never change meaning; new ones may
// be added.
type Reason string

// Denials: verification ran and a check failed (exit 1 in the CLI).
const (
	// ReasonNoSignatures: nothing that could be a signature is attached.
	ReasonNoSignatures Reason = "no_signatures"
	// ReasonNoMatchingSignatures: signatures exist, none satisfies any authority.
	ReasonNoMatchingSignatures Reason = "no_matching_signatures"
	// ReasonThresholdNotMet: fewer distinct authorities were satisfied than required.
	ReasonThresholdNotMet Reason = "threshold_not_met"
	// ReasonDigestMismatch: the signed content names another digest than the one verified.
	ReasonDigestMismatch Reason = "digest_mismatch"
	// ReasonSignatureInvalid: the signature does not verify over the content.
	ReasonSignatureInvalid Reason = "signature_invalid"
	// ReasonKeyMismatch: the signature was not made by the given key.
	ReasonKeyMismatch Reason = "key_mismatch"
	// ReasonIdentityMismatch: the certificate's issuer, subject or extensions do not match.
	ReasonIdentityMismatch Reason = "identity_mismatch"
	// ReasonCertificateInvalid: the certificate chain does not lead to a trusted CA at the trusted time, or lacks SCTs.
	ReasonCertificateInvalid Reason = "certificate_invalid"
	// ReasonTlogMissing: a transparency log entry is required and absent.
	ReasonTlogMissing Reason = "tlog_missing"
	// ReasonTlogInvalid: the transparency log entry does not verify or does not cover this signature.
	ReasonTlogInvalid Reason = "tlog_invalid"
	// ReasonTimestampInvalid: no trusted time could be established, or it falls outside a validity window.
	ReasonTimestampInvalid Reason = "timestamp_invalid"
	// ReasonNoAttestations: no attestation of the required predicate type is attached.
	ReasonNoAttestations Reason = "no_attestations"
	// ReasonPredicateTypeMismatch: the attestation's predicate type is not the one required.
	ReasonPredicateTypeMismatch Reason = "predicate_type_mismatch"
	// ReasonProvenanceMismatch: provenance claims do not meet the expectations (builder, source, ref, build type).
	ReasonProvenanceMismatch Reason = "provenance_mismatch"
	// ReasonPolicyDenied: a registry allowlist or policy rule denies the image.
	ReasonPolicyDenied Reason = "policy_denied"
	// ReasonSBOMPolicy: a verified SBOM breaks a license or package rule.
	ReasonSBOMPolicy Reason = "sbom_policy"
	// ReasonAnnotationMismatch: a verified signature does not carry the
	// signed annotations required (cosign verify -a key=value).
	ReasonAnnotationMismatch Reason = "annotation_mismatch"
	// ReasonMalformed: signed content that should be parseable is not (a denial: a
	// signer or attacker produced it).
	ReasonMalformed Reason = "malformed"
)

// Could not decide: the verification could not be completed (exit 2 in the CLI).
const (
	// ReasonRegistryUnavailable: the registry failed, throttled, denied access or lied about content.
	ReasonRegistryUnavailable Reason = "registry_unavailable"
	// ReasonNotFound: the image or tag does not exist.
	ReasonNotFound Reason = "not_found"
	// ReasonTimeout: the deadline passed before a decision.
	ReasonTimeout Reason = "timeout"
	// ReasonInvalidInput: bad arguments, unreadable files, malformed local input.
	ReasonInvalidInput Reason = "invalid_input"
	// ReasonTrustRootUnavailable: the trusted root could not be loaded or fetched.
	ReasonTrustRootUnavailable Reason = "trust_root_unavailable"
)

// Denied reports whether r means "verification ran and failed".
func (r Reason) Denied() bool {
	switch r {
	case ReasonRegistryUnavailable, ReasonNotFound, ReasonTimeout, ReasonInvalidInput, ReasonTrustRootUnavailable:
		return false
	}
	return true
}

// Error is a verification failure with a stable reason.
type Error struct {
	Reason Reason
	// Msg is the whole message: what failed and, where it helps, what to do
	// next. It already includes the cause's text.
	Msg string
	// Err is the underlying cause, if any, for errors.Is and errors.As.
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return string(e.Reason)
}

func (e *Error) Unwrap() error { return e.Err }

// Denied reports whether verification ran and failed (true), as opposed to
// not being able to decide (false).
func (e *Error) Denied() bool { return e.Reason.Denied() }

// errorf builds an *Error with a formatted message. A %w verb wraps the cause.
func errorf(reason Reason, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Reason: reason, Msg: err.Error(), Err: errors.Unwrap(err)}
}

// ReasonOf returns the reason for err: the Reason of an *Error in its chain,
// ReasonTimeout for context deadline errors, ReasonInvalidInput otherwise.
func ReasonOf(err error) Reason {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Reason
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ReasonTimeout
	}
	return ReasonInvalidInput
}
