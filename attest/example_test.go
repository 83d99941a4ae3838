package attest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/vouchdev/vouch/attest"
)

func ExampleParseStatement() {
	st, err := attest.ParseStatement([]byte(`{
	  "_type": "https://in-toto.io/Statement/v1",
	  "subject": [{"name": "app.tar.gz", "digest": {"sha256": "` + strings.Repeat("ab", 32) + `"}}],
	  "predicateType": "https://slsa.dev/provenance/v1",
	  "predicate": {"buildDefinition": {"buildType": "https://example.com/build/v1"},
	                "runDetails": {"builder": {"id": "https://example.com/builder"}}}
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.PredicateType())
	fmt.Println(st.MatchesDigest("sha256", strings.Repeat("ab", 32)))
	fmt.Println(st.MatchesDigest("sha256", strings.Repeat("cd", 32)))
	// Output:
	// https://slsa.dev/provenance/v1
	// true
	// false
}

func ExampleNormalizeSource() {
	for _, uri := range []string{
		"git+https://github.com/slsa-framework/example-package@refs/tags/v14",
		"https://github.com/slsa-framework/example-package.git",
		"github.com/slsa-framework/example-package",
	} {
		repo, ref, _ := attest.NormalizeSource(uri)
		fmt.Printf("%s %q\n", repo, ref)
	}
	// Output:
	// github.com/slsa-framework/example-package "refs/tags/v14"
	// github.com/slsa-framework/example-package ""
	// github.com/slsa-framework/example-package ""
}

// A predicate claiming a builder and repository its signer's certificate
// contradicts is a denial, whatever the predicate says.
func ExampleExpectations_Check() {
	st, _ := attest.NewStatement(attest.PredicateSLSAProvenanceV1, []byte(`{
	  "buildDefinition": {"buildType": "https://actions.github.io/buildtypes/workflow/v1",
	    "externalParameters": {"workflow": {"repository": "https://github.com/acme/app", "ref": "refs/tags/v1.0.0", "path": ".github/workflows/release.yml"}}},
	  "runDetails": {"builder": {"id": "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0"}}}`),
		[]attest.Subject{{Digest: map[string]string{"sha256": strings.Repeat("ab", 32)}}})
	p, _ := attest.ParseProvenance(st)

	// What Fulcio wrote into the signing certificate (verify hands it over).
	var signer attest.SignerClaims
	signer.Issuer = "https://token.actions.githubusercontent.com"
	signer.BuildSignerURI = "https://github.com/mallory/fork/.github/workflows/release.yml@refs/tags/v1.0.0"
	signer.SourceRepositoryURI = "https://github.com/mallory/fork"
	signer.SourceRepositoryRef = "refs/tags/v1.0.0"

	exp := attest.Expectations{SourceRepository: "github.com/acme/app", SourceRef: "refs/tags/v*"}
	err := exp.Check(p, &signer)
	fmt.Println(errors.Is(err, attest.ErrProvenanceMismatch))
	fmt.Println(strings.Split(err.Error(), "\n")[0])
	// Output:
	// true
	// provenance builder id: the predicate claims "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0" but the signing certificate says "https://github.com/mallory/fork/.github/workflows/release.yml@refs/tags/v1.0.0" (the predicate names a builder that did not sign it)
}

func ExampleSigner_BundleStatement() {
	privatePEM, _, _ := attest.GenerateKeyPair([]byte("example password"))
	key, _ := attest.ParsePrivateKey(privatePEM, []byte("example password"))
	signer, _ := attest.NewSigner(key)

	artifact := []byte("release artifact")
	sum := sha256.Sum256(artifact)
	predType, pred, _ := attest.CosignPredicate("custom", []byte("built on a Tuesday"), fixedTime)
	st, _ := attest.NewStatement(predType, pred,
		[]attest.Subject{{Name: "artifact", Digest: map[string]string{"sha256": hex.EncodeToString(sum[:])}}},
		attest.WithStatementType(attest.StatementTypeV01))
	payload, _ := st.MarshalJSON()

	b, _ := signer.BundleStatement(context.Background(), payload)
	fmt.Println(b.GetMediaType())
	fmt.Println(b.GetDsseEnvelope().GetPayloadType())
	fmt.Println(b.GetVerificationMaterial().GetPublicKey().GetHint() == signer.Hint())
	// Output:
	// application/vnd.dev.sigstore.bundle.v0.3+json
	// application/vnd.in-toto+json
	// true
}
