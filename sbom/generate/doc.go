// Package generate makes SBOMs with syft as a library.
//
// [NewGenerator] builds a long-lived [Generator]: syft's license scanner,
// which takes seconds to build, is built once and shared by every
// [Generator.Generate] call. Sources name exactly one syft provider
// (oci-dir:, oci-archive:, docker-archive:, dir:, file:, registry: or a bare
// image reference), so local sources make no network call and a mistyped
// path never falls through to a Docker daemon or a registry. The Go
// cataloger never runs the go toolchain and no cataloger looks licenses up
// on the network; syft's temporary directories are removed before Generate
// returns.
//
// Registry access is anonymous unless the caller hands in a keychain
// ([WithKeychain]); plain HTTP to hosts other than localhost and private
// addresses needs [WithInsecureRegistryHTTP]; [WithRegistryCA] adds roots.
// [WithPlatform] picks an image from a multi-platform index.
//
// The result, an [SBOM], is an [sbom.Document] (what sbom.Diff and
// sbom.Rules read) plus syft's full model, which [SBOM.Encode] writes as
// SPDX 2.3, CycloneDX 1.6 or syft JSON.
//
// This package is separate from sbom because syft is a large dependency:
// verifiers that only read and check SBOMs import sbom alone.
package generate
