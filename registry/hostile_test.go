package registry_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// hostileSetup is an image with one attachment on every path: legacy
// tags, the referrers API and the fallback tag.
func hostileSetup(t *testing.T) (*registrytest.Registry, registry.Ref) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	c := newClient(t)
	attachAll(t, c, subject)
	// An older writer's fallback index with a third referrer.
	ref := fallbackReferrer(t, reg, subject)
	putRaw(t, reg, "app:"+strings.Replace(d, ":", "-", 1), v1.IndexManifest{
		SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{ref},
	}, types.OCIImageIndex)
	reg.Reset()
	return reg, subject
}

// fallbackReferrer pushes, by digest, a referrer of subject that only a
// fallback index will name (the in-process registry's API lists it too).
func fallbackReferrer(t *testing.T, reg *registrytest.Registry, subject registry.Ref) v1.Descriptor {
	t.Helper()
	layer := pushBlob(t, reg, "app", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","x":"fallback-only"}`), registry.MediaTypeBundle)
	cfg := pushBlob(t, reg, "app", []byte("{}"), registry.MediaTypeEmptyJSON)
	sd, err := newClient(t).Resolve(ctxT(t), subject)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  registry.MediaTypeBundle,
		"config":        cfg,
		"layers":        []v1.Descriptor{layer},
		"subject":       v1.Descriptor{MediaType: sd.Descriptor.MediaType, Digest: sd.Descriptor.Digest, Size: sd.Descriptor.Size},
		"annotations":   bundleAnnotations("https://example.com/fallback"),
	}
	return putRawDigest(t, reg, "app", m)
}

var indexType = http.Header{"Content-Type": {string(types.OCIImageIndex)}}

// The hostile answers every path must survive: each becomes a PathFailure
// wrapping the right sentinel, never "nothing attached".
var hostile = []struct {
	name  string
	hook  registrytest.Hook
	want  error
	short bool // needs a short deadline
}{
	{"500", registrytest.Hook{Status: http.StatusInternalServerError}, registry.ErrUnavailable, false},
	{"503", registrytest.Hook{Status: http.StatusServiceUnavailable}, registry.ErrUnavailable, false},
	{"429", registrytest.Hook{Status: http.StatusTooManyRequests}, registry.ErrTooManyRequests, false},
	{"401", registrytest.Hook{Status: http.StatusUnauthorized}, registry.ErrUnauthorized, false},
	{"403", registrytest.Hook{Status: http.StatusForbidden}, registry.ErrUnauthorized, false},
	{"slow past the deadline", registrytest.Hook{Delay: 5 * time.Second}, context.DeadlineExceeded, true},
	{"over-size answer", registrytest.Hook{Oversize: registry.MaxManifestSize + 1, Header: indexType}, registry.ErrTooLarge, false},
	{"endless answer without length", registrytest.Hook{Oversize: 1 << 30, NoContentLength: true, Header: indexType}, registry.ErrTooLarge, false},
	{"body does not match its digest", registrytest.Hook{Body: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)}, registry.ErrDigestMismatch, false},
}

func TestDiscoverHostilePaths(t *testing.T) {
	paths := []struct {
		name string
		re   string
		path registry.Path
	}{
		{".sig tag", `/manifests/sha256-[0-9a-f]+\.sig$`, registry.PathLegacyTag},
		{".att tag", `/manifests/sha256-[0-9a-f]+\.att$`, registry.PathLegacyTag},
		{"referrers API", `/referrers/`, registry.PathReferrers},
		{"fallback tag", `/manifests/sha256-[0-9a-f]+$`, registry.PathFallbackTag},
		{"referrer manifest", `/manifests/sha256:`, registry.PathReferrers},
	}
	for _, p := range paths {
		for _, h := range hostile {
			if p.re == `/referrers/` && h.name == "body does not match its digest" {
				continue // a listing has no digest to check
			}
			t.Run(p.name+"/"+h.name, func(t *testing.T) {
				reg, subject := hostileSetup(t)
				hook := h.hook
				hook.Path = p.re
				reg.On(hook)
				ctx := ctxT(t)
				if h.short {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
					defer cancel()
				}
				start := time.Now()
				atts, err := newClient(t).Discover(ctx, subject)
				if err != nil {
					t.Fatal(err)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Errorf("took %v", d)
				}
				var found bool
				for _, f := range atts.Failures {
					if f.Path == p.path && errors.Is(f.Err, h.want) {
						found = true
					}
				}
				if !found {
					t.Fatalf("no %s failure wrapping %v; failures: %v; items: %v", p.path, h.want, atts.Failures, summary(atts.Items))
				}
				if atts.Complete() {
					t.Fatal("Complete() with a failed path")
				}
				// Other paths still answer (a slow path must not hold them).
				if len(atts.Items) == 0 && !h.short {
					t.Errorf("nothing found on the healthy paths")
				}
			})
		}
	}
}

func TestResolveHostile(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			reg := registrytest.New(t)
			reg.PushRandomImage(t, "app:v1")
			hook := h.hook
			hook.Path = "/manifests/v1$"
			reg.On(hook)
			ctx := ctxT(t)
			if h.short {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, 300*time.Millisecond)
				defer cancel()
			}
			_, err := newClient(t).Resolve(ctx, mustRef(t, reg.Ref("app:v1")))
			if h.name == "body does not match its digest" {
				// HEAD carries no body to lie with; the digest header is the answer.
				if err != nil {
					t.Fatalf("HEAD with a replaced body: %v", err)
				}
				return
			}
			if !errors.Is(err, h.want) {
				t.Fatalf("Resolve = %v, want %v", err, h.want)
			}
			var e *registry.Error
			if !errors.As(err, &e) || !strings.Contains(err.Error(), reg.Ref("app:v1")) {
				t.Errorf("error does not name the image: %v", err)
			}
		})
	}
}

// A referrers API answering 404, 400 or 405, or anything but an index, is
// "not supported": the fallback tag is used, nothing fails.
func TestReferrersAPINotSupported(t *testing.T) {
	for _, hook := range []registrytest.Hook{
		{Path: "/referrers/", Status: http.StatusNotFound},
		{Path: "/referrers/", Status: http.StatusBadRequest},
		{Path: "/referrers/", Status: http.StatusMethodNotAllowed},
		{Path: "/referrers/", Handler: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>welcome to our registry</html>"))
		}},
	} {
		reg := registrytest.New(t, registrytest.WithoutReferrers())
		d := reg.PushRandomImage(t, "app:v1")
		subject := mustRef(t, reg.Ref("app@"+d))
		if _, err := newClient(t).AttachReferrer(ctxT(t), subject, registry.MediaTypeBundle, sigBundle, bundleAnnotations(registry.PredicateTypeCosignSign)); err != nil {
			t.Fatal(err)
		}
		reg.On(hook)
		atts, err := newClient(t).Discover(ctxT(t), subject)
		if err != nil || !atts.Complete() || len(atts.Items) != 1 || atts.Items[0].Path != registry.PathFallbackTag {
			t.Fatalf("hook %+v: %v, %v, failures %v", hook.Status, summary(atts.Items), err, atts.Failures)
		}
	}
}

func TestRetries(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	// Two 503s, then the answer: DefaultRetries (2) is enough.
	reg.On(registrytest.Hook{Path: "/manifests/v1$", Status: http.StatusServiceUnavailable, Times: 2})
	reg.Reset()
	if _, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1"))); err != nil {
		t.Fatalf("Resolve after two 503s: %v", err)
	}
	if n := reg.Count(http.MethodHead, "/manifests/v1$"); n != registry.DefaultRetries+1 {
		t.Fatalf("%d attempts, want %d", n, registry.DefaultRetries+1)
	}
	// Three: one more than the retries, the error comes through.
	reg.ClearHooks()
	reg.On(registrytest.Hook{Path: "/manifests/v1$", Status: http.StatusServiceUnavailable, Times: 3})
	if _, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1"))); !errors.Is(err, registry.ErrUnavailable) {
		t.Fatalf("Resolve after three 503s: %v", err)
	}
	// 404 is an answer, never retried.
	reg.ClearHooks()
	reg.Reset()
	newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app:nope")))
	if n := reg.Count("", "/manifests/nope$"); n != 1 {
		t.Fatalf("404 asked %d times", n)
	}
}

func TestRetryAfter(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	reg.On(registrytest.Hook{Path: "/manifests/v1$", Status: http.StatusTooManyRequests, Times: 1, Header: http.Header{"Retry-After": {"1"}}})
	start := time.Now()
	if _, err := newClient(t).Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1"))); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("retried after %v, before Retry-After", d)
	}
	// A Retry-After past the deadline fails now instead of sleeping into it.
	reg.ClearHooks()
	reg.On(registrytest.Hook{Path: "/manifests/v1$", Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"3600"}}})
	ctx, cancel := context.WithTimeout(ctxT(t), 2*time.Second)
	defer cancel()
	start = time.Now()
	_, err := newClient(t).Resolve(ctx, mustRef(t, reg.Ref("app:v1")))
	if !errors.Is(err, registry.ErrTooManyRequests) || time.Since(start) > time.Second {
		t.Fatalf("Resolve = %v after %v", err, time.Since(start))
	}
}

// Plain HTTP is for loopback only, unless the caller allows it.
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	var seen []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.URL.Scheme+"://"+r.URL.Host)
		return nil, errors.New("no network in tests")
	})
	_, err := newClient(t, registry.WithTransport(rt), registry.WithRetries(0)).Resolve(ctxT(t), mustRef(t, "10.1.2.3:5000/app:v1"))
	if err == nil || !strings.Contains(err.Error(), "refusing plain HTTP") {
		t.Fatalf("Resolve = %v", err)
	}
	for _, s := range seen {
		if strings.HasPrefix(s, "http://") {
			t.Fatalf("plain HTTP request sent: %v", seen)
		}
	}
	seen = nil
	newClient(t, registry.WithTransport(rt), registry.WithRetries(0), registry.WithInsecureRegistry(true)).Resolve(ctxT(t), mustRef(t, "10.1.2.3:5000/app:v1"))
	if !strings.Contains(strings.Join(seen, " "), "http://10.1.2.3:5000") {
		t.Fatalf("WithInsecureRegistry did not try plain HTTP: %v", seen)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
