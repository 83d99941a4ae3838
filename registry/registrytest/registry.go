package registrytest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Registry is a registry for tests, on a free 127.0.0.1 port, that logs
// every request it answers and can be made to misbehave with hooks.
type Registry struct {
	// Host is "127.0.0.1:PORT"; image references start with it.
	Host string
	// URL is "http://127.0.0.1:PORT".
	URL string

	inner  http.Handler
	cfg    config
	mu     sync.Mutex
	log    []Request
	hooks  []*hookState
	tokens map[string]string // token -> scope
	scopes map[string]int    // token requests per scope
}

// TokenRequests counts the token requests (WithTokenAuth) per scope
// ("repository:app:pull").
func (r *Registry) TokenRequests() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.scopes {
		out[k] = v
	}
	return out
}

// authorize answers the request itself (a challenge or a token) when
// authentication says so, and reports whether it did.
func (r *Registry) authorize(w http.ResponseWriter, req *http.Request) bool {
	switch r.cfg.auth {
	case "basic":
		u, p, ok := req.BasicAuth()
		if ok && u == r.cfg.user && p == r.cfg.pwd {
			return false
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="registrytest"`)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return true
	case "bearer":
		if req.URL.Path == "/token" {
			u, p, _ := req.BasicAuth()
			if r.cfg.user != "" && (u != r.cfg.user || p != r.cfg.pwd) {
				w.WriteHeader(http.StatusUnauthorized)
				return true
			}
			scope := req.URL.Query().Get("scope")
			r.mu.Lock()
			tok := fmt.Sprintf("token-%d", len(r.tokens)+1)
			r.tokens[tok] = scope
			if r.scopes == nil {
				r.scopes = map[string]int{}
			}
			r.scopes[scope]++
			r.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"token":%q,"expires_in":300}`, tok)
			return true
		}
		r.mu.Lock()
		scope, ok := r.tokens[strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")]
		r.mu.Unlock()
		want := ""
		if parts := strings.Split(strings.TrimPrefix(req.URL.Path, "/v2/"), "/"); len(parts) > 2 {
			repo := strings.Join(parts[:len(parts)-2], "/")
			if parts[len(parts)-2] == "uploads" {
				repo = strings.Join(parts[:len(parts)-3], "/")
			}
			action := "pull"
			if req.Method != http.MethodGet && req.Method != http.MethodHead {
				action = "push"
			}
			want = "repository:" + repo + ":" + action
		}
		if ok && (want == "" || scopeCovers(scope, want)) {
			return false
		}
		challenge := fmt.Sprintf(`Bearer realm="%s/token",service="registrytest"`, r.URL)
		if want != "" {
			challenge += fmt.Sprintf(`,scope="%s"`, want)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return true
	}
	return false
}

// scopeCovers: "repository:app:push,pull" covers "repository:app:pull".
func scopeCovers(have, want string) bool {
	i := strings.LastIndex(want, ":")
	for _, h := range strings.Fields(have) {
		j := strings.LastIndex(h, ":")
		if j < 0 || i < 0 || h[:j] != want[:i] {
			continue
		}
		for _, a := range strings.Split(h[j+1:], ",") {
			if a == want[i+1:] {
				return true
			}
		}
	}
	return false
}

// Request is one request the registry answered.
type Request struct {
	Method string
	Path   string
	Query  string
	Status int
}

func (r Request) String() string {
	s := r.Method + " " + r.Path
	if r.Query != "" {
		s += "?" + r.Query
	}
	return fmt.Sprintf("%s -> %d", s, r.Status)
}

// Option configures New.
type Option func(*config)

type config struct {
	referrers bool
	auth      string // "", "basic", "bearer"
	user, pwd string
}

// WithBasicAuth makes the registry demand HTTP Basic credentials user:pass
// on every /v2/ request.
func WithBasicAuth(user, pass string) Option {
	return func(c *config) { c.auth, c.user, c.pwd = "basic", user, pass }
}

// WithTokenAuth makes the registry demand bearer tokens, as Docker Hub and
// most registries do: requests without one are answered 401 with a Bearer
// challenge whose realm is the registry's own /token endpoint, which hands
// out a token per scope to user:pass (or to anyone when user is "").
// Token requests are logged like the others (path /token) and counted by
// scope in TokenRequests.
func WithTokenAuth(user, pass string) Option {
	return func(c *config) { c.auth, c.user, c.pwd = "bearer", user, pass }
}

// WithoutReferrers makes the registry answer 404 on the referrers API, as
// distribution 2.8 does, so clients must use the fallback tag.
func WithoutReferrers() Option { return func(c *config) { c.referrers = false } }

// New starts go-containerregistry's in-process registry (with the OCI 1.1
// referrers API unless WithoutReferrers) on httptest. It stops when the
// test ends.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	c := config{referrers: true}
	for _, o := range opts {
		o(&c)
	}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)), registry.WithReferrersSupport(c.referrers))
	r := serve(t, h)
	r.cfg = c
	return r
}

func serve(t testing.TB, inner http.Handler) *Registry {
	r := &Registry{inner: inner, tokens: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(r.serveHTTP))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	r.Host = srv.Listener.Addr().String()
	return r
}

// Ref returns Host + "/" + repo (add ":tag" or "@digest" yourself).
func (r *Registry) Ref(repo string) string { return r.Host + "/" + repo }

// Hook changes the answer to matching requests. Hooks are tried in the
// order they were added; the first that matches (and has uses left) acts.
type Hook struct {
	// Method matches the HTTP method; "" matches any.
	Method string
	// Path is a regular expression matched against the URL path ("/v2/…");
	// "" matches any.
	Path string
	// Times limits the hook to the first Times matching requests; 0 means
	// every one.
	Times int

	// Delay waits before answering (or until the client gives up).
	Delay time.Duration
	// Status answers with this status and a registry error body instead of
	// the registry's answer.
	Status int
	// Header adds headers to the answer (Status answers and passed-through
	// ones alike), e.g. Retry-After.
	Header http.Header
	// Body replaces the registry's body, keeping its status and headers
	// (Content-Length is fixed up, Docker-Content-Digest is kept: a lie).
	Body []byte
	// Oversize answers 200 with this many bytes of filler, streamed without
	// holding them in memory, and a matching Content-Length unless
	// NoContentLength.
	Oversize int64
	// NoContentLength drops Content-Length from Body and Oversize answers.
	// Oversize answers are application/vnd.oci.image.manifest.v1+json unless
	// Header sets a Content-Type.
	NoContentLength bool
	// Handler, when set, answers instead of everything above.
	Handler http.HandlerFunc
}

type hookState struct {
	Hook
	re   *regexp.Regexp
	used int
}

// On adds a hook. It panics on a bad Path expression (a test bug).
func (r *Registry) On(h Hook) {
	hs := &hookState{Hook: h}
	if h.Path != "" {
		hs.re = regexp.MustCompile(h.Path)
	}
	r.mu.Lock()
	r.hooks = append(r.hooks, hs)
	r.mu.Unlock()
}

// ClearHooks removes every hook.
func (r *Registry) ClearHooks() {
	r.mu.Lock()
	r.hooks = nil
	r.mu.Unlock()
}

// Requests returns the requests answered so far.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.log...)
}

// Count counts the requests answered so far whose method matches (""
// any) and whose path matches the regular expression pathRE ("" any).
func (r *Registry) Count(method, pathRE string) int {
	re := regexp.MustCompile(pathRE)
	n := 0
	for _, q := range r.Requests() {
		if (method == "" || q.Method == method) && re.MatchString(q.Path) {
			n++
		}
	}
	return n
}

// Reset forgets the requests logged so far.
func (r *Registry) Reset() {
	r.mu.Lock()
	r.log = nil
	r.mu.Unlock()
}

func (r *Registry) hookFor(req *http.Request) *Hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.hooks {
		if h.Method != "" && h.Method != req.Method {
			continue
		}
		if h.re != nil && !h.re.MatchString(req.URL.Path) {
			continue
		}
		if h.Times > 0 && h.used >= h.Times {
			continue
		}
		h.used++
		hook := h.Hook
		return &hook
	}
	return nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *Registry) serveHTTP(w http.ResponseWriter, req *http.Request) {
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		r.mu.Lock()
		r.log = append(r.log, Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Status: rec.status})
		r.mu.Unlock()
	}()
	if r.authorize(rec, req) {
		return
	}
	h := r.hookFor(req)
	if h == nil {
		r.inner.ServeHTTP(rec, req)
		return
	}
	if h.Delay > 0 {
		select {
		case <-time.After(h.Delay):
		case <-req.Context().Done():
			rec.status = 499 // client gave up
			return
		}
	}
	for k, v := range h.Header {
		rec.Header()[k] = v
	}
	switch {
	case h.Handler != nil:
		h.Handler(rec, req)
	case h.Status != 0:
		rec.Header().Set("Content-Type", "application/json")
		rec.WriteHeader(h.Status)
		fmt.Fprintf(rec, `{"errors":[{"code":%q,"message":"injected by registrytest"}]}`, codeFor(h.Status))
	case h.Oversize > 0:
		if rec.Header().Get("Content-Type") == "" {
			rec.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		}
		if !h.NoContentLength {
			rec.Header().Set("Content-Length", strconv.FormatInt(h.Oversize, 10))
		}
		rec.WriteHeader(http.StatusOK)
		if req.Method != http.MethodHead {
			streamFiller(rec, h.Oversize)
		}
	case h.Body != nil:
		cap := httptest.NewRecorder()
		r.inner.ServeHTTP(cap, req)
		for k, v := range cap.Header() {
			rec.Header()[k] = v
		}
		if h.NoContentLength {
			rec.Header().Del("Content-Length")
		} else {
			rec.Header().Set("Content-Length", strconv.Itoa(len(h.Body)))
		}
		rec.WriteHeader(cap.Code)
		if req.Method != http.MethodHead {
			rec.Write(h.Body)
		}
	default:
		r.inner.ServeHTTP(rec, req)
	}
}

// streamFiller writes n bytes of '{' in chunks, stopping when the client
// goes away.
func streamFiller(w http.ResponseWriter, n int64) {
	chunk := bytes.Repeat([]byte("{"), 32<<10)
	for n > 0 {
		k := int64(len(chunk))
		if n < k {
			k = n
		}
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

func codeFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "MANIFEST_UNKNOWN"
	case http.StatusUnauthorized:
		return "UNAUTHORIZED"
	case http.StatusForbidden:
		return "DENIED"
	case http.StatusTooManyRequests:
		return "TOOMANYREQUESTS"
	case http.StatusMethodNotAllowed:
		return "UNSUPPORTED"
	}
	return "UNKNOWN"
}

// PushRandomImage pushes a small random image to ref (repo:tag, relative to
// the registry) and returns its digest.
func (r *Registry) PushRandomImage(t testing.TB, ref string) string {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r.PushImage(t, ref, img)
}

// PushImage pushes img to ref (repo:tag or repo@digest, relative to the
// registry) and returns its digest.
func (r *Registry) PushImage(t testing.TB, ref string, img v1.Image) string {
	t.Helper()
	n, err := name.ParseReference(r.Ref(ref))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(n, img, r.remoteAuth()...); err != nil {
		t.Fatalf("push %s: %v", n, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// PushRandomIndex pushes an index of n random images (platforms linux/amd64,
// linux/arm64, linux/s390x, …) to ref and returns its digest.
func (r *Registry) PushRandomIndex(t testing.TB, ref string, n int) string {
	t.Helper()
	idx := RandomIndex(t, n)
	nr, err := name.ParseReference(r.Ref(ref))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(nr, idx, r.remoteAuth()...); err != nil {
		t.Fatalf("push %s: %v", nr, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// remoteAuth is how the push helpers authenticate.
func (r *Registry) remoteAuth() []remote.Option {
	if r.cfg.user == "" {
		return nil
	}
	return []remote.Option{remote.WithAuth(&authn.Basic{Username: r.cfg.user, Password: r.cfg.pwd})}
}

// Require skips the test with the message, or fails it when the
// environment variable VOUCH_REQUIRE_INTEGRATION is "1" (CI), so that
// "the docker-registry binary is missing" can never silently pass in CI.
func Require(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("VOUCH_REQUIRE_INTEGRATION") == "1" {
		t.Fatalf("%s (mandatory: VOUCH_REQUIRE_INTEGRATION=1)", msg)
	}
	t.Skip(msg)
}

// Platforms used by RandomIndex, in order.
var Platforms = []v1.Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
	{OS: "linux", Architecture: "s390x"},
	{OS: "linux", Architecture: "ppc64le"},
	{OS: "windows", Architecture: "amd64"},
}

// RandomIndex builds an OCI index of n (at most len(Platforms)) random
// images, one per platform of Platforms.
func RandomIndex(t testing.TB, n int) v1.ImageIndex {
	t.Helper()
	if n > len(Platforms) {
		t.Fatalf("RandomIndex: at most %d images", len(Platforms))
	}
	var adds []mutate.IndexAddendum
	for i := 0; i < n; i++ {
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		p := Platforms[i]
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	return mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), adds...)
}
