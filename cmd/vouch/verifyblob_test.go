package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/vouchdev/vouch/verify"
)

// corpusDir returns ../shared/corpus relative to the repository root, or
// skips (fails under VOUCH_REQUIRE_INTEGRATION=1) when it is absent.
func corpusDir(t *testing.T, sub string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "corpus", sub))
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

type conformanceCase struct {
	Case        string  `json:"case"`
	Expect      string  `json:"expect"`
	Bundle      string  `json:"bundle"`
	Artifact    string  `json:"artifact"`
	Key         *string `json:"key"`
	Identity    string  `json:"identity"`
	Issuer      string  `json:"issuer"`
	TrustedRoot string  `json:"trusted_root"`
}

// conformanceReasons is the reason each failing case must be denied (or not
// decided) with, where the case's intent is clear (CASES.md lists what
// sigstore-go says). A case missing here only has to fail with some reason.
var conformanceReasons = map[string]verify.Reason{
	"bundle-malformed-json_fail":                                verify.ReasonMalformed,
	"bundle-unknown-version_fail":                               verify.ReasonMalformed,
	"bundle-invalid-base64-signature_fail":                      verify.ReasonMalformed,
	"bundle-negative-log-index_fail":                            verify.ReasonMalformed,
	"bundle-empty-certificate-chain_fail":                       verify.ReasonMalformed,
	"bundle-from-wrong-instance_fail":                           verify.ReasonTlogInvalid,
	"invalid-ct-key_fail":                                       verify.ReasonCertificateInvalid,
	"trust-root-tlog-missing-validity-start_fail":               verify.ReasonTrustRootUnavailable,
	"signature-mismatch_fail":                                   verify.ReasonSignatureInvalid,
	"wrong-material_fail":                                       verify.ReasonDigestMismatch,
	"message-digest-mismatch_fail":                              verify.ReasonDigestMismatch,
	"dsse-invalid-sig_fail":                                     verify.ReasonSignatureInvalid,
	"dsse-mismatch-sig_fail":                                    verify.ReasonTlogInvalid,
	"dsse-mismatch-envelope_fail":                               verify.ReasonTlogInvalid,
	"wrong-hashedrekord-entry_fail":                             verify.ReasonTlogInvalid,
	"set-invalid-signature_fail":                                verify.ReasonTlogInvalid,
	"integrated-time-in-future_fail":                            verify.ReasonCertificateInvalid,
	"intoto-set-outside-signing-cert-validity_fail":             verify.ReasonCertificateInvalid,
	"intoto-expired-certificate_fail":                           verify.ReasonCertificateInvalid,
	"checkpoint-wrong-roothash_fail":                            verify.ReasonTlogInvalid,
	"checkpoint-bad-keyhint_fail":                               verify.ReasonTlogInvalid,
	"invalid-checkpoint-signature_fail":                         verify.ReasonTlogInvalid,
	"inclusion-proof-corrupted-hash_fail":                       verify.ReasonTlogInvalid,
	"intoto-missing-inclusion-proof_fail":                       verify.ReasonMalformed,
	"rekor2-no-inclusion-proof_fail":                            verify.ReasonMalformed,
	"rekor2-no-timestamp_fail":                                  verify.ReasonTimestampInvalid,
	"rekor2-timestamp-payload-mismatch_fail":                    verify.ReasonTimestampInvalid,
	"rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail":    verify.ReasonTimestampInvalid,
	"rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail": verify.ReasonTimestampInvalid,
	"rekor2-timestamp-outside-tsa-cert-validity_fail":           verify.ReasonTimestampInvalid,
	"rekor2-timestamp-outside-trust-root-tsa-validity_fail":     verify.ReasonTimestampInvalid,
	"rekor2-checkpoint-no-matching-signature_fail":              verify.ReasonTlogInvalid,
	"rekor2-checkpoint-missing-log-signature_fail":              verify.ReasonTlogInvalid,
	"managed-key-no-key_fail":                                   verify.ReasonIdentityMismatch,
	"managed-key-wrong-key_fail":                                verify.ReasonInvalidInput,
}

// TestSigstoreConformance runs every bundle-verify case of sigstore-conformance
// through the verify-bundle CLI protocol, in file and in digest mode.
func TestSigstoreConformance(t *testing.T) {
	dir := corpusDir(t, "sigstore-conformance")
	raw, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != 70 {
		t.Fatalf("%d cases in cases.json, want 70", len(cases))
	}
	runs := 0
	for _, tc := range cases {
		art := filepath.Join(dir, tc.Artifact)
		content, err := os.ReadFile(art)
		if err != nil && tc.Case != "bundle-malformed-json_fail" {
			t.Fatalf("%s: %v", tc.Case, err)
		}
		sum := sha256.Sum256(content)
		for _, mode := range []string{"file", "digest"} {
			target := art
			if mode == "digest" {
				target = "sha256:" + hex.EncodeToString(sum[:])
			}
			t.Run(tc.Case+"/"+mode, func(t *testing.T) {
				runs++
				args := []string{"verify-bundle", "-o", "json", "--bundle", filepath.Join(dir, tc.Bundle)}
				if tc.Key != nil {
					args = append(args, "--key", filepath.Join(dir, *tc.Key))
				} else {
					args = append(args, "--certificate-identity", tc.Identity, "--certificate-oidc-issuer", tc.Issuer)
				}
				args = append(args, "--trusted-root", filepath.Join(dir, tc.TrustedRoot), target)
				stdout, stderr, code := run(t, "", args...)
				var rep struct {
					Verified bool `json:"verified"`
					Failure  *struct {
						Reason verify.Reason `json:"reason"`
					} `json:"failure"`
				}
				_ = json.Unmarshal([]byte(stdout), &rep)
				switch tc.Expect {
				case "pass":
					if code != exitOK || !rep.Verified {
						t.Fatalf("want pass, exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
					}
				case "fail":
					if code == exitOK || rep.Verified {
						t.Fatalf("want failure, exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
					}
					if rep.Failure == nil || rep.Failure.Reason == "" {
						t.Fatalf("failure without a reason; stdout: %s\nstderr: %s", stdout, stderr)
					}
					if want, ok := conformanceReasons[tc.Case]; ok && rep.Failure.Reason != want {
						t.Errorf("reason %s, want %s\nstderr: %s", rep.Failure.Reason, want, stderr)
					}
					if wantCode := map[bool]int{true: exitDenied, false: exitUndecided}[rep.Failure.Reason.Denied()]; code != wantCode {
						t.Errorf("exit %d for reason %s, want %d", code, rep.Failure.Reason, wantCode)
					}
				default:
					t.Fatalf("unknown expectation %q", tc.Expect)
				}
			})
		}
	}
	if runs != 140 {
		t.Errorf("%d runs, want 140", runs)
	}
}
