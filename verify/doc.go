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
//
// # Trust material
//
// [New] takes where the Sigstore trusted root comes from:
// [WithTrustedRootFile] (a trusted_root.json; no network), [WithTrustedMaterial]
// (in memory), or [WithTUF] (the public-good root through sigstore-go's TUF
// client, cached on disk; [WithOffline] uses only the cache). The root is
// loaded at most once per Verifier, and only when a check needs it: a keyed
// signature whose authority skips the transparency log needs none, and
// makes no network call.
//
// # Requirements
//
// [Requirements] list the [Authority]s that may sign and a threshold of
// distinct authorities, each satisfied by a different signature. An authority
// is a public key ([KeyAuthority]) or keyless certificate identities
// ([KeylessAuthority]: issuer and subject, exact or as regular expressions
// that vouch anchors — unlike cosign — plus GitHub Actions claims).
//
// The sigstore-go configuration passes all of sigstore-conformance: a
// verified transparency-log entry and an observer timestamp are required,
// and Fulcio certificates need a Signed Certificate Timestamp. Keyed
// signatures need a log entry too, unless the authority opts out with
// KeyAuthority.InsecureIgnoreTlog; results then say "tlog skipped".
//
// # What is verified
//
//   - [Verifier.Blob]: a Sigstore bundle against a file, a reader or a
//     digest ([ArtifactBytes], [ArtifactReader], [ArtifactDigest]).
//   - [Verifier.BlobAttestation]: in-toto attestations of a file (GitHub
//     artifact attestations, npm provenance, slsa-github-generator), from
//     the bundles of a bundle file ([SplitBundles]: one bundle, JSON lines,
//     npm's attestations document); any one that meets every requirement
//     counts, and each other one says why it did not.
//   - [Verifier.ImageSignatures] and [Verifier.ImageAttestations]: what
//     discovery found attached to an image digest ([Attachment]): cosign
//     legacy .sig and .att layers with their annotations (converted to v0.1
//     bundles for sigstore-go), and Sigstore bundles attached as referrers.
//     The signed content must name the image digest (simple-signing
//     docker-manifest-digest, in-toto subject): a signature copied from
//     another image is a [ReasonDigestMismatch] denial, and no signature at
//     all is a [ReasonNoSignatures] denial.
//
// An [AttestationRequirement] also checks what a verified attestation
// says: SLSA provenance expectations bound to the signer's certificate
// (Provenance) and license and package rules on an SPDX or CycloneDX SBOM
// (SBOM). An attestation that verifies but breaks them does not count.
//
// # Images in registries
//
// [Verifier.Image] and [Verifier.Images] verify images where they live (a
// registry, or an OCI layout) through the registry client given with
// [WithRegistry], against an [ImagePolicy]: a signature requirement,
// attestation requirements ([ImageAttestation]), required signed annotations,
// and optionally a platform. A tag is resolved once and everything is bound
// to that digest; a digest reference costs no resolution. Discovery reads,
// concurrently, the places that may hold what the policy needs; only layers
// that may matter are fetched; the signed content decides, never what a
// registry claims. A requirement met passes, with a [Warning] for each place
// that could not be read; a requirement not met while such a place failed is
// could-not-decide ([ReasonRegistryUnavailable] or [ReasonTimeout]), never
// "unsigned". With a platform, the index digest and the platform manifest's
// must each meet the policy. The [Result] reports every digest verified, each
// signature's format, authority, identity and transparency-log entry, and a
// stable reason on every failure. Images verifies many images at once
// ([WithMaxWorkers]) over shared connections and caches.
//
// Sizes and counts from strangers are capped ([MaxContentSize],
// [MaxAttachments], [MaxAnnotationSize], [MaxBundles], [MaxBundleFileSize]).
package verify
