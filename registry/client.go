package registry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sync/singleflight"
)

// Client reads and writes images and their attachments in registries and
// OCI layouts. It is safe for concurrent use and meant to be long-lived:
// it keeps one HTTP transport (keep-alive connections), one ping per
// registry, one token per registry and scope, a bounded cache of content
// by digest, a short-lived cache of tag answers, and collapses concurrent
// identical fetches into one request.
type Client struct {
	o    options
	base http.RoundTripper // shared: scheme guard → user agent → HTTP transport
	now  func() time.Time

	sf      singleflight.Group
	content *contentCache
	tags    *tagCache

	open *openCache // nil unless WithOpenRegistryCache

	mu      sync.Mutex
	pings   map[string]*transport.Challenge // by registry host
	assumed map[string]bool                 // hosts whose ping answer came from the open-registry cache
	auths   map[string]http.RoundTripper    // by registry host + scope
	noRefs  map[string]bool                 // registries whose referrers API is missing (writes)

	layoutMu sync.Mutex // serialises index.json updates of layouts
}

// New returns a Client.
func New(opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.setTransport && (o.caCerts != nil || o.proxy != nil) {
		return nil, errors.New("registry.New: WithTransport cannot be combined with WithCACerts or WithProxy; configure your transport instead")
	}
	rt := o.transport
	if rt == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = o.proxy
		t.MaxIdleConnsPerHost = 32
		if o.caCerts != nil {
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(o.caCerts) {
				return nil, errors.New("registry.WithCACerts: no certificate found in the PEM data")
			}
			t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		}
		rt = t
	}
	c := &Client{
		o:       o,
		now:     time.Now,
		content: newContentCache(o.cacheSize),
		pings:   map[string]*transport.Challenge{},
		assumed: map[string]bool{},
		auths:   map[string]http.RoundTripper{},
		noRefs:  map[string]bool{},
	}
	c.tags = newTagCache(o.tagTTL, func() time.Time { return c.now() })
	if o.openCacheDir != "" {
		c.open = &openCache{dir: o.openCacheDir, ttl: o.openCacheTTL, now: func() time.Time { return c.now() }}
	}
	c.base = &schemeGuard{inner: transport.NewUserAgent(rt, o.userAgent), allowHTTP: c.plainHTTPAllowed}
	return c, nil
}

// callCtx applies the default timeout when ctx has no deadline.
func (c *Client) callCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.o.timeout)
}

// plainHTTPAllowed: loopback always, anything else only when the caller
// allowed insecure registries.
func (c *Client) plainHTTPAllowed(hostport string) bool {
	return c.o.insecure || isLoopback(hostport)
}

func isLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// schemeGuard refuses plain HTTP where it is not allowed, including on
// redirects: a registry cannot talk the client down to HTTP.
type schemeGuard struct {
	inner     http.RoundTripper
	allowHTTP func(host string) bool
}

func (g *schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !g.allowHTTP(req.URL.Host) {
		return nil, fmt.Errorf("refusing plain HTTP to %s: it is not a loopback address; allow it explicitly (WithInsecureRegistry, --allow-insecure-registry) or serve HTTPS", req.URL.Host)
	}
	return g.inner.RoundTrip(req)
}

// backend is where manifests and blobs live: a registry repository or an
// OCI layout directory.
type backend interface {
	// String names it: "host/repo" or "oci-dir:PATH".
	String() string
	// getManifest fetches a manifest by tag or digest, capped and checked
	// against its digest. size is the size a descriptor claimed, or -1.
	getManifest(ctx context.Context, id string, size int64) (raw []byte, mediaType string, err error)
	// headManifest describes a manifest by tag or digest.
	headManifest(ctx context.Context, id string) (v1.Descriptor, error)
	// getBlob fetches a blob of known digest and size, capped at max.
	getBlob(ctx context.Context, digest string, size, max int64) ([]byte, error)
	// referrers lists the referrers of digest; ok is false when the source
	// has no referrers API.
	referrers(ctx context.Context, digest string) (descs []v1.Descriptor, ok bool, err error)
	// putBlob stores content under its digest, unless already there.
	putBlob(ctx context.Context, digest string, data []byte) error
	// putManifest stores a manifest under id (tag or digest). indexed
	// reports whether the source itself records the manifest's subject (a
	// referrers API answered with OCI-Subject, or a layout).
	putManifest(ctx context.Context, id string, raw []byte, mediaType string, subject string) (indexed bool, err error)
}

// backendFor returns the backend of r's repository.
func (c *Client) backendFor(r Ref) backend {
	if r.IsLayout() {
		return &layoutRepo{c: c, dir: r.layout}
	}
	return &remoteRepo{c: c, repo: r.repo}
}

// attachmentBackend is where r's attachments live: the signature
// repository if one is set, else r's own.
func (c *Client) attachmentBackend(r Ref) (backend, error) {
	if c.o.sigRepo == "" || r.IsLayout() {
		return c.backendFor(r), nil
	}
	repo, err := name.NewRepository(c.o.sigRepo, name.WeakValidation)
	if err != nil {
		return nil, err
	}
	return &remoteRepo{c: c, repo: repo}, nil
}

// transportFor returns an authenticated round tripper for repo and the URL
// scheme to use. The registry is pinged once per Client; a token is
// fetched once per registry and scope and refreshed by ggcr's bearer
// transport when it expires.
func (c *Client) transportFor(ctx context.Context, repo name.Repository, push bool) (http.RoundTripper, string, error) {
	host := repo.RegistryStr()
	ch, err := c.ping(ctx, host)
	if err != nil {
		return nil, "", err
	}
	scheme := "https"
	if ch.Insecure {
		scheme = "http"
	}
	authScheme := strings.ToLower(ch.Scheme)
	if authScheme == "" {
		return c.base, scheme, nil // the registry asked for no authentication
	}
	action := transport.PullScope
	if push {
		action = transport.PushScope + "," + transport.PullScope
	}
	scope := repo.Scope(action)
	key := host + "\x00" + scope
	if authScheme == "basic" {
		key = host + "\x00basic\x00" + repo.RepositoryStr()
	}
	c.mu.Lock()
	rt, ok := c.auths[key]
	c.mu.Unlock()
	if ok {
		return rt, scheme, nil
	}
	v, err := c.once(ctx, "auth\x00"+key, func(ctx context.Context) (any, error) {
		reg := c.registryName(host)
		auth, err := authn.Resolve(ctx, c.o.keychain, repo)
		if err != nil {
			return nil, &Error{Op: "authenticate", Target: host, Err: fmt.Errorf("%w: reading credentials: %v", ErrUnauthorized, err)}
		}
		var rt http.RoundTripper
		switch authScheme {
		case "basic":
			rt, err = transport.FromToken(reg, auth, c.base, ch, &transport.Token{})
		case "bearer":
			var tok *transport.Token
			tok, err = transport.Exchange(ctx, reg, auth, c.base, []string{scope}, ch)
			if err == nil {
				rt, err = transport.FromToken(reg, auth, c.base, ch, tok)
			}
		default:
			err = fmt.Errorf("unsupported authentication scheme %q", ch.Scheme)
		}
		if err != nil {
			return nil, wrapTransportErr("authenticate", host, err)
		}
		c.mu.Lock()
		c.auths[key] = rt
		c.mu.Unlock()
		return rt, nil
	})
	if err != nil {
		return nil, "", err
	}
	return v.(http.RoundTripper), scheme, nil
}

func (c *Client) registryName(host string) name.Registry {
	opts := []name.Option{name.WeakValidation}
	if c.plainHTTPAllowed(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil { // host came from a parsed reference
		reg, _ = name.NewRegistry(host, name.WeakValidation)
	}
	return reg
}

// ping learns, once per registry, its scheme and authentication challenge.
func (c *Client) ping(ctx context.Context, host string) (*transport.Challenge, error) {
	c.mu.Lock()
	ch, ok := c.pings[host]
	c.mu.Unlock()
	if ok {
		return ch, nil
	}
	if c.open != nil {
		// A registry that needed no authentication when a recent process
		// pinged it most likely still does not: skip the round trip. A 401
		// or a connection failure under this guess forgets it (forgetAssumed).
		if scheme := c.open.lookup(host); scheme == "https" || (scheme == "http" && c.plainHTTPAllowed(host)) {
			ch := &transport.Challenge{Insecure: scheme == "http"}
			c.mu.Lock()
			c.pings[host], c.assumed[host] = ch, true
			c.mu.Unlock()
			return ch, nil
		}
	}
	v, err := c.once(ctx, "ping\x00"+host, func(ctx context.Context) (any, error) {
		var lastErr error
		for attempt := 0; ; attempt++ {
			ch, err := transport.Ping(ctx, c.registryName(host), c.base)
			if err == nil {
				c.mu.Lock()
				c.pings[host] = ch
				c.mu.Unlock()
				if c.open != nil && ch.Scheme == "" {
					scheme := "https"
					if ch.Insecure {
						scheme = "http"
					}
					c.open.remember(host, scheme)
				}
				return ch, nil
			}
			lastErr = wrapTransportErr("ping", host, err)
			var te *transport.Error
			temporary := !errors.As(err, &te) || te.Temporary()
			if !temporary || attempt >= c.o.retries || ctx.Err() != nil {
				return nil, lastErr
			}
			if !c.sleep(ctx, c.backoffFor(attempt, "")) {
				return nil, lastErr
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return v.(*transport.Challenge), nil
}

// isAssumed reports whether host's ping answer came from the open-registry cache.
func (c *Client) isAssumed(host string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.assumed[host]
}

// forgetAssumed drops a ping answer taken from the open-registry cache, in
// memory and on disk: the caller's retry then pings for real.
func (c *Client) forgetAssumed(host string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.assumed[host] {
		return // another request already forgot it
	}
	delete(c.assumed, host)
	delete(c.pings, host)
	c.open.forget(host)
}

// wrapTransportErr turns an error from ggcr's transport into an *Error.
func wrapTransportErr(op, target string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var te *transport.Error
	if errors.As(err, &te) {
		code, msg := "", ""
		if len(te.Errors) > 0 {
			code, msg = string(te.Errors[0].Code), te.Errors[0].Message
		}
		return &Error{Op: op, Target: target, StatusCode: te.StatusCode, Code: code, Err: statusError(te.StatusCode, code, msg)}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &Error{Op: op, Target: target, Err: contextErr(err)}
	}
	return &Error{Op: op, Target: target, Err: fmt.Errorf("%w: %v", ErrUnavailable, err)}
}

// contextErr keeps the context error in the chain with a readable message.
func contextErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("timed out: %w", context.DeadlineExceeded)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("cancelled: %w", context.Canceled)
	}
	return err
}

// once collapses concurrent identical operations. fn runs with the first
// caller's context; a caller whose own context is still alive when the
// shared run died of the first caller's deadline runs fn again itself.
func (c *Client) once(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := c.sf.DoChan(key, func() (any, error) { return fn(ctx) })
	select {
	case res := <-ch:
		if res.Err != nil && ctx.Err() == nil &&
			(errors.Is(res.Err, context.DeadlineExceeded) || errors.Is(res.Err, context.Canceled)) {
			return fn(ctx)
		}
		return res.Val, res.Err
	case <-ctx.Done():
		return nil, contextErr(ctx.Err())
	}
}

func (c *Client) backoffFor(attempt int, retryAfter string) time.Duration {
	if d, ok := parseRetryAfter(retryAfter, c.now()); ok {
		return d
	}
	d := c.o.backoff << attempt
	if d > 5*time.Second {
		d = 5 * time.Second
	}
	return d
}

// sleep waits d unless ctx ends first or d would pass the deadline.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var secs int
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 && fmt.Sprint(secs) == v {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
