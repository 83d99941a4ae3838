package sbom

import (
	"io"

	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/format/syftjson"
	syftsbom "github.com/anchore/syft/syft/sbom"
)

// Format versions Encode writes.
const (
	SPDXVersion      = "2.3"
	CycloneDXVersion = "1.6"
)

// Encode writes a generated document in format f: SPDX 2.3 JSON, CycloneDX
// 1.6 JSON or syft JSON, indented. Documents from Decode carry too little
// to re-encode and return ErrNotGenerated.
//
// The output is not byte-reproducible: SPDX document namespaces and
// CycloneDX serial numbers are random and both carry a timestamp. Compare
// SBOMs with Diff, never by bytes.
func Encode(w io.Writer, d *Document, f Format) error {
	if d == nil || d.sbom == nil {
		return ErrNotGenerated
	}
	var enc syftsbom.FormatEncoder
	var err error
	switch f {
	case FormatSPDXJSON:
		enc, err = spdxjson.NewFormatEncoderWithConfig(spdxjson.EncoderConfig{Version: SPDXVersion, Pretty: true})
	case FormatCycloneDXJSON:
		enc, err = cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.EncoderConfig{Version: CycloneDXVersion, Pretty: true})
	case FormatSyftJSON:
		enc, err = syftjson.NewFormatEncoderWithConfig(syftjson.EncoderConfig{Pretty: true})
	default:
		return &UsageError{Msg: "unknown output format " + quote(string(f)) + ": use spdx-json, cyclonedx-json or syft-json"}
	}
	if err != nil {
		return err
	}
	return enc.Encode(w, *d.sbom)
}
