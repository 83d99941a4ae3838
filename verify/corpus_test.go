package verify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir returns ../shared/corpus/sub relative to the repository root, or
// skips (fails under VOUCH_REQUIRE_INTEGRATION=1) when it is absent.
func corpusDir(t *testing.T, sub string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus", sub))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("VOUCH_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("corpus %s is required (VOUCH_REQUIRE_INTEGRATION=1): %v", dir, err)
		}
		t.Skipf("corpus %s absent: %v", dir, err)
	}
	return dir
}

// corpusBundles splits a corpus file into bundles: one bundle, JSON lines,
// or npm's {"attestations":[{"bundle":…}]} document.
func corpusBundles(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var npm struct {
		Attestations []struct {
			Bundle json.RawMessage `json:"bundle"`
		} `json:"attestations"`
	}
	if json.Unmarshal(b, &npm) == nil && len(npm.Attestations) > 0 {
		var out [][]byte
		for _, a := range npm.Attestations {
			out = append(out, a.Bundle)
		}
		return out
	}
	if json.Valid(b) {
		return [][]byte{b}
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, MaxContentSize)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, append([]byte(nil), line...))
		}
	}
	return out
}

// TestAttestationCorpus verifies real third-party bundles (slsa-github-generator,
// npm, GitHub attestations, bazel-contrib, sigstore-js) against their
// published expectations: v0.1 to v0.3 bundles, intoto 0.0.2 and dsse
// entries, sha256 and sha512 subjects.
func TestAttestationCorpus(t *testing.T) {
	dir := corpusDir(t, "attestations")
	raw, err := os.ReadFile(filepath.Join(dir, "expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
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
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	v, err := New(WithTrustedRootFile(filepath.Join(dir, "trusted_root.public-good.json")))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.ID, func(t *testing.T) {
			id := Identity{Issuer: tc.Issuer, Subject: tc.SAN, SubjectRegExp: tc.SANRegex}
			if id.Subject == "" && id.SubjectRegExp == "" {
				id.SubjectRegExp = ".*" // a cryptographic check, any signer
			}
			if id.Issuer == "" {
				id.IssuerRegExp = ".*"
			}
			req := Requirements{Authorities: []Authority{{Name: "signer", Keyless: &KeylessAuthority{Identities: []Identity{id}}}}}
			file, err := os.ReadFile(filepath.Join(dir, tc.Bundle))
			if err != nil {
				t.Fatal(err)
			}
			bundles := corpusBundles(t, file)
			if tc.Line != nil {
				bundles = bundles[*tc.Line : *tc.Line+1]
			}
			var errs []error
			ok := false
			for _, bj := range bundles {
				b, err := ParseBundle(bj)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				var a Artifact
				switch {
				case tc.Digest != "":
					a, err = ArtifactDigest(tc.Digest)
				case tc.Artifact != "":
					var data []byte
					data, err = os.ReadFile(filepath.Join(dir, tc.Artifact))
					a = ArtifactBytes(data)
				default:
					// The statement's own first subject: the case fails for another reason.
					var st statement
					if env := b.GetDsseEnvelope(); env != nil && json.Unmarshal(env.GetPayload(), &st) == nil && len(st.Subject) > 0 {
						for alg, h := range st.Subject[0].Digest {
							a, err = ArtifactDigest(alg + ":" + h)
							break
						}
					}
				}
				if err != nil {
					t.Fatal(err)
				}
				res, err := v.Blob(context.Background(), b, a, req)
				if err == nil && res.Verified {
					ok = true
					break
				}
				errs = append(errs, err)
			}
			switch {
			case tc.Expect == "ok" && !ok:
				t.Errorf("want verified, got %v", errs)
			case tc.Expect == "fail" && ok:
				t.Errorf("want a failure, verified")
			case tc.Expect == "fail":
				for _, err := range errs {
					if ReasonOf(err) == "" {
						t.Errorf("failure without a reason: %v", err)
					}
				}
				t.Logf("%s: %v", tc.ID, errs)
			}
		})
	}
}
