package registry_test

import (
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// The real CNCF distribution registry (2.8, no referrers API): artifacts in
// all three schemes, written by vouch and by go-containerregistry's own
// writer, are each found exactly once, with the request budget of
// TestRequestCounts.
func TestDistribution(t *testing.T) {
	reg := registrytest.Distribution(t)
	d := reg.PushRandomImage(t, "team/app:v1")
	subject := mustRef(t, reg.Ref("team/app@"+d))
	attachAll(t, newClient(t), subject)

	// A referrer pushed by go-containerregistry's writer, which maintains the
	// fallback tag itself on registries without the referrers API.
	res, err := newClient(t).Resolve(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	layer := pushBlob(t, reg, "team/app", []byte(`{"spdxVersion":"SPDX-2.3","name":"ggcr"}`), "application/spdx+json")
	cfg := pushBlob(t, reg, "team/app", []byte("{}"), registry.MediaTypeEmptyJSON)
	putRaw(t, reg, "team/app@"+sha256HexOfJSON(t, referrerOf(res, cfg, layer)).String(), referrerOf(res, cfg, layer), types.OCIManifestSchema1)

	reg.Reset()
	c := newClient(t)
	atts, err := c.Discover(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	if !atts.Complete() {
		t.Fatalf("failures on distribution: %v", atts.Failures)
	}
	want := append(append([]string(nil), wantAll...),
		"signature/bundle/fallback-tag/"+registry.PredicateTypeCosignSign,
		"attestation/bundle/fallback-tag/https://slsa.dev/provenance/v1",
		"sbom/raw/fallback-tag/")
	if got := summary(atts.Items); !sameSet(got, want) {
		t.Fatalf("found:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// A ping, one request per path (the referrers API answers 404: not
	// supported, not a failure), one per referrer manifest.
	if n, want := len(reg.Requests()), 1+5+3; n != want {
		t.Fatalf("%d requests, want %d: %v", n, want, reg.Requests())
	}
	if reg.Count(http.MethodGet, "/referrers/") != 1 {
		t.Fatalf("referrers API not tried: %v", reg.Requests())
	}
	for _, a := range atts.Items {
		if _, err := c.Content(ctxT(t), a); err != nil {
			t.Fatalf("Content(%s): %v", a.Layer.Digest, err)
		}
	}

	// Multi-platform images resolve to their platform's manifest.
	idx := reg.PushRandomIndex(t, "team/multi:v1", 2)
	r, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("team/multi:v1")), registry.WithPlatform(registrytest.Platforms[1]))
	if err != nil || r.Ref.Digest() != idx || r.Platform == nil || r.Platform.Platform.Architecture != "arm64" {
		t.Fatalf("platform on distribution: %+v, %v", r, err)
	}
}

func referrerOf(subject *registry.Resolved, cfg, layer v1.Descriptor) map[string]any {
	return map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  "application/spdx+json",
		"config":        cfg,
		"layers":        []v1.Descriptor{layer},
		"subject":       v1.Descriptor{MediaType: subject.Descriptor.MediaType, Digest: subject.Descriptor.Digest, Size: subject.Descriptor.Size},
	}
}

func sha256HexOfJSON(t *testing.T, v any) v1.Hash {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return sha256Hex(b)
}

// A registry that fails on one path, on the real registry too: the failure
// is kept, the rest is found.
func TestDistributionFailingPath(t *testing.T) {
	reg := registrytest.Distribution(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	attachAll(t, newClient(t), subject)
	reg.On(registrytest.Hook{Path: `/manifests/sha256-[0-9a-f]{64}$`, Status: http.StatusBadGateway})
	atts, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil || len(atts.Failures) != 1 || atts.Failures[0].Path != registry.PathFallbackTag || len(atts.Items) != 3 {
		t.Fatalf("Discover: %v, %v, %v", summary(atts.Items), atts.Failures, err)
	}
}
