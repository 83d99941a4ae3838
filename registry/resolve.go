package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Resolved is a reference pinned to what it named when it was resolved.
type Resolved struct {
	// Ref is the reference pinned by digest (the tag, if any, is kept).
	Ref Ref
	// Descriptor describes the manifest or index the reference names.
	Descriptor v1.Descriptor
	// Platform is the manifest chosen for the platform asked with
	// WithPlatform, when the reference names an index; nil otherwise.
	Platform *v1.Descriptor
}

// ResolveOption changes what Resolve does.
type ResolveOption func(*resolveOptions)

type resolveOptions struct {
	platform *v1.Platform
}

// WithPlatform also picks, when the reference names an index, the manifest
// for platform p (for example v1.Platform{OS: "linux", Architecture:
// "arm64"}), as `docker pull --platform` would.
func WithPlatform(p v1.Platform) ResolveOption {
	return func(o *resolveOptions) { o.platform = &p }
}

// Resolve pins r to a digest. A tag costs one HEAD request (a GET when the
// registry's HEAD answer is incomplete) and is then remembered for the tag
// TTL; a digest reference is checked to exist. An oci-dir reference
// without tag or digest names the layout's only image.
func (c *Client) Resolve(ctx context.Context, r Ref, opts ...ResolveOption) (*Resolved, error) {
	var o resolveOptions
	for _, opt := range opts {
		opt(&o)
	}
	if r.IsZero() {
		return nil, fmt.Errorf("%w: empty", ErrInvalidReference)
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	b := c.backendFor(r)
	var desc v1.Descriptor
	var err error
	if r.ident() == "" { // a layout's only image
		desc, err = b.(*layoutRepo).defaultImage(ctx)
	} else {
		desc, err = c.head(ctx, b, r.ident())
	}
	if err != nil {
		return nil, err
	}
	if r.Digest() != "" && desc.Digest.String() != r.Digest() {
		return nil, &Error{Op: "resolve", Target: r.String(), Err: fmt.Errorf("%w: the source answered with %s", ErrDigestMismatch, desc.Digest)}
	}
	res := &Resolved{Ref: r.WithDigest(desc.Digest.String()), Descriptor: desc}
	if o.platform == nil || !desc.MediaType.IsIndex() {
		return res, nil
	}
	raw, _, err := c.manifest(ctx, b, desc.Digest.String(), desc.Size)
	if err != nil {
		return nil, err
	}
	doc, err := decodeManifest(raw)
	if err != nil {
		return nil, &Error{Op: "resolve", Target: res.Ref.String(), Err: err}
	}
	var have []string
	for i, m := range doc.Manifests {
		if m.Platform == nil || m.Annotations[AnnotationDockerReferenceType] == "attestation-manifest" {
			continue
		}
		if m.Platform.Satisfies(*o.platform) {
			p := doc.Manifests[i]
			res.Platform = &p
			return res, nil
		}
		have = append(have, m.Platform.String())
	}
	return nil, &Error{Op: "resolve", Target: res.Ref.String(), Err: fmt.Errorf("%w: no manifest for platform %s in the index (it has: %s)",
		ErrNotFound, o.platform, strings.Join(have, ", "))}
}

// Manifest returns the raw manifest (or index) r names, by tag or digest,
// at most MaxManifestSize bytes, checked against its digest.
func (c *Client) Manifest(ctx context.Context, r Ref) ([]byte, v1.Descriptor, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	id := r.ident()
	if id == "" {
		res, err := c.Resolve(ctx, r)
		if err != nil {
			return nil, v1.Descriptor{}, err
		}
		id = res.Descriptor.Digest.String()
	}
	return c.manifest(ctx, c.backendFor(r), id, -1)
}

// Content returns the bytes of an attachment's layer, at most
// MaxAttachmentSize, checked against the layer digest while read, and
// cached by digest so it is fetched once per process.
func (c *Client) Content(ctx context.Context, a Attachment) ([]byte, error) {
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	repo, err := parseRepository(a.Repository)
	if err != nil {
		return nil, err
	}
	if a.Layer.Size > MaxAttachmentSize {
		return nil, &Error{Op: "fetch blob", Target: a.Repository + "@" + a.Layer.Digest.String(),
			Err: fmt.Errorf("%w: the layer claims %d bytes, over MaxAttachmentSize (%d)", ErrTooLarge, a.Layer.Size, MaxAttachmentSize)}
	}
	if a.Layer.Digest.Hex == "" {
		return nil, errors.New("registry.Content: the attachment has no layer digest")
	}
	return c.blob(ctx, c.backendFor(repo), a.Layer, MaxAttachmentSize)
}
