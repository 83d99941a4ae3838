package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/registry/registrytest"
)

// cosignImages runs cosign (VOUCH_COSIGN, v2.6.5) as a user would against a
// local registry: offline, with its own HOME and TUF cache, plain HTTP.
type cosignImages struct {
	bin, dir string
	password string
}

func (c cosignImages) run(args ...string) (string, error) {
	cmd := exec.Command(c.bin, args...)
	cmd.Dir = c.dir
	cmd.Env = []string{
		"HOME=" + filepath.Join(c.dir, "home"),
		"TUF_ROOT=" + filepath.Join(c.dir, "tuf"),
		"COSIGN_PASSWORD=" + c.password,
		"PATH=" + os.Getenv("PATH"),
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c cosignImages) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.run(args...)
	if err != nil {
		t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c cosignImages) mustFail(t *testing.T, args ...string) {
	t.Helper()
	if out, err := c.run(args...); err == nil {
		t.Fatalf("cosign %s passed; it must not\n%s", strings.Join(args, " "), out)
	}
}

// Images signed and attested by cosign v2.6.5 (legacy and bundle formats,
// keyed, no transparency log) verify with vouch, and images signed and
// attested by vouch verify with cosign, against the real distribution
// registry; keys made by either tool sign with the other. Tried as a user
// would: the binaries, their flags, their exit codes.
func TestCosignImageInterop(t *testing.T) {
	bin := cosignBinary(t)
	reg := registrytest.Distribution(t)
	dir := t.TempDir()
	for _, d := range []string{"home", "tuf"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	cos := cosignImages{bin: bin, dir: dir, password: "pw"}
	root := at("trusted_root.json")
	if err := os.WriteFile(root, []byte(minimalTrustedRoot), 0o600); err != nil {
		t.Fatal(err)
	}
	pred, err := filepath.Abs(attestTestdata("predicate-slsa1.json"))
	if err != nil {
		t.Fatal(err)
	}
	vouchEnv := keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "pw"}}
	vouch := func(t *testing.T, args ...string) (string, string, int) {
		t.Helper()
		return runKeys(t, vouchEnv, args...)
	}
	mustVouch := func(t *testing.T, args ...string) string {
		t.Helper()
		stdout, stderr, code := vouch(t, args...)
		if code != 0 {
			t.Fatalf("vouch %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
		}
		return stdout
	}
	image := func(t *testing.T, repo string) string {
		t.Helper()
		return reg.Ref(repo + "@" + reg.PushRandomImage(t, repo+":v1"))
	}

	// Keys: one made by cosign, one made by vouch.
	cos.must(t, "generate-key-pair", "--output-key-prefix", "c")
	mustVouch(t, "generate-key-pair", "--output-key-prefix", at("v"))
	cosignKey, cosignPub, vouchKey, vouchPub := at("c.key"), at("c.pub"), at("v.key"), at("v.pub")
	vouchVerify := []string{"--insecure-ignore-tlog"}
	cosignVerify := []string{"--insecure-ignore-tlog", "--allow-http-registry"}
	cosignBundle := append([]string{"--new-bundle-format", "--trusted-root", root}, cosignVerify...)

	t.Run("cosign signs, vouch verifies", func(t *testing.T) {
		legacy, bundle := image(t, "cosign-legacy"), image(t, "cosign-bundle")
		cos.must(t, "sign", "--key", cosignKey, "--tlog-upload=false", "--allow-http-registry", "-y", legacy)
		cos.must(t, "sign", "--key", cosignKey, "--tlog-upload=false", "--new-bundle-format", "--allow-http-registry", "-y", bundle)
		// cosign itself accepts what it wrote.
		cos.must(t, append([]string{"verify", "--key", cosignPub}, append(cosignVerify, legacy)...)...)
		cos.must(t, append([]string{"verify", "--key", cosignPub}, append(cosignBundle, bundle)...)...)

		rep, stderr, code := runVerifyJSON(t, append(append([]string{"verify", "--key", cosignPub}, vouchVerify...), legacy, bundle)...)
		if code != exitOK {
			t.Fatalf("vouch verify: exit %d\n%s", code, stderr)
		}
		if f := rep.Images[0].Digests[0].Signatures.Signatures[0].Format; f != "legacy-signature" {
			t.Errorf("cosign's legacy signature read as %s", f)
		}
		if f := rep.Images[1].Digests[0].Signatures.Signatures[0].Format; f != "bundle" {
			t.Errorf("cosign's bundle read as %s", f)
		}
		if _, _, code := runKeys(t, vouchEnv, append(append([]string{"verify", "--key", vouchPub}, vouchVerify...), legacy, bundle)...); code != exitDenied {
			t.Errorf("vouch verify with another key: exit %d", code)
		}
	})

	t.Run("cosign attests, vouch verifies", func(t *testing.T) {
		legacy, bundle := image(t, "cosign-att-legacy"), image(t, "cosign-att-bundle")
		cos.must(t, "attest", "--key", cosignKey, "--type", "slsaprovenance1", "--predicate", pred, "--tlog-upload=false", "--allow-http-registry", "-y", legacy)
		cos.must(t, "attest", "--key", cosignKey, "--type", "slsaprovenance1", "--predicate", pred, "--tlog-upload=false", "--new-bundle-format", "--allow-http-registry", "-y", bundle)
		stdout, stderr, code := vouch(t, append(append([]string{"verify-attestation", "--type", "slsaprovenance1", "--key", cosignPub}, vouchVerify...), legacy, bundle)...)
		if code != exitOK || strings.Count(stdout, `"predicateType":"https://slsa.dev/provenance/v1"`) != 2 {
			t.Fatalf("vouch verify-attestation: exit %d\n%s\n%s", code, stdout, stderr)
		}
		if _, _, code := vouch(t, append(append([]string{"verify-attestation", "--type", "spdxjson", "--key", cosignPub}, vouchVerify...), legacy, bundle)...); code != exitDenied {
			t.Errorf("another type: exit %d", code)
		}
		// cosign's images carry no signature, only attestations.
		if _, _, code := vouch(t, append(append([]string{"verify", "--key", cosignPub}, vouchVerify...), legacy)...); code != exitDenied {
			t.Errorf("an attestation counted as a signature: exit %d", code)
		}
	})

	t.Run("vouch signs, cosign verifies", func(t *testing.T) {
		for _, key := range []struct{ name, priv, pub string }{{"vouch key", vouchKey, vouchPub}, {"cosign key", cosignKey, cosignPub}} {
			t.Run(key.name, func(t *testing.T) {
				legacy, bundle := image(t, "vouch-legacy-"+key.name[:5]), image(t, "vouch-bundle-"+key.name[:5])
				mustVouch(t, "sign", "--key", key.priv, "--format", "legacy", legacy)
				mustVouch(t, "sign", "--key", key.priv, "--format", "bundle", bundle)
				cos.must(t, append([]string{"verify", "--key", key.pub}, append(cosignVerify, legacy)...)...)
				cos.must(t, append([]string{"verify", "--key", key.pub}, append(cosignBundle, bundle)...)...)
				other := cosignPub
				if key.pub == cosignPub {
					other = vouchPub
				}
				cos.mustFail(t, append([]string{"verify", "--key", other}, append(cosignVerify, legacy)...)...)
				cos.mustFail(t, append([]string{"verify", "--key", other}, append(cosignBundle, bundle)...)...)
			})
		}
	})

	t.Run("vouch attests, cosign verifies", func(t *testing.T) {
		legacy, bundle := image(t, "vouch-att-legacy"), image(t, "vouch-att-bundle")
		mustVouch(t, "attest", "--key", vouchKey, "--type", "slsaprovenance1", "--predicate", pred, "--format", "legacy", legacy)
		mustVouch(t, "attest", "--key", vouchKey, "--type", "slsaprovenance1", "--predicate", pred, "--format", "bundle", bundle)
		cos.must(t, append([]string{"verify-attestation", "--key", vouchPub, "--type", "slsaprovenance1"}, append(cosignVerify, legacy)...)...)
		cos.must(t, append([]string{"verify-attestation", "--key", vouchPub, "--type", "slsaprovenance1"}, append(cosignBundle, bundle)...)...)
		cos.mustFail(t, append([]string{"verify-attestation", "--key", cosignPub, "--type", "slsaprovenance1"}, append(cosignVerify, legacy)...)...)
	})

	t.Run("cosign signs with a vouch key, vouch verifies", func(t *testing.T) {
		img := image(t, "cosign-with-vouch-key")
		cos.must(t, "sign", "--key", vouchKey, "--tlog-upload=false", "--allow-http-registry", "-y", img)
		if _, stderr, code := vouch(t, append(append([]string{"verify", "--key", vouchPub}, vouchVerify...), img)...); code != exitOK {
			t.Fatalf("exit %d\n%s", code, stderr)
		}
	})
}
