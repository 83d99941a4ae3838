package registry_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vouchdev/vouch/registry/registrytest"
)

// The request budget of discovery, asserted exactly: on first contact with
// a registry, a digest-pinned image costs a ping plus one request per
// attachment path (.sig, .att, .sbom, referrers API, fallback tag), plus
// one per referrer manifest; a tag adds one HEAD. Content fetched by digest
// is never fetched twice by a Client, and concurrent identical fetches are
// one request.
func TestRequestCounts(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	attachAll(t, newClient(t), subject) // 3 legacy tags, 2 bundle referrers

	counts := func() map[string]int {
		m := map[string]int{}
		for _, q := range reg.Requests() {
			m[q.Method+" "+pathClass(q.Path)]++
		}
		return m
	}
	t.Run("digest", func(t *testing.T) {
		reg.Reset()
		c := newClient(t)
		atts, err := c.Discover(ctxT(t), subject)
		if err != nil || len(atts.Items) != 5 || !atts.Complete() {
			t.Fatalf("Discover: %v, %v, %v", summary(atts.Items), err, atts.Failures)
		}
		want := map[string]int{
			"GET ping": 1, "GET referrers": 1, "GET fallback": 1, "GET .sig": 1, "GET .att": 1, "GET .sbom": 1,
			"GET manifest by digest": 2, // the two referrer manifests
		}
		assertCounts(t, counts(), want, reg)

		// Fetching every attachment's content: one blob request each.
		reg.Reset()
		for _, a := range atts.Items {
			if _, err := c.Content(ctxT(t), a); err != nil {
				t.Fatal(err)
			}
		}
		assertCounts(t, counts(), map[string]int{"GET blob": 5}, reg)

		// Again: content by digest is never fetched twice; the tags and
		// the referrers listing are within their TTL.
		reg.Reset()
		atts, err = c.Discover(ctxT(t), subject)
		if err != nil || len(atts.Items) != 5 {
			t.Fatal(err)
		}
		for _, a := range atts.Items {
			if _, err := c.Content(ctxT(t), a); err != nil {
				t.Fatal(err)
			}
		}
		assertCounts(t, counts(), map[string]int{}, reg)
	})
	t.Run("tag adds one", func(t *testing.T) {
		reg.Reset()
		c := newClient(t)
		res, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Discover(ctxT(t), res.Ref); err != nil {
			t.Fatal(err)
		}
		assertCounts(t, counts(), map[string]int{
			"HEAD tag": 1,
			"GET ping": 1, "GET referrers": 1, "GET fallback": 1, "GET .sig": 1, "GET .att": 1, "GET .sbom": 1,
			"GET manifest by digest": 2,
		}, reg)
	})
	t.Run("nothing attached", func(t *testing.T) {
		bare := registrytest.New(t, registrytest.WithoutReferrers())
		d := bare.PushRandomImage(t, "app:v1")
		bare.Reset()
		if _, err := newClient(t).Discover(ctxT(t), mustRef(t, bare.Ref("app@"+d))); err != nil {
			t.Fatal(err)
		}
		if n := len(bare.Requests()); n != 1+5 {
			t.Fatalf("%d requests, want a ping and one per path (6): %v", n, bare.Requests())
		}
	})
	t.Run("concurrent identical fetches collapse", func(t *testing.T) {
		c := newClient(t)
		atts, err := c.Discover(ctxT(t), subject)
		if err != nil {
			t.Fatal(err)
		}
		reg.On(registrytest.Hook{Path: "/blobs/", Delay: 200 * time.Millisecond})
		defer reg.ClearHooks()
		reg.Reset()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				if _, err := c.Content(ctxT(t), atts.Items[0]); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := reg.Count(http.MethodGet, "/blobs/"); n != 1 {
			t.Fatalf("20 concurrent fetches made %d requests", n)
		}
	})
}

func pathClass(p string) string {
	switch {
	case p == "/v2/":
		return "ping"
	case regexpMatch(`/referrers/`, p):
		return "referrers"
	case regexpMatch(`/blobs/`, p):
		return "blob"
	case regexpMatch(`/manifests/sha256-[0-9a-f]{64}\.sig$`, p):
		return ".sig"
	case regexpMatch(`/manifests/sha256-[0-9a-f]{64}\.att$`, p):
		return ".att"
	case regexpMatch(`/manifests/sha256-[0-9a-f]{64}\.sbom$`, p):
		return ".sbom"
	case regexpMatch(`/manifests/sha256-[0-9a-f]{64}$`, p):
		return "fallback"
	case regexpMatch(`/manifests/sha256:`, p):
		return "manifest by digest"
	case regexpMatch(`/manifests/`, p):
		return "tag"
	}
	return p
}

func assertCounts(t *testing.T, got, want map[string]int, reg *registrytest.Registry) {
	t.Helper()
	bad := len(got) != len(want)
	for k, v := range want {
		if got[k] != v {
			bad = true
		}
	}
	if bad {
		t.Fatalf("requests %v, want %v\n%v", got, want, reg.Requests())
	}
}
