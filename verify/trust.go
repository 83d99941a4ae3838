package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// MaxTrustedRootSize caps a trusted_root.json read from a file.
const MaxTrustedRootSize = 4 << 20

// trust loads the trusted root lazily, once, the first time a check needs it.
// A failed load is not remembered: the next check tries again (a network
// error may be transient). Concurrent callers share one load and each gives
// up when its own context ends.
type trust struct {
	load func(ctx context.Context) (root.TrustedMaterial, error)

	tm    atomic.Pointer[root.TrustedMaterial]
	mu    sync.Mutex
	wait  chan struct{} // closed when the running load ends; nil when none runs
	loads atomic.Int32  // loads started, for tests
}

func (t *trust) get(ctx context.Context) (root.TrustedMaterial, error) {
	for {
		if tm := t.tm.Load(); tm != nil {
			return *tm, nil
		}
		t.mu.Lock()
		if tm := t.tm.Load(); tm != nil {
			t.mu.Unlock()
			return *tm, nil
		}
		if t.wait == nil {
			done := make(chan struct{})
			t.wait = done
			t.mu.Unlock()
			t.loads.Add(1)
			tm, err := t.load(ctx)
			t.mu.Lock()
			if err == nil {
				t.tm.Store(&tm)
			}
			t.wait = nil
			t.mu.Unlock()
			close(done)
			return tm, err
		}
		wait := t.wait
		t.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, errorf(ReasonTimeout, "waiting for the trusted root: %w", ctx.Err())
		}
	}
}

// loader returns how to load the trusted root for o, or nil when o has none.
func (o *options) loader() func(ctx context.Context) (root.TrustedMaterial, error) {
	switch {
	case o.trustedMaterial != nil:
		tm := o.trustedMaterial
		return func(context.Context) (root.TrustedMaterial, error) { return tm, nil }
	case o.trustedRootFile != "":
		path := o.trustedRootFile
		return func(context.Context) (root.TrustedMaterial, error) { return trustedRootFromFile(path) }
	case o.tufCacheDir != "":
		return o.loadTUF
	}
	return func(context.Context) (root.TrustedMaterial, error) {
		return nil, errorf(ReasonTrustRootUnavailable,
			"this check needs the Sigstore trusted root and none is configured: pass a trusted_root.json (--trusted-root) or use the TUF root (WithTUF)")
	}
}

func trustedRootFromFile(path string) (root.TrustedMaterial, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errorf(ReasonTrustRootUnavailable, "reading the trusted root: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxTrustedRootSize+1))
	if err != nil {
		return nil, errorf(ReasonTrustRootUnavailable, "reading the trusted root %s: %w", path, err)
	}
	if len(b) > MaxTrustedRootSize {
		return nil, errorf(ReasonTrustRootUnavailable, "trusted root %s is larger than %d bytes", path, MaxTrustedRootSize)
	}
	tr, err := root.NewTrustedRootFromJSON(b)
	if err != nil {
		return nil, errorf(ReasonTrustRootUnavailable, "trusted root %s is not a valid Sigstore trusted_root.json: %w", path, err)
	}
	return tr, nil
}

// loadTUF fetches trusted_root.json through sigstore-go's TUF client.
func (o *options) loadTUF(ctx context.Context) (root.TrustedMaterial, error) {
	client := o.httpClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	topts := &tuf.Options{
		Root:              o.tufRoot,
		CachePath:         o.tufCacheDir,
		RepositoryBaseURL: o.tufMirror,
		Fetcher:           &tufFetcher{ctx: ctx, client: client, offline: o.offline},
		Context:           ctx,
		// Use the cache as long as its metadata has not expired; refresh
		// after a day, as cosign and sigstore-go do.
		CacheValidity: 1,
		ForceCache:    o.offline,
	}
	c, err := tuf.New(topts)
	if err == nil {
		var tr *root.TrustedRoot
		tr, err = root.GetTrustedRoot(c)
		if err == nil {
			return tr, nil
		}
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, errorf(ReasonTimeout, "fetching the Sigstore trusted root from %s: %w", o.tufMirror, cerr)
	}
	if o.offline {
		return nil, errorf(ReasonTrustRootUnavailable,
			"offline and the TUF cache in %s has no valid trusted root for %s: run once online, or pass a trusted_root.json (--trusted-root): %w",
			o.tufCacheDir, o.tufMirror, err)
	}
	return nil, errorf(ReasonTrustRootUnavailable,
		"fetching the Sigstore trusted root from %s: %w (pass a trusted_root.json with --trusted-root to verify without the network)", o.tufMirror, err)
}

// errOffline is what the TUF fetcher returns instead of a request when
// offline.
var errOffline = errors.New("offline: no network requests allowed")

// tufFetcher is go-tuf's fetcher.Fetcher with the caller's context, a size
// cap and an offline switch. (go-tuf's DefaultFetcher ignores contexts, and
// its NewFetcherWithRoundTripper modifies http.DefaultClient.)
type tufFetcher struct {
	ctx     context.Context
	client  *http.Client
	offline bool
}

var _ fetcher.Fetcher = (*tufFetcher)(nil)

func (f *tufFetcher) DownloadFile(urlPath string, maxLength int64, _ time.Duration) ([]byte, error) {
	if f.offline {
		return nil, errOffline
	}
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, urlPath, nil)
	if err != nil {
		return nil, err
	}
	res, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		// go-tuf needs this type: a 404 on the next root version means "no newer root".
		return nil, &metadata.ErrDownloadHTTP{StatusCode: res.StatusCode, URL: urlPath}
	}
	if n, err := strconv.ParseInt(res.Header.Get("Content-Length"), 10, 64); err == nil && n > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("download failed for %s, length %d is larger than expected %d", urlPath, n, maxLength)}
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, maxLength+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("download failed for %s, longer than expected %d", urlPath, maxLength)}
	}
	return b, nil
}
