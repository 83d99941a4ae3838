package registry_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

func randomImage(t *testing.T) v1.Image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// cosignSaveLayout writes a layout as `cosign save` does: the image and its
// .sig and .att images, marked with "kind" annotations, no tags.
func cosignSaveLayout(t *testing.T) (string, v1.Hash) {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img := randomImage(t)
	for _, e := range []struct {
		img  v1.Image
		kind string
	}{
		{img, "dev.cosignproject.cosign/image"},
		{cosignSigs(t, sigLayer), "dev.cosignproject.cosign/sigs"},
		{cosignSigs(t, attLayer), "dev.cosignproject.cosign/atts"},
	} {
		if err := p.AppendImage(e.img, layout.WithAnnotations(map[string]string{"kind": e.kind})); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := img.Digest()
	return dir, d
}

func TestLayoutCosignSave(t *testing.T) {
	dir, d := cosignSaveLayout(t)
	c := newClient(t)
	res, err := c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+dir))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref.Digest() != d.String() || res.Ref.String() != "oci-dir:"+dir+"@"+d.String() {
		t.Fatalf("Resolve = %v, want the kind=image entry %s", res.Ref, d)
	}
	atts, err := c.Discover(ctxT(t), res.Ref)
	if err != nil || !atts.Complete() {
		t.Fatalf("Discover: %v, %v", err, atts.Failures)
	}
	want := []string{"signature/legacy/legacy-tag/", "attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1"}
	if got := summary(atts.Items); !sameSet(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, a := range atts.Items {
		b, err := c.Content(ctxT(t), a)
		if err != nil || len(b) == 0 {
			t.Fatalf("Content: %v", err)
		}
		if a.Repository != "oci-dir:"+dir {
			t.Errorf("repository %q", a.Repository)
		}
	}
	// The kind annotations speak for one image only.
	other, _ := randomImage(t).Digest()
	atts, err = c.Discover(ctxT(t), mustRef(t, "oci-dir:"+dir+"@"+other.String()))
	if err != nil || len(atts.Items) != 0 {
		t.Fatalf("another image of the layout got the signatures: %v, %v", summary(atts.Items), err)
	}
}

// Writing into a layout: legacy tags become tagged index.json entries (a
// `cosign save` layout keeps its kind annotation), referrers become
// entries with a subject, and reading finds them all.
func TestLayoutWrite(t *testing.T) {
	dir, d := cosignSaveLayout(t)
	subject := mustRef(t, "oci-dir:"+dir+"@"+d.String())
	c := newClient(t)
	other := sigLayer
	other.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDkey2"}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, other); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSBOM, sbomLayer); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, sigBundle, bundleAnnotations(registry.PredicateTypeCosignSign)); err != nil {
		t.Fatal(err)
	}
	atts, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil || !atts.Complete() {
		t.Fatalf("Discover: %v, %v", err, atts.Failures)
	}
	want := []string{
		"signature/legacy/legacy-tag/", "signature/legacy/legacy-tag/", // cosign's and the appended one
		"attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1",
		"sbom/raw/legacy-tag/",
		"signature/bundle/referrers/" + registry.PredicateTypeCosignSign,
	}
	if got := summary(atts.Items); !sameSet(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	idx := readIndexJSON(t, dir)
	kinds := map[string]int{}
	for _, m := range idx.Manifests {
		kinds[m.Annotations["kind"]]++
		if m.Annotations["kind"] == "dev.cosignproject.cosign/sigs" && m.Annotations["org.opencontainers.image.ref.name"] == "" {
			t.Errorf("rewritten sigs entry has no tag: %+v", m)
		}
	}
	if kinds["dev.cosignproject.cosign/sigs"] != 1 || kinds["dev.cosignproject.cosign/image"] != 1 {
		t.Errorf("index.json kinds %v: the sigs entry must be replaced, not duplicated", kinds)
	}
	// The layout still names one image.
	if res, err := c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+dir)); err != nil || res.Ref.Digest() != d.String() {
		t.Fatalf("Resolve after writes: %v, %v", res, err)
	}
}

func readIndexJSON(t *testing.T, dir string) v1.IndexManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	return idx
}

func TestLayoutTagsAndImages(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	a, b := randomImage(t), randomImage(t)
	p.AppendImage(a, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "a"}))
	p.AppendImage(b, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "docker.io/acme/b:v2"}))
	p.AppendIndex(registrytest.RandomIndex(t, 2), layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "multi"}))
	da, _ := a.Digest()
	db, _ := b.Digest()
	c := newClient(t)
	for ref, want := range map[string]string{
		"oci-dir:" + dir + ":a":                da.String(),
		"oci-dir:" + dir + ":v2":               db.String(), // a full reference as ref name
		"oci-dir:" + dir + "@" + db.String():   db.String(),
		"oci-dir:" + dir + ":a@" + da.String(): da.String(),
	} {
		res, err := c.Resolve(ctxT(t), mustRef(t, ref))
		if err != nil || res.Ref.Digest() != want {
			t.Errorf("Resolve(%s) = %v, %v; want %s", ref, res, err, want)
		}
	}
	_, err = c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+dir))
	if err == nil || !strings.Contains(err.Error(), "3 images") || !strings.Contains(err.Error(), "multi") {
		t.Errorf("a layout of several images without a name: %v", err)
	}
	if _, err := c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+dir+":nope")); !errors.Is(err, registry.ErrNotFound) {
		t.Errorf("missing tag: %v", err)
	}
	res, err := c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+dir+":multi"), registry.WithPlatform(registrytest.Platforms[1]))
	if err != nil || res.Platform == nil || res.Platform.Platform.Architecture != "arm64" {
		t.Errorf("platform in a layout: %+v, %v", res, err)
	}
}

func TestLayoutHostile(t *testing.T) {
	dir, d := cosignSaveLayout(t)
	c := newClient(t)
	subject := mustRef(t, "oci-dir:"+dir+"@"+d.String())

	// A blob changed on disk does not match its digest.
	atts, err := c.Discover(ctxT(t), subject)
	if err != nil || len(atts.Items) == 0 {
		t.Fatal(err)
	}
	l := atts.Items[0].Layer
	blob := filepath.Join(dir, "blobs", l.Digest.Algorithm, l.Digest.Hex)
	orig, _ := os.ReadFile(blob)
	tampered := append([]byte(nil), orig...)
	tampered[0] ^= 1
	os.WriteFile(blob, tampered, 0o644)
	if _, err := newClient(t).Content(ctxT(t), atts.Items[0]); !errors.Is(err, registry.ErrDigestMismatch) {
		t.Errorf("tampered blob: %v", err)
	}
	// An over-size manifest file is refused before it is read.
	idx := readIndexJSON(t, dir)
	m := idx.Manifests[1] // the sigs image
	mf := filepath.Join(dir, "blobs", m.Digest.Algorithm, m.Digest.Hex)
	os.WriteFile(mf, make([]byte, registry.MaxManifestSize+1), 0o644)
	atts, err = newClient(t).Discover(ctxT(t), subject)
	if err != nil || atts.Complete() || !errors.Is(atts.Failures[0].Err, registry.ErrTooLarge) {
		t.Errorf("over-size manifest file: %v, %v", atts.Failures, err)
	}
	// Not a layout at all; a broken index.json.
	empty := t.TempDir()
	if _, err := c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+empty)); !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "not an OCI image layout") {
		t.Errorf("empty directory: %v", err)
	}
	os.WriteFile(filepath.Join(empty, "index.json"), []byte(`{"schemaVersion":2,"manifests":[{"digest":"sha256:../../../etc/passwd"}]}`), 0o644)
	if _, err := c.Resolve(ctxT(t), mustRef(t, "oci-dir:"+empty)); !errors.Is(err, registry.ErrMalformed) {
		t.Errorf("index.json with a path as digest: %v", err)
	}
}
