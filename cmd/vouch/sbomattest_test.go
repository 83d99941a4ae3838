package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
	"github.com/vouchdev/vouch/sbom"
	"github.com/vouchdev/vouch/verify"
)

// alpineImage is a small Alpine-like image whose apk database lists
// busybox (GPL-2.0-only), musl (MIT) and libssl3 (Apache-2.0): what syft
// finds in it is known.
func alpineImage(t *testing.T) v1.Image {
	t.Helper()
	var db strings.Builder
	for _, p := range [][3]string{{"busybox", "1.36.1-r15", "GPL-2.0-only"}, {"libssl3", "3.1.4-r5", "Apache-2.0"}, {"musl", "1.2.4_git20230717-r4", "MIT"}} {
		db.WriteString("C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:" + p[0] + "\nV:" + p[1] + "\nA:x86_64\nS:1000\nI:2000\nT:" + p[0] +
			"\nU:https://alpinelinux.org\nL:" + p[2] + "\no:" + p[0] + "\nm:Fixture <fixture@example.com>\nt:1700000000\n\n")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range [][2]string{
		{"etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n"},
		{"lib/apk/db/installed", db.String()},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f[1]))
	}
	tw.Close()
	layerBytes := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: "amd64", RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.AppendLayers(img, l); err != nil {
		t.Fatal(err)
	}
	return img
}

// sbomPolicy requires an SBOM attestation of predicateType signed with
// testdata's cosign.pub, whose SBOM meets rules.
func sbomPolicy(t *testing.T, predicateType string, rules sbom.Rules) verify.ImagePolicy {
	t.Helper()
	pemBytes, err := os.ReadFile(attestTestdata("cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := attest.ParsePublicKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	return verify.ImagePolicy{Attestations: []verify.ImageAttestation{{
		AttestationRequirement: verify.AttestationRequirement{PredicateType: predicateType, SBOM: &rules},
		Requirements:           verify.Requirements{Authorities: []verify.Authority{{Name: "release", Key: &verify.KeyAuthority{PublicKey: pub, InsecureIgnoreTlog: true}}}},
	}}}
}

// verifySBOM verifies the image's SBOM attestation through the library, as
// verify-attestation does, and returns the verified SBOM document.
func verifySBOM(t *testing.T, image string, p verify.ImagePolicy) (*verify.Result, error, *sbom.Document) {
	t.Helper()
	client, err := registry.New()
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.WithRegistry(client))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := registry.ParseRef(image)
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Image(context.Background(), ref, p)
	var doc *sbom.Document
	if len(res.Digests) > 0 && len(res.Digests[0].Attestations) > 0 {
		for _, s := range res.Digests[0].Attestations[0].Signatures {
			if !s.Verified {
				continue
			}
			var st struct {
				Predicate json.RawMessage `json:"predicate"`
			}
			if err := json.Unmarshal(s.Payload, &st); err != nil {
				t.Fatal(err)
			}
			if doc, err = sbom.Decode(bytes.NewReader(st.Predicate)); err != nil {
				t.Fatalf("the verified predicate is not an SBOM: %v", err)
			}
		}
	}
	return res, err, doc
}

func runSBOMAttest(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runKeys(t, keyEnv{vars: map[string]string{"VOUCH_PASSWORD": "vouch-test"}},
		append([]string{"sbom", "attest", "--key", attestTestdata("cosign.key")}, args...)...)
}

func packageNames(d *sbom.Document) string {
	var names []string
	for _, p := range d.Packages {
		names = append(names, p.Name+"@"+p.Version+" "+p.Licenses)
	}
	return strings.Join(names, ", ")
}

// sbom attest, then verification with SBOM rules, in a registry: both
// formats, SPDX and CycloneDX. The verified SBOM lists the image's packages;
// a rule that denies one of their licenses denies the image.
func TestSBOMAttestRegistry(t *testing.T) {
	reg := registrytest.New(t)
	digest := reg.PushImage(t, "app:v1", alpineImage(t))
	image := reg.Host + "/app:v1"

	for _, tc := range []struct {
		format, sbomFormat, predicateType string
	}{
		{"bundle", "spdx-json", attest.PredicateSPDX},
		{"legacy", "cyclonedx-json", attest.PredicateCycloneDX},
	} {
		t.Run(tc.format+"/"+tc.sbomFormat, func(t *testing.T) {
			stdout, stderr, code := runSBOMAttest(t, "--format", tc.format, "--sbom-format", tc.sbomFormat, "-o", "json", image)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tc.sbomFormat+" SBOM of 3 packages") || !strings.Contains(stdout, digest) {
				t.Fatalf("stdout %s\nstderr %s", stdout, stderr)
			}

			res, err, doc := verifySBOM(t, image, sbomPolicy(t, tc.predicateType, sbom.Rules{DenyLicenses: []string{"AGPL-3.0-only"}, DenyPackages: []string{"pkg:npm/event-stream"}}))
			if err != nil || !res.Verified {
				b, _ := json.MarshalIndent(res, "", "  ")
				t.Fatalf("%v\n%s", err, b)
			}
			if doc == nil || !strings.Contains(packageNames(doc), "busybox@1.36.1-r15 GPL-2.0-only") || len(doc.Packages) != 3 {
				t.Fatalf("verified SBOM: %+v", doc)
			}

			res, err, _ = verifySBOM(t, image, sbomPolicy(t, tc.predicateType, sbom.Rules{DenyLicenses: []string{"GPL-2.0-only"}}))
			if verify.ReasonOf(err) != verify.ReasonSBOMPolicy || res.Verified || !strings.Contains(err.Error(), "busybox") {
				t.Fatalf("want an sbom_policy denial naming busybox, got %v", err)
			}
			res, err, _ = verifySBOM(t, image, sbomPolicy(t, tc.predicateType, sbom.Rules{DenyPackages: []string{"pkg:apk/alpine/musl@<1.2.5"}}))
			if verify.ReasonOf(err) != verify.ReasonSBOMPolicy || !strings.Contains(err.Error(), "musl") {
				t.Fatalf("want an sbom_policy denial naming musl, got %v", err)
			}
		})
	}
}

// In an OCI layout, the SBOM describes the pinned image even when the
// layout also holds what was attached to it before (syft alone would refuse
// a layout of several images, or pick another).
func TestSBOMAttestLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := alpineImage(t)
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	for _, format := range []string{"legacy", "bundle"} {
		if _, stderr, code := runSBOMAttest(t, "--format", format, "oci-dir:"+dir+"@"+d.String()); code != exitOK {
			t.Fatalf("%s: exit %d\n%s", format, code, stderr)
		}
	}
	res, err, doc := verifySBOM(t, "oci-dir:"+dir+"@"+d.String(), sbomPolicy(t, attest.PredicateSPDX, sbom.Rules{}))
	if err != nil || doc == nil || len(doc.Packages) != 3 {
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Fatalf("%v %+v\n%s", err, doc, b)
	}
	if n := len(res.Digests[0].Attestations[0].Signatures); n != 2 {
		t.Errorf("%d SBOM attestations verified, want 2 (legacy and bundle)", n)
	}
	// The temporary layout was removed.
	if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "vouch-sbom-layout-*")); len(m) > 0 {
		t.Errorf("left behind: %v", m)
	}
}

func TestSBOMAttestUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"syft JSON has no predicate type", []string{"--sbom-format", "syft-json", "registry.example.com/app@sha256:" + strings.Repeat("a", 64)}, "spdx-json or cyclonedx-json"},
		{"unknown format", []string{"--sbom-format", "xml", "registry.example.com/app:v1"}, "xml"},
		{"no image", nil, "at least one IMAGE"},
		{"unknown signature format", []string{"--format", "tarball", "registry.example.com/app:v1"}, "--format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runSBOMAttest(t, tc.args...)
			if code != exitUndecided || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
		})
	}
	// An image that is not there: could not decide, and no SBOM is generated.
	reg := registrytest.New(t)
	_, stderr, code := runSBOMAttest(t, reg.Host+"/nope:v1")
	if code != exitUndecided || strings.Contains(stderr, "SBOM of") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// vouch sbom attest → cosign verify-attestation --type spdxjson (both
// formats), and cosign attest --type spdxjson → vouch's SBOM rules, tried as
// a user would with cosign v2.6.5 ($VOUCH_COSIGN).
func TestSBOMAttestCosignInterop(t *testing.T) {
	bin := cosignBinary(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "home"), 0o755)
	root := filepath.Join(dir, "trusted_root.json")
	os.WriteFile(root, []byte(minimalTrustedRoot), 0o644)
	key, _ := filepath.Abs(attestTestdata("cosign.key"))
	pub, _ := filepath.Abs(attestTestdata("cosign.pub"))
	reg := registrytest.New(t)

	for _, format := range []string{"legacy", "bundle"} {
		image := reg.Host + "/vouch-" + format + "@" + reg.PushImage(t, "vouch-"+format+":v1", alpineImage(t))
		if _, stderr, code := runSBOMAttest(t, "--format", format, image); code != exitOK {
			t.Fatalf("%s: exit %d\n%s", format, code, stderr)
		}
		args := []string{"verify-attestation", "--key", pub, "--type", "spdxjson", "--insecure-ignore-tlog"}
		if format == "bundle" {
			args = append(args, "--new-bundle-format", "--trusted-root", root)
		}
		out := cosign(t, bin, dir, "", append(args, image)...)
		if st := cosignStatement(t, out); !strings.Contains(st, `"predicateType":"https://spdx.dev/Document"`) || !strings.Contains(st, `"name":"busybox"`) {
			t.Fatalf("cosign verify-attestation (%s): %s", format, out)
		}
	}

	// cosign attests an SPDX document; vouch applies SBOM rules to it.
	image := reg.Host + "/cosign@" + reg.PushImage(t, "cosign:v1", alpineImage(t))
	spdx := filepath.Join(dir, "sbom.spdx.json")
	doc, _ := json.Marshal(map[string]any{
		"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app", "documentNamespace": "https://example.com/app",
		"creationInfo": map[string]any{"created": "2024-01-01T00:00:00Z", "creators": []string{"Tool: hand"}},
		"packages": []any{map[string]any{"SPDXID": "SPDXRef-p", "name": "readline", "versionInfo": "8.2", "licenseConcluded": "GPL-3.0-only",
			"externalRefs": []any{map[string]any{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:deb/debian/readline@8.2"}}}},
	})
	os.WriteFile(spdx, doc, 0o644)
	cosign(t, bin, dir, "vouch-test", "attest", "--key", key, "--type", "spdxjson", "--predicate", spdx, "--tlog-upload=false", "--yes", image)
	res, err, got := verifySBOM(t, image, sbomPolicy(t, attest.PredicateSPDX, sbom.Rules{DenyPackages: []string{"pkg:npm/left-pad"}}))
	if err != nil || got == nil || len(got.Packages) != 1 {
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Fatalf("%v\n%s", err, b)
	}
	if _, err, _ := verifySBOM(t, image, sbomPolicy(t, attest.PredicateSPDX, sbom.Rules{DenyLicenses: []string{"GPL-3.0-only"}})); verify.ReasonOf(err) != verify.ReasonSBOMPolicy {
		t.Fatalf("want sbom_policy, got %v", err)
	}
}

// cosignStatement is the statement in the DSSE envelope cosign
// verify-attestation prints for the verified attestation.
func cosignStatement(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		var env struct {
			Payload []byte `json:"payload"`
		}
		if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &env) == nil && len(env.Payload) > 0 {
			return string(env.Payload)
		}
	}
	t.Fatalf("no envelope in cosign's output: %s", out)
	return ""
}

// vouch sbom attest, then vouch verify-attestation --type spdxjson|cyclonedx
// returns the SBOM verified, from a registry (both formats) and from an
// OCI layout, as a user would run them.
func TestSBOMAttestThenVerifyAttestation(t *testing.T) {
	reg := registrytest.New(t)
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := alpineImage(t)
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	reg.PushImage(t, "cdx:v1", img)
	for _, tc := range []struct {
		image, format, sbomFormat, typ, predicateType string
	}{
		{reg.Host + "/spdx@" + reg.PushImage(t, "spdx:v1", img), "bundle", "spdx-json", "spdxjson", attest.PredicateSPDX},
		{reg.Host + "/cdx:v1", "legacy", "cyclonedx-json", "cyclonedx", attest.PredicateCycloneDX},
		{"oci-dir:" + dir + "@" + d.String(), "bundle", "spdx-json", "spdxjson", attest.PredicateSPDX},
	} {
		t.Run(tc.format+"/"+tc.sbomFormat+"/"+strings.SplitN(tc.image, ":", 2)[0], func(t *testing.T) {
			if _, stderr, code := runSBOMAttest(t, "--format", tc.format, "--sbom-format", tc.sbomFormat, tc.image); code != exitOK {
				t.Fatalf("sbom attest: exit %d\n%s", code, stderr)
			}
			verifyArgs := []string{"verify-attestation", "--type", tc.typ, "--key", attestTestdata("cosign.pub"), "--insecure-ignore-tlog", tc.image}
			stdout, stderr, code := run(t, "", verifyArgs...)
			if code != exitOK {
				t.Fatalf("verify-attestation: exit %d\n%s\n%s", code, stdout, stderr)
			}
			var st struct {
				PredicateType string          `json:"predicateType"`
				Predicate     json.RawMessage `json:"predicate"`
			}
			line, _, _ := strings.Cut(stdout, "\n")
			if err := json.Unmarshal([]byte(line), &st); err != nil || st.PredicateType != tc.predicateType {
				t.Fatalf("stdout is not the verified statement: %v\n%s", err, stdout)
			}
			doc, err := sbom.Decode(bytes.NewReader(st.Predicate))
			if err != nil || len(doc.Packages) != 3 || string(doc.Format) != tc.sbomFormat {
				t.Fatalf("the verified predicate: %v %+v", err, doc)
			}
			// Another type is not this one.
			other := "cyclonedx"
			if tc.typ == "cyclonedx" {
				other = "spdxjson"
			}
			if _, stderr, code := run(t, "", "verify-attestation", "--type", other, "--key", attestTestdata("cosign.pub"), "--insecure-ignore-tlog", tc.image); code != exitDenied {
				t.Fatalf("verify-attestation --type %s: exit %d\n%s", other, code, stderr)
			}
		})
	}
}
