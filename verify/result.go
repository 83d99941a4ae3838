package verify

import (
	"time"
)

// Format is how a signature or attestation is stored.
type Format string

const (
	// FormatLegacySignature is a cosign .sig layer: a simple-signing payload
	// with the signature, certificate and Rekor bundle in annotations.
	FormatLegacySignature Format = "legacy-signature"
	// FormatLegacyAttestation is a cosign .att layer: a DSSE envelope with
	// the certificate and Rekor bundle in annotations.
	FormatLegacyAttestation Format = "legacy-attestation"
	// FormatBundle is a Sigstore bundle (v0.1 to v0.3), as cosign v3 and
	// GitHub attach them as OCI referrers.
	FormatBundle Format = "bundle"
)

// SignatureResult is what vouch learnt about one signature or attestation.
type SignatureResult struct {
	Format Format `json:"format"`
	// Source says where the signature came from (set by the caller, e.g. a
	// tag and layer index, a referrer digest, or a file name).
	Source string `json:"source,omitempty"`
	// PredicateType is the in-toto predicate type of DSSE content.
	PredicateType string `json:"predicateType,omitempty"`
	// Verified is true when the signature satisfied at least one authority.
	Verified bool `json:"verified"`
	// Authority is the name of the authority the signature satisfied.
	Authority string `json:"authority,omitempty"`
	// Identity is the signer's certificate identity (keyless signatures).
	Identity *SignerIdentity `json:"identity,omitempty"`
	// Tlog is the transparency-log entry that was verified, or why none was.
	Tlog *TlogResult `json:"tlog,omitempty"`
	// Timestamps are the verified times the signature was observed at.
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// Failure says why the signature did not verify.
	Failure *Failure `json:"failure,omitempty"`

	// Payload is the signed content of a verified signature: the DSSE
	// payload (an in-toto statement) or the simple-signing payload.
	Payload []byte `json:"-"`
}

// SignerIdentity is who a Fulcio certificate was issued to.
type SignerIdentity struct {
	Issuer  string        `json:"issuer"`
	Subject string        `json:"subject"`
	GitHub  *GitHubClaims `json:"github,omitempty"`
}

// TlogStatus says how the transparency log was used.
type TlogStatus string

const (
	// TlogVerified: an entry from a trusted log verified and covers this signature.
	TlogVerified TlogStatus = "verified"
	// TlogSkipped: the authority opted out (KeyAuthority.InsecureIgnoreTlog);
	// entries were not checked.
	TlogSkipped TlogStatus = "skipped"
)

// TlogResult describes the transparency-log entry of a signature.
type TlogResult struct {
	Status TlogStatus `json:"status"`
	// LogIndex, IntegratedTime and LogID describe the first entry from a
	// trusted log (IntegratedTime is absent for Rekor v2 entries).
	LogIndex       *int64     `json:"logIndex,omitempty"`
	IntegratedTime *time.Time `json:"integratedTime,omitempty"`
	LogID          string     `json:"logId,omitempty"`
}

// Timestamp is a verified observation time.
type Timestamp struct {
	// Kind is "tlog" (a Rekor integrated time) or "tsa" (an RFC 3161 timestamp).
	Kind string    `json:"kind"`
	URI  string    `json:"uri,omitempty"`
	Time time.Time `json:"time"`
}

// Failure is why something did not verify.
type Failure struct {
	Reason  Reason `json:"reason"`
	Message string `json:"message"`
}

func failure(err *Error) *Failure { return &Failure{Reason: err.Reason, Message: err.Msg} }
