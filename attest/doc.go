// Package attest reads, builds and signs in-toto attestations.
//
// It handles in-toto Statements (v0.1 and v1), DSSE envelopes and their
// pre-authentication encoding, typed predicates (SLSA provenance v0.2 and v1,
// SPDX and CycloneDX documents, cosign's custom and vuln types), provenance
// expectations (builder, source repository and ref, build type) and signing
// keys in cosign's encrypted format and PKCS#8.
//
// It does not verify Sigstore signatures or certificates: package verify does,
// and hands attest the statement and certificate it verified.
package attest
