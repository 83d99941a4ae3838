package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/vouchdev/vouch/attest"
)

// keyEnv is the process environment a key test runs with.
type keyEnv struct {
	vars     map[string]string // set variables; a key present with "" is set-but-empty
	terminal bool
	stdin    string
}

// runKeys runs the CLI in-process with vars and a terminal (or not).
func runKeys(t *testing.T, ke keyEnv, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{
		stdin:  strings.NewReader(ke.stdin),
		stdout: &out,
		stderr: &errb,
		getenv: func(k string) string { return ke.vars[k] },
		lookupEnv: func(k string) (string, bool) {
			v, ok := ke.vars[k]
			return v, ok
		},
		stdinIsTerminal: ke.terminal,
		cacheDir:        t.TempDir(),
	}
	err := newApp(e).RunContext(context.Background(), append([]string{"vouch"}, args...))
	code = report(&errb, err)
	return out.String(), errb.String(), code
}

func readTestKey(t *testing.T, path string, password string) crypto.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	key, err := attest.ParsePrivateKey(b, []byte(password))
	if err != nil {
		t.Fatalf("%s with password %q: %v", path, password, err)
	}
	return key
}

func TestGenerateKeyPair(t *testing.T) {
	dir := t.TempDir()
	prefix := filepath.Join(dir, "release")
	stdout, stderr, code := runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "pw1"}}, "generate-key-pair", "--output-key-prefix", prefix, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"schemaVersion": 1`) || !strings.Contains(stdout, prefix+".key") {
		t.Fatalf("stdout %s", stdout)
	}
	fi, err := os.Stat(prefix + ".key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v, %v", fi.Mode(), err)
	}
	key := readTestKey(t, prefix+".key", "pw1")
	pubPEM, _ := os.ReadFile(prefix + ".pub")
	pub, err := attest.ParsePublicKey(pubPEM)
	if err != nil || !pub.(*ecdsa.PublicKey).Equal(key.Public()) {
		t.Fatalf("public key: %v", err)
	}

	// Never overwritten without --force.
	before, _ := os.ReadFile(prefix + ".key")
	_, stderr, code = runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "pw2"}}, "generate-key-pair", "--output-key-prefix", prefix)
	after, _ := os.ReadFile(prefix + ".key")
	if code != exitUndecided || !strings.Contains(stderr, "--force") || !bytes.Equal(before, after) {
		t.Fatalf("overwrite without --force: exit %d, %s", code, stderr)
	}
	// --force overwrites, and an overwritten private key is 0600 again.
	if err := os.Chmod(prefix+".key", 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "pw2"}}, "generate-key-pair", "--output-key-prefix", prefix, "--force")
	if code != 0 {
		t.Fatalf("--force: exit %d, %s", code, stderr)
	}
	readTestKey(t, prefix+".key", "pw2")
	if fi, _ := os.Stat(prefix + ".key"); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode after --force %v", fi.Mode())
	}
}

func TestGenerateKeyPairDefaultNames(t *testing.T) {
	dir := t.TempDir()
	wd, _ := os.Getwd()
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	_, stderr, code := runKeys(t, keyEnv{vars: map[string]string{"COSIGN_PASSWORD": "x"}}, "generate-key-pair")
	if code != 0 || !strings.Contains(stderr, "Private key written to cosign.key") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"cosign.key", "cosign.pub"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPasswordSources(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ke       keyEnv
		password string // "" with ok=false means: must fail
		ok       bool
		stderr   string
	}{
		{"VOUCH_PASSWORD", keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "a"}}, "a", true, ""},
		{"COSIGN_PASSWORD", keyEnv{vars: map[string]string{"COSIGN_PASSWORD": "b"}}, "b", true, ""},
		{"VOUCH_PASSWORD wins", keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "a", "COSIGN_PASSWORD": "b"}}, "a", true, ""},
		{"set but empty is an empty password, not a prompt", keyEnv{vars: map[string]string{"VOUCH_PASSWORD": ""}, terminal: true, stdin: "typed\ntyped\n"}, "", true, ""},
		{"prompted twice on a terminal", keyEnv{terminal: true, stdin: "typed\ntyped\n"}, "typed", true, "Enter password for private key again"},
		{"prompts that differ", keyEnv{terminal: true, stdin: "one\ntwo\n"}, "", false, "do not match"},
		{"no terminal, no variable", keyEnv{stdin: "ignored\nignored\n"}, "", false, "set VOUCH_PASSWORD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := filepath.Join(t.TempDir(), "k")
			_, stderr, code := runKeys(t, tc.ke, "generate-key-pair", "--output-key-prefix", prefix)
			if !tc.ok {
				if code != exitUndecided || !strings.Contains(stderr, tc.stderr) {
					t.Fatalf("exit %d, stderr %q", code, stderr)
				}
				if _, err := os.Stat(prefix + ".key"); err == nil {
					t.Fatal("a key was written")
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("stderr %q lacks %q", stderr, tc.stderr)
			}
			if tc.stderr == "" && strings.Contains(stderr, "Enter password") {
				t.Fatalf("prompted although a variable was set: %q", stderr)
			}
			readTestKey(t, prefix+".key", tc.password)
		})
	}
}

// keyedBundleVerifier verifies bundles with pub as cosign does for --key
// --insecure-ignore-tlog.
func keyedBundleVerifier(t *testing.T, pub crypto.PublicKey) *sgverify.Verifier {
	t.Helper()
	sv, err := signature.LoadVerifier(pub, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	k := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	v, err := sgverify.NewVerifier(root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return k, nil }), sgverify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func attestTestdata(name string) string { return filepath.Join("..", "..", "testdata", "attest", name) }

func TestSignBlob(t *testing.T) {
	dir := t.TempDir()
	artifact := filepath.Join(dir, "app.tar.gz")
	content := []byte("the release\n")
	if err := os.WriteFile(artifact, content, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "app.sigstore.json")
	vars := map[string]string{"VOUCH_PASSWORD": "vouch-test"}
	stdout, stderr, code := runKeys(t, keyEnv{vars: vars}, "sign-blob", "--key", attestTestdata("cosign.key"), "--bundle", out, artifact)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	// stdout: the base64 signature over the file, as cosign prints it.
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(stdout))
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, _ := os.ReadFile(attestTestdata("cosign.pub"))
	pub, _ := attest.ParsePublicKey(pubPEM)
	sum := sha256.Sum256(content)
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), sum[:], sig) {
		t.Fatal("printed signature does not verify")
	}
	b, err := bundle.LoadJSONFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	v := keyedBundleVerifier(t, pub)
	if _, err := v.Verify(b, sgverify.NewPolicy(sgverify.WithArtifact(bytes.NewReader(content)), sgverify.WithKey())); err != nil {
		t.Fatalf("bundle does not verify: %v", err)
	}
	if _, err := v.Verify(b, sgverify.NewPolicy(sgverify.WithArtifact(strings.NewReader("tampered\n")), sgverify.WithKey())); err == nil {
		t.Fatal("bundle verifies a tampered artifact")
	}

	// stdin, JSON output.
	stdout, stderr, code = runKeysStdin(t, vars, string(content), "sign-blob", "--key", attestTestdata("cosign.key"), "-o", "json", "-")
	if code != 0 || !strings.Contains(stdout, `"digest": "sha256:`+hex.EncodeToString(sum[:])+`"`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}

func runKeysStdin(t *testing.T, vars map[string]string, stdin string, args ...string) (string, string, int) {
	return runKeys(t, keyEnv{vars: vars, stdin: stdin}, args...)
}

func TestSignBlobErrors(t *testing.T) {
	dir := t.TempDir()
	artifact := filepath.Join(dir, "a")
	os.WriteFile(artifact, []byte("x"), 0o644)
	for _, tc := range []struct {
		name   string
		vars   map[string]string
		args   []string
		stderr string
	}{
		{"wrong password", map[string]string{"COSIGN_PASSWORD": "nope"}, []string{"--key", attestTestdata("cosign.key"), artifact}, "incorrect password (taken from COSIGN_PASSWORD)"},
		{"no password and no terminal", nil, []string{"--key", attestTestdata("cosign.key"), artifact}, "VOUCH_PASSWORD"},
		{"no key", nil, []string{artifact}, "--key is required"},
		{"KMS reference", nil, []string{"--key", "awskms:///alias/x", artifact}, "key files only"},
		{"public key as private key", nil, []string{"--key", attestTestdata("cosign.pub"), artifact}, "not a private key"},
		{"missing file", map[string]string{"VOUCH_PASSWORD": "vouch-test"}, []string{"--key", attestTestdata("cosign.key"), filepath.Join(dir, "missing")}, "no such file"},
		{"two files", nil, []string{"--key", attestTestdata("cosign.key"), artifact, artifact}, "one FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runKeys(t, keyEnv{vars: tc.vars}, append([]string{"sign-blob"}, tc.args...)...)
			if code != exitUndecided || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.stderr)
			}
		})
	}
}

func TestAttestBlob(t *testing.T) {
	dir := t.TempDir()
	artifact := filepath.Join(dir, "app.tar.gz")
	content := []byte("the release\n")
	os.WriteFile(artifact, content, 0o644)
	out := filepath.Join(dir, "app.intoto.sigstore.json")
	stdout, stderr, code := runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "vouch-test"}},
		"attest-blob", "--key", attestTestdata("cosign.key"), "--predicate", attestTestdata("predicate-slsa1.json"),
		"--type", "slsaprovenance1", "--bundle", out, "-o", "json", artifact)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"predicateType": "https://slsa.dev/provenance/v1"`) {
		t.Fatalf("stdout %s", stdout)
	}
	b, err := bundle.LoadJSONFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.StatementFromBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	if !st.MatchesDigest("sha256", hex.EncodeToString(sum[:])) || st.Subjects()[0].Name != "app.tar.gz" || st.Type() != attest.StatementTypeV01 {
		t.Fatalf("statement %s", statementJSON(st))
	}
	p, err := attest.ParseProvenance(st)
	if err != nil || p.SourceRepository != "github.com/vouchdev/example" {
		t.Fatalf("provenance %+v %v", p, err)
	}
	pubPEM, _ := os.ReadFile(attestTestdata("cosign.pub"))
	pub, _ := attest.ParsePublicKey(pubPEM)
	if _, err := keyedBundleVerifier(t, pub).Verify(b, sgverify.NewPolicy(sgverify.WithArtifactDigest("sha256", sum[:]), sgverify.WithKey())); err != nil {
		t.Fatalf("bundle does not verify: %v", err)
	}
}

func TestAttestBlobErrors(t *testing.T) {
	dir := t.TempDir()
	artifact := filepath.Join(dir, "a")
	os.WriteFile(artifact, []byte("x"), 0o644)
	notJSON := filepath.Join(dir, "p.txt")
	os.WriteFile(notJSON, []byte("not json"), 0o644)
	vars := map[string]string{"VOUCH_PASSWORD": "vouch-test"}
	for _, tc := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown type", []string{"--type", "slsa", "--predicate", notJSON, "--bundle", filepath.Join(dir, "b"), artifact}, "unknown predicate type"},
		{"predicate not JSON for a JSON type", []string{"--type", "slsaprovenance1", "--predicate", notJSON, "--bundle", filepath.Join(dir, "b"), artifact}, "predicate for --type slsaprovenance1"},
		{"no bundle", []string{"--predicate", notJSON, artifact}, "--bundle"},
		{"no predicate", []string{"--bundle", filepath.Join(dir, "b"), artifact}, "--predicate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runKeys(t, keyEnv{vars: vars}, append([]string{"attest-blob", "--key", attestTestdata("cosign.key")}, tc.args...)...)
			if code != exitUndecided || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d, stderr %q, want %q", code, stderr, tc.stderr)
			}
		})
	}
}

func statementJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// /dev/null is a character device but not a terminal: CI jobs run with it as
// stdin and must get the "set VOUCH_PASSWORD" error, not a silent empty
// password.
func TestDevNullIsNotATerminal(t *testing.T) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	// A CI job's stdin is often /dev/null: a character device, not a terminal
	// to prompt on. A mode-bits check would say otherwise.
	if isTerminal(devnull) {
		t.Fatal("isTerminal(/dev/null) = true: vouch would prompt for a password in CI instead of asking for VOUCH_PASSWORD")
	}
}
