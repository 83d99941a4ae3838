// Package attest reads, builds and signs in-toto attestations, and holds the
// signing keys and signature formats vouch shares with cosign.
//
// # Statements and envelopes
//
// ParseStatement reads an in-toto statement (_type v0.1 or v1) with protojson,
// ignoring unknown fields, and validates its subjects and digests;
// Statement.MatchesDigest binds it to an artifact. NewStatement builds one.
// ParseEnvelope reads a DSSE envelope (Envelope is go-securesystemslib's
// type), PAE is its pre-authentication encoding, StatementFromEnvelope and
// StatementFromBundle extract the statement of a verified envelope or
// Sigstore bundle (a bundle's envelope must carry exactly one signature, and
// only the payload type application/vnd.in-toto+json is accepted).
//
// # Predicates and provenance
//
// PredicateTypeFor maps cosign's --type names (slsaprovenance, spdxjson,
// custom, …) to predicate type URIs and CosignPredicate builds the predicate
// cosign builds from a predicate file. ParseProvenance reads SLSA provenance
// v0.2 and v1 as GitHub, slsa-github-generator and npm write it, and
// Expectations.Check checks it: builder id, source repository (normalised by
// NormalizeSource, compared exactly or by glob, never by prefix), source ref,
// versioned tag and build type. For keyless statements Check binds the
// predicate to the signer's certificate (SignerClaims) first: a predicate
// claiming a builder or repository other than the certificate's is a
// *MismatchError.
//
// # Keys and signing
//
// ParsePrivateKey reads cosign's encrypted private keys ("ENCRYPTED SIGSTORE
// PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"), PKCS#8, SEC1 and PKCS#1;
// MarshalPrivateKey and GenerateKeyPair write cosign's format, so keys move
// between cosign and vouch both ways. ParsePublicKey reads PEM public keys
// (ECDSA P-256/P-384/P-521, Ed25519, RSA 2048–4096).
//
// A Signer signs with a loaded key as cosign does with --key:
// SimpleSigningPayload and Signer.Sign make a legacy .sig signature,
// CosignSignStatement and Signer.BundleStatement a cosign v3 image signature,
// Signer.SignEnvelope a DSSE envelope (.att layers), Signer.BundleBlob and
// Signer.BundleStatement Sigstore bundles v0.3 with a public key hint and no
// transparency log entry (cosign's --tlog-upload=false). Bundles are built by
// sigstore-go's sign.Bundle.
//
// attest does not verify Sigstore signatures, certificates or transparency
// log entries: package verify does, and hands attest the statement and the
// certificate claims it verified. Every size and count an input controls is
// capped (see the Max… constants).
package attest
