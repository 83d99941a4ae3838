// Package sbom generates, reads and compares software bills of materials.
//
// # Generating
//
// Generation lives in the sub-package sbom/generate, which links syft (a
// large dependency): importing sbom to read, compare or check SBOMs does
// not.
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
