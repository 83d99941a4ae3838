package sbom

// Format names an SBOM encoding. The values are syft's format IDs, so they
// can be passed to syft tooling unchanged.
type Format string

const (
	// FormatSPDXJSON is SPDX 2.x JSON. sbom/generate writes SPDX 2.3.
	FormatSPDXJSON Format = "spdx-json"
	// FormatCycloneDXJSON is CycloneDX JSON. sbom/generate writes CycloneDX 1.6.
	FormatCycloneDXJSON Format = "cyclonedx-json"
	// FormatSyftJSON is syft's own JSON model, the most faithful of the three.
	FormatSyftJSON Format = "syft-json"
)

// Formats lists the formats Decode reads and sbom/generate writes, in the order
// the CLI offers them.
func Formats() []Format { return []Format{FormatSPDXJSON, FormatCycloneDXJSON, FormatSyftJSON} }

// ParseFormat maps a user-supplied format name to a Format. It accepts the
// names above and the common aliases spdx, spdxjson, cyclonedx, cdx and syft.
func ParseFormat(s string) (Format, error) {
	switch s {
	case "spdx-json", "spdxjson", "spdx":
		return FormatSPDXJSON, nil
	case "cyclonedx-json", "cyclonedxjson", "cyclonedx", "cdx", "cdx-json":
		return FormatCycloneDXJSON, nil
	case "syft-json", "syftjson", "syft", "json":
		return FormatSyftJSON, nil
	}
	return "", &UsageError{Msg: "unknown SBOM format " + quote(s) + ": use spdx-json, cyclonedx-json or syft-json"}
}

// SourceKind says what an SBOM describes. SBOMs of different kinds are not
// comparable package by package: a directory scan reads lockfiles, an image
// scan reads installed packages.
type SourceKind string

const (
	SourceImage     SourceKind = "image"
	SourceDirectory SourceKind = "directory"
	SourceFile      SourceKind = "file"
	SourceUnknown   SourceKind = ""
)

// Document is an SBOM reduced to what vouch compares and checks: who made
// it, what it describes, and its packages. Decode fills it from any supported
// format; sbom/generate fills it from a scan.
type Document struct {
	// Format is the encoding the document was decoded from; empty for a
	// generated document.
	Format Format `json:"format,omitempty"`
	// FormatVersion is the format's own version: "2.3" (SPDX), "1.6"
	// (CycloneDX), "16.1.3" (syft JSON schema).
	FormatVersion string `json:"formatVersion,omitempty"`
	// Tool and ToolVersion name the program that wrote the SBOM.
	Tool        string `json:"tool,omitempty"`
	ToolVersion string `json:"toolVersion,omitempty"`
	// SourceKind and SourceName say what was scanned (an image reference, a
	// directory name).
	SourceKind SourceKind `json:"sourceKind,omitempty"`
	SourceName string     `json:"sourceName,omitempty"`
	// Distro is the detected Linux distribution ("alpine 3.19.1"), if any.
	Distro string `json:"distro,omitempty"`
	// Packages are the document's packages, without the described root
	// (SPDX documentDescribes, CycloneDX metadata.component), file entries
	// or the operating system entry.
	Packages []Package `json:"packages"`
}

// Package is one package of an SBOM.
type Package struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// PURL is the package URL as the document gives it.
	PURL string `json:"purl,omitempty"`
	// Ecosystem is the purl type ("npm", "golang", "deb", "pypi", …), or
	// syft's package type mapped to one when there is no purl; empty when
	// the document does not say.
	Ecosystem string `json:"ecosystem,omitempty"`
	// Licenses is the normalised SPDX license expression (see
	// NormalizeLicense); empty when the document asserts none.
	Licenses string `json:"licenses,omitempty"`
	// Locations are the paths the package was found at, when the format
	// records them.
	Locations []string `json:"locations,omitempty"`
}

// Key is the package's identity for comparisons: its package URL without
// version, qualifiers and subpath, normalised per ecosystem (PEP 503 names
// for pypi, lower case where the ecosystem is case-insensitive, the arch
// qualifier kept for deb, rpm, apk and alpm). A package without a purl is
// keyed by ecosystem and lower-cased name.
func (p Package) Key() string {
	if p.PURL != "" {
		if id, ok := parsePURL(p.PURL); ok {
			return id.key()
		}
	}
	return "name:" + p.Ecosystem + "/" + lower(p.Name)
}

// In-toto predicate types of SBOM attestations (cosign attest --type
// spdxjson / cyclonedx).
const (
	PredicateSPDX      = "https://spdx.dev/Document"
	PredicateCycloneDX = "https://cyclonedx.org/bom"
)

// PredicateFormat is the format an SBOM predicate of the given type must
// be in, for Decode's WithFormat. It reports false for other types.
func PredicateFormat(predicateType string) (Format, bool) {
	switch predicateType {
	case PredicateSPDX:
		return FormatSPDXJSON, true
	case PredicateCycloneDX:
		return FormatCycloneDXJSON, true
	}
	return "", false
}

// PredicateType is the in-toto predicate type for an SBOM in format f, or
// "" for syft JSON, which has no registered predicate type.
func PredicateType(f Format) string {
	switch f {
	case FormatSPDXJSON:
		return PredicateSPDX
	case FormatCycloneDXJSON:
		return PredicateCycloneDX
	}
	return ""
}
