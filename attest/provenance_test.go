package attest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/attest"
)

const (
	generic14  = "slsa-verifier/gha_generic-v2.1.0-push-v14.intoto.jsonl"
	genericWD  = "slsa-verifier/gha_generic-v2.1.0-workflow_dispatch.intoto.jsonl"
	go13030    = "slsa-verifier/gha_go-v2.1.0-push-v13.0.30.intoto.jsonl"
	delegator  = "slsa-verifier/gha_delegator-v2.1.0-push-v14.build.slsa"
	container  = "slsa-verifier/gha_container-based-v2.1.0-push-v14.intoto.build.slsa"
	container7 = "slsa-verifier/gha_container-based-v1.7.0-v14.intoto.sigstore"
	bcrModule  = "slsa-verifier/bcr/MODULE.bazel.intoto.jsonl"
	bcrWrong   = "slsa-verifier/bcr/MODULE-wrong-signer.bazel.intoto.jsonl"
	bcrRules   = "slsa-verifier/bcr/rules_lint-v1.3.1.tar.gz.intoto.jsonl"
	npmProv    = "slsa-verifier/npm/provenance-npm-test-cli-v1-prega.tgz.json"
	ghJS       = "gh-cli/sigstore-js-2.1.0-bundle.json"
	ghReusable = "gh-cli/reusable-workflow-attestation.sigstore.json"
	ghCustom   = "gh-cli/custom-issuer.sigstore.json"
	npmV02     = "sigstore-go/sigstore-1.3.0-provenance.bundle-v0.1.json"
	conformOK  = "conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json"

	genericBuilder = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
	examplePackage = "github.com/slsa-framework/example-package"
)

func provenanceOf(t *testing.T, rel string, line int) (*attest.Provenance, *attest.SignerClaims) {
	t.Helper()
	st, claims := corpusStatement(t, rel, line)
	p, err := attest.ParseProvenance(st)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return p, claims
}

// slsa-verifier's own expectations for its test data (main_regression_test.go,
// listed in the corpus README), reproduced against the certificate-bound
// provenance.
func TestSLSAVerifierExpectations(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		exp  attest.Expectations
		ok   bool
	}{
		{"source-uri exact", generic14, attest.Expectations{SourceRepository: examplePackage}, true},
		{"source-uri with scheme and .git", generic14, attest.Expectations{SourceRepository: "git+https://github.com/slsa-framework/example-package.git"}, true},
		{"source-uri is not a prefix match", generic14, attest.Expectations{SourceRepository: examplePackage + "A"}, false},
		{"source-uri with a prefix", generic14, attest.Expectations{SourceRepository: "A" + examplePackage}, false},
		{"source-uri other org", generic14, attest.Expectations{SourceRepository: "github.com/Aslsa-framework/example-package"}, false},
		{"source-uri glob", generic14, attest.Expectations{SourceRepository: "github.com/slsa-framework/*"}, true},
		{"source-uri glob does not cross segments", generic14, attest.Expectations{SourceRepository: "github.com/*"}, false},
		{"source-uri @ref is the source ref", generic14, attest.Expectations{SourceRepository: examplePackage + "@refs/tags/v14"}, true},
		{"source-uri @wrong ref", generic14, attest.Expectations{SourceRepository: examplePackage + "@refs/tags/v13"}, false},
		{"source-tag v14", generic14, attest.Expectations{SourceRef: "refs/tags/v14"}, true},
		{"source-tag short name", generic14, attest.Expectations{SourceRef: "v14"}, true},
		{"versioned v14", generic14, attest.Expectations{SourceVersionedTag: "v14"}, true},
		{"versioned v14.0", generic14, attest.Expectations{SourceVersionedTag: "v14.0"}, true},
		{"versioned v14.1", generic14, attest.Expectations{SourceVersionedTag: "v14.1"}, false},
		{"versioned v13", generic14, attest.Expectations{SourceVersionedTag: "v13"}, false},
		{"versioned v15", generic14, attest.Expectations{SourceVersionedTag: "v15"}, false},
		{"versioned v0", generic14, attest.Expectations{SourceVersionedTag: "v0"}, false},
		{"go source-tag v13.0.30", go13030, attest.Expectations{SourceRef: "refs/tags/v13.0.30"}, true},
		{"go source-tag v13.0.29", go13030, attest.Expectations{SourceRef: "refs/tags/v13.0.29"}, false},
		{"go source-tag v13.0 is exact", go13030, attest.Expectations{SourceRef: "refs/tags/v13.0"}, false},
		{"go source-tag v13 is exact", go13030, attest.Expectations{SourceRef: "refs/tags/v13"}, false},
		{"go versioned v13", go13030, attest.Expectations{SourceVersionedTag: "v13"}, true},
		{"go versioned v13.0", go13030, attest.Expectations{SourceVersionedTag: "v13.0"}, true},
		{"go versioned v13.0.30", go13030, attest.Expectations{SourceVersionedTag: "v13.0.30"}, true},
		{"go versioned v13.0.31", go13030, attest.Expectations{SourceVersionedTag: "v13.0.31"}, false},
		{"go versioned v13.1", go13030, attest.Expectations{SourceVersionedTag: "v13.1"}, false},
		{"go versioned v12.9", go13030, attest.Expectations{SourceVersionedTag: "v12.9"}, false},
		{"go versioned v2", go13030, attest.Expectations{SourceVersionedTag: "v2"}, false},
		{"dispatch branch main", genericWD, attest.Expectations{SourceRef: "refs/heads/main"}, true},
		{"dispatch branch master", genericWD, attest.Expectations{SourceRef: "refs/heads/master"}, false},
		{"dispatch has no tag", genericWD, attest.Expectations{SourceRef: "refs/tags/v14"}, false},
		{"dispatch has no versioned tag", genericWD, attest.Expectations{SourceVersionedTag: "v14"}, false},
		{"builder-id name only", generic14, attest.Expectations{BuilderID: genericBuilder}, true},
		{"builder-id @v2.1.0", generic14, attest.Expectations{BuilderID: genericBuilder + "@v2.1.0"}, true},
		{"builder-id @refs/tags/v2.1.0", generic14, attest.Expectations{BuilderID: genericBuilder + "@refs/tags/v2.1.0"}, true},
		{"builder-id other version", generic14, attest.Expectations{BuilderID: genericBuilder + "@v2.0.0"}, false},
		{"builder-id not trusted", generic14, attest.Expectations{BuilderID: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml"}, false},
		{"builder-id glob", generic14, attest.Expectations{BuilderID: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/*@refs/tags/v2.*"}, true},
		{"build type", generic14, attest.Expectations{BuildType: "https://github.com/slsa-framework/slsa-github-generator/generic@v1"}, true},
		{"build type other", generic14, attest.Expectations{BuildType: "https://github.com/slsa-framework/slsa-github-generator/go@v1"}, false},
		{"go builder", go13030, attest.Expectations{BuilderID: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_go_slsa3.yml", SourceRepository: examplePackage}, true},
		{"BYOB: builder is the tagged reusable workflow", delegator, attest.Expectations{BuilderID: "https://github.com/slsa-framework/example-trw/.github/workflows/builder_high-perms_slsa3.yml@v2.1.0", SourceRepository: examplePackage, SourceRef: "refs/tags/v14"}, true},
		{"BYOB: the delegator is not the builder", delegator, attest.Expectations{BuilderID: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml"}, false},
		{"container-based v2.1.0", container, attest.Expectations{BuilderID: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml", SourceRepository: examplePackage, SourceVersionedTag: "v14"}, true},
		{"container-based v1.7.0", container7, attest.Expectations{BuilderID: "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/builder_container-based_slsa3.yml@v1.7.0", SourceRepository: examplePackage}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, claims := provenanceOf(t, tc.file, 0)
			err := tc.exp.Check(p, claims)
			if tc.ok && err != nil {
				t.Fatalf("want pass, got %v", err)
			}
			if !tc.ok {
				if err == nil {
					t.Fatal("want a mismatch, got none")
				}
				if !errors.Is(err, attest.ErrProvenanceMismatch) {
					t.Fatalf("want ErrProvenanceMismatch, got %v", err)
				}
			}
		})
	}
}

// A predicate's claims are the signer's words: bound to the certificate, a
// predicate that names another builder or repository than the certificate is
// a mismatch, whatever the expectations.
func TestBoundToSigner(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		line    int
		exp     attest.Expectations
		wantErr string // substring; "" = passes
	}{
		{"GitHub attest via reusable workflow: builder is the signer", bcrModule, 0,
			attest.Expectations{BuilderID: "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml@refs/tags/v0.0.1", SourceRepository: "github.com/aspect-build/rules_lint", SourceRef: "refs/heads/publish-to-bcr"}, ""},
		{"BCR release ruleset", bcrRules, 0,
			attest.Expectations{BuilderID: "https://github.com/bazel-contrib/.github/.github/workflows/release_ruleset.yaml", SourceRepository: "https://github.com/aspect-build/rules_lint"}, ""},
		{"wrong signer: predicate claims publish-to-bcr, loosebazooka signed", bcrWrong, 0,
			attest.Expectations{}, "did not sign it"},
		{"wrong signer: predicate claims another repository", bcrWrong, 0,
			attest.Expectations{}, `source repository: the predicate claims "github.com/aspect-build/rules_lint" but the signing certificate says "github.com/loosebazooka/aa-test"`},
		{"wrong signer: expected builder is not trusted from the predicate", bcrWrong, 0,
			attest.Expectations{BuilderID: "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml"}, "cannot be trusted"},
		{"wrong signer: expected source is checked against the certificate", bcrWrong, 0,
			attest.Expectations{SourceRepository: "github.com/aspect-build/rules_lint"}, `expected "github.com/aspect-build/rules_lint", got "github.com/loosebazooka/aa-test"`},
		{"actions/attest: runner/github-hosted with a github-hosted certificate", ghReusable, 0,
			attest.Expectations{BuilderID: "https://github.com/actions/runner/github-hosted", SourceRepository: "github.com/malancas/attest-demo", SourceRef: "main"}, ""},
		{"actions/attest sigstore-js", ghJS, 0,
			attest.Expectations{BuilderID: "https://github.com/actions/runner/github-hosted", SourceRepository: "github.com/sigstore/sigstore-js", BuildType: "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"}, ""},
		{"actions/attest newer: builder is the workflow", ghCustom, 0,
			attest.Expectations{BuilderID: "https://github.com/too-legit/attest/.github/workflows/integration.yml@refs/heads/main", SourceRepository: "github.com/too-legit/attest"}, ""},
		{"npm v1 provenance", npmProv, 1,
			attest.Expectations{BuilderID: "https://github.com/actions/runner/github-hosted", SourceRepository: "github.com/sigstore/sigstore-js", SourceRef: "refs/heads/main"}, ""},
		{"npm v0.2 provenance: builder actions/runner", npmV02, 0,
			attest.Expectations{BuilderID: "https://github.com/actions/runner", SourceRepository: "github.com/sigstore/sigstore-js"}, ""},
		{"conformance statement re-signed by another workflow", conformOK, 0,
			attest.Expectations{}, "did not sign it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, claims := provenanceOf(t, tc.file, tc.line)
			if claims == nil {
				t.Fatal("corpus bundle has no certificate")
			}
			err := tc.exp.Check(p, claims)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want pass, got %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatal("want a mismatch, got none")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
			if err != nil {
				var m *attest.MismatchError
				if !errors.As(err, &m) || !m.Denied() {
					t.Fatalf("want a *MismatchError denial, got %T %v", err, err)
				}
			}
		})
	}
}

// Without a certificate (a key-signed statement) the claims are checked as
// written: the key holder is trusted to write them. The same forged predicate
// passes a builder expectation that it fails when bound to its certificate.
func TestKeySignedClaimsAreUnbound(t *testing.T) {
	p, claims := provenanceOf(t, bcrWrong, 0)
	exp := attest.Expectations{BuilderID: "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml", SourceRepository: "github.com/aspect-build/rules_lint"}
	if err := exp.Check(p, nil); err != nil {
		t.Fatalf("key-signed: %v", err)
	}
	if err := exp.Check(p, claims); err == nil {
		t.Fatal("bound to its certificate the forged predicate must fail")
	}
}

// Forged certificates built from a real one: each changes one extension the
// predicate must agree with.
func TestCertificateContradictsPredicate(t *testing.T) {
	p, claims := provenanceOf(t, generic14, 0)
	for _, tc := range []struct {
		name   string
		mutate func(c *attest.SignerClaims)
		field  string
	}{
		{"other repository", func(c *attest.SignerClaims) {
			c.SourceRepositoryURI = "https://github.com/slsa-framework/example-packageA"
		}, "source repository"},
		{"other ref", func(c *attest.SignerClaims) { c.SourceRepositoryRef = "refs/tags/v15" }, "source ref"},
		{"other commit", func(c *attest.SignerClaims) { c.SourceRepositoryDigest = strings.Repeat("a", 40) }, "source digest"},
		{"other signer workflow", func(c *attest.SignerClaims) {
			c.BuildSignerURI = "https://github.com/evil/repo/.github/workflows/x.yml@refs/heads/main"
			c.SubjectAlternativeName = c.BuildSignerURI
		}, "builder id"},
		{"self-hosted runner claimed github-hosted", func(c *attest.SignerClaims) { c.RunnerEnvironment = "self-hosted" }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := *claims
			tc.mutate(&c)
			err := attest.Expectations{}.Check(p, &c)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("runner environment is not claimed by this predicate: %v", err)
				}
				return
			}
			var m *attest.MismatchError
			if !errors.As(err, &m) || m.Field != tc.field || m.Against != "certificate" {
				t.Fatalf("want a %s mismatch against the certificate, got %v", tc.field, err)
			}
		})
	}
}

func TestRunnerEnvironmentMustMatch(t *testing.T) {
	p, claims := provenanceOf(t, ghReusable, 0)
	c := *claims
	c.RunnerEnvironment = "self-hosted"
	err := attest.Expectations{}.Check(p, &c)
	if err == nil || !strings.Contains(err.Error(), "builder id") {
		t.Fatalf("a github-hosted claim on a self-hosted certificate must fail, got %v", err)
	}
}

// A certificate that says nothing about the source (an e-mail identity)
// cannot back a source expectation.
func TestUnboundExpectationFails(t *testing.T) {
	p, claims := provenanceOf(t, generic14, 0)
	email := attest.SignerClaims{SubjectAlternativeName: "someone@example.com"}
	email.Issuer = "https://accounts.google.com"
	if err := (attest.Expectations{}).Check(p, &email); err != nil {
		t.Fatalf("no expectations, nothing to contradict: %v", err)
	}
	for _, exp := range []attest.Expectations{
		{SourceRepository: examplePackage},
		{SourceRef: "refs/tags/v14"},
		{BuilderID: genericBuilder},
	} {
		if err := exp.Check(p, &email); !errors.Is(err, attest.ErrProvenanceMismatch) {
			t.Errorf("%+v with an e-mail certificate: want a mismatch, got %v", exp, err)
		}
	}
	_ = claims
}

func TestParseProvenanceFields(t *testing.T) {
	p, _ := provenanceOf(t, generic14, 0)
	if p.PredicateType != attest.PredicateSLSAProvenanceV02 || p.BuilderID != genericBuilder+"@refs/tags/v2.1.0" ||
		p.SourceRepository != examplePackage || p.SourceRef != "refs/tags/v14" ||
		p.SourceDigest != "4d329c75e7ec1725f7c9ce917a8799d408d06be3" || len(p.Sources) != 2 ||
		p.ConfigPath != ".github/workflows/verifier-e2e.all.workflow_dispatch.main.all.slsa3.yml" {
		t.Fatalf("v0.2: %+v", p)
	}
	p, _ = provenanceOf(t, bcrModule, 0)
	if p.PredicateType != attest.PredicateSLSAProvenanceV1 || p.BuildType != "https://actions.github.io/buildtypes/workflow/v1" ||
		p.SourceRepository != "github.com/aspect-build/rules_lint" || p.SourceRef != "refs/heads/publish-to-bcr" ||
		p.SourceDigest != "8f70009fde0c94ade6ce2a054b94718c819126ec" || p.ConfigPath != ".github/workflows/release.yml" ||
		len(p.Sources) != 2 || p.Sources[0].Field != "externalParameters.workflow" {
		t.Fatalf("v1: %+v", p)
	}
	p, _ = provenanceOf(t, container, 0)
	if len(p.Sources) != 2 || p.Sources[0].Field != "externalParameters.source" || p.SourceRef != "refs/tags/v14" {
		t.Fatalf("container-based: %+v", p)
	}
}
