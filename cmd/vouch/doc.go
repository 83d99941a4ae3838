// Command vouch decides whether container images and release files may be
// trusted: Sigstore signatures (keyed and keyless), in-toto / SLSA
// provenance, SBOMs and registry allowlists. It is a thin CLI over the
// registry, attest, sbom and verify packages, with cosign's flag names.
//
// Each command lives in its own file and registers itself (register in
// app.go); its Action turns flags into library options once and calls the
// library. Shared flag groups and their translation live in one place each:
// registryflags.go, trustflags.go, provenanceflags.go, keys.go.
//
// Exit codes are mapped in exit.go and nowhere else: 0 passed, 1 denied (an
// error whose Denied method returns true), 2 could not decide. Data and JSON
// go to stdout, human-readable text to stderr.
//
// Usage:
//
//	vouch verify --key cosign.pub IMAGE...
//	vouch verify-attestation --type slsaprovenance1 --certificate-identity-regexp … IMAGE...
//	vouch verify-blob --bundle artifact.sigstore.json artifact
//	vouch sign --key cosign.key IMAGE...
//	vouch tree IMAGE
//	vouch sbom diff old.spdx.json new.spdx.json
//
// Run `vouch COMMAND --help` for each command's flags and an example.
package main
