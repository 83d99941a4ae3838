// Package sbom generates, reads and compares software bills of materials.
//
// Generation uses syft as a library with an explicitly named source (no
// fallthrough to a Docker daemon or a registry for a mistyped path). Decoding
// identifies SPDX 2.x JSON, CycloneDX JSON and syft JSON automatically. Diff
// compares two SBOMs by normalised package identity with ecosystem-aware
// version ordering, for CI gates.
package sbom
