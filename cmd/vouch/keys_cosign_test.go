package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/vouchdev/vouch/attest"
)

// cosignBinary returns $VOUCH_COSIGN (a cosign v2.6.5 binary). The test skips
// without it, and fails instead when VOUCH_REQUIRE_INTEGRATION=1.
func cosignBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("VOUCH_COSIGN")
	if bin == "" {
		if os.Getenv("VOUCH_REQUIRE_INTEGRATION") == "1" {
			t.Fatal("VOUCH_COSIGN must point at a cosign binary (VOUCH_REQUIRE_INTEGRATION=1)")
		}
		t.Skip("VOUCH_COSIGN not set: cosign interoperability not checked")
	}
	return bin
}

// cosign runs the cosign binary offline in dir with its own HOME.
func cosign(t *testing.T, bin, dir, password string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + filepath.Join(dir, "home"), "COSIGN_PASSWORD=" + password, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// minimalTrustedRoot is all cosign v2.6.5 needs to verify a keyed bundle
// offline: --new-bundle-format insists on a trusted root, but with --key and
// --insecure-ignore-tlog it uses nothing in it.
const minimalTrustedRoot = `{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`

// Keys and bundles move between cosign v2.6.5 and vouch both ways, tried as a
// user would.
func TestCosignInterop(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "home"), 0o755)
	root := filepath.Join(dir, "trusted_root.json")
	os.WriteFile(root, []byte(minimalTrustedRoot), 0o644)
	artifact := filepath.Join(dir, "artifact.bin")
	content := []byte("interop artifact\n")
	os.WriteFile(artifact, content, 0o644)
	at := func(name string) string { return filepath.Join(dir, name) }
	vars := map[string]string{"VOUCH_PASSWORD": "pw"}

	// cosign's key → vouch signs → cosign verifies.
	cosign(t, bin, dir, "pw", "generate-key-pair", "--output-key-prefix", "c")
	if _, stderr, code := runKeys(t, keyEnv{vars: vars}, "sign-blob", "--key", at("c.key"), "--bundle", at("v.sigstore.json"), artifact); code != 0 {
		t.Fatalf("vouch sign-blob with a cosign key: %s", stderr)
	}
	out := cosign(t, bin, dir, "", "verify-blob", "--key", "c.pub", "--bundle", "v.sigstore.json", "--new-bundle-format", "--insecure-ignore-tlog", "--trusted-root", root, artifact)
	if !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob: %s", out)
	}
	// The same bundle must not verify another file.
	cmd := exec.Command(bin, "verify-blob", "--key", "c.pub", "--bundle", "v.sigstore.json", "--new-bundle-format", "--insecure-ignore-tlog", "--trusted-root", root, root)
	cmd.Dir, cmd.Env = dir, []string{"HOME=" + at("home")}
	if err := cmd.Run(); err == nil {
		t.Fatal("cosign verified the bundle against another file")
	}

	// vouch's key → cosign signs with it, and verifies vouch's bundle with vouch's public key.
	if _, stderr, code := runKeys(t, keyEnv{vars: vars}, "generate-key-pair", "--output-key-prefix", at("v")); code != 0 {
		t.Fatal(stderr)
	}
	cosign(t, bin, dir, "pw", "sign-blob", "--key", "v.key", "--bundle", "c.sigstore.json", "--new-bundle-format", "--tlog-upload=false", "--yes", artifact)
	if _, stderr, code := runKeys(t, keyEnv{vars: vars}, "sign-blob", "--key", at("v.key"), "--bundle", at("v2.sigstore.json"), artifact); code != 0 {
		t.Fatal(stderr)
	}
	for _, b := range []string{"c.sigstore.json", "v2.sigstore.json"} {
		if out := cosign(t, bin, dir, "", "verify-blob", "--key", "v.pub", "--bundle", b, "--new-bundle-format", "--insecure-ignore-tlog", "--trusted-root", root, artifact); !strings.Contains(out, "Verified OK") {
			t.Fatalf("cosign verify-blob %s: %s", b, out)
		}
	}
	// cosign's bundle, made with a vouch key, verifies with that key through sigstore-go.
	pubPEM, _ := os.ReadFile(at("v.pub"))
	pub, err := attest.ParsePublicKey(pubPEM)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := bundle.LoadJSONFromPath(at("c.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keyedBundleVerifier(t, pub).Verify(cb, sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(content)), sgverify.WithKey())); err != nil {
		t.Fatalf("cosign's bundle: %v", err)
	}

	// vouch attest-blob → cosign verify-blob-attestation.
	pred := at("pred.json")
	os.WriteFile(pred, []byte(`{"buildDefinition":{"buildType":"https://example.com/t","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/b"}}}`), 0o644)
	if _, stderr, code := runKeys(t, keyEnv{vars: vars}, "attest-blob", "--key", at("c.key"), "--predicate", pred, "--type", "slsaprovenance1", "--bundle", at("att.sigstore.json"), artifact); code != 0 {
		t.Fatal(stderr)
	}
	out = cosign(t, bin, dir, "", "verify-blob-attestation", "--key", "c.pub", "--bundle", "att.sigstore.json", "--new-bundle-format", "--insecure-ignore-tlog", "--trusted-root", root, "--type", "slsaprovenance1", artifact)
	if !strings.Contains(out, "Verified OK") {
		t.Fatalf("cosign verify-blob-attestation: %s", out)
	}

	// cosign attest-blob → vouch reads the statement, bound to the file.
	cosign(t, bin, dir, "pw", "attest-blob", "--key", "v.key", "--predicate", pred, "--type", "slsaprovenance1", "--bundle", "catt.sigstore.json", "--new-bundle-format", "--tlog-upload=false", "--yes", artifact)
	ab, err := bundle.LoadJSONFromPath(at("catt.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.StatementFromBundle(ab)
	sum := sha256.Sum256(content)
	if err != nil || !st.MatchesDigest("sha256", hex.EncodeToString(sum[:])) || st.PredicateType() != attest.PredicateSLSAProvenanceV1 {
		t.Fatalf("cosign attest-blob statement: %v", err)
	}
	if _, err := keyedBundleVerifier(t, pub).Verify(ab, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", sum[:]), sgverify.WithKey())); err != nil {
		t.Fatalf("cosign's attestation bundle: %v", err)
	}
}
