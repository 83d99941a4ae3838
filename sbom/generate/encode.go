package generate

import (
	"io"
	"strconv"

	"github.com/anchore/syft/syft/format/cyclonedxjson"
	"github.com/anchore/syft/syft/format/spdxjson"
	"github.com/anchore/syft/syft/format/syftjson"
	syftsbom "github.com/anchore/syft/syft/sbom"

	"github.com/vouchdev/vouch/sbom"
)

// Format versions Encode writes.
const (
	SPDXVersion      = "2.3"
	CycloneDXVersion = "1.6"
)

// Encode writes the SBOM in format f: SPDX 2.3 JSON, CycloneDX 1.6 JSON or
// syft JSON, indented.
//
// The output is not byte-reproducible: SPDX document namespaces and
// CycloneDX serial numbers are random and both carry a timestamp. Compare
// SBOMs with sbom.Diff, never by bytes.
func (s *SBOM) Encode(w io.Writer, f sbom.Format) error {
	var enc syftsbom.FormatEncoder
	var err error
	switch f {
	case sbom.FormatSPDXJSON:
		enc, err = spdxjson.NewFormatEncoderWithConfig(spdxjson.EncoderConfig{Version: SPDXVersion, Pretty: true})
	case sbom.FormatCycloneDXJSON:
		enc, err = cyclonedxjson.NewFormatEncoderWithConfig(cyclonedxjson.EncoderConfig{Version: CycloneDXVersion, Pretty: true})
	case sbom.FormatSyftJSON:
		enc, err = syftjson.NewFormatEncoderWithConfig(syftjson.EncoderConfig{Pretty: true})
	default:
		return &sbom.UsageError{Msg: "unknown output format " + strconv.Quote(string(f)) + ": use spdx-json, cyclonedx-json or syft-json"}
	}
	if err != nil {
		return err
	}
	return enc.Encode(w, *s.model)
}
