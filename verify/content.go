package verify

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vouchdev/vouch/attest"
)

// Limits on content from strangers (DESIGN.md "Limits").
const (
	// MaxContentSize caps one signature or attestation layer, or one bundle.
	MaxContentSize = 16 << 20
	// MaxAttachments caps the signatures or attestations checked per image.
	MaxAttachments = 100
	// MaxAnnotationSize caps one legacy annotation value (certificate, chain,
	// Rekor bundle, timestamp).
	MaxAnnotationSize = 256 << 10
	// maxSubjects caps in-toto statement subjects (sigstore-go's own limit).
	maxSubjects = 1024
)

// Media and predicate types.
const (
	// PredicateCosignSign is the predicate type of a cosign v3 image
	// signature: an in-toto statement whose subject is the image.
	PredicateCosignSign = "https://sigstore.dev/cosign/sign/v1"
	// inTotoPayloadType is the DSSE payload type of in-toto statements.
	inTotoPayloadType = "application/vnd.in-toto+json"
	// simpleSigningType is critical.type of a cosign simple-signing payload.
	simpleSigningType = "cosign container image signature"
)

// digest is a parsed "alg:hex" content digest.
type digest struct {
	alg  string // "sha256", "sha384" or "sha512"
	hash crypto.Hash
	hex  string // lower case
	raw  []byte
}

func (d digest) String() string { return d.alg + ":" + d.hex }

var digestAlgs = map[string]crypto.Hash{"sha256": crypto.SHA256, "sha384": crypto.SHA384, "sha512": crypto.SHA512}

// parseDigest parses "sha256:<64 hex>" (or sha384, sha512), lower-case hex
// only, as OCI digests are.
func parseDigest(s string) (digest, error) {
	alg, h, ok := strings.Cut(s, ":")
	hf, known := digestAlgs[alg]
	if !ok || !known {
		return digest{}, fmt.Errorf("digest %q: want sha256:<hex> (or sha384:, sha512:)", s)
	}
	if len(h) != hf.Size()*2 || strings.ToLower(h) != h {
		return digest{}, fmt.Errorf("digest %q: want %d lower-case hex characters after %s:", s, hf.Size()*2, alg)
	}
	raw, err := hex.DecodeString(h)
	if err != nil {
		return digest{}, fmt.Errorf("digest %q: %w", s, err)
	}
	return digest{alg: alg, hash: hf, hex: h, raw: raw}, nil
}

// statement is the part of an in-toto statement (v0.1 or v1) verify needs.
type statement struct {
	Type          string `json:"_type"`
	PredicateType string `json:"predicateType"`
	Subject       []struct {
		Name        string            `json:"name"`
		Digest      map[string]string `json:"digest"`
		Annotations map[string]any    `json:"annotations"`
	} `json:"subject"`
}

// parseStatement parses a DSSE payload as an in-toto statement.
func parseStatement(payloadType string, payload []byte) (*statement, error) {
	if payloadType != inTotoPayloadType {
		return nil, fmt.Errorf("DSSE payload type %q: want %s", payloadType, inTotoPayloadType)
	}
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	switch st.Type {
	case "https://in-toto.io/Statement/v0.1", "https://in-toto.io/Statement/v1":
	default:
		return nil, fmt.Errorf("in-toto statement type %q: want https://in-toto.io/Statement/v1 or v0.1", st.Type)
	}
	if st.PredicateType == "" {
		return nil, fmt.Errorf("in-toto statement has no predicateType")
	}
	if len(st.Subject) == 0 || len(st.Subject) > maxSubjects {
		return nil, fmt.Errorf("in-toto statement has %d subjects: want 1 to %d", len(st.Subject), maxSubjects)
	}
	return &st, nil
}

// names reports whether a subject carries digest d.
func (st *statement) names(d digest) bool {
	for _, s := range st.Subject {
		if s.Digest[d.alg] == d.hex {
			return true
		}
	}
	return false
}

func (st *statement) subjectDigests() string {
	var out []string
	for _, s := range st.Subject {
		for alg, h := range s.Digest {
			out = append(out, alg+":"+h)
			if len(out) == 3 {
				return strings.Join(out, ", ") + ", …"
			}
		}
	}
	return strings.Join(out, ", ")
}

// parseSimpleSigning parses a cosign simple-signing payload strictly: the
// critical section may hold only what cosign writes (identity, image, type),
// and its type must be cosign's.
func parseSimpleSigning(payload []byte) (*attest.SimpleSigning, error) {
	var top struct {
		Critical json.RawMessage `json:"critical"`
		Optional json.RawMessage `json:"optional"`
	}
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, fmt.Errorf("simple-signing payload: %w", err)
	}
	if len(top.Critical) == 0 {
		return nil, fmt.Errorf("simple-signing payload has no critical section")
	}
	var ss attest.SimpleSigning
	dec := json.NewDecoder(bytes.NewReader(top.Critical))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ss.Critical); err != nil {
		return nil, fmt.Errorf("simple-signing payload critical section: %w", err)
	}
	if ss.Critical.Type != simpleSigningType {
		return nil, fmt.Errorf("simple-signing payload type %q: want %q", ss.Critical.Type, simpleSigningType)
	}
	if len(top.Optional) > 0 && !bytes.Equal(top.Optional, []byte("null")) {
		if err := json.Unmarshal(top.Optional, &ss.Optional); err != nil {
			return nil, fmt.Errorf("simple-signing payload optional section: %w", err)
		}
	}
	return &ss, nil
}
