package attest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Statement types (the statement's "_type"). Both are read; cosign v2 still
// writes v0.1 for attestations and v1 for image signatures.
const (
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	StatementTypeV1  = "https://in-toto.io/Statement/v1"
)

// ErrMalformedStatement is wrapped by every error that means "this is not a
// well-formed in-toto statement". Signed content that fails to parse was
// produced by the signer (or an attacker), so callers treat it as a denial.
var ErrMalformedStatement = errors.New("malformed in-toto statement")

// Subject is one artifact a statement is about: a name (informational, never
// used for matching), its digests (algorithm → lowercase hex) and optional
// annotations (cosign puts its -a key=value pairs there).
type Subject struct {
	Name        string            `json:"name,omitempty"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// Statement is a parsed in-toto statement (v0.1 or v1). Subjects and digests
// are validated; the predicate is kept as the raw JSON the signer wrote.
//
// A Statement is immutable. Its JSON (MarshalJSON) is exactly the bytes it
// was parsed from or built as: the bytes that are signed.
type Statement struct {
	raw           []byte
	typ           string
	predicateType string
	subjects      []*intotov1.ResourceDescriptor
	predicate     json.RawMessage
}

// ParseStatement parses and validates an in-toto statement. Unknown fields are
// ignored (the in-toto parsing rules); duplicate top-level fields, a missing or
// unknown _type, no subjects, subjects without digests, digests that are not
// hex of the right length for a known algorithm, and anything over
// MaxStatementSize, MaxSubjects or MaxSubjectDigests are errors wrapping
// ErrMalformedStatement. The predicate may be any JSON value or absent (cosign
// writes none for image signatures and a string for its "spdx" type).
func ParseStatement(b []byte) (*Statement, error) {
	if len(b) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedStatement, len(b), MaxStatementSize)
	}
	fields, err := objectFields(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedStatement, err)
	}
	for _, name := range []string{"_type", "subject", "predicateType"} {
		if _, ok := fields[name]; !ok {
			return nil, fmt.Errorf("%w: no %q field", ErrMalformedStatement, name)
		}
	}
	// The header is read with protojson into the in-toto proto types, as
	// sigstore-go reads it; the predicate stays raw.
	var header bytes.Buffer
	header.WriteString(`{"_type":`)
	header.Write(fields["_type"])
	header.WriteString(`,"subject":`)
	header.Write(fields["subject"])
	header.WriteString(`,"predicateType":`)
	header.Write(fields["predicateType"])
	header.WriteString(`}`)
	var st intotov1.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(header.Bytes(), &st); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedStatement, err)
	}
	if st.GetType() != StatementTypeV01 && st.GetType() != StatementTypeV1 {
		return nil, fmt.Errorf("%w: _type %q is neither %s nor %s", ErrMalformedStatement, st.GetType(), StatementTypeV1, StatementTypeV01)
	}
	if st.GetPredicateType() == "" {
		return nil, fmt.Errorf("%w: empty predicateType", ErrMalformedStatement)
	}
	if err := validateSubjects(st.GetSubject()); err != nil {
		return nil, err
	}
	s := &Statement{
		raw:           b,
		typ:           st.GetType(),
		predicateType: st.GetPredicateType(),
		subjects:      st.GetSubject(),
	}
	if p, ok := fields["predicate"]; ok && string(p) != "null" {
		s.predicate = p
	}
	return s, nil
}

// objectFields splits a JSON object into its fields without interpreting
// them, rejecting duplicate names (two parsers could disagree about which one
// counts) and trailing data.
func objectFields(b []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	fields := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("duplicate field %q", name)
		}
		fields[name] = v
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON object")
	}
	return fields, nil
}

// digestHexLengths are the hex lengths of the algorithms in the in-toto
// DigestSet spec. Git object ids may be SHA-1 or SHA-256.
var digestHexLengths = map[string][]int{
	"md5":        {32},
	"sha1":       {40},
	"sha224":     {56},
	"sha512_224": {56},
	"sha3_224":   {56},
	"sha256":     {64},
	"sha512_256": {64},
	"sha3_256":   {64},
	"dirHash":    {64},
	"sha384":     {96},
	"sha3_384":   {96},
	"sha512":     {128},
	"sha3_512":   {128},
	"gitBlob":    {40, 64},
	"gitCommit":  {40, 64},
	"gitTag":     {40, 64},
	"gitTree":    {40, 64},
}

func validateSubjects(subjects []*intotov1.ResourceDescriptor) error {
	if len(subjects) == 0 {
		return fmt.Errorf("%w: no subjects", ErrMalformedStatement)
	}
	if len(subjects) > MaxSubjects {
		return fmt.Errorf("%w: %d subjects is over the limit of %d", ErrMalformedStatement, len(subjects), MaxSubjects)
	}
	for i, s := range subjects {
		if len(s.GetDigest()) == 0 {
			return fmt.Errorf("%w: subject %d (%q) has no digest", ErrMalformedStatement, i, s.GetName())
		}
		if len(s.GetDigest()) > MaxSubjectDigests {
			return fmt.Errorf("%w: subject %d has %d digests, over the limit of %d", ErrMalformedStatement, i, len(s.GetDigest()), MaxSubjectDigests)
		}
		for alg, value := range s.GetDigest() {
			if err := validateDigest(alg, value); err != nil {
				return fmt.Errorf("%w: subject %d (%q): %v", ErrMalformedStatement, i, s.GetName(), err)
			}
		}
	}
	return nil
}

func validateDigest(alg, value string) error {
	if alg == "" || value == "" {
		return fmt.Errorf("empty digest algorithm or value")
	}
	lengths, known := digestHexLengths[alg]
	if !known {
		return nil // custom algorithms are allowed by the spec
	}
	if _, err := hex.DecodeString(value); err != nil {
		return fmt.Errorf("%s digest %q is not hex", alg, value)
	}
	for _, n := range lengths {
		if len(value) == n {
			return nil
		}
	}
	return fmt.Errorf("%s digest %q has %d hex characters, want %v", alg, value, len(value), lengths)
}

// Type returns the statement's _type (StatementTypeV01 or StatementTypeV1).
func (s *Statement) Type() string { return s.typ }

// PredicateType returns the predicate type URI.
func (s *Statement) PredicateType() string { return s.predicateType }

// Predicate returns the predicate exactly as signed, or nil when the
// statement has none.
func (s *Statement) Predicate() json.RawMessage { return s.predicate }

// Subjects returns the statement's subjects.
func (s *Statement) Subjects() []Subject {
	out := make([]Subject, 0, len(s.subjects))
	for _, rd := range s.subjects {
		d := make(map[string]string, len(rd.GetDigest()))
		for k, v := range rd.GetDigest() {
			d[k] = v
		}
		sub := Subject{Name: rd.GetName(), Digest: d}
		if a := rd.GetAnnotations(); len(a.GetFields()) > 0 {
			sub.Annotations = a.AsMap()
		}
		out = append(out, sub)
	}
	return out
}

// DigestAlgorithms returns the digest algorithms the subjects use, sorted. A
// caller that hashes a file to match it against the statement uses one of
// these (npm provenance uses sha512).
func (s *Statement) DigestAlgorithms() []string {
	seen := map[string]bool{}
	for _, rd := range s.subjects {
		for alg := range rd.GetDigest() {
			seen[alg] = true
		}
	}
	out := make([]string, 0, len(seen))
	for alg := range seen {
		out = append(out, alg)
	}
	sort.Strings(out)
	return out
}

// MatchesDigest reports whether any subject has the digest alg:hexDigest.
// Subjects are matched purely by digest; names are informational.
func (s *Statement) MatchesDigest(alg, hexDigest string) bool {
	if alg == "" || hexDigest == "" {
		return false
	}
	for _, rd := range s.subjects {
		if v, ok := rd.GetDigest()[alg]; ok && strings.EqualFold(v, hexDigest) {
			return true
		}
	}
	return false
}

// Proto returns the statement as the in-toto attestation proto. The predicate
// is converted only when it is a JSON object (the proto cannot hold anything
// else); the conversion costs time in proportion to its size.
func (s *Statement) Proto() (*intotov1.Statement, error) {
	subjects := make([]*intotov1.ResourceDescriptor, len(s.subjects))
	for i, rd := range s.subjects {
		subjects[i] = proto.Clone(rd).(*intotov1.ResourceDescriptor)
	}
	st := &intotov1.Statement{Type: s.typ, PredicateType: s.predicateType, Subject: subjects}
	if len(s.predicate) > 0 && s.predicate[0] == '{' {
		var p structpb.Struct
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(s.predicate, &p); err != nil {
			return nil, fmt.Errorf("%w: predicate: %v", ErrMalformedStatement, err)
		}
		st.Predicate = &p
	}
	return st, nil
}

// MarshalJSON returns the statement's JSON: the bytes it was parsed from or
// built as.
func (s *Statement) MarshalJSON() ([]byte, error) { return s.raw, nil }

// StatementOption configures NewStatement.
type StatementOption func(*statementOptions) error

type statementOptions struct {
	typ string
}

// WithStatementType sets the statement's _type: StatementTypeV1 or
// StatementTypeV01 (what cosign v2 writes for attestations). The default is
// StatementTypeV1.
func WithStatementType(uri string) StatementOption {
	return func(o *statementOptions) error {
		if uri != StatementTypeV1 && uri != StatementTypeV01 {
			return fmt.Errorf("statement type %q: use %s or %s", uri, StatementTypeV1, StatementTypeV01)
		}
		o.typ = uri
		return nil
	}
}

// NewStatement builds a statement about subjects. predicate is any JSON value
// (it is compacted) or nil for none. The result's JSON has the field order
// _type, predicateType, subject, predicate, as cosign writes it.
func NewStatement(predicateType string, predicate []byte, subjects []Subject, opts ...StatementOption) (*Statement, error) {
	o := statementOptions{typ: StatementTypeV1}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if predicateType == "" {
		return nil, errors.New("a statement needs a predicate type")
	}
	doc := struct {
		Type          string          `json:"_type"`
		PredicateType string          `json:"predicateType"`
		Subject       []Subject       `json:"subject"`
		Predicate     json.RawMessage `json:"predicate,omitempty"`
	}{Type: o.typ, PredicateType: predicateType, Subject: subjects}
	if len(predicate) > 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, predicate); err != nil {
			return nil, fmt.Errorf("predicate is not JSON: %w", err)
		}
		doc.Predicate = compact.Bytes()
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return ParseStatement(b)
}

// CosignSignStatement returns the statement cosign v3 signs for an image in
// the bundle format (`cosign sign`, the default since v3; v2.6 with
// --new-bundle-format): _type v1, one subject with the image digest
// ("sha256:<hex>") and cosign's -a annotations, predicate type
// PredicateCosignSign and an empty predicate. (cosign v2.6 omits the
// predicate; v3 writes {} to satisfy in-toto validators. Both verify alike.)
func CosignSignStatement(digest string, annotations map[string]string) (*Statement, error) {
	if err := checkImageDigest(digest); err != nil {
		return nil, err
	}
	alg, hexDigest, _ := strings.Cut(digest, ":")
	sub := Subject{Digest: map[string]string{alg: hexDigest}}
	if len(annotations) > 0 {
		sub.Annotations = make(map[string]any, len(annotations))
		for k, v := range annotations {
			sub.Annotations[k] = v
		}
	}
	return NewStatement(PredicateCosignSign, []byte("{}"), []Subject{sub})
}
