// Package registry finds images and what is attached to them, without any
// cryptography.
//
// It parses references (registry references normalised as
// go-containerregistry does, and oci-dir:PATH[@sha256:…|:tag] OCI layouts),
// applies registry allowlists ([Allowlist]) with no network call, resolves
// tags to digests ([Client.Resolve]) and discovers every signature,
// attestation and SBOM attached to a digest ([Client.Discover]) from the
// three places cosign and OCI 1.1 writers use: cosign's legacy
// sha256-<hex>.sig/.att/.sbom tags, the OCI referrers API and the referrers
// fallback tag sha256-<hex>.
//
// Everything read from a registry is attacker-controlled: sizes and counts are
// capped (see the Max… constants), content is checked against its digest while
// streaming, and every call runs under the caller's context deadline. A 404 means
// "not there"; 401, 403, 429, 5xx and timeouts are errors, never "nothing attached".
package registry
