package registry

import (
	"context"
	"errors"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The cached, collapsed access paths every public call goes through.
// Content by digest is fetched at most once per process while it stays
// in the bounded cache; tag answers are reused for the tag TTL; concurrent
// identical requests become one.

type fetchedManifest struct {
	raw       []byte
	mediaType string
}

// manifest fetches a manifest by tag or digest. size is what a descriptor
// claimed (-1 if unknown).
func (c *Client) manifest(ctx context.Context, b backend, id string, size int64) ([]byte, v1.Descriptor, error) {
	return c.manifestFresh(ctx, b, id, size, false)
}

// manifestFresh is manifest; with fresh, a tag is asked again even if its
// answer is cached (read-modify-write).
func (c *Client) manifestFresh(ctx context.Context, b backend, id string, size int64, fresh bool) ([]byte, v1.Descriptor, error) {
	tagKey := "tag\x00" + b.String() + "\x00" + id
	if isDigest(id) {
		if e, ok := c.content.get(id); ok {
			return e.data, descriptorOf(e.data, e.mediaType), nil
		}
	} else if !fresh {
		if e, ok := c.tags.get(tagKey); ok {
			if e.notFound {
				return nil, v1.Descriptor{}, &Error{Op: "fetch manifest", Target: b.String() + ":" + id, StatusCode: 404, Err: ErrNotFound}
			}
			if ce, ok := c.content.get(e.desc.Digest.String()); ok {
				return ce.data, descriptorOf(ce.data, ce.mediaType), nil
			}
		}
	}
	key := "manifest\x00" + b.String() + "\x00" + id
	if fresh {
		key += "\x00fresh"
	}
	v, err := c.once(ctx, key, func(ctx context.Context) (any, error) {
		raw, mt, err := b.getManifest(ctx, id, size)
		if err != nil {
			if !isDigest(id) && errors.Is(err, ErrNotFound) {
				c.tags.put(tagKey, tagEntry{notFound: true})
			}
			return nil, err
		}
		return fetchedManifest{raw, mt}, nil
	})
	if err != nil {
		return nil, v1.Descriptor{}, asError("fetch manifest", targetOf(b, id), err)
	}
	f := v.(fetchedManifest)
	desc := descriptorOf(f.raw, f.mediaType)
	c.content.put(desc.Digest.String(), f.mediaType, f.raw)
	if !isDigest(id) {
		c.tags.put(tagKey, tagEntry{desc: desc})
	}
	return f.raw, desc, nil
}

func descriptorOf(raw []byte, mediaType string) v1.Descriptor {
	h, _ := v1.NewHash(sha256Digest(raw))
	return v1.Descriptor{MediaType: types.MediaType(mediaType), Digest: h, Size: int64(len(raw))}
}

// head describes a manifest by tag or digest without fetching it when it
// can: from the caches, else with a HEAD request (a GET if HEAD says too
// little).
func (c *Client) head(ctx context.Context, b backend, id string) (v1.Descriptor, error) {
	tagKey := "tag\x00" + b.String() + "\x00" + id
	headKey := "head\x00" + b.String() + "\x00" + id
	if isDigest(id) {
		if e, ok := c.content.get(id); ok {
			return descriptorOf(e.data, e.mediaType), nil
		}
		if e, ok := c.tags.get(headKey); ok {
			return e.desc, nil
		}
	} else if e, ok := c.tags.get(tagKey); ok {
		if e.notFound {
			return v1.Descriptor{}, &Error{Op: "resolve", Target: b.String() + ":" + id, StatusCode: 404, Err: ErrNotFound}
		}
		return e.desc, nil
	}
	v, err := c.once(ctx, headKey, func(ctx context.Context) (any, error) {
		d, err := b.headManifest(ctx, id)
		if err != nil {
			if !isDigest(id) && errors.Is(err, ErrNotFound) {
				c.tags.put(tagKey, tagEntry{notFound: true})
			}
			return nil, err
		}
		return d, nil
	})
	if err != nil {
		return v1.Descriptor{}, asError("resolve", targetOf(b, id), err)
	}
	d := v.(v1.Descriptor)
	if isDigest(id) {
		c.tags.put(headKey, tagEntry{desc: d}) // existence by digest: reuse like a tag
	} else {
		c.tags.put(tagKey, tagEntry{desc: d})
	}
	return d, nil
}

// blob fetches content of known digest and size, capped at max.
func (c *Client) blob(ctx context.Context, b backend, d v1.Descriptor, max int64) ([]byte, error) {
	digest := d.Digest.String()
	if e, ok := c.content.get(digest); ok {
		return e.data, nil
	}
	v, err := c.once(ctx, "blob\x00"+b.String()+"\x00"+digest, func(ctx context.Context) (any, error) {
		return b.getBlob(ctx, digest, d.Size, max)
	})
	if err != nil {
		return nil, asError("fetch blob", targetOf(b, digest), err)
	}
	data := v.([]byte)
	c.content.put(digest, string(d.MediaType), data)
	return data, nil
}

type referrersResult struct {
	descs []v1.Descriptor
	ok    bool
}

// listReferrers lists the referrers of digest, reusing the answer for the
// tag TTL.
func (c *Client) listReferrers(ctx context.Context, b backend, digest string) ([]v1.Descriptor, bool, error) {
	key := "referrers\x00" + b.String() + "\x00" + digest
	if e, ok := c.tags.get(key); ok {
		return e.referrers, !e.noAPI, nil
	}
	v, err := c.once(ctx, key, func(ctx context.Context) (any, error) {
		descs, ok, err := b.referrers(ctx, digest)
		if err != nil {
			return referrersResult{descs, ok}, err
		}
		c.tags.put(key, tagEntry{referrers: descs, noAPI: !ok})
		return referrersResult{descs, ok}, nil
	})
	r, _ := v.(referrersResult)
	if err != nil {
		err = asError("list referrers", b.String()+"@"+digest, err)
	}
	return r.descs, r.ok, err
}

// asError makes sure err is an *Error naming what failed (a caller's own
// deadline, reached while waiting for a shared fetch, is not).
func asError(op, target string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: op, Target: target, Err: contextErr(err)}
}

func targetOf(b backend, id string) string {
	if isDigest(id) {
		return b.String() + "@" + id
	}
	return b.String() + ":" + id
}

// forget drops cached answers about a tag or a referrers listing after a
// write through this Client.
func (c *Client) forgetTag(b backend, tag string) {
	c.tags.forget("tag\x00" + b.String() + "\x00" + tag)
}

func (c *Client) forgetReferrers(b backend, digest string) {
	c.tags.forget("referrers\x00" + b.String() + "\x00" + digest)
}
