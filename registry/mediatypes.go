package registry

import "strings"

// Media types of what cosign, Sigstore and SBOM tools attach to images.
const (
	// MediaTypeSimpleSigning is a cosign legacy signature payload layer.
	MediaTypeSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	// MediaTypeDSSE is a DSSE envelope layer (cosign legacy attestations).
	MediaTypeDSSE = "application/vnd.dsse.envelope.v1+json"
	// MediaTypeBundle is a Sigstore bundle v0.3 layer (cosign v3,
	// `cosign sign --new-bundle-format`). Older bundles use
	// "application/vnd.dev.sigstore.bundle+json;version=0.x".
	MediaTypeBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// ArtifactTypeCosignSignature is the artifactType cosign's experimental
	// OCI 1.1 mode gives referrers holding simple-signing layers.
	ArtifactTypeCosignSignature = "application/vnd.dev.cosign.artifact.sig.v1+json"
	// MediaTypeInToto is a bare, unsigned in-toto statement (BuildKit).
	MediaTypeInToto = "application/vnd.in-toto+json"
	// MediaTypeEmptyJSON is the OCI empty descriptor's media type ("{}").
	MediaTypeEmptyJSON = "application/vnd.oci.empty.v1+json"
)

// Annotations read and written on attachments.
const (
	// AnnotationBundlePredicateType is the manifest annotation cosign puts on
	// bundle referrers: the (claimed) predicate type of the bundle's statement.
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	// AnnotationBundleContent is "dsse-envelope" or "message-signature".
	AnnotationBundleContent = "dev.sigstore.bundle.content"
	// AnnotationPredicateType is the layer annotation of a legacy .att layer.
	AnnotationPredicateType = "predicateType"
	// AnnotationCreated is the OCI creation time annotation.
	AnnotationCreated = "org.opencontainers.image.created"
	// AnnotationRefName names a tag in an OCI layout's index.json.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationCosignKind marks the entries of a `cosign save` layout.
	AnnotationCosignKind = "kind"
	// AnnotationDockerReferenceType marks BuildKit attestation manifests
	// ("attestation-manifest") in an image index.
	AnnotationDockerReferenceType = "vnd.docker.reference.type"
)

// PredicateTypeCosignSign is the predicate type of a cosign v3 image
// signature: a bundle carrying it is a signature, anything else an attestation.
const PredicateTypeCosignSign = "https://sigstore.dev/cosign/sign/v1"

// Values of AnnotationCosignKind in a `cosign save` layout.
const (
	cosignKindImage      = "dev.cosignproject.cosign/image"
	cosignKindImageIndex = "dev.cosignproject.cosign/imageIndex"
	cosignKindSigs       = "dev.cosignproject.cosign/sigs"
	cosignKindAtts       = "dev.cosignproject.cosign/atts"
	cosignKindSboms      = "dev.cosignproject.cosign/sboms"
)

// IsBundleMediaType reports whether mt is a Sigstore bundle media type, in
// either spelling (v0.3+ "…bundle.v0.3+json", older "…bundle+json;version=0.1").
func IsBundleMediaType(mt string) bool {
	mt = strings.TrimSpace(mt)
	if strings.HasPrefix(mt, "application/vnd.dev.sigstore.bundle.v") && strings.HasSuffix(mt, "+json") {
		return true
	}
	return mt == "application/vnd.dev.sigstore.bundle+json" ||
		strings.HasPrefix(mt, "application/vnd.dev.sigstore.bundle+json;")
}

// IsSBOMMediaType reports whether mt is an SBOM document media type (SPDX,
// CycloneDX, syft), as cosign's `attach sbom` and oras write them.
func IsSBOMMediaType(mt string) bool {
	base, _, _ := strings.Cut(strings.TrimSpace(mt), ";")
	switch base {
	case "text/spdx", "text/spdx+json", "text/spdx+xml", "application/spdx+json",
		"application/vnd.cyclonedx", "application/vnd.cyclonedx+json", "application/vnd.cyclonedx+xml",
		"application/vnd.syft+json":
		return true
	}
	return false
}
