package registry_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// A second process (a new Client with the same cache directory) skips the
// ping to a registry that answered it without an authentication challenge,
// and finds the same attachments.
func TestOpenRegistryCacheSkipsThePing(t *testing.T) {
	reg := registrytest.New(t)
	img := reg.PushRandomImage(t, "app:v1")
	dir := t.TempDir()
	ref := mustRef(t, reg.Ref("app@"+img))
	reg.Reset()

	first, err := newClient(t, registry.WithOpenRegistryCache(dir, 0)).Discover(ctxT(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Count("GET", "^/v2/$"); n != 1 {
		t.Fatalf("first contact: %d pings, want 1", n)
	}
	reg.Reset()
	second, err := newClient(t, registry.WithOpenRegistryCache(dir, 0)).Discover(ctxT(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	if n := reg.Count("GET", "^/v2/$"); n != 0 {
		t.Fatalf("a later client pinged %d times: the open-registry cache was not used (%v)", n, reg.Requests())
	}
	if len(first.Items) != len(second.Items) || !second.Complete() {
		t.Fatalf("first %+v, second %+v", first, second)
	}
}

// A remembered "no authentication" answer that has gone stale (the
// registry now asks for a token) costs one 401: the client forgets it, pings,
// authenticates and succeeds, and the stale entry is gone.
func TestOpenRegistryCacheStaleEntry(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTokenAuth("u", "p"))
	dir := t.TempDir()
	writeEntry(t, dir, reg.Host, `{"scheme":"http","checked":"`+nowRFC3339()+`"}`)
	c := newClient(t, registry.WithOpenRegistryCache(dir, 0), registry.WithKeychain(&staticKeychain{auth: &authn.Basic{Username: "u", Password: "p"}}))
	img := reg.PushRandomImage(t, "app:v1")
	reg.Reset()

	res, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1")))
	if err != nil {
		t.Fatalf("resolve with a stale cache entry: %v (%v)", err, reg.Requests())
	}
	if res.Ref.Digest() != img {
		t.Fatalf("resolved %s, want %s", res.Ref.Digest(), img)
	}
	if n := reg.Count("GET", "^/v2/$"); n != 1 {
		t.Errorf("%d pings after the 401, want 1: %v", n, reg.Requests())
	}
	if _, err := os.Stat(entryFile(dir, reg.Host)); !os.IsNotExist(err) {
		t.Errorf("the stale entry should be gone: %v", err)
	}
}

// Registries that ask for authentication are never remembered: a cached
// realm could send credentials elsewhere.
func TestOpenRegistryCacheOnlyRemembersOpenRegistries(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTokenAuth("u", "p"))
	dir := t.TempDir()
	c := newClient(t, registry.WithOpenRegistryCache(dir, 0), registry.WithKeychain(&staticKeychain{auth: &authn.Basic{Username: "u", Password: "p"}}))
	reg.PushRandomImage(t, "app:v1")
	if _, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1"))); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("remembered a registry that asks for authentication: %v", entries)
	}
}

// Expired, corrupt and oversized entries are ignored: the client pings.
func TestOpenRegistryCacheIgnoresBadEntries(t *testing.T) {
	for name, entry := range map[string]string{
		"expired":         `{"scheme":"http","checked":"2020-01-01T00:00:00Z"}`,
		"from the future": `{"scheme":"http","checked":"2999-01-01T00:00:00Z"}`,
		"corrupt":         `{"scheme":`,
		"unknown scheme":  `{"scheme":"gopher","checked":"` + nowRFC3339() + `"}`,
		"oversized":       `{"scheme":"http","checked":"` + nowRFC3339() + `","pad":"` + strings.Repeat("x", 8<<10) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			reg := registrytest.New(t)
			img := reg.PushRandomImage(t, "app:v1")
			dir := t.TempDir()
			writeEntry(t, dir, reg.Host, entry)
			reg.Reset()
			if _, err := newClient(t, registry.WithOpenRegistryCache(dir, 0)).Discover(ctxT(t), mustRef(t, reg.Ref("app@"+img))); err != nil {
				t.Fatal(err)
			}
			if n := reg.Count("GET", "^/v2/$"); n != 1 {
				t.Fatalf("%d pings, want 1: a bad entry must not replace the ping", n)
			}
		})
	}
}

// A remembered plain-HTTP answer is honoured only where plain HTTP is
// allowed anyway: for a remote registry without --allow-insecure-registry,
// the client pings over HTTPS as if nothing were cached.
func TestOpenRegistryCacheNeverDowngradesToHTTP(t *testing.T) {
	dir := t.TempDir()
	writeEntry(t, dir, "registry.example.com", `{"scheme":"http","checked":"`+nowRFC3339()+`"}`)
	var seen []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Method+" "+r.URL.String())
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	c := newClient(t, registry.WithOpenRegistryCache(dir, 0), registry.WithTransport(rt), registry.WithRetries(0))
	_, _ = c.Resolve(ctxT(t), mustRef(t, "registry.example.com/app:v1"))
	if len(seen) == 0 || seen[0] != "GET https://registry.example.com/v2/" {
		t.Fatalf("want an HTTPS ping first, got %v", seen)
	}
	for _, s := range seen {
		if strings.HasPrefix(strings.Fields(s)[1], "http://") {
			t.Fatalf("plain HTTP to a remote registry: %v", seen)
		}
	}
}

func nowRFC3339() string { return time.Now().UTC().Format(time.RFC3339) }

func entryFile(dir, host string) string {
	return filepath.Join(dir, url.PathEscape(host)+".json")
}

func writeEntry(t *testing.T, dir, host, content string) {
	t.Helper()
	if err := os.WriteFile(entryFile(dir, host), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
