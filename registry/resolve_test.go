package registry_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

func TestResolveTag(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	c := newClient(t)
	reg.Reset()
	res, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref.Digest() != d || res.Ref.Tag() != "v1" || res.Descriptor.Digest.String() != d || res.Descriptor.Size == 0 || !res.Descriptor.MediaType.IsImage() {
		t.Fatalf("Resolve = %+v", res)
	}
	// HEAD, not GET: cheaper, and no pull counted by Docker Hub.
	if n := reg.Count(http.MethodHead, "/manifests/v1$"); n != 1 || reg.Count(http.MethodGet, "/manifests/") != 0 {
		t.Fatalf("requests: %v", reg.Requests())
	}
	// The tag answer is reused for the tag TTL.
	reg.Reset()
	if _, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1"))); err != nil {
		t.Fatal(err)
	}
	if n := len(reg.Requests()); n != 0 {
		t.Fatalf("second Resolve made %d requests: %v", n, reg.Requests())
	}
}

func TestResolveDigest(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	res, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if err != nil || res.Ref.String() != reg.Ref("app@"+d) {
		t.Fatalf("Resolve = %+v, %v", res, err)
	}
	_, err = newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app@sha256:"+strings.Repeat("0", 64))))
	if !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing digest: %v", err)
	}
}

func TestResolveNotFound(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	for _, ref := range []string{"app:v2", "nope:v1"} {
		_, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref(ref)))
		var e *registry.Error
		if !errors.Is(err, registry.ErrNotFound) || !errors.As(err, &e) || e.StatusCode != 404 {
			t.Errorf("%s: %v", ref, err)
		}
	}
}

// Some registries answer HEAD with 405 or without a digest header: GET.
func TestResolveHeadFallsBackToGet(t *testing.T) {
	for _, hook := range []registrytest.Hook{
		{Method: http.MethodHead, Path: "/manifests/", Status: http.StatusMethodNotAllowed},
		{Method: http.MethodHead, Path: "/manifests/", Handler: func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }},
	} {
		reg := registrytest.New(t)
		d := reg.PushRandomImage(t, "app:v1")
		reg.On(hook)
		reg.Reset()
		res, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1")))
		if err != nil || res.Ref.Digest() != d {
			t.Fatalf("Resolve = %+v, %v", res, err)
		}
		if reg.Count(http.MethodGet, "/manifests/v1$") != 1 {
			t.Fatalf("no GET fallback: %v", reg.Requests())
		}
	}
}

// A registry that answers a digest HEAD with another digest is lying.
func TestResolveDigestHeadMismatch(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	other := reg.PushRandomImage(t, "app:v2")
	reg.On(registrytest.Hook{Method: http.MethodHead, Path: "/manifests/" + d, Header: http.Header{"Docker-Content-Digest": {other}},
		Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
		}})
	_, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if !errors.Is(err, registry.ErrDigestMismatch) {
		t.Fatalf("Resolve = %v, want ErrDigestMismatch", err)
	}
}

func TestResolvePlatform(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomIndex(t, "multi:v1", 3)
	c := newClient(t)
	res, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("multi:v1")), registry.WithPlatform(v1.Platform{OS: "linux", Architecture: "arm64"}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref.Digest() != d || !res.Descriptor.MediaType.IsIndex() {
		t.Fatalf("the index: %+v", res)
	}
	if res.Platform == nil || res.Platform.Platform.Architecture != "arm64" || res.Platform.Digest.String() == d {
		t.Fatalf("platform: %+v", res.Platform)
	}
	_, err = c.Resolve(ctxT(t), mustRef(t, reg.Ref("multi:v1")), registry.WithPlatform(v1.Platform{OS: "linux", Architecture: "riscv64"}))
	if !errors.Is(err, registry.ErrNotFound) || !strings.Contains(err.Error(), "linux/amd64") {
		t.Fatalf("unknown platform: %v", err)
	}
	// Without the option, an index is resolved as itself.
	res, err = c.Resolve(ctxT(t), mustRef(t, reg.Ref("multi:v1")))
	if err != nil || res.Platform != nil {
		t.Fatalf("no platform asked: %+v, %v", res, err)
	}
}

func TestManifest(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	c := newClient(t)
	raw, desc, err := c.Manifest(ctxT(t), mustRef(t, reg.Ref("app:v1")))
	if err != nil || desc.Digest.String() != d || int64(len(raw)) != desc.Size || !strings.Contains(string(raw), `"layers"`) {
		t.Fatalf("Manifest = %d bytes, %+v, %v", len(raw), desc, err)
	}
	// By digest, it is never fetched twice.
	reg.Reset()
	if _, _, err := c.Manifest(ctxT(t), mustRef(t, reg.Ref("app@"+d))); err != nil || len(reg.Requests()) != 0 {
		t.Fatalf("second fetch: %v, %v", err, reg.Requests())
	}
}
