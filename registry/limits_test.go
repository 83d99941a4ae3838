package registry_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// Each limit of DESIGN.md has a test here (the TTL and cache ones are in
// client_internal_test.go).

func TestLimitValues(t *testing.T) {
	if registry.MaxManifestSize != 4<<20 || registry.MaxAttachmentSize != 16<<20 || registry.MaxAttachments != 100 ||
		registry.MaxLayers != 1000 || registry.DefaultTimeout != 60*time.Second {
		t.Fatal("a limit of DESIGN.md changed; change DESIGN.md first")
	}
}

// paddedManifest is an image manifest of exactly size bytes.
func paddedManifest(t *testing.T, size int) []byte {
	t.Helper()
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Digest: h, Size: 2}, Annotations: map[string]string{"pad": ""}}
	raw, _ := jsonMarshal(m)
	m.Annotations["pad"] = strings.Repeat("x", size-len(raw))
	raw, _ = jsonMarshal(m)
	if len(raw) != size {
		t.Fatalf("padded to %d, not %d", len(raw), size)
	}
	return raw
}

func TestMaxManifestSize(t *testing.T) {
	reg := registrytest.New(t)
	at := paddedManifest(t, registry.MaxManifestSize)
	over := paddedManifest(t, registry.MaxManifestSize+1)
	putRaw(t, reg, "app:at", jsonRaw(at), types.OCIManifestSchema1)
	putRaw(t, reg, "app:over", jsonRaw(over), types.OCIManifestSchema1)
	c := newClient(t)
	if raw, _, err := c.Manifest(ctxT(t), mustRef(t, reg.Ref("app:at"))); err != nil || len(raw) != registry.MaxManifestSize {
		t.Fatalf("a manifest of exactly MaxManifestSize: %d bytes, %v", len(raw), err)
	}
	if _, _, err := c.Manifest(ctxT(t), mustRef(t, reg.Ref("app:over"))); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("MaxManifestSize+1: %v", err)
	}
	// A referrer whose descriptor claims more is refused before any request.
	d := reg.PushRandomImage(t, "app:v1")
	overDigest := sha256Hex(over)
	putRaw(t, reg, "app:"+strings.Replace(d, ":", "-", 1), v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex,
		Manifests: []v1.Descriptor{{MediaType: types.OCIManifestSchema1, Digest: overDigest, Size: registry.MaxManifestSize + 1}}}, types.OCIImageIndex)
	reg.Reset()
	atts, err := c.Discover(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if err != nil || len(atts.Failures) != 1 || !errors.Is(atts.Failures[0].Err, registry.ErrTooLarge) {
		t.Fatalf("Discover: %v, %v", atts.Failures, err)
	}
	if n := reg.Count("", overDigest.String()); n != 0 {
		t.Fatalf("the over-size manifest was requested %d times", n)
	}
}

func TestMaxAttachmentSize(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, sigLayer); err != nil {
		t.Fatal(err)
	}
	atts, err := c.Discover(ctxT(t), subject)
	if err != nil || len(atts.Items) != 1 {
		t.Fatal(err)
	}
	a := atts.Items[0]

	// A descriptor claiming more than the cap: refused before any request.
	big := a
	big.Layer.Size = registry.MaxAttachmentSize + 1
	reg.Reset()
	if _, err := c.Content(ctxT(t), big); !errors.Is(err, registry.ErrTooLarge) || len(reg.Requests()) != 0 {
		t.Fatalf("Content of an over-size layer: %v, requests %v", err, reg.Requests())
	}
	// A registry sending 1 GiB for a small blob is not read past the size.
	reg.On(registrytest.Hook{Path: "/blobs/", Oversize: 1 << 30, NoContentLength: true})
	start := time.Now()
	if _, err := c.Content(ctxT(t), a); !errors.Is(err, registry.ErrDigestMismatch) || time.Since(start) > 5*time.Second {
		t.Fatalf("Content of an endless blob: %v after %v", err, time.Since(start))
	}
	reg.ClearHooks()
	// Writers refuse too.
	huge := registry.Layer{Content: make([]byte, registry.MaxAttachmentSize+1), MediaType: registry.MediaTypeSimpleSigning}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, huge); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("AttachLegacy of an over-size layer: %v", err)
	}
	if _, err := c.AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, huge, nil); !errors.Is(err, registry.ErrTooLarge) {
		t.Fatalf("AttachReferrer of an over-size layer: %v", err)
	}
}

func TestMaxAttachments(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	var layers []registry.Layer
	for i := range registry.MaxAttachments + 5 {
		layers = append(layers, registry.Layer{Content: []byte(fmt.Sprintf(`{"n":%d}`, i)), MediaType: registry.MediaTypeSimpleSigning})
	}
	if err := c.AttachLegacy(ctxT(t), subject, registry.KindSignature, layers...); err != nil {
		t.Fatal(err)
	}
	atts, err := newClient(t).Discover(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	if len(atts.Items) != registry.MaxAttachments || len(atts.Failures) != 1 || !errors.Is(atts.Failures[0].Err, registry.ErrTooMany) {
		t.Fatalf("%d items, failures %v", len(atts.Items), atts.Failures)
	}
}

func TestMaxReferrers(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithoutReferrers())
	d := reg.PushRandomImage(t, "app:v1")
	var descs []v1.Descriptor
	for i := range registry.MaxReferrers + 1 {
		descs = append(descs, v1.Descriptor{MediaType: types.OCIManifestSchema1, Size: 100,
			Digest: sha256Hex([]byte(fmt.Sprint(i)))})
	}
	// Served by a hook: the registry would refuse an index of missing manifests.
	idx, _ := jsonMarshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: descs})
	reg.On(registrytest.Hook{Path: "/manifests/" + strings.Replace(d, ":", "-", 1) + "$", Handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Write(idx)
	}})
	reg.Reset()
	atts, err := newClient(t).Discover(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if err != nil || len(atts.Failures) != 1 || !errors.Is(atts.Failures[0].Err, registry.ErrTooMany) {
		t.Fatalf("Discover: %v, %v", atts.Failures, err)
	}
	if n := reg.Count(http.MethodGet, "/manifests/sha256:"); n != registry.MaxReferrers {
		t.Fatalf("%d referrer manifests fetched, want MaxReferrers (%d)", n, registry.MaxReferrers)
	}
}

func TestMaxLayers(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	layers := make([]v1.Descriptor, registry.MaxLayers+1)
	for i := range layers {
		layers[i] = v1.Descriptor{MediaType: registry.MediaTypeSimpleSigning, Size: 10, Digest: sha256Hex([]byte(fmt.Sprint(i)))}
	}
	putRaw(t, reg, "app:"+strings.Replace(d, ":", "-", 1)+".sig", v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1,
		Config: v1.Descriptor{MediaType: types.OCIConfigJSON, Size: 2, Digest: sha256Hex([]byte("{}"))}, Layers: layers}, types.OCIManifestSchema1)
	atts, err := newClient(t).Discover(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if err != nil || len(atts.Items) != 0 || len(atts.Failures) != 1 || !errors.Is(atts.Failures[0].Err, registry.ErrTooMany) {
		t.Fatalf("Discover: %v, %v, %v", summary(atts.Items), atts.Failures, err)
	}
}

func TestMaxReferrerPages(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	reg.On(registrytest.Hook{Path: "/referrers/", Handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Header().Set("Link", fmt.Sprintf(`<%s?page=%d>; rel="next"`, r.URL.Path, len(r.URL.RawQuery)+1))
		w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	}})
	reg.Reset()
	atts, err := newClient(t).Discover(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if err != nil || len(atts.Failures) != 1 || !errors.Is(atts.Failures[0].Err, registry.ErrTooMany) {
		t.Fatalf("Discover: %v, %v", atts.Failures, err)
	}
	if n := reg.Count(http.MethodGet, "/referrers/"); n != registry.MaxReferrerPages {
		t.Fatalf("%d pages read, want MaxReferrerPages (%d)", n, registry.MaxReferrerPages)
	}
	// A next page on another host is refused (a token must not leave).
	reg.ClearHooks()
	reg.On(registrytest.Hook{Path: "/referrers/", Handler: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Header().Set("Link", `<https://evil.example.com/v2/x/referrers/y>; rel="next"`)
		w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	}})
	atts, _ = newClient(t).Discover(ctxT(t), mustRef(t, reg.Ref("app@"+d)))
	if len(atts.Failures) != 1 || !strings.Contains(atts.Failures[0].Error(), "another host") {
		t.Fatalf("cross-host next page: %v", atts.Failures)
	}
}

// Every call runs under a deadline: the caller's, or DefaultTimeout (here
// shortened with WithDefaultTimeout) when the context has none.
func TestDefaultTimeout(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	reg.On(registrytest.Hook{Path: "/manifests/", Delay: 10 * time.Second})
	c := newClient(t, registry.WithDefaultTimeout(200*time.Millisecond))
	start := time.Now()
	_, err := c.Resolve(context.Background(), mustRef(t, reg.Ref("app:v1")))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("Resolve without a deadline: %v after %v", err, time.Since(start))
	}
	// The caller's deadline wins over the default.
	c = newClient(t, registry.WithDefaultTimeout(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := c.Resolve(ctx, mustRef(t, reg.Ref("app:v1"))); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("Resolve with a deadline: %v after %v", err, time.Since(start))
	}
}

func TestOptionsConflict(t *testing.T) {
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("x") })
	if _, err := registry.New(registry.WithTransport(rt), registry.WithProxy(http.ProxyFromEnvironment)); err == nil {
		t.Error("WithTransport with WithProxy accepted")
	}
	if _, err := registry.New(registry.WithCACerts([]byte("not PEM"))); err == nil {
		t.Error("WithCACerts without a certificate accepted")
	}
	if _, err := registry.New(registry.WithRetries(-1)); err == nil {
		t.Error("negative retries accepted")
	}
	if _, err := registry.New(registry.WithSignatureRepository("Not A Repo")); err == nil {
		t.Error("bad signature repository accepted")
	}
}
