package attest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/in-toto/in-toto-golang/in_toto"
	slsa02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	slsa1 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v1" //nolint:staticcheck // the struct cosign round-trips slsaprovenance1 predicates through
)

// Predicate types vouch knows by name.
const (
	PredicateSLSAProvenanceV02 = "https://slsa.dev/provenance/v0.2"
	PredicateSLSAProvenanceV1  = "https://slsa.dev/provenance/v1"
	PredicateLink              = "https://in-toto.io/Link/v1"
	PredicateSPDX              = "https://spdx.dev/Document"
	PredicateCycloneDX         = "https://cyclonedx.org/bom"
	PredicateCosignCustom      = "https://cosign.sigstore.dev/attestation/v1"
	PredicateCosignVuln        = "https://cosign.sigstore.dev/attestation/vuln/v1"
	PredicateOpenVEX           = "https://openvex.dev/ns"
	// PredicateCosignSign is the predicate type of a cosign v3 image
	// signature: an in-toto statement about the image digest with no
	// predicate, signed as DSSE into a Sigstore bundle.
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"
)

// predicateNames are cosign's --type names (cmd/cosign/cli/options/predicate.go).
var predicateNames = map[string]string{
	"custom":           PredicateCosignCustom,
	"slsaprovenance":   PredicateSLSAProvenanceV02,
	"slsaprovenance02": PredicateSLSAProvenanceV02,
	"slsaprovenance1":  PredicateSLSAProvenanceV1,
	"spdx":             PredicateSPDX,
	"spdxjson":         PredicateSPDX,
	"cyclonedx":        PredicateCycloneDX,
	"link":             PredicateLink,
	"vuln":             PredicateCosignVuln,
	"openvex":          PredicateOpenVEX,
}

// PredicateTypeNames returns the predicate type names PredicateTypeFor
// accepts besides URIs, sorted.
func PredicateTypeNames() []string {
	names := make([]string, 0, len(predicateNames))
	for n := range predicateNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PredicateTypeFor maps a predicate type name as cosign's --type takes it
// (slsaprovenance, slsaprovenance02, slsaprovenance1, link, spdx, spdxjson,
// cyclonedx, vuln, openvex, custom) to its URI; an absolute URI is returned as
// it is.
func PredicateTypeFor(name string) (string, error) {
	if uri, ok := predicateNames[name]; ok {
		return uri, nil
	}
	if u, err := url.ParseRequestURI(name); err == nil && u.Scheme != "" && !strings.ContainsAny(name, " \t\r\n") {
		return name, nil
	}
	return "", fmt.Errorf("unknown predicate type %q: use one of %s, or a URI", name, strings.Join(PredicateTypeNames(), ", "))
}

// CosignPredicate builds the predicate `cosign attest --type name --predicate
// FILE` puts into its statement, from the file's bytes raw, and returns it
// with its predicate type (cosign's pkg/cosign/attestation GenerateStatement):
//   - slsaprovenance/slsaprovenance02, slsaprovenance1, link: the JSON, which
//     must have the type's required fields, round-tripped through in-toto-golang's
//     types (unknown fields are dropped);
//   - spdx: the file's text as a JSON string;
//   - spdxjson, cyclonedx, openvex: the JSON as it is (keys sorted);
//   - vuln: cosign's vulnerability-scan predicate;
//   - custom: {"Data": the file's text, "Timestamp": now in RFC 3339};
//   - any other URI: the file, which must be a JSON object.
func CosignPredicate(name string, raw []byte, now time.Time) (predicateType string, predicate []byte, err error) {
	predicateType, err = PredicateTypeFor(name)
	if err != nil {
		return "", nil, err
	}
	switch name {
	case "slsaprovenance", "slsaprovenance02":
		predicate, err = roundTrip(raw, &slsa02.ProvenancePredicate{}, true)
	case "slsaprovenance1":
		predicate, err = roundTrip(raw, &slsa1.ProvenancePredicate{}, true)
	case "link":
		predicate, err = roundTrip(raw, &in_toto.Link{}, true)
	case "vuln":
		predicate, err = roundTrip(raw, &cosignVulnPredicate{}, false)
	case "spdx":
		predicate, err = json.Marshal(string(raw))
	case "spdxjson", "cyclonedx", "openvex":
		predicate, err = reencode(raw, false)
	default:
		if predicateType == PredicateCosignCustom {
			predicate, err = json.Marshal(struct {
				Data      string
				Timestamp string
			}{string(raw), now.UTC().Format(time.RFC3339)})
		} else {
			predicate, err = reencode(raw, true)
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("predicate for --type %s: %w", name, err)
	}
	return predicateType, predicate, nil
}

// roundTrip decodes raw into v, after checking (when required is set) that
// raw has every field of v whose JSON tag has no omitempty, and encodes v
// again.
func roundTrip(raw []byte, v any, required bool) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, err
	}
	t := reflect.TypeOf(v).Elem()
	for i := 0; required && i < t.NumField(); i++ {
		tag := t.Field(i).Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || strings.Contains(opts, "omitempty") {
			continue
		}
		if _, ok := fields[name]; !ok {
			return nil, fmt.Errorf("required field %s missing", name)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// reencode decodes any JSON value (an object when object is set) keeping
// numbers as written, and encodes it again.
func reencode(raw []byte, object bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	if _, ok := v.(map[string]any); object && !ok {
		return nil, fmt.Errorf("the predicate must be a JSON object")
	}
	return json.Marshal(v)
}

// cosignVulnPredicate is cosign's vulnerability-scan predicate
// (PredicateCosignVuln), field for field.
type cosignVulnPredicate struct {
	Invocation struct {
		Parameters any    `json:"parameters"`
		URI        string `json:"uri"`
		EventID    string `json:"event_id"`
		BuilderID  string `json:"builder.id"`
	} `json:"invocation"`
	Scanner struct {
		URI     string `json:"uri"`
		Version string `json:"version"`
		DB      struct {
			URI     string `json:"uri"`
			Version string `json:"version"`
		} `json:"db"`
		Result any `json:"result"`
	} `json:"scanner"`
	Metadata struct {
		ScanStartedOn  time.Time `json:"scanStartedOn"`
		ScanFinishedOn time.Time `json:"scanFinishedOn"`
	} `json:"metadata"`
}
