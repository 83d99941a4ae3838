package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/sbom"
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

// spdxDoc is a minimal SPDX 2.3 document describing an application with
// the given packages (name, version, purl, declared license).
func spdxDoc(t *testing.T, pkgs ...[4]string) map[string]any {
	t.Helper()
	return spdxDocFor(pkgs)
}

func spdxDocFor(pkgs [][4]string) map[string]any {
	packages := []any{map[string]any{"SPDXID": "SPDXRef-root", "name": "app", "versionInfo": "1.0.0", "licenseConcluded": "NOASSERTION"}}
	for i, p := range pkgs {
		packages = append(packages, map[string]any{
			"SPDXID": fmt.Sprintf("SPDXRef-Package-%d", i), "name": p[0], "versionInfo": p[1],
			"licenseConcluded": "NOASSERTION", "licenseDeclared": p[3],
			"externalRefs": []any{map[string]any{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": p[2]}},
		})
	}
	return map[string]any{
		"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",
		"documentNamespace": "https://example.com/spdx/app", "documentDescribes": []string{"SPDXRef-root"},
		"creationInfo": map[string]any{"created": "2024-01-01T00:00:00Z", "creators": []string{"Tool: vouch-test"}},
		"packages":     packages,
	}
}

func cyclonedxDoc(pkgs ...[4]string) map[string]any {
	var comps []any
	for _, p := range pkgs {
		comps = append(comps, map[string]any{"type": "library", "name": p[0], "version": p[1], "purl": p[2],
			"licenses": []any{map[string]any{"expression": p[3]}}})
	}
	return map[string]any{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
		"metadata": map[string]any{"component": map[string]any{"type": "application", "name": "app"}}, "components": comps}
}

// sbomStatement is a statement about the image with an SBOM as predicate,
// as cosign attest --type spdxjson|cyclonedx and vouch sbom attest write it.
func sbomStatement(t testing.TB, predicateType string, predicate any) []byte {
	t.Helper()
	alg, h, _ := cutDigest(imageDigest)
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"subject":       []any{map[string]any{"name": "registry.example.com/app", "digest": map[string]string{alg: h}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SBOM rules apply to the verified SBOM: a denied license or package is a
// denial naming the package and the rule, a clean SBOM passes, and a
// predicate that is not the SBOM its type claims is malformed.
func TestSBOMAttestationRules(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var (
		leftPad   = [4]string{"left-pad", "1.3.0", "pkg:npm/left-pad@1.3.0", "WTFPL"}
		lodash    = [4]string{"lodash", "4.17.21", "pkg:npm/lodash@4.17.21", "MIT"}
		readline  = [4]string{"readline", "8.2", "pkg:deb/debian/readline@8.2?arch=amd64", "GPL-3.0-only"}
		dual      = [4]string{"dual", "2.0.0", "pkg:npm/dual@2.0.0", "MIT OR GPL-3.0-only"}
		both      = [4]string{"both", "2.0.0", "pkg:npm/both@2.0.0", "MIT AND GPL-3.0-only"}
		evilEvent = [4]string{"event-stream", "3.3.6", "pkg:npm/event-stream@3.3.6", "MIT"}
	)
	denyGPL := &sbom.Rules{DenyLicenses: []string{"GPL-3.0-only"}}
	for _, tc := range []struct {
		name      string
		predType  string
		predicate any
		rules     *sbom.Rules
		want      Reason   // "" = verified
		mentions  []string // in the denial's message
	}{
		{name: "a clean SPDX SBOM", predType: attest.PredicateSPDX, predicate: spdxDoc(t, lodash, leftPad), rules: denyGPL},
		{name: "a denied license", predType: attest.PredicateSPDX, predicate: spdxDoc(t, lodash, readline), rules: denyGPL, want: ReasonSBOMPolicy,
			mentions: []string{"pkg:deb/debian/readline@8.2?arch=amd64", "denyLicenses", "GPL-3.0-only"}},
		{name: "a denied license by glob", predType: attest.PredicateSPDX, predicate: spdxDoc(t, readline), rules: &sbom.Rules{DenyLicenses: []string{"GPL-*"}}, want: ReasonSBOMPolicy},
		{name: "MIT OR GPL-3.0-only with only GPL denied", predType: attest.PredicateSPDX, predicate: spdxDoc(t, dual), rules: denyGPL},
		{name: "MIT AND GPL-3.0-only with GPL denied", predType: attest.PredicateSPDX, predicate: spdxDoc(t, both), rules: denyGPL, want: ReasonSBOMPolicy, mentions: []string{"pkg:npm/both@2.0.0"}},
		{name: "a denied package", predType: attest.PredicateSPDX, predicate: spdxDoc(t, lodash, evilEvent),
			rules: &sbom.Rules{DenyPackages: []string{"pkg:npm/event-stream@3.3.6"}}, want: ReasonSBOMPolicy,
			mentions: []string{"pkg:npm/event-stream@3.3.6", "denyPackages"}},
		{name: "a denied package by version range", predType: attest.PredicateSPDX, predicate: spdxDoc(t, lodash),
			rules: &sbom.Rules{DenyPackages: []string{"pkg:npm/lodash@<4.17.22"}}, want: ReasonSBOMPolicy},
		{name: "a version outside the denied range", predType: attest.PredicateSPDX, predicate: spdxDoc(t, lodash),
			rules: &sbom.Rules{DenyPackages: []string{"pkg:npm/lodash@<4.17.21"}}},
		{name: "a clean CycloneDX SBOM", predType: attest.PredicateCycloneDX, predicate: cyclonedxDoc(lodash, dual), rules: denyGPL},
		{name: "a denied license in CycloneDX", predType: attest.PredicateCycloneDX, predicate: cyclonedxDoc(lodash, readline), rules: denyGPL, want: ReasonSBOMPolicy},
		{name: "a versioned SPDX predicate type", predType: attest.PredicateSPDX + "/v2.3", predicate: spdxDoc(t, readline), rules: denyGPL, want: ReasonSBOMPolicy},
		{name: "cosign --type spdx: the document as a JSON string", predType: attest.PredicateSPDX,
			predicate: string(must[[]byte](t)(json.Marshal(spdxDoc(t, readline)))), rules: denyGPL, want: ReasonSBOMPolicy},
		{name: "empty rules only need a readable SBOM", predType: attest.PredicateSPDX, predicate: spdxDoc(t, readline), rules: &sbom.Rules{}},
		{name: "an SPDX type carrying CycloneDX", predType: attest.PredicateSPDX, predicate: cyclonedxDoc(readline), rules: denyGPL, want: ReasonMalformed},
		{name: "a predicate that is no SBOM", predType: attest.PredicateSPDX, predicate: map[string]any{"hello": "world"}, rules: denyGPL, want: ReasonMalformed},
		{name: "no predicate", predType: attest.PredicateSPDX, predicate: nil, rules: denyGPL, want: ReasonMalformed},
		{name: "a truncated document in a string", predType: attest.PredicateSPDX, predicate: `{"spdxVersion":"SPDX-2.3","packages":[`, rules: denyGPL, want: ReasonMalformed},
		{name: "rules on provenance", predType: attest.PredicateSLSAProvenanceV1, predicate: map[string]any{}, rules: denyGPL, want: ReasonPredicateTypeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			att, priv := keyedStatementBundle(t, sbomStatement(t, tc.predType, tc.predicate))
			req := Requirements{Authorities: []Authority{{Name: "release", Key: &KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true}}}}
			res, err := v.ImageAttestations(ctx, imageDigest, []Attachment{att}, AttestationRequirement{SBOM: tc.rules}, req)
			if tc.want == "" {
				wantVerified(t, res, err)
				return
			}
			wantDenied(t, res, err, tc.want)
			if s := res.Signatures[0]; s.Verified || s.Failure == nil || s.Failure.Reason != tc.want {
				t.Errorf("the attestation's own result should carry the denial: %+v", s)
			}
			for _, m := range tc.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("the denial does not name %q: %v", m, err)
				}
			}
		})
	}

	// The same rules on a blob attestation.
	artifact := []byte("app.tar.gz contents")
	att, priv := keyedStatementBundle(t, blobStatement(t, attest.PredicateSPDX, spdxDoc(t, readline), map[string]string{"sha256": sha256Hex(artifact)}))
	req := Requirements{Authorities: []Authority{{Name: "release", Key: &KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true}}}}
	res, err := v.BlobAttestation(ctx, []Attachment{att}, ArtifactBytes(artifact), AttestationRequirement{PredicateType: attest.PredicateSPDX, SBOM: denyGPL}, req)
	wantBlobAttDenied(t, res, err, ReasonSBOMPolicy)
	res, err = v.BlobAttestation(ctx, []Attachment{att}, ArtifactBytes(artifact), AttestationRequirement{PredicateType: attest.PredicateSPDX, SBOM: &sbom.Rules{DenyLicenses: []string{"AGPL-3.0-only"}}}, req)
	wantBlobAttVerified(t, res, err)
}

// A hostile SBOM cannot drive the terminal through the denial message, and a
// long list of violations is cut short.
func TestSBOMAttestationMessage(t *testing.T) {
	var pkgs [][4]string
	for i := range 30 {
		pkgs = append(pkgs, [4]string{fmt.Sprintf("evil\x1b[2J%d", i), "1.0.0", "", "GPL-3.0-only"})
	}
	check := sbomCheck(sbom.Rules{DenyLicenses: []string{"GPL-3.0-only"}})
	e := check(sbomStatement(t, attest.PredicateSPDX, spdxDoc(t, pkgs...)), nil)
	if e == nil || e.Reason != ReasonSBOMPolicy {
		t.Fatalf("%v", e)
	}
	if strings.ContainsRune(e.Msg, 0x1b) || !strings.Contains(e.Msg, "30 violations") || !strings.Contains(e.Msg, "and 20 more") {
		t.Fatalf("%q", e.Msg)
	}
}

// Requirements that cannot be evaluated are errors before anything is
// verified, never denials.
func TestAttestationRequirementConflicts(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	att, priv := keyedStatementBundle(t, sbomStatement(t, attest.PredicateSPDX, map[string]any{}))
	req := Requirements{Authorities: []Authority{{Name: "k", Key: &KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true}}}}
	for _, tc := range []struct {
		name string
		att  AttestationRequirement
	}{
		{"provenance and SBOM rules together", AttestationRequirement{Provenance: &attest.Expectations{BuilderID: "x"}, SBOM: &sbom.Rules{}}},
		{"SBOM rules on a provenance type", AttestationRequirement{PredicateType: attest.PredicateSLSAProvenanceV1, SBOM: &sbom.Rules{}}},
		{"a package pattern that is no purl", AttestationRequirement{SBOM: &sbom.Rules{DenyPackages: []string{"lodash"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := v.ImageAttestations(context.Background(), imageDigest, []Attachment{att}, tc.att, req)
			if res != nil || ReasonOf(err) != ReasonInvalidInput {
				t.Fatalf("want invalid input, got %v %+v", err, res)
			}
		})
	}
}
