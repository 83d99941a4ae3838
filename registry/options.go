package registry

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Option configures a Client. Options are checked together in New:
// contradictory ones are an error.
type Option func(*options) error

type options struct {
	keychain     authn.Keychain
	insecure     bool
	caCerts      []byte
	proxy        func(*http.Request) (*url.URL, error)
	transport    http.RoundTripper
	retries      int
	backoff      time.Duration
	sigRepo      string
	userAgent    string
	tagTTL       time.Duration
	cacheSize    int64
	timeout      time.Duration
	concurrency  int
	setTransport bool
	openCacheDir string
	openCacheTTL time.Duration
}

func defaultOptions() options {
	return options{
		keychain:    authn.NewMultiKeychain(), // anonymous
		retries:     DefaultRetries,
		backoff:     200 * time.Millisecond,
		tagTTL:      DefaultTagTTL,
		cacheSize:   DefaultCacheSize,
		timeout:     DefaultTimeout,
		concurrency: 8,
	}
}

// WithKeychain sets where credentials come from, per registry. The CLI
// passes authn.DefaultKeychain (the Docker config and the credential helpers
// it names). The default is anonymous access.
func WithKeychain(k authn.Keychain) Option {
	return func(o *options) error {
		if k == nil {
			return errors.New("registry.WithKeychain: nil keychain")
		}
		o.keychain = k
		return nil
	}
}

// WithInsecureRegistry allows plain HTTP to any registry that does not
// answer HTTPS (cosign's --allow-insecure-registry). Loopback registries
// (localhost, 127.0.0.0/8, ::1) may always fall back to plain HTTP; nothing
// else may unless this is set. TLS certificates are always verified: for a
// private CA use WithCACerts. The default is false.
func WithInsecureRegistry(insecure bool) Option {
	return func(o *options) error {
		o.insecure = insecure
		return nil
	}
}

// WithCACerts adds PEM certificates to the system roots for registry TLS.
// The default is the system roots only.
func WithCACerts(pem []byte) Option {
	return func(o *options) error {
		if len(pem) == 0 {
			return errors.New("registry.WithCACerts: no PEM data")
		}
		o.caCerts = append(o.caCerts, pem...)
		return nil
	}
}

// WithProxy sets the HTTP proxy function (the CLI passes
// http.ProxyFromEnvironment). The default is no proxy: the library never
// reads environment variables.
func WithProxy(proxy func(*http.Request) (*url.URL, error)) Option {
	return func(o *options) error {
		o.proxy = proxy
		return nil
	}
}

// WithTransport replaces the HTTP transport (tests, custom dialers). The
// Client still adds authentication, retries and its limits on top. It
// cannot be combined with WithCACerts or WithProxy, which configure the
// default transport. The default is a clone of http.DefaultTransport with
// keep-alive, without the environment's proxy.
func WithTransport(t http.RoundTripper) Option {
	return func(o *options) error {
		if t == nil {
			return errors.New("registry.WithTransport: nil transport")
		}
		o.transport, o.setTransport = t, true
		return nil
	}
}

// WithRetries sets how many times a request answered 429 or 5xx, or lost
// to a network error, is tried again, with exponential backoff from
// WithRetryBackoff and honouring Retry-After, never past the deadline.
// The default is DefaultRetries.
func WithRetries(n int) Option {
	return func(o *options) error {
		if n < 0 || n > 10 {
			return fmt.Errorf("registry.WithRetries(%d): use 0 to 10", n)
		}
		o.retries = n
		return nil
	}
}

// WithRetryBackoff sets the wait before the first retry; each next one
// doubles it, up to 5 s. The default is 200 ms.
func WithRetryBackoff(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("registry.WithRetryBackoff(%v): negative", d)
		}
		o.backoff = d
		return nil
	}
}

// WithSignatureRepository makes every attachment lookup and write (the
// cosign .sig/.att/.sbom tags, the referrers API and the referrers fallback
// tag) use repo instead of the image's own repository, as cosign does with
// COSIGN_REPOSITORY. Images in OCI layouts keep their attachments in the
// layout. The default is the image's repository.
func WithSignatureRepository(repo string) Option {
	return func(o *options) error {
		if repo == "" {
			o.sigRepo = ""
			return nil
		}
		if _, err := name.NewRepository(repo, name.WeakValidation); err != nil {
			return fmt.Errorf("registry.WithSignatureRepository(%q): %w", repo, err)
		}
		o.sigRepo = repo
		return nil
	}
}

// WithUserAgent sets the User-Agent prefix of every request. The default
// is go-containerregistry's.
func WithUserAgent(ua string) Option {
	return func(o *options) error {
		o.userAgent = ua
		return nil
	}
}

// WithTagTTL sets how long tag answers (digest or absence) and referrers
// listings are reused; 0 disables reuse. Writes through the same Client
// invalidate what they change. The default is DefaultTagTTL.
func WithTagTTL(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("registry.WithTagTTL(%v): negative", d)
		}
		o.tagTTL = d
		return nil
	}
}

// WithCacheSize bounds the in-memory cache of manifests and content by
// digest, in bytes; 0 disables it. The default is DefaultCacheSize.
func WithCacheSize(bytes int64) Option {
	return func(o *options) error {
		if bytes < 0 {
			return fmt.Errorf("registry.WithCacheSize(%d): negative", bytes)
		}
		o.cacheSize = bytes
		return nil
	}
}

// WithDefaultTimeout bounds each call whose context has no deadline. The
// default is DefaultTimeout.
func WithDefaultTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("registry.WithDefaultTimeout(%v): must be positive", d)
		}
		o.timeout = d
		return nil
	}
}

// WithConcurrency bounds the parallel requests one Discover call makes for
// referrer manifests. The default is 8.
func WithConcurrency(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 64 {
			return fmt.Errorf("registry.WithConcurrency(%d): use 1 to 64", n)
		}
		o.concurrency = n
		return nil
	}
}

// WithOpenRegistryCache remembers in dir, across processes, which
// registries need no authentication (their ping answered without a
// challenge) and over which scheme, for ttl (0 means
// DefaultOpenRegistryTTL), so a later Client skips the ping round trip to
// them. Only that answer is remembered: registries that ask for
// authentication are pinged every time, since a remembered authentication
// realm could send credentials elsewhere. A remembered plain-HTTP answer is
// used only where plain HTTP is allowed anyway. A request that answers 401,
// or cannot connect, under a remembered answer forgets it, pings and tries
// again. The CLI passes a directory under the user's cache directory. The
// default remembers nothing between Clients.
func WithOpenRegistryCache(dir string, ttl time.Duration) Option {
	return func(o *options) error {
		if dir == "" {
			return errors.New("registry.WithOpenRegistryCache: empty directory")
		}
		if ttl < 0 {
			return fmt.Errorf("registry.WithOpenRegistryCache: negative TTL %s", ttl)
		}
		if ttl == 0 {
			ttl = DefaultOpenRegistryTTL
		}
		o.openCacheDir, o.openCacheTTL = dir, ttl
		return nil
	}
}
