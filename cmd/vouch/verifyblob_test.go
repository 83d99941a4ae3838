package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"google.golang.org/protobuf/encoding/protojson"

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

// blobFixture writes a file, a keyed bundle for it (no transparency log),
// the public key and an empty trusted root into a temporary directory.
type blobFixture struct {
	dir, file, bundle, key, otherKey, root string
	content                                []byte
}

func newBlobFixture(t *testing.T) blobFixture {
	t.Helper()
	dir := t.TempDir()
	f := blobFixture{dir: dir, content: []byte("release contents\n")}
	f.file = filepath.Join(dir, "release.tar.gz")
	f.bundle = filepath.Join(dir, "release.tar.gz.sigstore.json")
	f.key = filepath.Join(dir, "cosign.pub")
	f.otherKey = filepath.Join(dir, "other.pub")
	f.root = filepath.Join(dir, "trusted_root.json")
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := sign.Bundle(&sign.PlainData{Data: f.content}, kp, sign.BundleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bj, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.GetPublicKeyPem()
	other, _ := sign.NewEphemeralKeypair(nil)
	otherPub, _ := other.GetPublicKeyPem()
	for p, b := range map[string][]byte{
		f.file: f.content, f.bundle: bj, f.key: []byte(pub), f.otherKey: []byte(otherPub),
		f.root: []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`),
	} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestVerifyBlobKeyed(t *testing.T) {
	f := newBlobFixture(t)
	sum := sha256.Sum256(f.content)
	digest := "sha256:" + hex.EncodeToString(sum[:])

	// No trusted root and --offline with an empty cache: a keyed check that
	// skips the log needs neither.
	for _, target := range []string{f.file, digest} {
		_, stderr, code := run(t, "", "verify-blob", "--bundle", f.bundle, "--key", f.key, "--insecure-ignore-tlog", "--offline", target)
		if code != exitOK || !strings.Contains(stderr, "Verified OK") || !strings.Contains(stderr, "WARNING") || !strings.Contains(stderr, "tlog skipped") {
			t.Fatalf("%s: exit %d\n%s", target, code, stderr)
		}
	}

	stdout, _, code := run(t, "", "verify-bundle", "-o", "json", "--bundle", f.bundle, "--key", f.key, "--insecure-ignore-tlog", f.file)
	var rep struct {
		SchemaVersion int    `json:"schemaVersion"`
		Verified      bool   `json:"verified"`
		Digest        string `json:"digest"`
		Signature     struct {
			Authority string `json:"authority"`
			Tlog      struct {
				Status string `json:"status"`
			} `json:"tlog"`
		} `json:"signature"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK {
		t.Fatalf("exit %d, %v\n%s", code, err, stdout)
	}
	if rep.SchemaVersion != 1 || !rep.Verified || rep.Digest != digest || rep.Signature.Tlog.Status != "skipped" || !strings.Contains(rep.Signature.Authority, "cosign.pub") {
		t.Errorf("report: %s", stdout)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		reason verify.Reason
	}{
		{"tlog required by default", []string{"--key", f.key, "--trusted-root", f.root, f.file}, exitDenied, verify.ReasonTlogMissing},
		{"wrong key", []string{"--key", f.otherKey, "--insecure-ignore-tlog", f.file}, exitDenied, verify.ReasonKeyMismatch},
		{"wrong file", []string{"--key", f.key, "--insecure-ignore-tlog", f.key}, exitDenied, verify.ReasonDigestMismatch},
		{"wrong digest", []string{"--key", f.key, "--insecure-ignore-tlog", "sha256:" + strings.Repeat("0", 64)}, exitDenied, verify.ReasonDigestMismatch},
		{"keyless identity for a keyed bundle", []string{"--certificate-identity", "a@example.com", "--certificate-oidc-issuer", "https://issuer.example.com", "--trusted-root", f.root, f.file}, exitDenied, verify.ReasonIdentityMismatch},
		{"missing file", []string{"--key", f.key, "--insecure-ignore-tlog", filepath.Join(f.dir, "nope")}, exitUndecided, verify.ReasonInvalidInput},
		{"missing key", []string{"--key", filepath.Join(f.dir, "nope.pub"), f.file}, exitUndecided, verify.ReasonInvalidInput},
		{"key is not a key", []string{"--key", f.file, f.file}, exitUndecided, verify.ReasonInvalidInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", append([]string{"verify-blob", "-o", "json", "--bundle", f.bundle}, tc.args...)...)
			var rep struct {
				Verified bool            `json:"verified"`
				Failure  *verify.Failure `json:"failure"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s\n%s", err, stdout, stderr)
			}
			if code != tc.code || rep.Verified || rep.Failure == nil || rep.Failure.Reason != tc.reason {
				t.Fatalf("exit %d (want %d), failure %+v (want %s)\n%s", code, tc.code, rep.Failure, tc.reason, stderr)
			}
		})
	}
}

// keylessBundle writes a bundle whose signature comes with a certificate
// (from a throwaway CA: it only has to need the trusted root).
func keylessBundle(t *testing.T, dir string, content []byte) string {
	t.Helper()
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		t.Fatal(err)
	}
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf, err := ca.GenerateLeafCert("a@example.com", "https://issuer.example.com", time.Now(), leafKey, rootCert, rootKey)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	sig, _ := ecdsa.SignASN1(rand.Reader, leafKey, sum[:])
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: leaf.Raw}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}},
	}
	b, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "keyless.sigstore.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVerifyBlobTrustRootUnavailable(t *testing.T) {
	f := newBlobFixture(t)
	f.bundle = keylessBundle(t, f.dir, f.content)
	keyless := []string{"--certificate-identity", "a@example.com", "--certificate-oidc-issuer", "https://issuer.example.com"}
	// Keyless needs the trusted root; offline with an empty cache: exit 2
	// with what to do, and no network call.
	_, stderr, code := run(t, "", append(append([]string{"verify-blob", "--bundle", f.bundle, "--offline"}, keyless...), f.file)...)
	if code != exitUndecided || !strings.Contains(stderr, "offline") || !strings.Contains(stderr, "--trusted-root") || !strings.Contains(stderr, tuf.DefaultMirror) {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	_, stderr, code = run(t, "", append(append([]string{"verify-bundle", "--staging", "--bundle", f.bundle, "--offline"}, keyless...), f.file)...)
	if code != exitUndecided || !strings.Contains(stderr, tuf.StagingMirror) {
		t.Fatalf("--staging: exit %d\n%s", code, stderr)
	}
	// A bad --trusted-root is not a denial either.
	_, stderr, code = run(t, "", append(append([]string{"verify-blob", "--bundle", f.bundle, "--trusted-root", f.file}, keyless...), f.file)...)
	if code != exitUndecided || !strings.Contains(stderr, "trusted_root.json") {
		t.Fatalf("bad trusted root: exit %d\n%s", code, stderr)
	}
}

func TestVerifyBlobMalformedBundleIsDenied(t *testing.T) {
	f := newBlobFixture(t)
	bad := filepath.Join(f.dir, "bad.json")
	os.WriteFile(bad, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"`), 0o600)
	_, stderr, code := run(t, "", "verify-blob", "--bundle", bad, "--key", f.key, "--insecure-ignore-tlog", f.file)
	if code != exitDenied || !strings.Contains(stderr, "not a valid Sigstore bundle") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func TestVerifyBlobUsage(t *testing.T) {
	f := newBlobFixture(t)
	id := []string{"--certificate-identity", "a@example.com", "--certificate-oidc-issuer", "https://issuer.example.com"}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nobody to trust", []string{f.file}, "--key FILE, or --certificate-identity"},
		{"key and identity", append([]string{"--key", f.key}, append(id, f.file)...), "exclude each other"},
		{"ignore tlog without key", append([]string{"--insecure-ignore-tlog"}, append(id, f.file)...), "applies to --key only"},
		{"identity twice", []string{"--certificate-identity", "a", "--certificate-identity-regexp", "a", "--certificate-oidc-issuer", "i", f.file}, "not both"},
		{"issuer twice", []string{"--certificate-identity", "a", "--certificate-oidc-issuer-regexp", "a", "--certificate-oidc-issuer", "i", f.file}, "not both"},
		{"no issuer", []string{"--certificate-identity", "a", f.file}, "--certificate-oidc-issuer"},
		{"no identity", []string{"--certificate-oidc-issuer", "i", f.file}, "--certificate-identity"},
		{"github claim alone", []string{"--certificate-github-workflow-repository", "acme/app", f.file}, "needs the signer"},
		{"two files", []string{"--key", f.key, f.file, f.file}, "one FILE"},
		{"no file", []string{"--key", f.key}, "one FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(t, "", append([]string{"verify-blob", "-o", "json", "--bundle", f.bundle}, tc.args...)...)
			if code != exitUndecided || !strings.Contains(stderr, tc.want) || stdout != "" {
				t.Fatalf("exit %d, stdout %q\nstderr: %s", code, stdout, stderr)
			}
		})
	}
	if _, stderr, code := run(t, "", "verify-blob", "--key", f.key, f.file); code != exitUndecided || !strings.Contains(stderr, "bundle") {
		t.Fatalf("--bundle is required: exit %d %s", code, stderr)
	}
}
