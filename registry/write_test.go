package registry_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// cosignSigs builds a .sig image the way cosign v2.6 does
// (pkg/oci/empty.Signatures + mutate.AppendSignatures).
func cosignSigs(t *testing.T, layers ...registry.Layer) v1.Image {
	t.Helper()
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	var adds []mutate.Addendum
	for _, l := range layers {
		adds = append(adds, mutate.Addendum{Layer: static.NewLayer(l.Content, types.MediaType(l.MediaType)), Annotations: l.Annotations})
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestAttachLegacyWritesWhatCosignWrites(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, sigLayer); err != nil {
		t.Fatal(err)
	}
	sigTag := mustRef(t, reg.Ref("app:"+strings.Replace(d, ":", "-", 1)+".sig"))
	raw, desc, err := c.Manifest(ctxT(t), sigTag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := cosignSigs(t, sigLayer).RawManifest()
	if !bytes.Equal(raw, want) || desc.MediaType != types.OCIManifestSchema1 {
		t.Fatalf("the .sig manifest differs from cosign's:\n got %s\nwant %s", raw, want)
	}

	// A second signature is appended; the config lists both layers.
	other := sigLayer
	other.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDkey2"}
	if err := newClient(t).AttachLegacy(ctxT(t), subject, registry.KindSignature, other); err != nil {
		t.Fatal(err)
	}
	raw, _, err = newClient(t).Manifest(ctxT(t), sigTag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ = cosignSigs(t, sigLayer, other).RawManifest()
	if !bytes.Equal(raw, want) {
		t.Fatalf("after appending:\n got %s\nwant %s", raw, want)
	}
	var m v1.Manifest
	json.Unmarshal(raw, &m)
	cfg := fetchBlob(t, reg, "app", m.Config.Digest)
	var cf v1.ConfigFile
	if err := json.Unmarshal(cfg, &cf); err != nil || len(cf.RootFS.DiffIDs) != 2 || cf.RootFS.DiffIDs[1] != m.Layers[1].Digest {
		t.Fatalf("config %s", cfg)
	}

	// The same layer with the same annotations again: nothing is written.
	reg.Reset()
	if err := newClient(t).AttachLegacy(ctxT(t), subject, registry.KindSignature, other, sigLayer); err != nil {
		t.Fatal(err)
	}
	if n := reg.Count(http.MethodPut, "/manifests/"); n != 0 {
		t.Fatalf("re-attaching present layers wrote %d manifests", n)
	}
}

func TestAttachLegacyTags(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	hex := strings.TrimPrefix(d, "sha256:")
	for kind, suffix := range map[registry.Kind]string{registry.KindSignature: ".sig", registry.KindAttestation: ".att", registry.KindSBOM: ".sbom"} {
		reg.Reset()
		if err := c.AttachLegacy(ctxT(t), subject, kind, sbomLayer); err != nil {
			t.Fatal(err)
		}
		if n := reg.Count(http.MethodPut, "/manifests/sha256-"+hex+regexpQuote(suffix)+"$"); n != 1 {
			t.Errorf("%s: %v", kind, reg.Requests())
		}
	}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindUnknown, sbomLayer); err == nil {
		t.Error("KindUnknown has no tag, but AttachLegacy accepted it")
	}
	if err := c.AttachLegacy(ctxT(t), mustRef(t, reg.Ref("app:v1")), registry.KindSignature, sbomLayer); err == nil {
		t.Error("AttachLegacy accepted an unpinned subject")
	}
}

func TestAttachReferrerWritesWhatCosignWrites(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	ann := bundleAnnotations(registry.PredicateTypeCosignSign)
	desc, err := c.AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, sigBundle, ann)
	if err != nil {
		t.Fatal(err)
	}
	raw, got, err := c.Manifest(ctxT(t), mustRef(t, reg.Ref("app@"+desc.Digest.String())))
	if err != nil || got.Digest != desc.Digest {
		t.Fatal(err)
	}
	sd, _ := c.Resolve(ctxT(t), subject)
	// cosign v2.6 WriteReferrer: referrerManifest{v1.Manifest, ArtifactType}.
	emptyDigest, _ := v1.NewHash("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a")
	layerDigest := sha256Hex(sigBundle.Content)
	want, _ := json.Marshal(struct {
		v1.Manifest
		ArtifactType string `json:"artifactType,omitempty"`
	}{v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: registry.MediaTypeEmptyJSON, ArtifactType: registry.MediaTypeBundle, Digest: emptyDigest, Size: 2},
		Layers:        []v1.Descriptor{{MediaType: registry.MediaTypeBundle, Digest: layerDigest, Size: int64(len(sigBundle.Content))}},
		Subject:       &v1.Descriptor{MediaType: sd.Descriptor.MediaType, Digest: sd.Descriptor.Digest, Size: sd.Descriptor.Size},
		Annotations:   ann,
	}, registry.MediaTypeBundle})
	if !bytes.Equal(raw, want) {
		t.Fatalf("referrer manifest differs from cosign's:\n got %s\nwant %s", raw, want)
	}
	if desc.ArtifactType != registry.MediaTypeBundle || desc.Annotations[registry.AnnotationBundlePredicateType] != registry.PredicateTypeCosignSign {
		t.Errorf("returned descriptor %+v", desc)
	}
	// This registry has the referrers API: no fallback tag is written.
	if n := reg.Count(http.MethodPut, "/manifests/sha256-[0-9a-f]{64}$"); n != 0 {
		t.Fatalf("fallback tag written on a registry with the referrers API: %v", reg.Requests())
	}
}

func TestAttachReferrerMaintainsFallbackTag(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithoutReferrers())
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	d1, err := c.AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, sigBundle, bundleAnnotations(registry.PredicateTypeCosignSign))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := newClient(t).AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, attBundle, bundleAnnotations("https://slsa.dev/provenance/v1"))
	if err != nil {
		t.Fatal(err)
	}
	// Twice the same: no duplicate.
	if _, err := newClient(t).AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, attBundle, bundleAnnotations("https://slsa.dev/provenance/v1")); err != nil {
		t.Fatal(err)
	}
	raw, _, err := newClient(t).Manifest(ctxT(t), mustRef(t, reg.Ref("app:"+strings.Replace(d, ":", "-", 1))))
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil || idx.MediaType != types.OCIImageIndex || len(idx.Manifests) != 2 {
		t.Fatalf("fallback index %s", raw)
	}
	for _, want := range []v1.Descriptor{d1, d2} {
		var found bool
		for _, m := range idx.Manifests {
			if m.Digest == want.Digest {
				found = true
				if m.ArtifactType != registry.MediaTypeBundle || m.Annotations[registry.AnnotationBundlePredicateType] != want.Annotations[registry.AnnotationBundlePredicateType] {
					t.Errorf("index descriptor without artifactType or annotations: %+v", m)
				}
			}
		}
		if !found {
			t.Errorf("%s missing from the fallback index", want.Digest)
		}
	}
	if idx.Manifests[0].Digest.String() > idx.Manifests[1].Digest.String() {
		t.Error("fallback index not sorted by digest (as go-containerregistry writes it)")
	}
}

func fetchBlob(t *testing.T, reg *registrytest.Registry, repo string, h v1.Hash) []byte {
	t.Helper()
	resp, err := http.Get(reg.URL + "/v2/" + repo + "/blobs/" + h.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.Bytes()
}

func regexpQuote(s string) string { return strings.ReplaceAll(s, ".", `\.`) }
