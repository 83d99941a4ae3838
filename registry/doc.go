// Package registry finds images and what is attached to them, without any
// cryptography.
//
// References: [ParseRef] reads registry references (normalised as
// go-containerregistry does: "nginx" is index.docker.io/library/nginx:latest)
// and OCI image layouts on disk (oci-dir:PATH[:TAG|@sha256:…], including
// `cosign save` layouts). Pass [RegistryOnly] where a reference comes from
// someone else, so a name can never make the process read local files.
//
// Allowlists: [NewAllowlist] and [Allowlist.Check] decide, with no network
// call, whether an image may come from where it comes from (exact hosts,
// "*" one path segment, "**" any; deny beats allow; never a string prefix).
//
// A [Client] (see [New]) does the I/O, for registries and layouts alike:
//
//   - [Client.Resolve] pins a tag to a digest (HEAD first, GET if needed),
//     optionally choosing a platform of an index ([WithPlatform]).
//   - [Client.Discover] lists everything attached to a digest, from the three
//     places cosign and OCI 1.1 writers use, read concurrently: cosign's
//     sha256-<hex>.sig/.att/.sbom tags, the OCI referrers API and the
//     referrers fallback tag sha256-<hex>. Items are de-duplicated and
//     classified (signature, attestation with its claimed predicate type,
//     SBOM, unknown) from media types, never from the artifactType a listing
//     claims. Places that could not be read are reported per path in
//     [Attachments.Failures]: a verifier must then say "could not decide",
//     never "unsigned".
//   - [Client.Content] and [Client.Manifest] fetch bytes, capped and checked
//     against their digests.
//   - [Client.AttachLegacy] and [Client.AttachReferrer] write what cosign
//     writes: layers appended to the .sig/.att/.sbom manifest, and OCI 1.1
//     referrers (maintaining the fallback tag where the registry has no
//     referrers API).
//
// Options that change behaviour: [WithKeychain] (credentials; anonymous by
// default), [WithInsecureRegistry] (plain HTTP beyond loopback),
// [WithCACerts], [WithProxy], [WithSignatureRepository] (cosign's
// COSIGN_REPOSITORY), [WithRetries], [WithTagTTL], [WithCacheSize],
// [WithDefaultTimeout]. The package never reads environment variables: the
// CLI passes what it derived from them.
//
// Everything read from a registry is attacker-controlled: sizes and counts are
// capped (see the Max… constants), content is checked against its digest while
// streaming, and every call runs under the caller's context deadline (or
// [DefaultTimeout]). A 404 means "not there"; 401, 403, 429, 5xx, timeouts and
// lying content are errors (see [ErrNotFound] and the other sentinels, and
// [Error]), never "nothing attached".
//
// A Client is meant to be long-lived and shared: one HTTP transport with
// keep-alive, one ping per registry, one token per registry and scope,
// content cached by digest (fetched once per process while it stays in the
// bounded cache), tag answers reused for a short TTL, and concurrent
// identical fetches collapsed into one request. [WithOpenRegistryCache]
// carries one answer across processes: which registries need no
// authentication, so a short-lived process (a CLI run) skips the ping to them.
package registry
