package registry_test

import (
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

var wantAll = []string{
	"signature/legacy/legacy-tag/",
	"attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1",
	"sbom/raw/legacy-tag/",
}

func TestDiscoverAllSchemes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     []registrytest.Option
		refsPath registry.Path
	}{
		{"referrers API", nil, registry.PathReferrers},
		{"fallback tag", []registrytest.Option{registrytest.WithoutReferrers()}, registry.PathFallbackTag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registrytest.New(t, tc.opts...)
			d := reg.PushRandomImage(t, "app:v1")
			subject := mustRef(t, reg.Ref("app@"+d))
			attachAll(t, newClient(t), subject)

			atts, err := newClient(t).Discover(ctxT(t), subject)
			if err != nil {
				t.Fatal(err)
			}
			if !atts.Complete() {
				t.Fatalf("failures: %v", atts.Failures)
			}
			got := summary(atts.Items)
			// Referrers are ordered by manifest digest; compare as sets.
			want := append(append([]string(nil), wantAll...),
				"signature/bundle/"+string(tc.refsPath)+"/"+registry.PredicateTypeCosignSign,
				"attestation/bundle/"+string(tc.refsPath)+"/https://slsa.dev/provenance/v1")
			if !sameSet(got, want) {
				t.Errorf("found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			for _, a := range atts.Items {
				if a.Repository != reg.Ref("app") || a.Manifest.Digest.Hex == "" || a.Layer.Digest.Hex == "" {
					t.Errorf("incomplete attachment %+v", a)
				}
			}
			// Legacy items name their tag; referrers name their manifest.
			if got := atts.Items[0].Tag; got != strings.Replace(d, ":", "-", 1)+".sig" {
				t.Errorf("legacy tag %q", got)
			}
		})
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestDiscoverNeedsDigest(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	if _, err := newClient(t).Discover(ctxT(t), mustRef(t, reg.Ref("app:v1"))); err == nil || !strings.Contains(err.Error(), "Resolve") {
		t.Errorf("Discover of a tag: %v", err)
	}
}

func TestDiscoverNothingAttached(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithoutReferrers())
	d := reg.PushRandomImage(t, "app:v1")
	atts, err := newClient(t).Discover(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if err != nil || len(atts.Items) != 0 || !atts.Complete() {
		t.Fatalf("Discover = %+v, %v; want nothing, complete", atts, err)
	}
}

// The same referrer listed by the referrers API and the fallback tag (a
// registry that gained the API after the fallback index was written) is
// one attachment, found first via the API.
func TestDiscoverDeduplicatesAcrossPaths(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	desc, err := c.AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, sigBundle, bundleAnnotations(registry.PredicateTypeCosignSign))
	if err != nil {
		t.Fatal(err)
	}
	putRaw(t, reg, "app:"+strings.Replace(d, ":", "-", 1), v1.IndexManifest{
		SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{desc},
	}, types.OCIImageIndex)
	// And the same signature layer copied to the legacy .sig tag.
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, sigBundle); err != nil {
		t.Fatal(err)
	}
	atts, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts.Items) != 1 || atts.Items[0].Path != registry.PathLegacyTag {
		t.Fatalf("want one attachment, from the legacy tag; got %v", summary(atts.Items))
	}
}

// cosign legacy signatures over the same image by two keys share the
// payload layer digest and differ in annotations: both are kept.
func TestDiscoverKeepsSignaturesWithSamePayload(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	other := sigLayer
	other.Annotations = map[string]string{"dev.cosignproject.cosign/signature": "MEUCIQDkey2"}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, sigLayer); err != nil {
		t.Fatal(err)
	}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, other, sigLayer); err != nil {
		t.Fatal(err)
	}
	atts, err := c.Discover(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(atts.Of(registry.KindSignature)); n != 2 {
		t.Fatalf("%d signatures, want 2: %v", n, summary(atts.Items))
	}
	if atts.Items[0].Layer.Digest != atts.Items[1].Layer.Digest {
		t.Fatal("test setup: payloads should share a digest")
	}
}

// The fallback index is written by anyone who can push: its artifactType
// is never trusted (older writers put application/vnd.oci.empty.v1+json),
// and a listed manifest about another image is ignored.
func TestDiscoverFallbackIndexIsNotTrusted(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithoutReferrers())
	d := reg.PushRandomImage(t, "app:v1")
	otherD := reg.PushRandomImage(t, "app:other")
	c := newClient(t)
	subject := mustRef(t, reg.Ref("app@"+d))
	sig, err := c.AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, sigBundle, bundleAnnotations(registry.PredicateTypeCosignSign))
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := c.AttachReferrer(ctxT(t), mustRef(t, reg.Ref("app@"+otherD)), registry.MediaTypeBundle, attBundle, bundleAnnotations("https://slsa.dev/provenance/v1"))
	if err != nil {
		t.Fatal(err)
	}
	sig.ArtifactType = registry.MediaTypeEmptyJSON // a lie, or an old writer
	foreign.ArtifactType = registry.MediaTypeBundle
	putRaw(t, reg, "app:"+strings.Replace(d, ":", "-", 1), v1.IndexManifest{
		SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{sig, foreign},
	}, types.OCIImageIndex)

	atts, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"signature/bundle/fallback-tag/" + registry.PredicateTypeCosignSign}
	if got := summary(atts.Items); !reflect.DeepEqual(got, want) || !atts.Complete() {
		t.Fatalf("got %v (failures %v), want %v", got, atts.Failures, want)
	}
}

// Referrers written by other tools: cosign's experimental OCI 1.1 mode
// (simple-signing layers, artifactType …artifact.sig.v1+json), cosign's
// attestation referrers (DSSE layers), an SBOM pushed by oras, and
// BuildKit's unsigned in-toto statements, which must never count as
// attestations.
func TestDiscoverClassifiesReferrers(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	for _, tc := range []struct {
		artifactType string
		layer        registry.Layer
		ann          map[string]string
	}{
		{registry.ArtifactTypeCosignSignature, sigLayer, nil},
		{"application/vnd.in-toto+json", attLayer, nil},
		{"application/spdx+json", registry.Layer{Content: []byte(`{"spdxVersion":"SPDX-2.3","x":1}`), MediaType: "application/spdx+json"}, nil},
		{"application/vnd.in-toto+json", registry.Layer{Content: []byte(`{"_type":"https://in-toto.io/Statement/v0.1"}`), MediaType: registry.MediaTypeInToto,
			Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}, nil},
		{"application/vnd.cncf.notary.signature", registry.Layer{Content: []byte("jws"), MediaType: "application/jose+json"}, nil},
		{registry.MediaTypeBundle, attBundle, map[string]string{}}, // predicate type not announced
	} {
		if _, err := c.AttachReferrer(ctxT(t), subject, tc.artifactType, tc.layer, tc.ann); err != nil {
			t.Fatal(err)
		}
	}
	atts, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"signature/legacy/referrers/",
		"attestation/legacy/referrers/https://slsa.dev/provenance/v1",
		"sbom/raw/referrers/",
		"unknown/raw/referrers/https://slsa.dev/provenance/v0.2",
		"unknown/raw/referrers/",
		"attestation/bundle/referrers/",
	}
	if got := summary(atts.Items); !sameSet(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, a := range atts.Items {
		if a.Kind == registry.KindUnknown && a.Note == "" {
			t.Errorf("unknown attachment without a note: %+v", a)
		}
		if a.Layer.MediaType == registry.MediaTypeInToto && a.Kind != registry.KindUnknown {
			t.Errorf("a BuildKit in-toto statement counted as %s", a.Kind)
		}
	}
}

// With a signature repository, every attachment path is read there.
func TestDiscoverSignatureRepository(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithoutReferrers())
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	sigs := newClient(t, registry.WithSignatureRepository(reg.Ref("sigs")))
	attachAll(t, sigs, subject)
	if reg.Count("", "^/v2/app/manifests/sha256-") != 0 {
		t.Fatal("attachments were written to the image repository")
	}
	atts, err := newClient(t, registry.WithSignatureRepository(reg.Ref("sigs"))).Discover(ctxT(t), subject)
	if err != nil || len(atts.Items) != 5 || !atts.Complete() {
		t.Fatalf("Discover in the signature repository: %v, %v", summary(atts.Items), err)
	}
	if atts.Items[0].Repository != reg.Ref("sigs") {
		t.Errorf("repository %q", atts.Items[0].Repository)
	}
	plain, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil || len(plain.Items) != 0 {
		t.Fatalf("without the option: %v, %v", summary(plain.Items), err)
	}
}
