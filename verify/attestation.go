package verify

import (
	"errors"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/vouchdev/vouch/attest"
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
}

// statementCheck applies statement-level rules to a verified payload and the
// certificate that signed it (nil when key-signed).
type statementCheck func(payload []byte, cert *certificate.Summary) *Error

func (r AttestationRequirement) compile() (statementCheck, error) {
	if r.Provenance == nil || r.Provenance.IsZero() {
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
