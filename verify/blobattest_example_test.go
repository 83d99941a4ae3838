package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/sbom"
	"github.com/vouchdev/vouch/verify"
)

// Verifying a file's attestations from a file of bundles (here JSON lines:
// an attestation of another type, then SLSA provenance), with provenance
// expectations. Any one bundle that passes every check is enough; each
// other one says why it did not count.
func ExampleVerifier_BlobAttestation() {
	artifact := []byte("binary-linux-amd64\n")
	sum := sha256.Sum256(artifact)
	subject := []attest.Subject{{Name: "binary-linux-amd64", Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}}
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := attest.NewSigner(priv)
	bundleOf := func(predicateType, predicate string) string {
		st, _ := attest.NewStatement(predicateType, []byte(predicate), subject)
		payload, _ := st.MarshalJSON()
		b, _ := signer.BundleStatement(context.Background(), payload)
		j, _ := b.MarshalJSON()
		return string(j)
	}
	file := bundleOf(attest.PredicateCosignCustom, `{"Data":"hello"}`) + "\n" +
		bundleOf(attest.PredicateSLSAProvenanceV1, `{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1",`+
			`"externalParameters":{"workflow":{"repository":"https://github.com/acme/app","ref":"refs/tags/v1.0.0","path":".github/workflows/release.yml"}}},`+
			`"runDetails":{"builder":{"id":"https://github.com/actions/runner/github-hosted"}}}`) + "\n"

	bundles, _ := verify.SplitBundles([]byte(file))
	v, _ := verify.New()
	req := verify.Requirements{Authorities: []verify.Authority{{
		Name: "release-key",
		Key:  &verify.KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true},
	}}}
	att := verify.AttestationRequirement{
		PredicateType: attest.PredicateSLSAProvenanceV1,
		Provenance:    &attest.Expectations{SourceRepository: "github.com/acme/app", SourceRef: "refs/tags/v*"},
	}
	res, err := v.BlobAttestation(context.Background(), bundles, verify.ArtifactBytes(artifact), att, req)
	fmt.Println(res.Verified, err)
	for _, a := range res.Attestations {
		if a.Failure != nil {
			fmt.Println(a.Source, a.Failure.Reason)
		} else {
			fmt.Println(a.Source, "verified by", a.Authority)
		}
	}

	att.Provenance.SourceRepository = "github.com/acme/app-fork"
	_, err = v.BlobAttestation(context.Background(), bundles, verify.ArtifactBytes(artifact), att, req)
	fmt.Println(verify.ReasonOf(err))
	// Output:
	// true <nil>
	// line 1 predicate_type_mismatch
	// line 2 verified by release-key
	// provenance_mismatch
}

// SBOM rules on an SBOM attestation: the verified SPDX document is checked
// package by package.
func ExampleAttestationRequirement_sbom() {
	artifact := []byte("app.tar.gz")
	sum := sha256.Sum256(artifact)
	spdx := `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"app","dataLicense":"CC0-1.0",` +
		`"documentNamespace":"https://example.com/app","creationInfo":{"created":"2024-01-01T00:00:00Z","creators":["Tool: example"]},` +
		`"packages":[{"SPDXID":"SPDXRef-p","name":"readline","versionInfo":"8.2","licenseConcluded":"GPL-3.0-only",` +
		`"externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:deb/debian/readline@8.2"}]}]}`
	st, _ := attest.NewStatement(attest.PredicateSPDX, []byte(spdx), []attest.Subject{{Name: "app.tar.gz", Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}})
	payload, _ := st.MarshalJSON()
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := attest.NewSigner(priv)
	b, _ := signer.BundleStatement(context.Background(), payload)
	j, _ := b.MarshalJSON()

	v, _ := verify.New()
	req := verify.Requirements{Authorities: []verify.Authority{{Key: &verify.KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true}}}}
	att := verify.AttestationRequirement{PredicateType: attest.PredicateSPDX, SBOM: &sbom.Rules{DenyLicenses: []string{"GPL-*"}}}
	_, err := v.BlobAttestation(context.Background(), []verify.Attachment{{Format: verify.FormatBundle, Content: j}}, verify.ArtifactBytes(artifact), att, req)
	fmt.Println(verify.ReasonOf(err), strings.Contains(err.Error(), "pkg:deb/debian/readline@8.2"))
	// Output:
	// sbom_policy true
}
