package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
	"github.com/vouchdev/vouch/verify"
)

// The key pair in testdata/attest (cosign's format, password vouch-test).
var (
	testKey    = attestTestdata("cosign.key")
	testPub    = attestTestdata("cosign.pub")
	otherPub   = attestTestdata("cosign-empty-password.pub")
	keyedFlags = []string{"--key", testPub, "--insecure-ignore-tlog"}
)

// vouchSign runs `vouch sign` (or attest) as a user would, and fails the
// test if it does not succeed.
func vouchSign(t *testing.T, args ...string) {
	t.Helper()
	if _, stderr, code := runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "vouch-test"}}, args...); code != 0 {
		t.Fatalf("vouch %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
}

// verifyJSON is the part of verify's -o json document the tests read.
type verifyJSON struct {
	SchemaVersion int `json:"schemaVersion"`
	Images        []struct {
		verify.Result
		Statements []json.RawMessage `json:"statements"`
	} `json:"images"`
}

func runVerifyJSON(t *testing.T, args ...string) (verifyJSON, string, int) {
	t.Helper()
	stdout, stderr, code := run(t, "", append(args[:1:1], append([]string{"-o", "json"}, args[1:]...)...)...)
	var rep verifyJSON
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("stdout is not JSON (exit %d): %v\n%s\n%s", code, err, stdout, stderr)
	}
	if rep.SchemaVersion != 1 {
		t.Fatalf("schemaVersion %d", rep.SchemaVersion)
	}
	return rep, stderr, code
}

// Images signed with vouch sign, in both formats, verify with vouch verify
// through the in-process registry (referrers API) and the real distribution
// registry (referrers fallback tag), several images in one call.
func TestVerifyCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  func(t *testing.T) *registrytest.Registry
		path string
	}{
		{"in-process registry", func(t *testing.T) *registrytest.Registry { return registrytest.New(t) }, "referrers"},
		{"distribution", func(t *testing.T) *registrytest.Registry { return registrytest.Distribution(t) }, "fallback-tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := tc.reg(t)
			legacy := reg.Ref("legacy@" + reg.PushRandomImage(t, "legacy:v1"))
			bundle := reg.Ref("bundle@" + reg.PushRandomImage(t, "bundle:v1"))
			vouchSign(t, "sign", "--key", testKey, "--format", "legacy", legacy)
			vouchSign(t, "sign", "--key", testKey, "--format", "bundle", reg.Ref("bundle:v1"))

			_, stderr, code := run(t, "", append(append([]string{"verify"}, keyedFlags...), reg.Ref("legacy:v1"), bundle)...)
			if code != exitOK || strings.Count(stderr, "Verification for") != 2 || !strings.Contains(stderr, "The signatures were verified against the specified public key") ||
				!strings.Contains(stderr, "WARNING: --insecure-ignore-tlog") {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			rep, stderr, code := runVerifyJSON(t, append(append([]string{"verify"}, keyedFlags...), reg.Ref("legacy:v1"), bundle)...)
			if code != exitOK || len(rep.Images) != 2 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			for i, want := range []struct {
				ref, digest string
				format      verify.Format
				path        string
			}{
				{reg.Ref("legacy:v1"), strings.SplitN(legacy, "@", 2)[1], verify.FormatLegacySignature, "legacy-tag"},
				{bundle, strings.SplitN(bundle, "@", 2)[1], verify.FormatBundle, tc.path},
			} {
				img := rep.Images[i]
				if img.Ref != want.ref || img.Digest != want.digest || !img.Verified || len(img.Digests) != 1 || img.Digests[0].Digest != want.digest {
					t.Fatalf("image %d: %+v", i, img.Result)
				}
				s := img.Digests[0].Signatures.Signatures
				if len(s) != 1 || s[0].Format != want.format || !s[0].Verified || s[0].Tlog.Status != verify.TlogSkipped ||
					!strings.Contains(s[0].Authority, "cosign.pub") || !strings.HasPrefix(s[0].Source, want.path) {
					t.Errorf("image %d signatures: %+v", i, s)
				}
			}
		})
	}
}

func TestVerifyAttestationCommand(t *testing.T) {
	reg := registrytest.Distribution(t)
	legacy := reg.Ref("legacy@" + reg.PushRandomImage(t, "legacy:v1"))
	bundle := reg.Ref("bundle@" + reg.PushRandomImage(t, "bundle:v1"))
	pred := attestTestdata("predicate-slsa1.json")
	vouchSign(t, "attest", "--key", testKey, "--type", "slsaprovenance1", "--predicate", pred, "--format", "legacy", legacy)
	vouchSign(t, "attest", "--key", testKey, "--type", "slsaprovenance1", "--predicate", pred, "--format", "bundle", bundle)
	vouchSign(t, "sign", "--key", testKey, legacy) // a signature is not an attestation

	base := append([]string{"verify-attestation", "--type", "slsaprovenance1"}, keyedFlags...)
	stdout, stderr, code := run(t, "", append(base, legacy, bundle)...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != exitOK || len(lines) != 2 || strings.Count(stderr, "Verification for") != 2 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for i, l := range lines {
		var st struct {
			PredicateType string `json:"predicateType"`
			Subject       []struct {
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
		}
		want := strings.TrimPrefix(strings.SplitN([]string{legacy, bundle}[i], "@", 2)[1], "sha256:")
		if err := json.Unmarshal([]byte(l), &st); err != nil || st.PredicateType != "https://slsa.dev/provenance/v1" || st.Subject[0].Digest["sha256"] != want {
			t.Errorf("statement %d: %v %s", i, err, l)
		}
	}

	rep, _, code := runVerifyJSON(t, append(base, legacy)...)
	if code != exitOK || len(rep.Images[0].Statements) != 1 || rep.Images[0].Digests[0].Attestations[0].PredicateType != "https://slsa.dev/provenance/v1" {
		t.Fatalf("exit %d: %+v", code, rep)
	}

	for _, tc := range []struct {
		name   string
		args   []string
		reason verify.Reason
	}{
		{"another type", []string{"verify-attestation", "--type", "spdxjson"}, verify.ReasonNoAttestations},
		{"cosign's default type, custom", []string{"verify-attestation"}, verify.ReasonNoAttestations},
		{"a builder that did not build it", []string{"verify-attestation", "--type", "slsaprovenance1", "--builder-id", "https://github.com/evil/*"}, verify.ReasonProvenanceMismatch},
		{"another source repository", []string{"verify-attestation", "--type", "slsaprovenance1", "--source-uri", "github.com/vouchdev/example-fork"}, verify.ReasonProvenanceMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, stderr, code := runVerifyJSON(t, append(append(tc.args, keyedFlags...), bundle)...)
			if code != exitDenied || rep.Images[0].Failure == nil || rep.Images[0].Failure.Reason != tc.reason || len(rep.Images[0].Statements) != 0 {
				t.Fatalf("exit %d: %+v\n%s", code, rep.Images[0].Failure, stderr)
			}
		})
	}
	// Provenance that meets the expectations.
	_, stderr, code = run(t, "", append(append(base, "--source-uri", "github.com/vouchdev/example", "--source-ref", "refs/tags/v*"), bundle)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// Exit codes: 0 all verified, 1 any denied, 2 could not decide, denied
// outranks could-not-decide; a place that fails next to a valid signature is
// a warning.
func TestVerifyExitCodes(t *testing.T) {
	reg := registrytest.New(t)
	signed := reg.Ref("signed@" + reg.PushRandomImage(t, "signed:v1"))
	vouchSign(t, "sign", "--key", testKey, "--format", "legacy", signed)
	unsigned := reg.Ref("unsigned@" + reg.PushRandomImage(t, "unsigned:v1"))
	broken := reg.Ref("broken@" + reg.PushRandomImage(t, "broken:v1"))
	reg.On(registrytest.Hook{Path: `^/v2/(broken|signed)/referrers/`, Status: http.StatusInternalServerError})

	for _, tc := range []struct {
		name    string
		images  []string
		code    int
		reasons []verify.Reason
	}{
		{"signed, a path failing beside it", []string{signed}, exitOK, []verify.Reason{""}},
		{"unsigned", []string{unsigned}, exitDenied, []verify.Reason{verify.ReasonNoSignatures}},
		{"unsigned, a path failing", []string{broken}, exitUndecided, []verify.Reason{verify.ReasonRegistryUnavailable}},
		{"denied outranks could not decide", []string{broken, signed, unsigned}, exitDenied,
			[]verify.Reason{verify.ReasonRegistryUnavailable, "", verify.ReasonNoSignatures}},
		{"missing image", []string{reg.Ref("nope:v1")}, exitUndecided, []verify.Reason{verify.ReasonNotFound}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, stderr, code := runVerifyJSON(t, append(append([]string{"verify"}, keyedFlags...), tc.images...)...)
			if code != tc.code || len(rep.Images) != len(tc.images) {
				t.Fatalf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			for i, want := range tc.reasons {
				got := verify.Reason("")
				if f := rep.Images[i].Failure; f != nil {
					got = f.Reason
				}
				if got != want || rep.Images[i].Verified != (want == "") {
					t.Errorf("%s: %q, want %q", tc.images[i], got, want)
				}
			}
		})
	}
	_, stderr, _ := run(t, "", append(append([]string{"verify"}, keyedFlags...), signed)...)
	if !strings.Contains(stderr, "Warning:") || !strings.Contains(stderr, "referrers") {
		t.Errorf("a verified image with a failing path should warn about it:\n%s", stderr)
	}
	_, stderr, _ = run(t, "", append(append([]string{"verify"}, keyedFlags...), unsigned, broken)...)
	for _, want := range []string{"denied [no_signatures]", "could not decide [registry_unavailable]", "What to do: nothing signed this digest"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// Another image's valid signature copied onto this image's .sig tag.
func TestVerifyCopiedSignature(t *testing.T) {
	reg := registrytest.New(t)
	signed := reg.Ref("app@" + reg.PushRandomImage(t, "app:v1"))
	target := reg.Ref("app@" + reg.PushRandomImage(t, "app:v2"))
	vouchSign(t, "sign", "--key", testKey, "--format", "legacy", signed)
	c, _ := registry.New()
	from, _ := registry.ParseRef(signed)
	to, _ := registry.ParseRef(target)
	found, err := c.Discover(testCtx(t), from)
	if err != nil || len(found.Items) != 1 {
		t.Fatalf("%v %+v", err, found)
	}
	content, err := c.Content(testCtx(t), found.Items[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AttachLegacy(testCtx(t), to, registry.KindSignature, registry.Layer{Content: content, MediaType: registry.MediaTypeSimpleSigning, Annotations: found.Items[0].Layer.Annotations}); err != nil {
		t.Fatal(err)
	}
	rep, stderr, code := runVerifyJSON(t, append(append([]string{"verify"}, keyedFlags...), target)...)
	if code != exitDenied || rep.Images[0].Failure.Reason != verify.ReasonDigestMismatch {
		t.Fatalf("exit %d: %+v\n%s", code, rep.Images[0].Failure, stderr)
	}
}

func TestVerifyWrongKey(t *testing.T) {
	reg := registrytest.New(t)
	img := reg.Ref("app@" + reg.PushRandomImage(t, "app:v1"))
	vouchSign(t, "sign", "--key", testKey, img)
	rep, stderr, code := runVerifyJSON(t, "verify", "--key", otherPub, "--insecure-ignore-tlog", img)
	if code != exitDenied || rep.Images[0].Failure.Reason != verify.ReasonKeyMismatch || !strings.Contains(stderr, "check --key") {
		t.Fatalf("exit %d: %+v\n%s", code, rep.Images[0].Failure, stderr)
	}
	// The transparency log is required unless --insecure-ignore-tlog.
	root := writeTestFile(t, t.TempDir(), "trusted_root.json", minimalTrustedRoot)
	rep, _, code = runVerifyJSON(t, "verify", "--key", testPub, "--trusted-root", root, img)
	if code != exitDenied || rep.Images[0].Failure.Reason != verify.ReasonTlogMissing {
		t.Fatalf("exit %d: %+v", code, rep.Images[0].Failure)
	}
}

// --platform verifies the index and the platform's manifest, and reports
// both digests.
func TestVerifyPlatform(t *testing.T) {
	reg := registrytest.New(t)
	idx := reg.Ref("multi@" + reg.PushRandomIndex(t, "multi:v1", 3))
	vouchSign(t, "sign", "--key", testKey, idx)
	args := append([]string{"verify", "--platform", "linux/arm64"}, keyedFlags...)
	rep, stderr, code := runVerifyJSON(t, append(args, reg.Ref("multi:v1"))...)
	if code != exitDenied || len(rep.Images[0].Digests) != 2 || !rep.Images[0].Digests[0].Verified || rep.Images[0].Digests[1].Platform != "linux/arm64/v8" ||
		!strings.Contains(rep.Images[0].Failure.Message, "linux/arm64") {
		t.Fatalf("exit %d: %+v\n%s", code, rep.Images[0].Result, stderr)
	}
	child := reg.Ref("multi@" + rep.Images[0].Digests[1].Digest)
	vouchSign(t, "sign", "--key", testKey, "--format", "legacy", child)
	rep, stderr, code = runVerifyJSON(t, append(args, reg.Ref("multi:v1"))...)
	if code != exitOK || len(rep.Images[0].Digests) != 2 || rep.Images[0].Digests[1].Digest != strings.SplitN(child, "@", 2)[1] {
		t.Fatalf("exit %d: %+v\n%s", code, rep.Images[0].Result, stderr)
	}
	if _, stderr, code := run(t, "", append([]string{"verify", "--platform", "linux"}, append(keyedFlags, child)...)...); code != exitUndecided || !strings.Contains(stderr, "os/arch") {
		t.Fatalf("bad --platform: exit %d, %s", code, stderr)
	}
}

func TestVerifyAnnotations(t *testing.T) {
	reg := registrytest.New(t)
	img := reg.Ref("app@" + reg.PushRandomImage(t, "app:v1"))
	vouchSign(t, "sign", "--key", testKey, "-a", "env=prod", img)
	if _, stderr, code := run(t, "", append(append([]string{"verify", "-a", "env=prod"}, keyedFlags...), img)...); code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	rep, _, code := runVerifyJSON(t, append(append([]string{"verify", "-a", "env=dev"}, keyedFlags...), img)...)
	if code != exitDenied || rep.Images[0].Failure.Reason != verify.ReasonAnnotationMismatch {
		t.Fatalf("exit %d: %+v", code, rep.Images[0].Failure)
	}
}

func TestVerifyTimeout(t *testing.T) {
	reg := registrytest.New(t)
	img := reg.Ref("app@" + reg.PushRandomImage(t, "app:v1"))
	reg.On(registrytest.Hook{Path: `/manifests/`, Delay: 20 * time.Second})
	start := time.Now()
	rep, stderr, code := runVerifyJSON(t, append(append([]string{"verify", "--timeout", "300ms"}, keyedFlags...), img)...)
	if code != exitUndecided || rep.Images[0].Failure.Reason != verify.ReasonTimeout || time.Since(start) > 5*time.Second {
		t.Fatalf("exit %d after %v: %+v\n%s", code, time.Since(start), rep.Images[0].Failure, stderr)
	}
}

func TestVerifyUsage(t *testing.T) {
	for _, args := range [][]string{
		{"verify", "--key", testPub},                              // no image
		{"verify", "registry.example.com/app:v1"},                 // nobody to trust
		{"verify", "--key", testPub, "--max-workers", "0", "x/y"}, // no workers
		{"verify", "--key", testPub, "-a", "novalue", "x/y"},      // bad annotation
		{"verify", "--key", testPub, "-o", "yaml", "x/y"},         // bad output
		{"verify", "--key", testPub, "Not A Reference"},           // bad reference
		{"verify-attestation", "--type", "nonsense", "--key", testPub, "x/y"},
	} {
		if _, stderr, code := run(t, "", args...); code != exitUndecided || !strings.Contains(stderr, "Error:") {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
	}
}

// vouch verify on an OCI layout written by cosign v2.6.5 (no network).
func TestVerifyCosignLayout(t *testing.T) {
	layout := "oci-dir:../../testdata/cosign-v2.6.5/layout"
	pub := "../../testdata/cosign-v2.6.5/cosign.pub"
	rep, stderr, code := runVerifyJSON(t, "verify", "--key", pub, "--insecure-ignore-tlog", layout+":app", layout+":other")
	if code != exitOK || len(rep.Images[0].Digests[0].Signatures.Signatures) != 2 || len(rep.Images[1].Digests[0].Signatures.Signatures) != 1 {
		t.Fatalf("exit %d: %+v\n%s", code, rep, stderr)
	}
	// cosign attested the same statement in both formats: printed once.
	stdout, stderr, code := run(t, "", "verify-attestation", "--type", "slsaprovenance1", "--key", pub, "--insecure-ignore-tlog", layout+":app")
	if code != exitOK || strings.Count(stdout, "\n") != 1 || strings.Count(stderr, "https://slsa.dev/provenance/v1, authority") != 2 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
