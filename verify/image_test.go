package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
)

func keylessAuth(name string, ids ...Identity) Authority {
	return Authority{Name: name, Keyless: &KeylessAuthority{Identities: ids}}
}

func keyAuth(name string, k keyPair, ignoreTlog bool) Authority {
	return Authority{Name: name, Key: &KeyAuthority{PublicKey: k.pub(), InsecureIgnoreTlog: ignoreTlog}}
}

var (
	alice = Identity{Issuer: testIssuer, Subject: aliceID}
	bob   = Identity{Issuer: testIssuer, Subject: bobID}
)

// wantDenied checks that err is a denial with reason want.
func wantDenied(t *testing.T, res *ImageResult, err error, want Reason) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want a %s denial, got %v (result %+v)", want, err, res)
	}
	if e.Reason != want || !e.Denied() {
		t.Fatalf("want a %s denial, got %s: %v", want, e.Reason, e)
	}
	if res == nil || res.Verified || res.Failure == nil || res.Failure.Reason != want {
		t.Fatalf("result does not carry the denial: %+v", res)
	}
}

func wantVerified(t *testing.T, res *ImageResult, err error) {
	t.Helper()
	if err != nil {
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Fatalf("want verified, got %v\n%s", err, b)
	}
	if !res.Verified {
		t.Fatalf("not verified: %+v", res)
	}
}

func TestImageSignaturesKeylessLegacy(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)},
		Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantVerified(t, res, err)
	s := res.Signatures[0]
	if s.Format != FormatLegacySignature || s.Authority != "ci" || s.Identity == nil || s.Identity.Subject != aliceID || s.Identity.Issuer != testIssuer {
		t.Errorf("result: %+v", s)
	}
	if s.Tlog == nil || s.Tlog.Status != TlogVerified || s.Tlog.LogIndex == nil || *s.Tlog.LogIndex != 1000 || s.Tlog.IntegratedTime == nil {
		t.Errorf("tlog: %+v", s.Tlog)
	}
	kinds := map[string]bool{}
	for _, ts := range s.Timestamps {
		kinds[ts.Kind] = true
	}
	if !kinds["tlog"] || !kinds["tsa"] {
		t.Errorf("want a tlog and an RFC 3161 timestamp, got %+v", s.Timestamps)
	}
	if string(s.Payload) != string(simpleSigningPayload(imageDigest)) {
		t.Errorf("payload %q", s.Payload)
	}
	if len(res.Satisfied) != 1 || res.Satisfied[0] != "ci" {
		t.Errorf("satisfied %v", res.Satisfied)
	}
}

func TestImageSignaturesKeylessBundle(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessBundle(aliceID, imageDigest, PredicateCosignSign)},
		Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantVerified(t, res, err)
	s := res.Signatures[0]
	if s.Format != FormatBundle || s.PredicateType != PredicateCosignSign || s.Identity.Subject != aliceID || s.Tlog.Status != TlogVerified {
		t.Errorf("result: %+v", s)
	}
}

func TestImageSignaturesKeyedLegacy(t *testing.T) {
	f := newFixture(t)
	k := newKey(t)
	v := f.verifier()
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keyedSig(k, imageDigest, true)},
		Requirements{Authorities: []Authority{keyAuth("release", k, false)}})
	wantVerified(t, res, err)
	s := res.Signatures[0]
	if s.Authority != "release" || s.Identity != nil || s.Tlog.Status != TlogVerified || *s.Tlog.LogIndex != 42 {
		t.Errorf("result: %+v tlog %+v", s, s.Tlog)
	}
}

func TestImageSignaturesKeyedBundle(t *testing.T) {
	f := newFixture(t)
	k := newKey(t)
	v := f.verifier()
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keyedBundle(k, imageDigest, PredicateCosignSign, true)},
		Requirements{Authorities: []Authority{keyAuth("release", k, false)}})
	wantVerified(t, res, err)
	if s := res.Signatures[0]; s.Tlog.Status != TlogVerified || *s.Tlog.LogIndex != 7 {
		t.Errorf("tlog %+v", s.Tlog)
	}
}

// Each hostile case names the rule it guards; without that rule it passes.
func TestImageSignaturesHostile(t *testing.T) {
	f := newFixture(t)
	k, other := newKey(t), newKey(t)
	ctx := context.Background()
	aliceOnly := Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}
	keyOnly := Requirements{Authorities: []Authority{keyAuth("release", k, false)}}

	// A valid SET, but for another signature (CVE-2022-23649, GHSA-whqx).
	setFromOther := f.keylessSig(aliceID, imageDigest)
	setFromOther.Annotations[AnnotationBundle] = f.keylessSig(aliceID, otherDigest).Annotations[AnnotationBundle]
	// The SET's body altered after Rekor signed it.
	alteredBody := f.keylessSig(aliceID, imageDigest)
	var rb map[string]any
	_ = json.Unmarshal([]byte(alteredBody.Annotations[AnnotationBundle]), &rb)
	body, _ := base64.StdEncoding.DecodeString(rb["Payload"].(map[string]any)["body"].(string))
	body = []byte(strings.Replace(string(body), `"hashedrekord"`, `"hashedrekord" `, 1))
	rb["Payload"].(map[string]any)["body"] = base64.StdEncoding.EncodeToString(body)
	b, _ := json.Marshal(rb)
	alteredBody.Annotations[AnnotationBundle] = string(b)
	// The signature annotation replaced by one over another payload.
	swappedSig := f.keylessSig(aliceID, imageDigest)
	swappedSig.Annotations[AnnotationSignature] = f.keylessSig(aliceID, imageDigest).Annotations[AnnotationSignature]
	// Keyed, but the tlog entry is removed.
	keyedNoTlog := f.keyedSig(k, imageDigest, false)

	for _, tc := range []struct {
		name string
		atts []Attachment
		req  Requirements
		want Reason
	}{
		{"another image's legacy signature copied onto this image", []Attachment{f.keylessSig(aliceID, otherDigest)}, aliceOnly, ReasonDigestMismatch},
		{"another image's keyed signature copied onto this image", []Attachment{f.keyedSig(k, otherDigest, true)}, keyOnly, ReasonDigestMismatch},
		{"a bundle for another digest", []Attachment{f.keylessBundle(aliceID, otherDigest, PredicateCosignSign)}, aliceOnly, ReasonDigestMismatch},
		{"a legacy SET for a different payload", []Attachment{setFromOther}, aliceOnly, ReasonTlogInvalid},
		{"a SET whose body was altered", []Attachment{alteredBody}, aliceOnly, ReasonTlogInvalid},
		{"a signature that is not over this payload", []Attachment{swappedSig}, aliceOnly, ReasonSignatureInvalid},
		{"a certificate expired at log time", []Attachment{f.keylessSigAt(aliceID, imageDigest, time.Now().Add(30*time.Minute))}, aliceOnly, ReasonCertificateInvalid},
		{"an identity regexp that only matches unanchored", []Attachment{f.keylessSig("alice@example.com.evil.test", imageDigest)},
			Requirements{Authorities: []Authority{keylessAuth("ci", Identity{Issuer: testIssuer, SubjectRegExp: `alice@example\.com`})}}, ReasonIdentityMismatch},
		{"an issuer regexp that only matches unanchored", []Attachment{f.keylessSig(aliceID, imageDigest)},
			Requirements{Authorities: []Authority{keylessAuth("ci", Identity{IssuerRegExp: `issuer\.example`, Subject: aliceID})}}, ReasonIdentityMismatch},
		{"another signer", []Attachment{f.keylessSig(bobID, imageDigest)}, aliceOnly, ReasonIdentityMismatch},
		{"no signatures", nil, aliceOnly, ReasonNoSignatures},
		{"only attestations, no signatures", []Attachment{f.keylessBundle(aliceID, imageDigest, "https://slsa.dev/provenance/v1"), f.keylessAtt(aliceID, imageDigest, "https://slsa.dev/provenance/v1")}, aliceOnly, ReasonNoSignatures},
		{"wrong key, tlog required", []Attachment{f.keyedSig(other, imageDigest, true)}, keyOnly, ReasonKeyMismatch},
		{"wrong key, tlog skipped", []Attachment{f.keyedSig(other, imageDigest, false)},
			Requirements{Authorities: []Authority{keyAuth("release", k, true)}}, ReasonKeyMismatch},
		{"wrong key, bundle", []Attachment{f.keyedBundle(other, imageDigest, PredicateCosignSign, true)}, keyOnly, ReasonKeyMismatch},
		{"tlog required by default for keys", []Attachment{keyedNoTlog}, keyOnly, ReasonTlogMissing},
		{"tlog required by default for keyed bundles", []Attachment{f.keyedBundle(k, imageDigest, PredicateCosignSign, false)}, keyOnly, ReasonTlogMissing},
		{"a keyless signature where a key is required", []Attachment{f.keylessSig(aliceID, imageDigest)}, keyOnly, ReasonKeyMismatch},
		{"a keyed signature where an identity is required", []Attachment{f.keyedSig(k, imageDigest, true)}, aliceOnly, ReasonIdentityMismatch},
		{"unknown simple-signing type", []Attachment{{Format: FormatLegacySignature, Content: []byte(strings.Replace(string(simpleSigningPayload(imageDigest)), "cosign container image signature", "atomic container signature", 1)),
			Annotations: keyedNoTlog.Annotations}}, keyOnly, ReasonMalformed},
		{"unknown field in the critical section", []Attachment{{Format: FormatLegacySignature,
			Content:     []byte(`{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"` + imageDigest + `"},"type":"cosign container image signature","image2":{}}}`),
			Annotations: keyedNoTlog.Annotations}}, keyOnly, ReasonMalformed},
		{"a bundle that is not JSON", []Attachment{{Format: FormatBundle, Content: []byte("{")}}, aliceOnly, ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := f.verifier().ImageSignatures(ctx, imageDigest, tc.atts, tc.req)
			wantDenied(t, res, err, tc.want)
		})
	}
}

func TestImageSignaturesInsecureIgnoreTlogIsReported(t *testing.T) {
	f := newFixture(t)
	k := newKey(t)
	for _, a := range []Attachment{f.keyedSig(k, imageDigest, false), f.keyedBundle(k, imageDigest, PredicateCosignSign, false), f.keyedSig(k, imageDigest, true)} {
		res, err := f.verifier().ImageSignatures(context.Background(), imageDigest, []Attachment{a},
			Requirements{Authorities: []Authority{keyAuth("release", k, true)}})
		wantVerified(t, res, err)
		if tl := res.Signatures[0].Tlog; tl == nil || tl.Status != TlogSkipped || tl.LogIndex != nil {
			t.Errorf("%s: want tlog skipped, got %+v", a.Source, tl)
		}
	}
}

func TestImageSignaturesSeveralIdentities(t *testing.T) {
	f := newFixture(t)
	res, err := f.verifier().ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(bobID, imageDigest)},
		Requirements{Authorities: []Authority{keylessAuth("team", alice, bob)}})
	wantVerified(t, res, err)
	if res.Signatures[0].Identity.Subject != bobID {
		t.Errorf("identity %+v", res.Signatures[0].Identity)
	}
}

func TestImageSignaturesThreshold(t *testing.T) {
	f := newFixture(t)
	k := newKey(t)
	ctx := context.Background()
	two := Requirements{Threshold: 2, Authorities: []Authority{keylessAuth("alice", alice), keyAuth("release", k, false)}}

	// One authority satisfied twice does not make two.
	res, err := f.verifier().ImageSignatures(ctx, imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest), f.keylessSig(aliceID, imageDigest)}, two)
	wantDenied(t, res, err, ReasonThresholdNotMet)
	if len(res.Satisfied) != 1 {
		t.Errorf("satisfied %v", res.Satisfied)
	}

	// One signature satisfying two overlapping authorities counts once.
	overlap := Requirements{Threshold: 2, Authorities: []Authority{
		keylessAuth("exact", alice), keylessAuth("pattern", Identity{Issuer: testIssuer, SubjectRegExp: `.*@example\.com`})}}
	res, err = f.verifier().ImageSignatures(ctx, imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, overlap)
	wantDenied(t, res, err, ReasonThresholdNotMet)

	// Two signatures that each satisfy both overlapping authorities: two.
	res, err = f.verifier().ImageSignatures(ctx, imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest), f.keylessSig(aliceID, imageDigest)}, overlap)
	wantVerified(t, res, err)

	// Two distinct authorities, two signatures, mixed formats and kinds.
	res, err = f.verifier().ImageSignatures(ctx, imageDigest, []Attachment{f.keylessBundle(aliceID, imageDigest, PredicateCosignSign), f.keyedSig(k, imageDigest, true)}, two)
	wantVerified(t, res, err)
	if len(res.Satisfied) != 2 {
		t.Errorf("satisfied %v", res.Satisfied)
	}

	// A bad signature next to a good one does not deny.
	res, err = f.verifier().ImageSignatures(ctx, imageDigest, []Attachment{f.keylessSig(aliceID, otherDigest), f.keylessSig(aliceID, imageDigest)},
		Requirements{Authorities: []Authority{keylessAuth("alice", alice)}})
	wantVerified(t, res, err)
	if res.Signatures[0].Failure == nil || res.Signatures[0].Failure.Reason != ReasonDigestMismatch || res.Signatures[1].Failure != nil {
		t.Errorf("per-signature results: %+v", res.Signatures)
	}
}

func TestImageSignaturesMixedFailuresReason(t *testing.T) {
	f := newFixture(t)
	res, err := f.verifier().ImageSignatures(context.Background(), imageDigest,
		[]Attachment{f.keylessSig(aliceID, otherDigest), f.keylessSig(bobID, imageDigest)},
		Requirements{Authorities: []Authority{keylessAuth("alice", alice)}})
	wantDenied(t, res, err, ReasonNoMatchingSignatures)
	res, err = f.verifier().ImageSignatures(context.Background(), imageDigest,
		[]Attachment{f.keylessSig(aliceID, otherDigest), f.keylessSig(aliceID, otherDigest)},
		Requirements{Authorities: []Authority{keylessAuth("alice", alice)}})
	wantDenied(t, res, err, ReasonDigestMismatch)
}

func TestImageAttestations(t *testing.T) {
	f := newFixture(t)
	k := newKey(t)
	ctx := context.Background()
	const slsa = "https://slsa.dev/provenance/v1"
	atts := []Attachment{
		f.keylessAtt(aliceID, imageDigest, slsa),
		f.keyedBundle(k, imageDigest, "https://spdx.dev/Document", true),
		f.keylessBundle(aliceID, imageDigest, PredicateCosignSign), // a signature, not an attestation
	}
	res, err := f.verifier().ImageAttestations(ctx, imageDigest, atts, AttestationRequirement{PredicateType: slsa}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantVerified(t, res, err)
	if len(res.Signatures) != 1 || res.Signatures[0].PredicateType != slsa || !strings.Contains(string(res.Signatures[0].Payload), slsa) {
		t.Fatalf("attestations: %+v", res.Signatures)
	}

	// Any type: both attestations are checked, each against the authorities.
	res, err = f.verifier().ImageAttestations(ctx, imageDigest, atts, AttestationRequirement{}, Requirements{Threshold: 2, Authorities: []Authority{keylessAuth("ci", alice), keyAuth("k", k, false)}})
	wantVerified(t, res, err)
	if len(res.Signatures) != 2 {
		t.Fatalf("want the two attestations, got %+v", res.Signatures)
	}

	// None of the required type is a denial that lists what was found.
	res, err = f.verifier().ImageAttestations(ctx, imageDigest, atts, AttestationRequirement{PredicateType: "https://example.com/none"}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantDenied(t, res, err, ReasonNoAttestations)
	if !strings.Contains(err.Error(), slsa) || !strings.Contains(err.Error(), "https://spdx.dev/Document") {
		t.Errorf("the denial should list the types found: %v", err)
	}

	// An attestation about another image.
	res, err = f.verifier().ImageAttestations(ctx, imageDigest, []Attachment{f.keylessAtt(aliceID, otherDigest, slsa)}, AttestationRequirement{PredicateType: slsa}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantDenied(t, res, err, ReasonDigestMismatch)
}

func TestImageInputErrors(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	ctx := context.Background()
	req := Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}
	for _, d := range []string{"", "sha256:abc", "SHA256:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("A", 64), "md5:" + strings.Repeat("a", 32)} {
		if _, err := v.ImageSignatures(ctx, d, nil, req); ReasonOf(err) != ReasonInvalidInput {
			t.Errorf("digest %q: %v", d, err)
		}
	}
	many := make([]Attachment, MaxAttachments+1)
	if _, err := v.ImageSignatures(ctx, imageDigest, many, req); ReasonOf(err) != ReasonInvalidInput {
		t.Errorf("more than MaxAttachments: %v", err)
	}
	big := Attachment{Format: FormatLegacySignature, Content: make([]byte, MaxContentSize+1)}
	res, err := v.ImageSignatures(ctx, imageDigest, []Attachment{big}, req)
	wantDenied(t, res, err, ReasonMalformed)
	huge := f.keylessSig(aliceID, imageDigest)
	huge.Annotations[AnnotationChain] = strings.Repeat("x", MaxAnnotationSize+1)
	res, err = v.ImageSignatures(ctx, imageDigest, []Attachment{huge}, req)
	wantDenied(t, res, err, ReasonMalformed)
}

// A message-signature bundle over the image manifest itself (its digest is
// the image digest) counts as an image signature; over anything else it is
// for another digest.
func TestImageSignaturesMessageSignatureBundle(t *testing.T) {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	kp := must[*sign.EphemeralKeypair](t)(sign.NewEphemeralKeypair(nil))
	pb := must[*protobundle.Bundle](t)(sign.Bundle(&sign.PlainData{Data: manifest}, kp, sign.BundleOptions{}))
	a := Attachment{Format: FormatBundle, Content: bundleJSON(t, pb)}
	req := Requirements{Authorities: []Authority{{Name: "k", Key: &KeyAuthority{PublicKey: kp.GetPublicKey(), InsecureIgnoreTlog: true}}}}
	v := must[*Verifier](t)(New())
	res, err := v.ImageSignatures(context.Background(), blobDigest(manifest), []Attachment{a}, req)
	wantVerified(t, res, err)
	res, err = v.ImageSignatures(context.Background(), imageDigest, []Attachment{a}, req)
	wantDenied(t, res, err, ReasonDigestMismatch)
}
