package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/sbom"
)

// AttestationRequirement says which attestations count, beyond being signed
// by the authorities of a [Requirements]: the predicate type, and the claims
// the predicate must make. An attestation that verifies but breaks a rule here
// does not count towards the threshold; its result says why.
type AttestationRequirement struct {
	// PredicateType is the predicate type URI attestations must have; empty
	// accepts any type. [attest.PredicateTypeFor] maps cosign's --type names.
	PredicateType string
	// Provenance, when not nil, is checked on SLSA provenance (v0.2 or v1).
	// For a Fulcio-signed attestation the expectations are checked against
	// the certificate's own extensions, which the signer cannot choose, and
	// the predicate's claims must agree with them; a key-signed attestation
	// is checked on its claims as written. Only given expectations are
	// checked: the predicate is not compared with the certificate otherwise.
	Provenance *attest.Expectations
	// SBOM, when not nil, is checked on an SBOM attestation (an SPDX or
	// CycloneDX document as the predicate, predicate type
	// https://spdx.dev/Document or https://cyclonedx.org/bom, as cosign
	// attest --type spdxjson|cyclonedx and vouch sbom attest write it):
	// the verified predicate is decoded as the format its type names, and
	// every package is checked against the rules. A violation is a
	// [ReasonSBOMPolicy] denial naming the package, the rule and why; a
	// predicate that is not a readable SBOM is [ReasonMalformed]. Empty
	// rules only require a readable SBOM. Provenance and SBOM exclude each
	// other: an attestation is one or the other.
	SBOM *sbom.Rules
}

// statementCheck applies statement-level rules to a verified payload and the
// certificate that signed it (nil when key-signed).
type statementCheck func(payload []byte, cert *certificate.Summary) *Error

func (r AttestationRequirement) compile() (statementCheck, error) {
	hasProvenance := r.Provenance != nil && !r.Provenance.IsZero()
	switch {
	case hasProvenance && r.SBOM != nil:
		return nil, errorf(ReasonInvalidInput, "provenance expectations and SBOM rules cannot apply to one attestation (it is SLSA provenance or an SBOM): require each in its own attestation requirement")
	case r.SBOM != nil:
		if r.PredicateType != "" && sbomFormatOf(r.PredicateType) == "" {
			return nil, errorf(ReasonInvalidInput, "SBOM rules apply to SPDX (%s) and CycloneDX (%s) attestations, not to %s", attest.PredicateSPDX, attest.PredicateCycloneDX, r.PredicateType)
		}
		if err := r.SBOM.Validate(); err != nil {
			return nil, errorf(ReasonInvalidInput, "invalid SBOM rules: %w", err)
		}
		return sbomCheck(*r.SBOM), nil
	case !hasProvenance:
		return nil, nil
	}
	if err := r.Provenance.Validate(); err != nil {
		return nil, errorf(ReasonInvalidInput, "invalid provenance expectations: %w", err)
	}
	exp := *r.Provenance
	return func(payload []byte, cert *certificate.Summary) *Error {
		st, err := attest.ParseStatement(payload)
		if err != nil {
			return errorf(ReasonMalformed, "the attestation's statement: %w", err)
		}
		p, err := attest.ParseProvenance(st)
		if err != nil {
			if errors.Is(err, attest.ErrNotProvenance) {
				return errorf(ReasonPredicateTypeMismatch, "provenance expectations were given but the attestation is %s, not SLSA provenance", st.PredicateType())
			}
			return errorf(ReasonMalformed, "the provenance predicate: %w", err)
		}
		if err := exp.Check(p, cert); err != nil {
			if errors.Is(err, attest.ErrInvalidExpectations) {
				return errorf(ReasonInvalidInput, "%w", err)
			}
			return errorf(ReasonProvenanceMismatch, "%w", err)
		}
		return nil
	}, nil
}

// sbomFormatOf is the SBOM format an attestation's predicate type names:
// the in-toto predicate types of SPDX and CycloneDX documents, with or
// without a version suffix ("https://spdx.dev/Document/v2.3").
func sbomFormatOf(predicateType string) sbom.Format {
	for _, f := range []struct {
		uri string
		f   sbom.Format
	}{{attest.PredicateSPDX, sbom.FormatSPDXJSON}, {attest.PredicateCycloneDX, sbom.FormatCycloneDXJSON}} {
		if predicateType == f.uri || strings.HasPrefix(predicateType, f.uri+"/v") {
			return f.f
		}
	}
	return ""
}

// maxViolationsInMessage caps the violations an error message lists.
const maxViolationsInMessage = 10

// sbomCheck evaluates rules on the SBOM a verified attestation carries.
func sbomCheck(rules sbom.Rules) statementCheck {
	return func(payload []byte, _ *certificate.Summary) *Error {
		var st struct {
			PredicateType string          `json:"predicateType"`
			Predicate     json.RawMessage `json:"predicate"`
		}
		if err := json.Unmarshal(payload, &st); err != nil {
			return errorf(ReasonMalformed, "the attestation's statement: %w", err)
		}
		f := sbomFormatOf(st.PredicateType)
		if f == "" {
			return errorf(ReasonPredicateTypeMismatch, "SBOM rules were given but the attestation is %s, not an SBOM (%s or %s)", st.PredicateType, attest.PredicateSPDX, attest.PredicateCycloneDX)
		}
		pred := bytes.TrimSpace(st.Predicate)
		if len(pred) == 0 || bytes.Equal(pred, []byte("null")) {
			return errorf(ReasonMalformed, "the %s attestation has no predicate: no SBOM to check", f)
		}
		if pred[0] == '"' {
			// cosign attest --type spdx: the document's text as a JSON string.
			var text string
			if err := json.Unmarshal(pred, &text); err != nil {
				return errorf(ReasonMalformed, "the SBOM predicate: %w", err)
			}
			pred = []byte(text)
		}
		doc, err := sbom.Decode(bytes.NewReader(pred), sbom.WithFormat(f))
		if err != nil {
			return errorf(ReasonMalformed, "the SBOM predicate is not a readable %s document: %w", f, err)
		}
		vs := rules.Evaluate(doc)
		if len(vs) == 0 {
			return nil
		}
		var b strings.Builder
		fmt.Fprintf(&b, "the SBOM breaks the policy: %d violation", len(vs))
		if len(vs) > 1 {
			b.WriteString("s")
		}
		for i, v := range vs {
			if i == maxViolationsInMessage {
				fmt.Fprintf(&b, "; and %d more", len(vs)-i)
				break
			}
			name := v.Package.PURL
			if name == "" {
				name = strings.TrimSpace(v.Package.Name + " " + v.Package.Version)
			}
			fmt.Fprintf(&b, "; package %s: rule %s %q: %s", name, v.Rule, v.Pattern, v.Reason)
		}
		// Package names come from the document: no control characters.
		msg := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, b.String())
		return &Error{Reason: ReasonSBOMPolicy, Msg: msg}
	}
}
