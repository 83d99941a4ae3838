package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/vouchdev/vouch/attest"
)

// provenanceFor is SLSA provenance v1 about digest, built by builderID from
// repo at ref, as GitHub's workflow build type writes it.
func provenanceFor(t *testing.T, digest, builderID, repo, ref string) []byte {
	t.Helper()
	alg, h, _ := cutDigest(digest)
	pred := map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{
				"ref": ref, "repository": repo, "path": ".github/workflows/release.yml"}},
			"resolvedDependencies": []any{map[string]any{
				"uri": "git+" + repo + "@" + ref, "digest": map[string]string{"gitCommit": "0123456789abcdef0123456789abcdef01234567"}}},
		},
		"runDetails": map[string]any{"builder": map[string]any{"id": builderID}},
	}
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "registry.example.com/app", "digest": map[string]string{alg: h}}},
		"predicateType": attest.PredicateSLSAProvenanceV1,
		"predicate":     pred,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyedStatementBundle signs statement with a fresh key through attest's
// signer (no tlog), as `vouch attest --format bundle` does.
func keyedStatementBundle(t *testing.T, statement []byte) (Attachment, *ecdsa.PrivateKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.NewSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.BundleStatement(context.Background(), statement)
	if err != nil {
		t.Fatal(err)
	}
	j, err := b.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return Attachment{Format: FormatBundle, Content: j, Source: "keyed provenance"}, priv
}

// Provenance expectations decide whether a verified attestation counts: a
// cryptographically valid attestation whose predicate says the wrong thing
// is a denial, never a pass.
func TestImageAttestationProvenance(t *testing.T) {
	const (
		builder = "https://github.com/actions/runner/github-hosted"
		repo    = "https://github.com/acme/app"
	)
	att, priv := keyedStatementBundle(t, provenanceFor(t, imageDigest, builder, repo, "refs/tags/v1.2.0"))
	req := Requirements{Authorities: []Authority{{Name: "release", Key: &KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true}}}}
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		exp  attest.Expectations
		want Reason // "" = verified
	}{
		{"matching builder, source and ref", attest.Expectations{BuilderID: builder, SourceRepository: "github.com/acme/app", SourceRef: "refs/tags/v*"}, ""},
		{"source given as slsa-verifier takes it", attest.Expectations{SourceRepository: "git+https://github.com/acme/app.git"}, ""},
		{"another builder", attest.Expectations{BuilderID: "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0"}, ReasonProvenanceMismatch},
		{"a repository that only shares a prefix", attest.Expectations{SourceRepository: "github.com/acme/ap"}, ReasonProvenanceMismatch},
		{"a repository the prefix of which is ours", attest.Expectations{SourceRepository: "github.com/acme/app-evil"}, ReasonProvenanceMismatch},
		{"a branch where a tag was built", attest.Expectations{SourceRef: "refs/heads/main"}, ReasonProvenanceMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := tc.exp
			res, err := v.ImageAttestations(ctx, imageDigest, []Attachment{att},
				AttestationRequirement{PredicateType: attest.PredicateSLSAProvenanceV1, Provenance: &exp}, req)
			if tc.want == "" {
				wantVerified(t, res, err)
				return
			}
			wantDenied(t, res, err, tc.want)
			if res.Signatures[0].Verified || res.Signatures[0].Failure == nil || res.Signatures[0].Failure.Reason != tc.want {
				t.Errorf("the attestation's own result should carry the denial: %+v", res.Signatures[0])
			}
		})
	}

	// Expectations on an attestation that is not provenance cannot pass.
	other, priv2 := keyedStatementBundle(t, statementFor(imageDigest, "https://spdx.dev/Document"))
	req2 := Requirements{Authorities: []Authority{{Name: "k", Key: &KeyAuthority{PublicKey: priv2.Public(), InsecureIgnoreTlog: true}}}}
	res, err := v.ImageAttestations(ctx, imageDigest, []Attachment{other},
		AttestationRequirement{Provenance: &attest.Expectations{BuilderID: builder}}, req2)
	wantDenied(t, res, err, ReasonPredicateTypeMismatch)
}

// A keyless attestation's claims are bound to its certificate: expectations
// the certificate cannot back (an e-mail identity has no source repository)
// fail even when the predicate claims exactly what was expected.
func TestKeylessProvenanceBoundToCertificate(t *testing.T) {
	f := newFixture(t)
	const repo = "https://github.com/acme/app"
	st := provenanceFor(t, imageDigest, "https://github.com/actions/runner/github-hosted", repo, "refs/heads/main")
	te := must[*ca.TestEntity](t)(f.vs.AttestAtTime(aliceID, testIssuer, st, time.Now().Add(5*time.Minute), true))
	cert, body, it, idx := f.entityParts(te)
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{f.tlogEntry(body, it, idx, true)},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: protoEnvelope(t, teEnvelope(t, te))},
	}
	att := Attachment{Format: FormatBundle, Content: bundleJSON(t, pb)}
	req := Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}
	v := f.verifier()

	res, err := v.ImageAttestations(context.Background(), imageDigest, []Attachment{att}, AttestationRequirement{PredicateType: attest.PredicateSLSAProvenanceV1}, req)
	wantVerified(t, res, err) // no expectations: the signature alone decides

	res, err = v.ImageAttestations(context.Background(), imageDigest, []Attachment{att},
		AttestationRequirement{PredicateType: attest.PredicateSLSAProvenanceV1, Provenance: &attest.Expectations{SourceRepository: repo}}, req)
	wantDenied(t, res, err, ReasonProvenanceMismatch)
}
