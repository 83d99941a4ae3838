package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Kind is what an attachment claims to be. The claim is unauthenticated:
// a verifier checks signed content, never the kind alone.
type Kind string

const (
	// KindSignature: a cosign simple-signing signature, or a Sigstore bundle
	// announced with predicate type https://sigstore.dev/cosign/sign/v1.
	KindSignature Kind = "signature"
	// KindAttestation: a DSSE envelope, or a Sigstore bundle with any other
	// predicate type.
	KindAttestation Kind = "attestation"
	// KindSBOM: an SBOM document attached as is (unsigned).
	KindSBOM Kind = "sbom"
	// KindUnknown: anything else (including BuildKit's unsigned in-toto
	// statements, which are never attestations).
	KindUnknown Kind = "unknown"
)

// Format is how an attachment is encoded.
type Format string

const (
	// FormatLegacy: cosign's simple-signing payload or DSSE envelope layer,
	// with signature material in the layer annotations.
	FormatLegacy Format = "legacy"
	// FormatBundle: a Sigstore bundle layer.
	FormatBundle Format = "bundle"
	// FormatRaw: a document attached as is, with no signature of its own.
	FormatRaw Format = "raw"
)

// Path is where an attachment was found.
type Path string

const (
	// PathLegacyTag: cosign's sha256-<hex>.sig, .att or .sbom tag.
	PathLegacyTag Path = "legacy-tag"
	// PathReferrers: the OCI 1.1 referrers API (or, in a layout, a manifest
	// whose subject is the image).
	PathReferrers Path = "referrers"
	// PathFallbackTag: the referrers fallback tag sha256-<hex> (an index).
	PathFallbackTag Path = "fallback-tag"
)

// Attachment is one thing attached to an image: one layer of a .sig/.att/
// .sbom manifest or of a referrer manifest.
type Attachment struct {
	Kind   Kind   `json:"kind"`
	Format Format `json:"format"`
	// Path is where it was found; when the same layer is found in several
	// places, the first in the order legacy tag, referrers API, fallback tag
	// is kept.
	Path Path `json:"path"`
	// Repository holds the manifests and layers: "host/repo" or "oci-dir:PATH".
	Repository string `json:"repository"`
	// Tag is the tag that led here (".sig/.att/.sbom" or fallback tag), if any.
	Tag string `json:"tag,omitempty"`
	// Manifest is the manifest holding the layer (with its artifactType and
	// annotations as the manifest itself states them).
	Manifest v1.Descriptor `json:"manifest"`
	// Layer is the layer with the content, annotations included.
	Layer v1.Descriptor `json:"layer"`
	// PredicateType is the claimed predicate type, if known. Unauthenticated:
	// the verifier reads the real one from the signed statement.
	PredicateType string `json:"predicateType,omitempty"`
	// Note explains an unknown or unusual attachment.
	Note string `json:"note,omitempty"`
}

// PathFailure is a place Discover could not read. When a requirement is not
// met while any path failed, the answer is "could not decide", never
// "unsigned".
type PathFailure struct {
	Path Path
	// Location is what was asked: "host/repo:sha256-….sig", "host/repo
	// referrers of sha256:…", "host/repo:sha256-…".
	Location string
	Err      error
}

func (f PathFailure) Error() string { return fmt.Sprintf("%s (%s): %v", f.Location, f.Path, f.Err) }
func (f PathFailure) Unwrap() error { return f.Err }

// Attachments is everything Discover found for one image.
type Attachments struct {
	// Subject is the image, pinned by digest.
	Subject Ref
	// Items are de-duplicated across the places searched, in a stable order:
	// .sig, .att, .sbom, referrers API, fallback tag; by digest within each.
	Items []Attachment
	// Failures lists each place that could not be read.
	Failures []PathFailure
}

// Complete reports whether every place was read.
func (a *Attachments) Complete() bool { return len(a.Failures) == 0 }

// Of returns the items of kind k.
func (a *Attachments) Of(k Kind) []Attachment {
	var out []Attachment
	for _, it := range a.Items {
		if it.Kind == k {
			out = append(out, it)
		}
	}
	return out
}

// legacySuffixes are cosign's attachment tag suffixes, in search order.
var legacySuffixes = []string{".sig", ".att", ".sbom"}

// legacyKinds is the kind each legacy tag holds, by suffix.
var legacyKinds = map[string]Kind{".sig": KindSignature, ".att": KindAttestation, ".sbom": KindSBOM}

// DiscoverOption changes what Discover reads.
type DiscoverOption func(*discoverOptions)

type discoverOptions struct {
	kinds map[Kind]bool // nil: every kind
}

// WithKinds makes Discover skip cosign's legacy tags that cannot hold any of
// kinds: the .sig tag holds only signatures, .att attestations, .sbom SBOMs.
// The referrers API and the fallback tag, which may hold anything, are always
// read, and everything found there is reported whatever its kind. A verifier
// that needs only signatures saves two requests per image. The default reads
// every place.
func WithKinds(kinds ...Kind) DiscoverOption {
	return func(o *discoverOptions) {
		o.kinds = map[Kind]bool{}
		for _, k := range kinds {
			o.kinds[k] = true
		}
	}
}

// Discover finds everything attached to r, which must be pinned by digest
// (Resolve first). It reads, concurrently, cosign's .sig, .att and .sbom
// tags, the OCI referrers API and the referrers fallback tag, in the
// signature repository when one is set. A referrers API that answers 404,
// 400 or 405, or anything but an index, is "not supported", not a failure:
// the fallback tag covers it. A missing tag is absent. Anything else that
// goes wrong on a path (401, 403, 429, 5xx, a timeout, content that does
// not match its digest, an over-size answer) is kept in Failures; the
// error result is only for bad arguments.
//
// On first contact with a registry, Discover costs one ping, one request
// per path (five, fewer WithKinds) and one per referrer manifest not yet
// cached; layer content is not fetched (see Content).
func (c *Client) Discover(ctx context.Context, r Ref, opts ...DiscoverOption) (*Attachments, error) {
	var o discoverOptions
	for _, opt := range opts {
		opt(&o)
	}
	if r.Digest() == "" {
		return nil, fmt.Errorf("registry.Discover(%s): the reference must be pinned by digest; Resolve it first", r)
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	b, err := c.attachmentBackend(r)
	if err != nil {
		return nil, err
	}
	digest := r.Digest()
	type result struct {
		items    []Attachment
		failures []PathFailure
	}
	results := make([]result, len(legacySuffixes)+2)
	var wg sync.WaitGroup
	for i, suffix := range legacySuffixes {
		if o.kinds != nil && !o.kinds[legacyKinds[suffix]] {
			continue
		}
		wg.Go(func() {
			items, f := c.discoverLegacy(ctx, b, attachmentTag(digest, suffix))
			results[i] = result{items, f}
		})
	}
	wg.Go(func() {
		items, f := c.discoverReferrers(ctx, b, digest)
		results[len(legacySuffixes)] = result{items, f}
	})
	wg.Go(func() {
		items, f := c.discoverFallback(ctx, b, digest)
		results[len(legacySuffixes)+1] = result{items, f}
	})
	wg.Wait()

	out := &Attachments{Subject: r}
	seen := map[string]bool{}
	for _, res := range results {
		out.Failures = append(out.Failures, res.failures...)
		for _, it := range res.items {
			k := dedupeKey(it)
			if seen[k] {
				continue
			}
			seen[k] = true
			if len(out.Items) == MaxAttachments {
				out.Failures = append(out.Failures, PathFailure{Path: it.Path, Location: b.String(),
					Err: fmt.Errorf("%w: more than %d attachments (MaxAttachments); the rest were not read", ErrTooMany, MaxAttachments)})
				return out, nil
			}
			out.Items = append(out.Items, it)
		}
	}
	return out, nil
}

// dedupeKey identifies an attachment by its layer: digest and annotations
// (cosign legacy signatures by different keys share a payload digest and
// differ only in their annotations).
func dedupeKey(a Attachment) string {
	ann, _ := json.Marshal(a.Layer.Annotations) // map keys are sorted
	return a.Layer.Digest.String() + "\x00" + string(ann)
}

func (c *Client) discoverLegacy(ctx context.Context, b backend, tag string) ([]Attachment, []PathFailure) {
	loc := b.String() + ":" + tag
	raw, desc, err := c.manifest(ctx, b, tag, -1)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, []PathFailure{{PathLegacyTag, loc, err}}
	}
	doc, err := decodeManifest(raw)
	if err == nil && doc.isIndex() {
		err = fmt.Errorf("%w: the tag names an index, not a manifest of attachments", ErrMalformed)
	}
	if err != nil {
		return nil, []PathFailure{{PathLegacyTag, loc, err}}
	}
	desc.ArtifactType, desc.Annotations = doc.ArtifactType, doc.Annotations
	var items []Attachment
	for _, l := range doc.Layers {
		a := classify(doc, l)
		a.Path, a.Repository, a.Tag, a.Manifest = PathLegacyTag, b.String(), tag, desc
		items = append(items, a)
	}
	return items, nil
}

func (c *Client) discoverReferrers(ctx context.Context, b backend, digest string) ([]Attachment, []PathFailure) {
	loc := b.String() + " referrers of " + digest
	descs, ok, err := c.listReferrers(ctx, b, digest)
	var fails []PathFailure
	if err != nil {
		fails = append(fails, PathFailure{PathReferrers, loc, err})
	}
	if !ok {
		return nil, fails
	}
	items, more := c.readReferrers(ctx, b, digest, descs, PathReferrers, "", loc)
	return items, append(fails, more...)
}

func (c *Client) discoverFallback(ctx context.Context, b backend, digest string) ([]Attachment, []PathFailure) {
	tag := attachmentTag(digest, "")
	loc := b.String() + ":" + tag
	raw, _, err := c.manifest(ctx, b, tag, -1)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, []PathFailure{{PathFallbackTag, loc, err}}
	}
	doc, err := decodeManifest(raw)
	if err == nil && !doc.isIndex() {
		err = fmt.Errorf("%w: the referrers fallback tag is not an index", ErrMalformed)
	}
	if err != nil {
		return nil, []PathFailure{{PathFallbackTag, loc, err}}
	}
	return c.readReferrers(ctx, b, digest, doc.Manifests, PathFallbackTag, tag, loc)
}

// readReferrers fetches each referrer manifest (never trusting the listed
// artifactType) and classifies its layers. Referrers whose manifest names
// another subject are ignored.
func (c *Client) readReferrers(ctx context.Context, b backend, subject string, descs []v1.Descriptor, path Path, tag, loc string) ([]Attachment, []PathFailure) {
	descs = append([]v1.Descriptor(nil), descs...)
	sortDescriptors(descs)
	var fails []PathFailure
	if len(descs) > MaxReferrers {
		fails = append(fails, PathFailure{path, loc, fmt.Errorf("%w: %d referrers listed, over MaxReferrers (%d); only the first were read", ErrTooMany, len(descs), MaxReferrers)})
		descs = descs[:MaxReferrers]
	}
	per := make([][]Attachment, len(descs))
	errs := make([]error, len(descs))
	sem := make(chan struct{}, c.o.concurrency)
	var wg sync.WaitGroup
	for i, d := range descs {
		if !d.MediaType.IsImage() && d.MediaType != "" {
			per[i] = []Attachment{{Kind: KindUnknown, Format: FormatRaw, Path: path, Repository: b.String(), Tag: tag, Manifest: d,
				Note: fmt.Sprintf("referrer of media type %s is not an image manifest; not read", d.MediaType)}}
			continue
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = &Error{Op: "fetch manifest", Target: b.String() + "@" + d.Digest.String(), Err: contextErr(ctx.Err())}
				return
			}
			defer func() { <-sem }()
			raw, desc, err := c.manifest(ctx, b, d.Digest.String(), d.Size)
			if errors.Is(err, ErrNotFound) {
				return // listed but gone
			}
			if err != nil {
				errs[i] = err
				return
			}
			doc, err := decodeManifest(raw)
			if err == nil && doc.isIndex() {
				per[i] = []Attachment{{Kind: KindUnknown, Format: FormatRaw, Path: path, Repository: b.String(), Tag: tag, Manifest: desc,
					Note: "referrer is an index; not read"}}
				return
			}
			if err != nil {
				errs[i] = &Error{Op: "fetch manifest", Target: b.String() + "@" + d.Digest.String(), Err: err}
				return
			}
			if doc.Subject == nil || doc.Subject.Digest.String() != subject {
				return // not about this image: whoever listed it was wrong
			}
			desc.ArtifactType, desc.Annotations = doc.ArtifactType, doc.Annotations
			for _, l := range doc.Layers {
				a := classify(doc, l)
				a.Path, a.Repository, a.Tag, a.Manifest = path, b.String(), tag, desc
				per[i] = append(per[i], a)
			}
		})
	}
	wg.Wait()
	var items []Attachment
	for i := range descs {
		items = append(items, per[i]...)
		if errs[i] != nil {
			fails = append(fails, PathFailure{path, loc, errs[i]})
		}
	}
	return items, fails
}

// classify decides what a layer is from media types and annotations only.
func classify(m *manifestDoc, l v1.Descriptor) Attachment {
	a := Attachment{Layer: l}
	mt := string(l.MediaType)
	switch {
	case IsBundleMediaType(mt):
		a.Format = FormatBundle
		a.PredicateType = m.Annotations[AnnotationBundlePredicateType]
		if a.PredicateType == "" {
			a.PredicateType = l.Annotations[AnnotationBundlePredicateType]
		}
		switch {
		case a.PredicateType == PredicateTypeCosignSign:
			a.Kind = KindSignature
		case a.PredicateType == "" && m.Annotations[AnnotationBundleContent] == "message-signature":
			a.Kind = KindSignature
		default:
			a.Kind = KindAttestation
			if a.PredicateType == "" {
				a.Note = "predicate type not announced; the verifier reads it from the bundle"
			}
		}
	case mt == MediaTypeSimpleSigning:
		a.Kind, a.Format = KindSignature, FormatLegacy
	case mt == MediaTypeDSSE:
		a.Kind, a.Format = KindAttestation, FormatLegacy
		a.PredicateType = l.Annotations[AnnotationPredicateType]
	case IsSBOMMediaType(mt):
		a.Kind, a.Format = KindSBOM, FormatRaw
	case mt == MediaTypeInToto:
		a.Kind, a.Format = KindUnknown, FormatRaw
		a.PredicateType = l.Annotations["in-toto.io/predicate-type"]
		a.Note = "unsigned in-toto statement (BuildKit style): never an attestation"
	default:
		a.Kind, a.Format = KindUnknown, FormatRaw
		a.Note = "unrecognised layer media type " + mt
	}
	return a
}
