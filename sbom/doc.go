// Package sbom generates, reads and compares software bills of materials.
//
// # Generating
//
// [NewGenerator] builds a long-lived [Generator] around syft (used as a
// library): syft's license scanner, which takes seconds to build, is built
// once and shared by every [Generator.Generate] call. Sources name exactly
// one syft provider (oci-dir:, oci-archive:, docker-archive:, dir:, file:,
// registry: or a bare image reference), so local sources make no network
// call and a mistyped path never falls through to a Docker daemon or a
// registry. The Go cataloger never runs the go toolchain and no cataloger
// looks licenses up on the network. Registry access is anonymous unless the
// caller hands in a keychain ([WithKeychain]); plain HTTP to arbitrary hosts
// needs [WithInsecureRegistryHTTP]. [Encode] writes SPDX 2.3, CycloneDX 1.6
// or syft JSON.
//
// # Reading
//
// [Decode] reads SPDX 2.x JSON, CycloneDX JSON and syft JSON, identified
// from the content, into a [Document] holding what comparisons and rules
// need. It is a thin decoder (several times faster than a full model on
// large files) and treats its input as hostile: sizes, package counts,
// per-package lists and nesting are capped ([MaxDocumentBytes],
// [MaxPackages], [MaxElements], [MaxDepth]) before memory is allocated for
// them, and a document that claims one format while carrying another's
// fields is refused. [WithFormat] insists on a format, for SBOMs whose
// format is claimed elsewhere (an in-toto predicate type).
//
// # Comparing
//
// [Diff] compares two documents by package identity ([Package.Key]: the
// package URL without version, qualifiers and subpath, normalised per
// ecosystem), matches several copies of a package as a multiset, orders
// versions per ecosystem ([CompareVersions]) and compares normalised
// license expressions ([NormalizeLicense]). The [Report] lists changes only,
// is deterministic, and writes itself as text, markdown or JSON. Its
// [Report.Gate] turns it into a CI gate: a tripped gate is a [*GateError],
// which reports Denied() == true.
//
// # Rules
//
// [Rules] are a policy's checks on an SBOM's contents (denied licenses,
// denied packages by purl pattern); [Rules.Evaluate] lists every
// [Violation].
package sbom
