package registry

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/vouchdev/vouch/registry/registrytest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// DefaultTagTTL: a tag's answer is reused until the TTL passes, then asked
// again; WithTagTTL(0) asks every time.
func TestTagTTL(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	ref, _ := ParseRef(reg.Ref("app:v1"))
	ctx := context.Background()
	reg.Reset()

	c, _ := New()
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	c.now = clock.now
	heads := func() int { return reg.Count(http.MethodHead, "/manifests/v1$") }
	for i, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {DefaultTagTTL - time.Millisecond, 1}, {2 * time.Millisecond, 2}, {time.Second, 2}} {
		clock.add(step.advance)
		if _, err := c.Resolve(ctx, ref); err != nil {
			t.Fatal(err)
		}
		if got := heads(); got != step.want {
			t.Fatalf("step %d: %d HEADs, want %d", i, got, step.want)
		}
	}
	// Absence is remembered too (a tag pushed meanwhile shows up after the TTL).
	missing, _ := ParseRef(reg.Ref("app:v2"))
	for range 3 {
		c.Resolve(ctx, missing)
	}
	if n := reg.Count(http.MethodHead, "/manifests/v2$"); n != 1 {
		t.Fatalf("a missing tag was asked %d times within the TTL", n)
	}

	reg.Reset()
	off, _ := New(WithTagTTL(0))
	for range 3 {
		if _, err := off.Resolve(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	if got := heads(); got != 3 {
		t.Fatalf("WithTagTTL(0): %d HEADs, want 3", got)
	}
}

// DefaultCacheSize: the content cache is bounded in bytes, least recently
// used out first; an entry over a quarter of the budget is not kept.
func TestContentCacheBound(t *testing.T) {
	c := newContentCache(100)
	c.put("a", "", make([]byte, 20))
	c.put("b", "", make([]byte, 20))
	c.put("c", "", make([]byte, 20))
	c.get("a") // a is now the most recent
	c.put("d", "", make([]byte, 20))
	c.put("e", "", make([]byte, 20))
	c.put("f", "", make([]byte, 20)) // 120 bytes: the least recent (b) goes
	if _, ok := c.get("b"); ok {
		t.Error("b should have been evicted")
	}
	for _, k := range []string{"a", "c", "d", "e", "f"} {
		if _, ok := c.get(k); !ok {
			t.Errorf("%s evicted", k)
		}
	}
	if c.size > c.max {
		t.Errorf("size %d over max %d", c.size, c.max)
	}
	c.put("huge", "", make([]byte, 26))
	if _, ok := c.get("huge"); ok {
		t.Error("an entry over a quarter of the budget was kept")
	}
	if DefaultCacheSize < 4*MaxAttachmentSize {
		t.Error("DefaultCacheSize cannot hold a MaxAttachmentSize layer")
	}
	off := newContentCache(0)
	off.put("a", "", []byte("x"))
	if _, ok := off.get("a"); ok {
		t.Error("WithCacheSize(0) cached")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"Thu, 01 Jan 2026 00:00:10 GMT", 10 * time.Second, true},
		{"Wed, 31 Dec 2025 00:00:00 GMT", 0, true}, // past: now
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost:5000": true, "127.0.0.1:5000": true, "127.9.9.9": true, "[::1]:5000": true, "x.localhost": true,
		"10.0.0.1:5000": false, "192.168.1.1": false, "registry.local": false, "localhost.evil.com": false, "ghcr.io": false,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v", host, got)
		}
	}
}
