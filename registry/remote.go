package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestAccept is every manifest media type vouch reads.
var manifestAccept = strings.Join([]string{
	string(types.OCIManifestSchema1),
	string(types.OCIImageIndex),
	string(types.DockerManifestSchema2),
	string(types.DockerManifestList),
}, ",")

// remoteRepo is a repository in a registry.
type remoteRepo struct {
	c    *Client
	repo name.Repository
}

var _ backend = (*remoteRepo)(nil)

func (r *remoteRepo) String() string { return r.repo.Name() }

func (r *remoteRepo) target(id string) string {
	if strings.Contains(id, ":") {
		return r.repo.Name() + "@" + id
	}
	return r.repo.Name() + ":" + id
}

// do sends one request (retrying 429, 5xx and network errors) and returns
// the final response, whatever its status. Transport failures come back as
// *Error.
func (r *remoteRepo) do(ctx context.Context, op, target string, push bool, method, path string, hdr http.Header, body []byte) (*http.Response, error) {
	resp, assumed, err := r.send(ctx, op, target, push, method, path, hdr, body)
	if assumed && ctx.Err() == nil && (err != nil || resp.StatusCode == http.StatusUnauthorized) {
		// The remembered "no authentication, this scheme" answer was wrong:
		// forget it, ping for real and send the request again (once).
		if resp != nil {
			drain(resp)
		}
		r.c.forgetAssumed(r.repo.RegistryStr())
		resp, _, err = r.send(ctx, op, target, push, method, path, hdr, body)
	}
	return resp, err
}

// send is do without the second chance; assumed reports whether the
// registry's ping answer came from the open-registry cache.
func (r *remoteRepo) send(ctx context.Context, op, target string, push bool, method, path string, hdr http.Header, body []byte) (resp *http.Response, assumed bool, err error) {
	rt, scheme, err := r.c.transportFor(ctx, r.repo, push)
	if err != nil {
		return nil, false, err
	}
	assumed = r.c.isAssumed(r.repo.RegistryStr())
	u := path
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		u = scheme + "://" + r.repo.RegistryStr() + path
	}
	client := &http.Client{
		Transport: rt,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return errors.New("more than 5 redirects")
			}
			return nil
		},
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			return nil, assumed, &Error{Op: op, Target: target, Err: err}
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		resp, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, assumed, &Error{Op: op, Target: target, Err: contextErr(ctx.Err())}
			}
			// Under a remembered ping answer, a connection failure may be
			// the wrong scheme: do pings for real rather than retrying.
			if !assumed && attempt < r.c.o.retries && r.c.sleep(ctx, r.c.backoffFor(attempt, "")) {
				continue
			}
			return nil, assumed, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: %v", ErrUnavailable, redactURLError(err))}
		}
		if retryable(resp.StatusCode) && attempt < r.c.o.retries {
			wait := r.c.backoffFor(attempt, resp.Header.Get("Retry-After"))
			if r.c.sleep(ctx, wait) {
				drain(resp)
				continue
			}
		}
		return resp, assumed, nil
	}
}

// redactURLError drops the query string (upload sessions, signed blob
// URLs) from URL errors.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User = "", nil
			return fmt.Errorf("%s %s: %v", ue.Op, u.Redacted(), ue.Err)
		}
	}
	return err
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// fail turns a non-success response into an *Error and closes it.
func fail(op, target string, resp *http.Response) error {
	defer resp.Body.Close()
	te, _ := transport.CheckError(resp).(*transport.Error)
	code, msg := "", ""
	if te != nil && len(te.Errors) > 0 {
		code, msg = string(te.Errors[0].Code), te.Errors[0].Message
	}
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return &Error{Op: op, Target: target, StatusCode: resp.StatusCode, Code: code, Err: statusError(resp.StatusCode, code, msg)}
}

// readBody reads at most max bytes, refusing a larger Content-Length before
// reading and a longer body while reading.
func readBody(ctx context.Context, op, target string, resp *http.Response, max int64) ([]byte, error) {
	defer resp.Body.Close()
	if resp.ContentLength > max {
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: the registry announced %d bytes, over the limit of %d", ErrTooLarge, resp.ContentLength, max)}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, &Error{Op: op, Target: target, Err: contextErr(ctx.Err())}
		}
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: reading the answer: %v", ErrUnavailable, err)}
	}
	if int64(len(b)) > max {
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: the answer is over the limit of %d bytes", ErrTooLarge, max)}
	}
	return b, nil
}

func sha256Digest(b []byte) string {
	h := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(h[:])
}

// checkDigest verifies b against want ("sha256:…"; other algorithms are
// refused rather than trusted).
func checkDigest(want string, b []byte) error {
	if !strings.HasPrefix(want, "sha256:") {
		return fmt.Errorf("%w: cannot check digest %q: only sha256 is supported", ErrDigestMismatch, want)
	}
	if got := sha256Digest(b); got != want {
		return fmt.Errorf("%w: content hashes to %s, not %s", ErrDigestMismatch, got, want)
	}
	return nil
}

func isDigest(id string) bool { return strings.Contains(id, ":") }

func baseMediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.TrimSpace(ct)
	}
	return mt
}

// bodyMediaType is the "mediaType" field of a manifest, if any.
func bodyMediaType(raw []byte) string {
	var m struct {
		MediaType string `json:"mediaType"`
	}
	_ = json.Unmarshal(raw, &m)
	return m.MediaType
}

func (r *remoteRepo) getManifest(ctx context.Context, id string, size int64) ([]byte, string, error) {
	const op = "fetch manifest"
	target := r.target(id)
	if size > MaxManifestSize {
		return nil, "", &Error{Op: op, Target: target, Err: fmt.Errorf("%w: its descriptor claims %d bytes, over MaxManifestSize (%d)", ErrTooLarge, size, MaxManifestSize)}
	}
	resp, err := r.do(ctx, op, target, false, http.MethodGet, "/v2/"+r.repo.RepositoryStr()+"/manifests/"+id,
		http.Header{"Accept": {manifestAccept}}, nil)
	if err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fail(op, target, resp)
	}
	raw, err := readBody(ctx, op, target, resp, MaxManifestSize)
	if err != nil {
		return nil, "", err
	}
	if isDigest(id) {
		if err := checkDigest(id, raw); err != nil {
			return nil, "", &Error{Op: op, Target: target, Err: err}
		}
	} else if hd := resp.Header.Get("Docker-Content-Digest"); strings.HasPrefix(hd, "sha256:") {
		if err := checkDigest(hd, raw); err != nil {
			return nil, "", &Error{Op: op, Target: target, Err: fmt.Errorf("%w (announced in Docker-Content-Digest)", err)}
		}
	}
	mt := bodyMediaType(raw)
	if mt == "" {
		mt = baseMediaType(resp.Header.Get("Content-Type"))
	}
	return raw, mt, nil
}

func (r *remoteRepo) headManifest(ctx context.Context, id string) (v1.Descriptor, error) {
	const op = "resolve"
	target := r.target(id)
	resp, err := r.do(ctx, op, target, false, http.MethodHead, "/v2/"+r.repo.RepositoryStr()+"/manifests/"+id,
		http.Header{"Accept": {manifestAccept}}, nil)
	if err != nil {
		return v1.Descriptor{}, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		drain(resp)
		mt := types.MediaType(baseMediaType(resp.Header.Get("Content-Type")))
		hd := resp.Header.Get("Docker-Content-Digest")
		if isDigest(id) && hd != "" && hd != id {
			return v1.Descriptor{}, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: the registry answered with digest %s", ErrDigestMismatch, hd)}
		}
		if isDigest(id) {
			hd = id
		}
		if resp.ContentLength > MaxManifestSize {
			return v1.Descriptor{}, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: the manifest is %d bytes, over MaxManifestSize (%d)", ErrTooLarge, resp.ContentLength, MaxManifestSize)}
		}
		// Informative only with a digest, a manifest media type and a size.
		if h, err := v1.NewHash(hd); err == nil && (mt.IsImage() || mt.IsIndex()) && resp.ContentLength > 0 {
			return v1.Descriptor{MediaType: mt, Digest: h, Size: resp.ContentLength}, nil
		}
	case resp.StatusCode == http.StatusNotFound, resp.StatusCode == http.StatusUnauthorized, resp.StatusCode == http.StatusForbidden,
		resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode >= 500:
		return v1.Descriptor{}, fail(op, target, resp)
	default:
		drain(resp)
	}
	// HEAD not supported or not informative: GET it.
	raw, mt, err := r.getManifest(ctx, id, -1)
	if err != nil {
		return v1.Descriptor{}, err
	}
	h, _ := v1.NewHash(sha256Digest(raw))
	return v1.Descriptor{MediaType: types.MediaType(mt), Digest: h, Size: int64(len(raw))}, nil
}

func (r *remoteRepo) getBlob(ctx context.Context, digest string, size, max int64) ([]byte, error) {
	const op = "fetch blob"
	target := r.repo.Name() + "@" + digest
	if size > max {
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: its descriptor claims %d bytes, over the limit of %d", ErrTooLarge, size, max)}
	}
	if size < 0 {
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: negative size in descriptor", ErrMalformed)}
	}
	resp, err := r.do(ctx, op, target, false, http.MethodGet, "/v2/"+r.repo.RepositoryStr()+"/blobs/"+digest, nil, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail(op, target, resp)
	}
	if resp.ContentLength > size {
		drain(resp)
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: the registry announced %d bytes for a %d-byte blob", ErrDigestMismatch, resp.ContentLength, size)}
	}
	b, err := readBody(ctx, op, target, resp, size)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: the registry sent more than the %d bytes of the blob", ErrDigestMismatch, size)}
		}
		return nil, err
	}
	if int64(len(b)) != size {
		return nil, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: got %d bytes, the descriptor says %d", ErrDigestMismatch, len(b), size)}
	}
	if err := checkDigest(digest, b); err != nil {
		return nil, &Error{Op: op, Target: target, Err: err}
	}
	return b, nil
}

func (r *remoteRepo) referrers(ctx context.Context, digest string) ([]v1.Descriptor, bool, error) {
	const op = "list referrers"
	target := r.repo.Name() + "@" + digest
	path := "/v2/" + r.repo.RepositoryStr() + "/referrers/" + digest
	var all []v1.Descriptor
	for page := 0; ; page++ {
		if page >= MaxReferrerPages {
			return all, true, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: more than %d pages (MaxReferrerPages); the rest was not read", ErrTooMany, MaxReferrerPages)}
		}
		resp, err := r.do(ctx, op, target, false, http.MethodGet, path, http.Header{"Accept": {string(types.OCIImageIndex)}}, nil)
		if err != nil {
			return nil, false, err
		}
		switch {
		case resp.StatusCode == http.StatusOK:
		case page == 0 && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusBadRequest ||
			resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotAcceptable ||
			resp.StatusCode == http.StatusNotImplemented):
			drain(resp)
			return nil, false, nil // no referrers API: the fallback tag covers it
		default:
			return nil, false, fail(op, target, resp)
		}
		if page == 0 && baseMediaType(resp.Header.Get("Content-Type")) != string(types.OCIImageIndex) {
			drain(resp)
			return nil, false, nil // an answer, but not a referrers index
		}
		raw, err := readBody(ctx, op, target, resp, MaxManifestSize)
		if err != nil {
			return nil, false, err
		}
		doc, err := decodeManifest(raw)
		if err != nil || !doc.isIndex() {
			if page == 0 {
				return nil, false, nil
			}
			return all, true, &Error{Op: op, Target: target, Err: fmt.Errorf("%w: page %d is not an index", ErrMalformed, page+1)}
		}
		all = append(all, doc.Manifests...)
		next, err := nextLink(resp, r.repo.RegistryStr())
		if err != nil {
			return all, true, &Error{Op: op, Target: target, Err: err}
		}
		if next == "" {
			return all, true, nil
		}
		path = next
	}
}

// nextLink reads a Link: <…>; rel="next" header. The next page must be on
// the same registry.
func nextLink(resp *http.Response, host string) (string, error) {
	for _, v := range resp.Header.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			if !ok || !strings.Contains(strings.ReplaceAll(params, " ", ""), `rel="next"`) {
				continue
			}
			target = strings.Trim(strings.TrimSpace(target), "<>")
			u, err := resp.Request.URL.Parse(target)
			if err != nil {
				return "", fmt.Errorf("%w: bad Link header %q", ErrMalformed, v)
			}
			if u.Host != host && u.Host != resp.Request.URL.Host {
				return "", fmt.Errorf("%w: the next referrers page is on another host (%s)", ErrMalformed, u.Host)
			}
			return u.RequestURI(), nil
		}
	}
	return "", nil
}

func (r *remoteRepo) putBlob(ctx context.Context, digest string, data []byte) error {
	const op = "push blob"
	target := r.repo.Name() + "@" + digest
	base := "/v2/" + r.repo.RepositoryStr() + "/blobs/"
	resp, err := r.do(ctx, op, target, true, http.MethodHead, base+digest, nil, nil)
	if err != nil {
		return err
	}
	drain(resp)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	resp, err = r.do(ctx, op, target, true, http.MethodPost, base+"uploads/", nil, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted {
		return fail(op, target, resp)
	}
	drain(resp)
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return &Error{Op: op, Target: target, Err: fmt.Errorf("%w: no upload location", ErrMalformed)}
	}
	q := loc.Query()
	q.Set("digest", digest)
	loc.RawQuery = q.Encode()
	resp, err = r.do(ctx, op, target, true, http.MethodPut, loc.String(),
		http.Header{"Content-Type": {"application/octet-stream"}}, data)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return fail(op, target, resp)
	}
	drain(resp)
	return nil
}

func (r *remoteRepo) putManifest(ctx context.Context, id string, raw []byte, mediaType, subject string) (bool, error) {
	const op = "push manifest"
	target := r.target(id)
	resp, err := r.do(ctx, op, target, true, http.MethodPut, "/v2/"+r.repo.RepositoryStr()+"/manifests/"+id,
		http.Header{"Content-Type": {mediaType}}, raw)
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
		return false, fail(op, target, resp)
	}
	drain(resp)
	return subject != "" && resp.Header.Get("OCI-Subject") != "", nil
}
