package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// Attachment is one signature or attestation found attached to an image, as
// discovery hands it over: the layer blob and, for legacy cosign layers, the
// layer's annotations.
type Attachment struct {
	Format Format
	// Content is the layer blob: a simple-signing payload (legacy .sig), a
	// DSSE envelope (legacy .att) or a Sigstore bundle (JSON).
	Content []byte
	// Annotations are the legacy layer's annotations (signature,
	// certificate, Rekor bundle, RFC 3161 timestamp). Bundles need none.
	Annotations map[string]string
	// Source is copied to the result, to say where the attachment came from.
	Source string
}

// ImageResult is the verdict on the signatures (or attestations) of one
// image digest.
type ImageResult struct {
	// Digest is the image digest everything was bound to.
	Digest string `json:"digest"`
	// PredicateType is the predicate type attestations were required to
	// have (attestation results only; empty: any).
	PredicateType string `json:"predicateType,omitempty"`
	// Verified is true when Threshold distinct authorities were satisfied.
	Verified  bool `json:"verified"`
	Threshold int  `json:"threshold"`
	// Satisfied names the authorities counted towards the threshold.
	Satisfied []string `json:"satisfied,omitempty"`
	// Signatures has one result per signature or attestation checked.
	Signatures []SignatureResult `json:"signatures"`
	Failure    *Failure          `json:"failure,omitempty"`
}

// ImageSignatures decides whether the image with the given digest
// ("sha256:<hex>") is signed as req requires, from the signatures attached
// to it: legacy .sig layers (simple-signing payloads), and Sigstore bundles
// whose in-toto statement has predicate type [PredicateCosignSign] (or, for
// other writers, a message signature over the image digest). Bundles with
// other predicate types and legacy attestations are attestations, not
// signatures: they are skipped.
//
// Every signature must name this digest (the simple-signing
// docker-manifest-digest, or the statement subject): a valid signature
// copied from another image is a [ReasonDigestMismatch] denial. Zero
// signatures is a [ReasonNoSignatures] denial.
//
// The result is returned with every denial (an *Error whose Denied is true).
// When the answer depends on a signature that could not be checked (trusted
// root unavailable, deadline), the error is not a denial and the result is nil.
func (v *Verifier) ImageSignatures(ctx context.Context, imageDigest string, atts []Attachment, req Requirements) (*ImageResult, error) {
	c, err := req.compile()
	if err != nil {
		return nil, err
	}
	return v.image(ctx, imageDigest, atts, c, kindSignature, "")
}

// ImageAttestations is ImageSignatures for attestations: legacy .att layers
// and Sigstore bundles holding an in-toto statement about the image. When
// att.PredicateType is not empty, only attestations of that type count; none
// of that type is a [ReasonNoAttestations] denial that lists the types found.
// An attestation that verifies but breaks att's predicate rules (provenance
// expectations) does not count. Each verified result carries the statement
// in Payload.
func (v *Verifier) ImageAttestations(ctx context.Context, imageDigest string, atts []Attachment, att AttestationRequirement, req Requirements) (*ImageResult, error) {
	check, err := att.compile()
	if err != nil {
		return nil, err
	}
	c, err := req.compile()
	if err != nil {
		return nil, err
	}
	c.statement = check
	return v.image(ctx, imageDigest, atts, c, kindAttestation, att.PredicateType)
}

type kind int

const (
	kindSignature kind = iota
	kindAttestation
)

// image verifies atts against compiled requirements c, which it does not
// change: one compiled policy serves many images at once.
func (v *Verifier) image(ctx context.Context, imageDigest string, atts []Attachment, c *compiled, want kind, predicateType string) (*ImageResult, error) {
	d, err := parseDigest(imageDigest)
	if err != nil {
		return nil, errorf(ReasonInvalidInput, "image %w", err)
	}
	if len(atts) > MaxAttachments {
		return nil, errorf(ReasonInvalidInput, "%d signatures and attestations attached to %s, more than the %d vouch checks: refusing to pick some", len(atts), d, MaxAttachments)
	}
	if len(c.annotations) > 0 && want == kindSignature {
		cc := *c
		cc.claims = annotationClaims(d, c.annotations)
		c = &cc
	}
	res := &ImageResult{Digest: d.String(), PredicateType: predicateType, Threshold: c.threshold, Signatures: []SignatureResult{}}
	var outs []outcome
	typesSeen := map[string]bool{}
	for _, a := range atts {
		s, k, ptype, err := imageSigned(a, d)
		if ptype != "" {
			typesSeen[ptype] = true
		}
		if k != want || (want == kindAttestation && predicateType != "" && ptype != predicateType) {
			continue // not what this call checks
		}
		if err != nil {
			outs = append(outs, outcome{result: SignatureResult{Format: a.Format, Source: a.Source, PredicateType: ptype, Failure: failure(asError(err))}})
			continue
		}
		outs = append(outs, v.check(ctx, s, c))
	}
	if err := decide(res, c, outs, want, predicateType, typesSeen); err != nil {
		if e, ok := err.(*Error); ok && e.Denied() {
			return res, err
		}
		return nil, err
	}
	return res, nil
}

// imageSigned turns an attachment into a signature bound to image digest d.
// It reports the kind (signature or attestation) and predicate type even
// when the attachment is unusable, so callers can skip what they do not check.
func imageSigned(a Attachment, d digest) (*signed, kind, string, error) {
	k := kindSignature
	if a.Format == FormatLegacyAttestation {
		k = kindAttestation
	}
	if len(a.Content) > MaxContentSize {
		return nil, k, "", errorf(ReasonMalformed, "%s content is %d bytes, more than %d", a.Format, len(a.Content), MaxContentSize)
	}
	switch a.Format {
	case FormatLegacySignature:
		ss, err := parseSimpleSigning(a.Content)
		if err != nil {
			return nil, k, "", errorf(ReasonMalformed, "%w", err)
		}
		if ss.Critical.Image.DockerManifestDigest != d.String() {
			return nil, k, "", errorf(ReasonDigestMismatch, "the signature is for image %s, not %s (a signature copied from another image?)", orNone(ss.Critical.Image.DockerManifestDigest), d)
		}
		l, err := legacyBundle(a.Format, a.Content, a.Annotations)
		if err != nil {
			return nil, k, "", errorf(ReasonMalformed, "legacy signature: %w", err)
		}
		s, err := newSigned(a.Format, a.Source, l.b)
		if err != nil {
			return nil, k, "", err
		}
		payload := a.Content
		s.artifact = func() sgverify.ArtifactPolicyOption { return sgverify.WithArtifact(bytes.NewReader(payload)) }
		s.raw, s.payload, s.droppedTlog = payload, payload, l.droppedTlog
		return s, k, "", nil

	case FormatLegacyAttestation:
		env, err := parseEnvelope(a.Content)
		if err != nil {
			return nil, k, "", errorf(ReasonMalformed, "legacy attestation: %w", err)
		}
		st, err := parseStatement(env.PayloadType, env.Payload)
		if err != nil {
			return nil, k, "", errorf(ReasonMalformed, "legacy attestation: %w", err)
		}
		if !st.names(d) {
			return nil, k, st.PredicateType, errorf(ReasonDigestMismatch, "the attestation is about %s, not %s", orNone(st.subjectDigests()), d)
		}
		l, err := legacyBundle(a.Format, a.Content, a.Annotations)
		if err != nil {
			return nil, k, st.PredicateType, errorf(ReasonMalformed, "legacy attestation: %w", err)
		}
		s, err := newSigned(a.Format, a.Source, l.b)
		if err != nil {
			return nil, k, st.PredicateType, err
		}
		s.predicateType, s.payload, s.droppedTlog = st.PredicateType, env.Payload, l.droppedTlog
		s.artifact = digestPolicy(d)
		return s, k, st.PredicateType, nil

	case FormatBundle:
		b, err := ParseBundle(a.Content)
		if err != nil {
			return nil, k, "", err
		}
		s, err := newSigned(a.Format, a.Source, newEntity(b))
		if err != nil {
			return nil, k, "", err
		}
		s.artifact = digestPolicy(d)
		if env := b.GetDsseEnvelope(); env != nil {
			st, err := parseStatement(env.GetPayloadType(), env.GetPayload())
			if err != nil {
				return nil, k, "", errorf(ReasonMalformed, "bundle: %w", err)
			}
			if st.PredicateType != PredicateCosignSign {
				k = kindAttestation
			}
			if !st.names(d) {
				return nil, k, st.PredicateType, errorf(ReasonDigestMismatch, "the bundle's statement is about %s, not %s (a bundle for another image?)", orNone(st.subjectDigests()), d)
			}
			s.predicateType, s.payload = st.PredicateType, env.GetPayload()
			return s, k, st.PredicateType, nil
		}
		// A message signature counts as an image signature when it signs
		// the image digest itself.
		ms := b.GetMessageSignature()
		md := ms.GetMessageDigest()
		if md.GetAlgorithm() != protocommon.HashAlgorithm_SHA2_256 || d.alg != "sha256" || !bytes.Equal(md.GetDigest(), d.raw) {
			return nil, k, "", errorf(ReasonDigestMismatch, "the bundle's message signature is over %s %x, not image %s", md.GetAlgorithm(), md.GetDigest(), d)
		}
		return s, k, "", nil
	}
	return nil, k, "", errorf(ReasonInvalidInput, "unknown attachment format %q: use %s, %s or %s", a.Format, FormatLegacySignature, FormatLegacyAttestation, FormatBundle)
}

func digestPolicy(d digest) func() sgverify.ArtifactPolicyOption {
	return func() sgverify.ArtifactPolicyOption { return sgverify.WithArtifactDigest(d.alg, d.raw) }
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// ParseBundle parses a Sigstore bundle (v0.1 to v0.3, JSON). A bundle that
// does not parse is a [ReasonMalformed] denial: a signer or an attacker made it.
func ParseBundle(b []byte) (*sgbundle.Bundle, error) {
	if len(b) > MaxContentSize {
		return nil, errorf(ReasonMalformed, "the bundle is %d bytes, more than %d", len(b), MaxContentSize)
	}
	var bu sgbundle.Bundle
	if err := bu.UnmarshalJSON(b); err != nil {
		return nil, errorf(ReasonMalformed, "not a valid Sigstore bundle: %w", err)
	}
	return &bu, nil
}

func asError(err error) *Error {
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Reason: ReasonOf(err), Msg: err.Error(), Err: err}
}

// decide applies the threshold to the outcomes: distinct authorities, each
// satisfied by a different signature.
func decide(res *ImageResult, c *compiled, outs []outcome, want kind, predicateType string, typesSeen map[string]bool) error {
	satisfied := make([][]int, len(outs))
	var undecided error
	for i, o := range outs {
		res.Signatures = append(res.Signatures, o.result)
		satisfied[i] = o.satisfied
		if o.undecided != nil && undecided == nil {
			undecided = o.undecided
		}
	}
	n, matchOf := maxMatching(len(c.auths), satisfied)
	for a, sig := range matchOf {
		if sig >= 0 {
			res.Satisfied = append(res.Satisfied, c.auths[a].name)
			res.Signatures[sig].Authority = c.auths[a].name
		}
	}
	if n >= c.threshold {
		res.Verified = true
		return nil
	}
	if undecided != nil {
		return undecided
	}
	var err *Error
	switch {
	case len(outs) == 0 && want == kindSignature:
		err = errorf(ReasonNoSignatures, "no signatures on %s", res.Digest)
	case len(outs) == 0:
		var types []string
		for t := range typesSeen {
			types = append(types, t)
		}
		sort.Strings(types)
		what := "no attestations"
		if predicateType != "" {
			what = "no attestations of type " + predicateType
		}
		found := "none"
		if len(types) > 0 {
			found = strings.Join(types, ", ")
		}
		err = errorf(ReasonNoAttestations, "%s on %s (predicate types found: %s)", what, res.Digest, found)
	case n == 0:
		err = noneVerified(res)
	default:
		err = errorf(ReasonThresholdNotMet, "%d of %d required authorities satisfied (%s): each authority counts once, however many of its signatures there are",
			n, c.threshold, strings.Join(res.Satisfied, ", "))
	}
	res.Failure = failure(err)
	return err
}

// noneVerified is the denial when no signature verified: the shared reason
// when every signature failed for the same one, else "no matching signatures".
func noneVerified(res *ImageResult) *Error {
	first := res.Signatures[0].Failure
	same := first != nil
	for _, s := range res.Signatures {
		if s.Failure == nil || s.Failure.Reason != first.Reason {
			same = false
		}
	}
	if same && len(res.Signatures) == 1 {
		return &Error{Reason: first.Reason, Msg: first.Message}
	}
	if same {
		return errorf(first.Reason, "none of the %d signatures on %s verified: %s", len(res.Signatures), res.Digest, first.Message)
	}
	return errorf(ReasonNoMatchingSignatures, "none of the %d signatures on %s verified (see each signature's failure)", len(res.Signatures), res.Digest)
}

// annotationClaims checks that a verified image signature carries the
// annotations want, as cosign verify -a does: in the simple-signing payload's
// "optional" section, or in the annotations of the statement subject that
// names image digest d. Values compare as strings; a value of another JSON
// type never matches.
func annotationClaims(d digest, want map[string]string) func(s *signed) *Error {
	return func(s *signed) *Error {
		var have map[string]any
		switch s.format {
		case FormatLegacySignature:
			ss, err := parseSimpleSigning(s.payload)
			if err != nil {
				return errorf(ReasonMalformed, "%w", err)
			}
			have = ss.Optional
		default:
			if s.predicateType != "" { // an in-toto statement
				st, err := parseStatement(inTotoPayloadType, s.payload)
				if err != nil {
					return errorf(ReasonMalformed, "%w", err)
				}
				for _, sub := range st.Subject {
					if sub.Digest[d.alg] == d.hex {
						have = sub.Annotations
						break
					}
				}
			}
		}
		keys := make([]string, 0, len(want))
		for k := range want {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			got, ok := have[k]
			if str, isStr := got.(string); !ok || !isStr || str != want[k] {
				shown := "no such annotation"
				if ok {
					b, _ := json.Marshal(got)
					shown = "it has " + k + "=" + string(b)
				}
				return errorf(ReasonAnnotationMismatch, "the signature does not carry the required annotation %s=%s (%s): sign with -a %s=%s", k, want[k], shown, k, want[k])
			}
		}
		return nil
	}
}
