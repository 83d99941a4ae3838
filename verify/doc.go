// Package verify decides whether an image or a file may be trusted.
//
// A long-lived [Verifier] holds trust material (public keys, the Sigstore
// trusted root), a registry client and caches; each call takes the
// requirements for that call (authorities, threshold, attestation types,
// provenance expectations), so one Verifier serves many requests.
//
// Verification failures come in two kinds, told apart by [Error.Denied]:
// denied (verification ran and a check failed: exit 1 in the CLI) and could
// not decide (registry unavailable, bad input, timeout: exit 2). Every failure
// carries a stable [Reason] code.
package verify
