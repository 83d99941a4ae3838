package verify

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/vouchdev/vouch/registry"
)

// Option configures a [Verifier].
type Option func(*options) error

type options struct {
	trustedRootFile string
	trustedMaterial root.TrustedMaterial

	tufCacheDir string
	tufMirror   string
	tufRoot     []byte
	offline     bool
	httpClient  *http.Client

	ignoreSCT bool

	registry   *registry.Client
	maxWorkers int
}

// DefaultMaxWorkers is how many images [Verifier.Images] verifies at once
// unless [WithMaxWorkers] says otherwise. Verification is dominated by
// registry round trips, not CPU, so this is well above the core count.
const DefaultMaxWorkers = 32

// WithRegistry gives the Verifier the registry client that [Verifier.Image]
// and [Verifier.Images] read images and their attachments with. Share one
// long-lived client: it keeps connections, tokens and a content cache across
// calls. The default is none, and Image fails with [ReasonInvalidInput].
func WithRegistry(c *registry.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithRegistry: nil client")
		}
		o.registry = c
		return nil
	}
}

// WithMaxWorkers bounds how many images [Verifier.Images] verifies at once
// (cosign's --max-workers). Each image also fetches its signature and
// attestation layers concurrently. The default is DefaultMaxWorkers.
func WithMaxWorkers(n int) Option {
	return func(o *options) error {
		if n < 1 {
			return errors.New("WithMaxWorkers: the number of workers must be at least 1")
		}
		o.maxWorkers = n
		return nil
	}
}

// WithTrustedRootFile makes the Verifier trust the Sigstore trusted_root.json
// at path (Fulcio CAs, Rekor logs, CT logs, timestamp authorities). The file
// is read the first time a check needs it; nothing is fetched from the
// network. The default is no trusted root: keyless signatures and
// transparency-log checks fail until one is configured.
func WithTrustedRootFile(path string) Option {
	return func(o *options) error {
		if path == "" {
			return errors.New("WithTrustedRootFile: empty path")
		}
		o.trustedRootFile = path
		return nil
	}
}

// WithTrustedMaterial makes the Verifier trust tm, for example a
// *root.TrustedRoot built in memory or sigstore-go's VirtualSigstore in tests.
// Nothing is fetched from the network. The default is no trusted root.
func WithTrustedMaterial(tm root.TrustedMaterial) Option {
	return func(o *options) error {
		if tm == nil {
			return errors.New("WithTrustedMaterial: nil trusted material")
		}
		o.trustedMaterial = tm
		return nil
	}
}

// WithTUF makes the Verifier fetch the Sigstore public-good trusted root with
// sigstore-go's TUF client, caching TUF metadata in cacheDir (the vouch CLI
// passes ~/.cache/vouch/tuf). The fetch happens the first time a check needs
// the root, at most once per Verifier. The default is no trusted root.
func WithTUF(cacheDir string) Option {
	return func(o *options) error {
		if cacheDir == "" {
			return errors.New("WithTUF: empty cache directory")
		}
		o.tufCacheDir = cacheDir
		return nil
	}
}

// WithTUFRepository points WithTUF at another TUF repository: mirror is its
// base URL and rootJSON a trusted root.json of that repository (for example
// sigstore-go's tuf.StagingMirror and tuf.StagingRoot() for the Sigstore
// staging instance, or a private deployment). It needs WithTUF. The default
// is the Sigstore public-good repository, https://tuf-repo-cdn.sigstore.dev,
// with the root.json embedded in sigstore-go.
func WithTUFRepository(mirror string, rootJSON []byte) Option {
	return func(o *options) error {
		u, err := url.Parse(mirror)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("WithTUFRepository: the mirror must be an http(s) URL")
		}
		if len(rootJSON) == 0 {
			return errors.New("WithTUFRepository: empty root.json")
		}
		o.tufMirror = mirror
		o.tufRoot = rootJSON
		return nil
	}
}

// WithOffline makes WithTUF use only its on-disk cache: no network call is
// made, and a check that needs the trusted root fails with
// [ReasonTrustRootUnavailable] when the cache is empty or expired. With
// WithTrustedRootFile or WithTrustedMaterial it changes nothing (they never
// use the network). The default is online.
func WithOffline() Option {
	return func(o *options) error {
		o.offline = true
		return nil
	}
}

// WithHTTPClient sets the HTTP client used for TUF requests. The default is
// a client with a 30 s timeout per request.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) error {
		if c == nil {
			return errors.New("WithHTTPClient: nil client")
		}
		o.httpClient = c
		return nil
	}
}

// WithInsecureIgnoreSCT stops requiring an embedded Signed Certificate
// Timestamp in Fulcio certificates. Certificates from the public-good Fulcio
// always carry one; this exists for test deployments (sigstore-go's
// VirtualSigstore issues certificates without SCTs), as cosign's
// --insecure-ignore-sct does. The default requires one SCT.
func WithInsecureIgnoreSCT() Option {
	return func(o *options) error {
		o.ignoreSCT = true
		return nil
	}
}

func (o *options) validate() error {
	sources := 0
	for _, set := range []bool{o.trustedRootFile != "", o.trustedMaterial != nil, o.tufCacheDir != ""} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return errors.New("choose one source of trust material: WithTrustedRootFile, WithTrustedMaterial or WithTUF")
	}
	if o.tufMirror != "" && o.tufCacheDir == "" {
		return errors.New("WithTUFRepository needs WithTUF (the cache directory)")
	}
	if o.maxWorkers == 0 {
		o.maxWorkers = DefaultMaxWorkers
	}
	if o.tufCacheDir != "" && o.tufMirror == "" {
		o.tufMirror = tuf.DefaultMirror
		o.tufRoot = tuf.DefaultRoot()
	}
	return nil
}
