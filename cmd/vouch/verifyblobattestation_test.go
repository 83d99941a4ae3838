package main

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/verify"
)

// blobAttReport is the part of verify-blob-attestation's -o json report the
// tests read.
type blobAttReport struct {
	SchemaVersion int    `json:"schemaVersion"`
	PredicateType string `json:"predicateType"`
	Digest        string `json:"digest"`
	Verified      bool   `json:"verified"`
	Attestations  []struct {
		Source    string          `json:"source"`
		Verified  bool            `json:"verified"`
		Authority string          `json:"authority"`
		Statement json.RawMessage `json:"statement"`
		Failure   *verify.Failure `json:"failure"`
	} `json:"attestations"`
	Failure *verify.Failure `json:"failure"`
}

func parseBlobAttReport(t *testing.T, stdout string) blobAttReport {
	t.Helper()
	var r blobAttReport
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout)
	}
	if r.SchemaVersion != schemaVersion {
		t.Fatalf("schemaVersion %d", r.SchemaVersion)
	}
	return r
}

// corpusTypes is the predicate type each case of the attestation corpus is
// verified as (expectations.json does not say; the corpus README does).
// A case missing here is verified as the type its statement claims.
var corpusTypes = map[string]string{
	"slsa-generic-v2.1.0-push-v14":             "slsaprovenance02",
	"slsa-generic-v2.1.0-workflow_dispatch":    "slsaprovenance02",
	"slsa-go-v2.1.0-push-v13.0.30":             "slsaprovenance02",
	"slsa-delegator-v2.1.0-push-v14":           "slsaprovenance1",
	"slsa-container-based-v2.1.0-push-v14":     "slsaprovenance1",
	"slsa-container-based-v1.7.0-v14-noproof":  "slsaprovenance1",
	"slsa-generic-v2.1.0-wrong-digest":         "slsaprovenance02",
	"slsa-generic-v2.1.0-wrong-builder":        "slsaprovenance02",
	"bcr-module-publish":                       "slsaprovenance1",
	"bcr-rules_lint-release":                   "slsaprovenance1",
	"bcr-module-wrong-signer":                  "slsaprovenance1",
	"bcr-module-wrong-signer-crypto-only":      "slsaprovenance1",
	"npm-sigstore-2.3.1-provenance":            "slsaprovenance1",
	"npm-sigstore-2.3.1-invalidsigprov":        "slsaprovenance1",
	"gh-sigstore-js-2.1.0-v0.3":                "slsaprovenance1",
	"gh-sigstore-js-2.1.0-v0.1":                "slsaprovenance1",
	"gh-sigstore-js-2.1.0-2-bundles":           "slsaprovenance1",
	"gh-reusable-workflow":                     "slsaprovenance1",
	"gh-custom-issuer-default-issuer":          "slsaprovenance1",
	"gh-custom-issuer-right-issuer":            "slsaprovenance1",
	"gh-invalid-signature":                     "slsaprovenance1",
	"gh-github-instance-tsa-needs-github-root": "slsaprovenance1",
	"sigstore-go-sigstore.js-2.0.0":            "slsaprovenance1",
	"sigstore-go-sigstore-1.3.0-v0.2pred":      "slsaprovenance02",
	"sigstore-go-dsse-2sigs":                   "slsaprovenance02",
	"conformance-happy-intoto-dsse-v3":         "slsaprovenance1",
	"conformance-dsse-invalid-sig":             "slsaprovenance1",
	"conformance-dsse-mismatch-sig":            "slsaprovenance1",
}

// corpusReasons is the reason a failing case must be denied with, where
// the case's intent is clear.
var corpusReasons = map[string]verify.Reason{
	"slsa-generic-v2.1.0-wrong-digest":  verify.ReasonDigestMismatch,
	"slsa-generic-v2.1.0-wrong-builder": verify.ReasonIdentityMismatch,
	"bcr-module-wrong-signer":           verify.ReasonIdentityMismatch,
	"gh-custom-issuer-default-issuer":   verify.ReasonIdentityMismatch,
	"gh-invalid-signature":              verify.ReasonMalformed, // a DSSE payload that is not in-toto
	"sigstore-go-dsse-2sigs":            verify.ReasonMalformed,
	"conformance-dsse-invalid-sig":      verify.ReasonSignatureInvalid,
	"conformance-dsse-mismatch-sig":     verify.ReasonTlogInvalid,
}

// corpusCase is one verification of the attestation corpus.
type corpusCase struct {
	ID       string `json:"id"`
	Bundle   string `json:"bundle"`
	Line     *int   `json:"line"`
	Digest   string `json:"digest"`
	Artifact string `json:"artifact"`
	Alg      string `json:"alg"`
	SAN      string `json:"san"`
	SANRegex string `json:"san_regex"`
	Issuer   string `json:"issuer"`
	Expect   string `json:"expect"`

	// Beyond expectations.json: what else to pass, the reason a failure
	// must have.
	typ    string
	extra  []string
	reason verify.Reason
}

// args is the command line for c, with the bundle file to use.
func (c corpusCase) args(t *testing.T, dir string) []string {
	t.Helper()
	bundle := filepath.Join(dir, c.Bundle)
	if c.Line != nil {
		// Verify only the bundle the case picks, as a file of its own.
		raw, err := os.ReadFile(bundle)
		if err != nil {
			t.Fatal(err)
		}
		all, err := verify.SplitBundles(raw)
		if err != nil || *c.Line >= len(all) {
			t.Fatalf("%s: line %d of %d: %v", c.Bundle, *c.Line, len(all), err)
		}
		bundle = filepath.Join(t.TempDir(), "bundle.json")
		if err := os.WriteFile(bundle, all[*c.Line].Content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	typ := c.typ
	if typ == "" {
		typ = corpusTypes[c.ID]
	}
	if typ == "" {
		typ = claimedType(t, bundle)
		t.Logf("%s: no type in corpusTypes; verifying as the type the statement claims, %s", c.ID, typ)
	}
	args := []string{"verify-blob-attestation", "-o", "json", "--bundle", bundle, "--type", typ,
		"--trusted-root", filepath.Join(dir, "trusted_root.public-good.json")}
	switch {
	case c.SAN != "":
		args = append(args, "--certificate-identity", c.SAN)
	case c.SANRegex != "":
		args = append(args, "--certificate-identity-regexp", c.SANRegex)
	default:
		args = append(args, "--certificate-identity-regexp", ".*") // a cryptographic check, any signer
	}
	if c.Issuer != "" {
		args = append(args, "--certificate-oidc-issuer", c.Issuer)
	} else {
		args = append(args, "--certificate-oidc-issuer-regexp", ".*")
	}
	args = append(args, c.extra...)
	switch {
	case c.Digest != "":
		args = append(args, c.Digest)
	case c.Artifact != "":
		args = append(args, filepath.Join(dir, c.Artifact))
	default:
		args = append(args, firstSubject(t, bundle))
	}
	return args
}

// statementOf returns the (unverified) statement of the first bundle in file.
func statementOf(t *testing.T, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	all, err := verify.SplitBundles(raw)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DSSE struct {
			Payload []byte `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	var st map[string]any
	if json.Unmarshal(all[0].Content, &b) != nil || json.Unmarshal(b.DSSE.Payload, &st) != nil {
		return nil
	}
	return st
}

func claimedType(t *testing.T, file string) string {
	if s, ok := statementOf(t, file)["predicateType"].(string); ok {
		return s
	}
	return "custom"
}

// firstSubject is the statement's own first subject digest: the case then
// fails for another reason (a bad signature).
func firstSubject(t *testing.T, file string) string {
	t.Helper()
	subs, _ := statementOf(t, file)["subject"].([]any)
	if len(subs) > 0 {
		sub, _ := subs[0].(map[string]any)
		ds, _ := sub["digest"].(map[string]any)
		for _, alg := range []string{"sha256", "sha512"} {
			if h, ok := ds[alg].(string); ok {
				return alg + ":" + h
			}
		}
	}
	return "sha256:" + strings.Repeat("0", 64)
}

// TestVerifyBlobAttestationCorpus runs every case of the real attestation
// corpus (slsa-github-generator, npm, GitHub artifact attestations,
// bazel-contrib, sigstore-js, sigstore-conformance) through the CLI, plus
// the expectations slsa-verifier's own tests give for the same files.
func TestVerifyBlobAttestationCorpus(t *testing.T) {
	dir := corpusDir(t, "attestations")
	raw, err := os.ReadFile(filepath.Join(dir, "expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 28 {
		t.Fatalf("%d cases in expectations.json, want at least 28", len(cases))
	}
	for i := range cases {
		cases[i].reason = corpusReasons[cases[i].ID]
	}
	cases = append(cases, slsaVerifierCases()...)

	for _, tc := range cases {
		t.Run(tc.ID, func(t *testing.T) {
			stdout, stderr, code := run(t, "", tc.args(t, dir)...)
			rep := parseBlobAttReport(t, stdout)
			switch tc.Expect {
			case "ok":
				if code != exitOK || !rep.Verified || !strings.Contains(stderr, "Verified OK") {
					t.Fatalf("want verified, exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
				}
				n := 0
				for _, a := range rep.Attestations {
					if a.Verified {
						n++
						if len(a.Statement) == 0 {
							t.Errorf("%s verified without its statement", a.Source)
						}
					}
				}
				if n == 0 {
					t.Errorf("verified, but no attestation says so: %s", stdout)
				}
			case "fail":
				if code != exitDenied || rep.Verified || strings.Contains(stderr, "Verified OK") {
					t.Fatalf("want a denial (exit 1), exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
				}
				if rep.Failure == nil || rep.Failure.Reason == "" || !rep.Failure.Reason.Denied() {
					t.Fatalf("a denial without a denial reason: %s", stdout)
				}
				if tc.reason != "" && rep.Failure.Reason != tc.reason {
					t.Errorf("reason %s, want %s: %s", rep.Failure.Reason, tc.reason, rep.Failure.Message)
				}
				t.Logf("%s: %s", rep.Failure.Reason, rep.Failure.Message)
			default:
				t.Fatalf("unknown expectation %q", tc.Expect)
			}
		})
	}
}

// slsaVerifierCases are slsa-verifier's expectations for the corpus files
// (its main_regression_test.go, quoted in the corpus README), and the
// forged-builder case: a predicate that claims publish-to-bcr, signed by
// loosebazooka, fails even with an identity regexp that accepts any signer.
func slsaVerifierCases() []corpusCase {
	const (
		generator = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml"
		push14    = "slsa-verifier/gha_generic-v2.1.0-push-v14.intoto.jsonl"
		dispatch  = "slsa-verifier/gha_generic-v2.1.0-workflow_dispatch.intoto.jsonl"
		go13      = "slsa-verifier/gha_go-v2.1.0-push-v13.0.30.intoto.jsonl"
		d14       = "sha256:376e7e01348585b6e6643bc6663146b9d525d9b41228bf180eaeb4d4a3706caa"
		d13       = "sha256:f6ab7ad0c7549b5a4942c3b0690519d791c28c4c0f8b286208cb40da3322a066"
		ghIssuer  = "https://token.actions.githubusercontent.com"
		bcrSigner = "https://github.com/bazel-contrib/publish-to-bcr/.github/workflows/publish.yaml"
	)
	var out []corpusCase
	add := func(id, bundle, digest, expect string, reason verify.Reason, extra ...string) {
		c := corpusCase{ID: "slsa-verifier/" + id, Bundle: bundle, Digest: digest, SANRegex: "^https://github.com/slsa-framework/slsa-github-generator/.*", Issuer: ghIssuer,
			Expect: expect, typ: "slsaprovenance02", extra: extra, reason: reason}
		out = append(out, c)
	}
	mismatch := verify.ReasonProvenanceMismatch
	// Source repository: exact after normalisation, never a prefix.
	add("source-uri", push14, d14, "ok", "", "--source-uri", "github.com/slsa-framework/example-package")
	add("source-uri-https", push14, d14, "ok", "", "--source-uri", "https://github.com/slsa-framework/example-package")
	add("source-uri-git+https.git", push14, d14, "ok", "", "--source-uri", "git+https://github.com/slsa-framework/example-package.git")
	add("source-uri-longer", push14, d14, "fail", mismatch, "--source-uri", "github.com/slsa-framework/example-packageA")
	add("source-uri-other-host", push14, d14, "fail", mismatch, "--source-uri", "Agithub.com/slsa-framework/example-package")
	add("source-uri-other-org", push14, d14, "fail", mismatch, "--source-uri", "github.com/Aslsa-framework/example-package")
	add("source-uri-prefix", push14, d14, "fail", mismatch, "--source-uri", "github.com/slsa-framework/example-packag")
	// Tags: exact, and semantic-version prefixes.
	add("push-v14-tag", push14, d14, "ok", "", "--source-ref", "v14")
	add("push-v14-tag-full", push14, d14, "ok", "", "--source-ref", "refs/tags/v14")
	for _, v := range []string{"v14", "v14.0"} {
		add("push-v14-versioned-"+v, push14, d14, "ok", "", "--source-versioned-tag", v)
	}
	for _, v := range []string{"v14.1", "v13", "v15", "v0"} {
		add("push-v14-versioned-"+v, push14, d14, "fail", mismatch, "--source-versioned-tag", v)
	}
	for _, v := range []string{"v13.0.29", "v13.0", "v13"} {
		c := corpusCase{ID: "slsa-verifier/push-v13.0.30-tag-" + v, Bundle: go13, Digest: d13, SANRegex: "^https://github.com/slsa-framework/slsa-github-generator/.*",
			Issuer: ghIssuer, Expect: "fail", typ: "slsaprovenance02", extra: []string{"--source-ref", v}, reason: mismatch}
		out = append(out, c)
	}
	for v, expect := range map[string]string{"v13": "ok", "v13.0": "ok", "v13.0.30": "ok", "v13.0.31": "fail", "v13.1": "fail", "v12.9": "fail", "v2": "fail"} {
		reason := mismatch
		if expect == "ok" {
			reason = ""
		}
		out = append(out, corpusCase{ID: "slsa-verifier/push-v13.0.30-versioned-" + v, Bundle: go13, Digest: d13, SANRegex: "^https://github.com/slsa-framework/slsa-github-generator/.*",
			Issuer: ghIssuer, Expect: expect, typ: "slsaprovenance02", extra: []string{"--source-versioned-tag", v}, reason: reason})
	}
	// Branches: workflow_dispatch built main; no tag.
	add("dispatch-branch-main", dispatch, d14, "ok", "", "--source-ref", "main")
	add("dispatch-branch-main-full", dispatch, d14, "ok", "", "--source-ref", "refs/heads/main")
	add("dispatch-branch-master", dispatch, d14, "fail", mismatch, "--source-ref", "master")
	add("dispatch-tag", dispatch, d14, "fail", mismatch, "--source-ref", "refs/tags/v14")
	add("dispatch-versioned-tag", dispatch, d14, "fail", mismatch, "--source-versioned-tag", "v14")
	// Builder id: with or without the version, never another workflow.
	add("builder-id", push14, d14, "ok", "", "--builder-id", generator)
	add("builder-id-version", push14, d14, "ok", "", "--builder-id", generator+"@v2.1.0")
	add("builder-id-ref", push14, d14, "ok", "", "--builder-id", generator+"@refs/tags/v2.1.0")
	add("builder-id-other-version", push14, d14, "fail", mismatch, "--builder-id", generator+"@v2.0.0")
	add("builder-id-untrusted", push14, d14, "fail", mismatch, "--builder-id", "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/not-trusted.yml")
	// The predicate type is checked: v0.2 provenance is not v1.
	out = append(out, corpusCase{ID: "slsa-verifier/type-v1-on-v0.2", Bundle: push14, Digest: d14, SANRegex: ".*", Issuer: ghIssuer,
		Expect: "fail", typ: "slsaprovenance1", reason: verify.ReasonNoAttestations})

	// bazel-contrib: the forged predicate claims publish-to-bcr; the certificate
	// says loosebazooka. Any identity is accepted, the builder is expected.
	for _, b := range []string{bcrSigner, bcrSigner + "@refs/tags/v0.0.1", "https://github.com/bazel-contrib/**"} {
		out = append(out, corpusCase{ID: "bcr-wrong-signer-builder-id/" + b, Bundle: "slsa-verifier/bcr/MODULE-wrong-signer.bazel.intoto.jsonl",
			Artifact: "slsa-verifier/bcr/MODULE-wrong-signer.bazel", Expect: "fail", typ: "slsaprovenance1",
			extra: []string{"--builder-id", b}, reason: mismatch})
		out = append(out, corpusCase{ID: "bcr-builder-id/" + b, Bundle: "slsa-verifier/bcr/MODULE.bazel.intoto.jsonl",
			Artifact: "slsa-verifier/bcr/MODULE.bazel", Expect: "ok", typ: "slsaprovenance1", extra: []string{"--builder-id", b}})
	}
	out = append(out,
		corpusCase{ID: "bcr-wrong-signer-source", Bundle: "slsa-verifier/bcr/MODULE-wrong-signer.bazel.intoto.jsonl",
			Artifact: "slsa-verifier/bcr/MODULE-wrong-signer.bazel", Expect: "fail", typ: "slsaprovenance1",
			extra: []string{"--source-uri", "github.com/aspect-build/rules_lint"}, reason: mismatch},
		corpusCase{ID: "bcr-source", Bundle: "slsa-verifier/bcr/MODULE.bazel.intoto.jsonl",
			Artifact: "slsa-verifier/bcr/MODULE.bazel", Expect: "ok", typ: "slsaprovenance1",
			extra: []string{"--source-uri", "github.com/aspect-build/rules_lint", "--source-ref", "refs/heads/publish-to-bcr"}},
	)

	// npm: the whole attestations document; the publish attestation (npm's
	// registry key) does not count for a keyless provenance requirement, the
	// provenance one does. The publish attestation verifies with npm's key.
	npmDoc := "slsa-verifier/npm/provenance-npm-test-cli-v1-prega.tgz.json"
	npmTgz := "slsa-verifier/npm/provenance-npm-test-cli-v1-prega.tgz"
	const sigstoreJS = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	out = append(out,
		corpusCase{ID: "npm-document-provenance", Bundle: npmDoc, Artifact: npmTgz, SAN: sigstoreJS, Issuer: ghIssuer, Expect: "ok", typ: "slsaprovenance1",
			extra: []string{"--source-uri", "github.com/sigstore/sigstore-js"}},
		corpusCase{ID: "npm-document-provenance-other-repo", Bundle: npmDoc, Artifact: npmTgz, SAN: sigstoreJS, Issuer: ghIssuer, Expect: "fail", typ: "slsaprovenance1",
			extra: []string{"--source-uri", "github.com/sigstore/sigstore-go"}, reason: mismatch},
		corpusCase{ID: "npm-document-invalidsigprov", Bundle: "slsa-verifier/npm/provenance-npm-test-cli-v1-prega-invalidsigprov.tgz.json", Artifact: npmTgz,
			SAN: sigstoreJS, Issuer: ghIssuer, Expect: "fail", typ: "slsaprovenance1"},
		corpusCase{ID: "npm-document-sha256-digest", Bundle: npmDoc, Digest: "sha256:" + strings.Repeat("a", 64), SAN: sigstoreJS, Issuer: ghIssuer,
			Expect: "fail", typ: "slsaprovenance1", reason: verify.ReasonDigestMismatch},
	)
	return out
}

// npm's publish attestation is signed by the npm registry's key, with a
// transparency-log entry: it verifies with --key, and its tampered copy
// does not.
func TestVerifyBlobAttestationNPMPublishKey(t *testing.T) {
	dir := corpusDir(t, "attestations")
	const publish = "https://github.com/npm/attestation/tree/main/specs/publish/v0.1"
	args := func(doc string) []string {
		return []string{"verify-blob-attestation", "-o", "json", "--type", publish,
			"--bundle", filepath.Join(dir, "slsa-verifier/npm", doc),
			"--key", filepath.Join(dir, "slsa-verifier/npm/npm-registry-attestations-key.pem"),
			"--trusted-root", filepath.Join(dir, "trusted_root.public-good.json"),
			filepath.Join(dir, "slsa-verifier/npm/provenance-npm-test-cli-v1-prega.tgz")}
	}
	stdout, stderr, code := run(t, "", args("provenance-npm-test-cli-v1-prega.tgz.json")...)
	rep := parseBlobAttReport(t, stdout)
	if code != exitOK || !rep.Verified || !rep.Attestations[0].Verified || rep.Attestations[1].Failure.Reason != verify.ReasonPredicateTypeMismatch {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.HasPrefix(rep.Digest, "sha512:") {
		t.Errorf("npm attestations name sha512 digests: %s", rep.Digest)
	}
	stdout, stderr, code = run(t, "", args("provenance-npm-test-cli-v1-prega-invalidsigpub.tgz.json")...)
	if code != exitDenied {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// keyedAttestation writes, with vouch attest-blob, an attestation of
// predicate-slsa1.json about a file, signed with testdata's cosign.key.
func keyedAttestation(t *testing.T, dir string, content []byte) (file, bundle string) {
	t.Helper()
	file = filepath.Join(dir, "app.tar.gz")
	bundle = filepath.Join(dir, "app.intoto.sigstore.json")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "vouch-test"}},
		"attest-blob", "--key", attestTestdata("cosign.key"), "--predicate", attestTestdata("predicate-slsa1.json"),
		"--type", "slsaprovenance1", "--bundle", bundle, file)
	if code != 0 {
		t.Fatalf("attest-blob: exit %d: %s", code, stderr)
	}
	return file, bundle
}

func TestVerifyBlobAttestationKeyed(t *testing.T) {
	dir := t.TempDir()
	content := []byte("the release\n")
	file, bundle := keyedAttestation(t, dir, content)
	s256 := sha256.Sum256(content)
	s512 := sha512.Sum512(content)
	pub := attestTestdata("cosign.pub")
	keyed := []string{"--key", pub, "--insecure-ignore-tlog", "--offline"}

	// Text mode: the statement on stdout, Verified OK on stderr.
	stdout, stderr, code := run(t, "", append(append([]string{"verify-blob-attestation", "--bundle", bundle, "--type", "slsaprovenance1"}, keyed...), file)...)
	if code != exitOK || !strings.Contains(stderr, "Verified OK") || !strings.Contains(stderr, "tlog skipped") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var st struct {
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal([]byte(stdout), &st); err != nil || st.PredicateType != "https://slsa.dev/provenance/v1" || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("stdout is not the statement: %v\n%s", err, stdout)
	}

	// cosign v2.6.5's attest-blob bundle of the same kind verifies too.
	_, stderr, code = run(t, "", append(append([]string{"verify-blob-attestation", "--bundle", attestTestdata("artifact.txt.cosign-attestation.json"), "--type", "slsaprovenance1"}, keyed...),
		attestTestdata("artifact.txt"))...)
	if code != exitOK {
		t.Fatalf("cosign's bundle: exit %d\n%s", code, stderr)
	}

	// A file of several bundles: one of another type, one malformed, then ours.
	other := filepath.Join(dir, "other.sigstore.json")
	_, stderr, code = runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "vouch-test"}},
		"attest-blob", "--key", attestTestdata("cosign.key"), "--predicate", attestTestdata("predicate-slsa1.json"), "--type", "custom", "--bundle", other, file)
	if code != 0 {
		t.Fatal(stderr)
	}
	jsonl := filepath.Join(dir, "all.jsonl")
	writeLines(t, jsonl, other, "", `{"mediaType":"junk"}`, bundle)
	npmDoc := filepath.Join(dir, "npm.json")
	writeNPMDocument(t, npmDoc, other, bundle)

	for _, tc := range []struct {
		name   string
		bundle string
		args   []string
		target string
		want   int
		reason verify.Reason
		each   []verify.Reason
	}{
		{name: "the file", bundle: bundle, target: file, want: exitOK},
		{name: "its sha256", bundle: bundle, target: "sha256:" + hex.EncodeToString(s256[:]), want: exitOK},
		{name: "its sha512, the statement names sha256", bundle: bundle, target: "sha512:" + hex.EncodeToString(s512[:]), want: exitDenied, reason: verify.ReasonDigestMismatch},
		{name: "another file", bundle: bundle, target: attestTestdata("artifact.txt"), want: exitDenied, reason: verify.ReasonDigestMismatch},
		{name: "JSON lines, one counts", bundle: jsonl, target: file, want: exitOK,
			each: []verify.Reason{verify.ReasonPredicateTypeMismatch, verify.ReasonMalformed, ""}},
		{name: "npm document, one counts", bundle: npmDoc, target: file, want: exitOK,
			each: []verify.Reason{verify.ReasonPredicateTypeMismatch, ""}},
		{name: "another type", bundle: bundle, args: []string{"--type", "slsaprovenance02"}, target: file, want: exitDenied, reason: verify.ReasonNoAttestations,
			each: []verify.Reason{verify.ReasonPredicateTypeMismatch}},
		{name: "type as a URI", bundle: bundle, args: []string{"--type", "https://slsa.dev/provenance/v1"}, target: file, want: exitOK},
		{name: "expected source", bundle: bundle, args: []string{"--source-uri", "github.com/vouchdev/example", "--source-ref", "v1.0.0"}, target: file, want: exitOK},
		{name: "a source that only shares a prefix", bundle: bundle, args: []string{"--source-uri", "github.com/vouchdev/exampleA"}, target: file, want: exitDenied, reason: verify.ReasonProvenanceMismatch},
		{name: "another builder", bundle: bundle, args: []string{"--builder-id", "https://github.com/vouchdev/other/.github/workflows/release.yml"}, target: file, want: exitDenied, reason: verify.ReasonProvenanceMismatch},
		{name: "another key", bundle: bundle, args: []string{"--key", filepath.Join("..", "..", "testdata", "attest", "cosign-empty-password.pub")}, target: file, want: exitDenied, reason: verify.ReasonKeyMismatch},
		{name: "no tlog entry without the opt-out", bundle: bundle, args: []string{"--insecure-ignore-tlog=false", "--trusted-root", writeEmptyRoot(t, dir)}, target: file, want: exitDenied, reason: verify.ReasonTlogMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"verify-blob-attestation", "-o", "json", "--bundle", tc.bundle, "--type", "slsaprovenance1"}
			args = append(append(append(args, keyed...), tc.args...), tc.target)
			stdout, stderr, code := run(t, "", args...)
			rep := parseBlobAttReport(t, stdout)
			if code != tc.want {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, tc.want, stdout, stderr)
			}
			if tc.want == exitOK && (!rep.Verified || !strings.Contains(stderr, "Verified OK")) {
				t.Fatalf("%s\n%s", stdout, stderr)
			}
			if tc.reason != "" && (rep.Failure == nil || rep.Failure.Reason != tc.reason) {
				t.Fatalf("want %s: %s", tc.reason, stdout)
			}
			if tc.each != nil {
				if len(rep.Attestations) != len(tc.each) {
					t.Fatalf("%d results, want %d: %s", len(rep.Attestations), len(tc.each), stdout)
				}
				for i, want := range tc.each {
					got := verify.Reason("")
					if f := rep.Attestations[i].Failure; f != nil {
						got = f.Reason
					}
					if got != want {
						t.Errorf("bundle %d: %q, want %q", i, got, want)
					}
					if want == "" && (len(rep.Attestations[i].Statement) == 0 || !strings.Contains(rep.Attestations[i].Authority, "cosign.pub")) {
						t.Errorf("bundle %d verified without statement or authority: %s", i, stdout)
					}
				}
			}
		})
	}

	// Text mode says why each other bundle did not count.
	_, stderr, code = run(t, "", append(append([]string{"verify-blob-attestation", "--bundle", jsonl, "--type", "slsaprovenance1"}, keyed...), file)...)
	if code != exitOK || !strings.Contains(stderr, "line 1: did not count: predicate_type_mismatch") || !strings.Contains(stderr, "line 3: did not count: malformed") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	_, stderr, code = run(t, "", append(append([]string{"verify-blob-attestation", "--bundle", jsonl, "--type", "slsaprovenance02"}, keyed...), file)...)
	if code != exitDenied || !strings.Contains(stderr, "line 4: did not count: predicate_type_mismatch") || !strings.Contains(stderr, "no_attestations") && !strings.Contains(stderr, "no attestations") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func writeLines(t *testing.T, out string, files ...string) {
	t.Helper()
	var buf bytes.Buffer
	for _, f := range files {
		switch {
		case f == "":
			buf.WriteString("\n")
		case strings.HasPrefix(f, "{"):
			buf.WriteString(f + "\n")
		default:
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var c bytes.Buffer
			if err := json.Compact(&c, b); err != nil {
				t.Fatal(err)
			}
			buf.Write(c.Bytes())
			buf.WriteString("\n")
		}
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeNPMDocument(t *testing.T, out string, files ...string) {
	t.Helper()
	type entry struct {
		PredicateType string          `json:"predicateType"`
		Bundle        json.RawMessage `json:"bundle"`
	}
	var doc struct {
		Attestations []entry `json:"attestations"`
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The document's predicateType is a hint nobody signed: vouch reads the statement's.
		doc.Attestations = append(doc.Attestations, entry{PredicateType: "https://slsa.dev/provenance/v1", Bundle: b})
	}
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func writeEmptyRoot(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "empty_root.json")
	if err := os.WriteFile(p, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyBlobAttestationUsage(t *testing.T) {
	dir := t.TempDir()
	file, bundle := keyedAttestation(t, dir, []byte("x"))
	pub := attestTestdata("cosign.pub")
	huge := filepath.Join(dir, "huge.jsonl")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(verify.MaxBundleFileSize + 1)
	f.Close()
	many := filepath.Join(dir, "many.jsonl")
	os.WriteFile(many, bytes.Repeat([]byte("{}\n"), verify.MaxBundles+1), 0o600)

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no type", []string{"--bundle", bundle, "--key", pub, file}, exitUndecided, "type"},
		{"no bundle", []string{"--type", "custom", "--key", pub, file}, exitUndecided, "bundle"},
		{"unknown type name", []string{"--bundle", bundle, "--type", "slsa", "--key", pub, file}, exitUndecided, "slsa"},
		{"nobody to trust", []string{"--bundle", bundle, "--type", "custom", file}, exitUndecided, "--key FILE"},
		{"bad versioned tag", []string{"--bundle", bundle, "--type", "custom", "--key", pub, "--source-versioned-tag", "fourteen", file}, exitUndecided, "semantic version"},
		{"contradictory refs", []string{"--bundle", bundle, "--type", "custom", "--key", pub, "--source-uri", "github.com/a/b@refs/tags/v1", "--source-ref", "refs/heads/main", file}, exitUndecided, "source ref"},
		{"bad source", []string{"--bundle", bundle, "--type", "custom", "--key", pub, "--source-uri", "::", file}, exitUndecided, "source"},
		{"two files", []string{"--bundle", bundle, "--type", "custom", "--key", pub, file, file}, exitUndecided, "one FILE"},
		{"missing bundle file", []string{"--bundle", filepath.Join(dir, "nope"), "--type", "custom", "--key", pub, file}, exitUndecided, "reading --bundle"},
		{"missing artifact", []string{"--bundle", bundle, "--type", "custom", "--key", pub, "--insecure-ignore-tlog", filepath.Join(dir, "nope")}, exitUndecided, "reading the artifact"},
		{"a bundle file over the cap", []string{"--bundle", huge, "--type", "custom", "--key", pub, "--insecure-ignore-tlog", file}, exitDenied, "more than"},
		{"more bundles than the cap", []string{"--bundle", many, "--type", "custom", "--key", pub, "--insecure-ignore-tlog", file}, exitDenied, "more than"},
		{"an empty bundle file", []string{"--bundle", writeLines2(t, dir, "\n\n"), "--type", "custom", "--key", pub, "--insecure-ignore-tlog", file}, exitDenied, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, "", append([]string{"verify-blob-attestation"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want %d with %q\n%s", code, tc.code, tc.want, stderr)
			}
		})
	}
}

func writeLines2(t *testing.T, dir, content string) string {
	t.Helper()
	p := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
