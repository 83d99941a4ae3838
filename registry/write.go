package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Layer is content to attach.
type Layer struct {
	Content     []byte
	MediaType   string
	Annotations map[string]string
}

func (l Layer) check() error {
	switch {
	case l.MediaType == "":
		return errors.New("a layer needs a media type")
	case len(l.Content) > MaxAttachmentSize:
		return fmt.Errorf("%w: a %d-byte layer is over MaxAttachmentSize (%d)", ErrTooLarge, len(l.Content), MaxAttachmentSize)
	}
	return nil
}

// AttachLegacy appends layers to the cosign tag for kind (sha256-<hex>.sig
// for KindSignature, .att for KindAttestation, .sbom for KindSBOM) in the
// signature repository, creating the manifest if absent, exactly as cosign
// does (an OCI manifest with an OCI config listing the layers' diff IDs).
// A layer already there with the same digest and annotations is not added
// again; a layer with the same digest and other annotations (another
// signature over the same payload) is. subject must be pinned by digest.
// In an oci-dir layout the manifest is tagged in index.json (and keeps a
// `cosign save` "kind" annotation when the layout has one).
//
// Like cosign's, the update is read-modify-write and not atomic: two
// concurrent writers to the same tag may lose one layer.
func (c *Client) AttachLegacy(ctx context.Context, subject Ref, kind Kind, layers ...Layer) error {
	suffix := map[Kind]string{KindSignature: ".sig", KindAttestation: ".att", KindSBOM: ".sbom"}[kind]
	switch {
	case subject.Digest() == "":
		return fmt.Errorf("registry.AttachLegacy(%s): the subject must be pinned by digest; Resolve it first", subject)
	case suffix == "":
		return fmt.Errorf("registry.AttachLegacy: kind %q has no cosign tag; use %s, %s or %s", kind, KindSignature, KindAttestation, KindSBOM)
	case len(layers) == 0:
		return errors.New("registry.AttachLegacy: no layers")
	}
	for _, l := range layers {
		if err := l.check(); err != nil {
			return fmt.Errorf("registry.AttachLegacy: %w", err)
		}
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	b, err := c.attachmentBackend(subject)
	if err != nil {
		return err
	}
	tag := attachmentTag(subject.Digest(), suffix)

	base, err := c.existingImage(ctx, b, tag)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	m, err := base.Manifest()
	if err != nil {
		return err
	}
	for _, l := range m.Layers {
		have[dedupeKey(Attachment{Layer: l})] = true
	}
	var adds []mutate.Addendum
	var blobs [][]byte
	for _, l := range layers {
		sl := static.NewLayer(l.Content, types.MediaType(l.MediaType))
		d, _ := sl.Digest()
		k := dedupeKey(Attachment{Layer: v1.Descriptor{Digest: d, Annotations: l.Annotations}})
		if have[k] {
			continue
		}
		have[k] = true
		adds = append(adds, mutate.Addendum{Layer: sl, Annotations: maps.Clone(l.Annotations)})
		blobs = append(blobs, l.Content)
	}
	if len(adds) == 0 {
		return nil
	}
	if len(m.Layers)+len(adds) > MaxLayers {
		return &Error{Op: "push manifest", Target: b.String() + ":" + tag, Err: fmt.Errorf("%w: the tag already holds %d layers (MaxLayers %d)", ErrTooMany, len(m.Layers), MaxLayers)}
	}
	img, err := mutate.Append(base, adds...)
	if err != nil {
		return err
	}
	for _, data := range blobs {
		if err := b.putBlob(ctx, sha256Digest(data), data); err != nil {
			return err
		}
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if err := b.putBlob(ctx, sha256Digest(cfg), cfg); err != nil {
		return err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	mt, err := img.MediaType()
	if err != nil {
		return err
	}
	c.forgetTag(b, tag)
	if _, err := b.putManifest(ctx, tag, raw, string(mt), ""); err != nil {
		return err
	}
	c.forgetTag(b, tag)
	return nil
}

// existingImage reads the manifest at tag (fresh, not from the tag cache)
// as a v1.Image whose layers are descriptors only, or cosign's empty
// signatures image when the tag is absent.
func (c *Client) existingImage(ctx context.Context, b backend, tag string) (v1.Image, error) {
	raw, desc, err := c.manifestFresh(ctx, b, tag, -1, true)
	if errors.Is(err, ErrNotFound) {
		return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), nil
	}
	if err != nil {
		return nil, err
	}
	doc, err := decodeManifest(raw)
	if err == nil && doc.isIndex() {
		err = fmt.Errorf("%w: the tag names an index", ErrMalformed)
	}
	if err == nil && doc.Config == nil {
		err = fmt.Errorf("%w: the manifest has no config", ErrMalformed)
	}
	if err != nil {
		return nil, &Error{Op: "fetch manifest", Target: b.String() + ":" + tag, Err: err}
	}
	cfg, err := c.blob(ctx, b, *doc.Config, MaxManifestSize)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&descImage{raw: raw, mt: desc.MediaType, cfg: cfg, layers: doc.Layers})
}

// descImage is an existing manifest as a ggcr image whose layers are known
// by descriptor only (their content is already in the repository).
type descImage struct {
	raw    []byte
	mt     types.MediaType
	cfg    []byte
	layers []v1.Descriptor
}

func (i *descImage) RawManifest() ([]byte, error)        { return i.raw, nil }
func (i *descImage) MediaType() (types.MediaType, error) { return i.mt, nil }
func (i *descImage) RawConfigFile() ([]byte, error)      { return i.cfg, nil }
func (i *descImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.layers {
		if l.Digest == h {
			return descLayer{l}, nil
		}
	}
	return nil, fmt.Errorf("layer %s not in manifest", h)
}

type descLayer struct{ d v1.Descriptor }

func (l descLayer) Digest() (v1.Hash, error)            { return l.d.Digest, nil }
func (l descLayer) Size() (int64, error)                { return l.d.Size, nil }
func (l descLayer) MediaType() (types.MediaType, error) { return l.d.MediaType, nil }
func (l descLayer) Compressed() (io.ReadCloser, error) {
	return nil, errors.New("layer content not fetched")
}

// AttachReferrer pushes an OCI 1.1 referrer of subject: a manifest with
// artifactType, the empty config (application/vnd.oci.empty.v1+json, "{}"),
// one layer and subject, by digest, as cosign v3 and `cosign sign
// --new-bundle-format` write it. When the registry has no referrers API,
// it also adds the manifest to the referrers fallback tag sha256-<hex> (an
// index whose descriptors carry artifactType and annotations). In an
// oci-dir layout the manifest is added to index.json. It returns the
// descriptor of the new manifest.
func (c *Client) AttachReferrer(ctx context.Context, subject Ref, artifactType string, layer Layer, annotations map[string]string) (v1.Descriptor, error) {
	switch {
	case subject.Digest() == "":
		return v1.Descriptor{}, fmt.Errorf("registry.AttachReferrer(%s): the subject must be pinned by digest; Resolve it first", subject)
	case artifactType == "":
		return v1.Descriptor{}, errors.New("registry.AttachReferrer: an artifact type is required")
	}
	if err := layer.check(); err != nil {
		return v1.Descriptor{}, fmt.Errorf("registry.AttachReferrer: %w", err)
	}
	ctx, cancel := c.callCtx(ctx)
	defer cancel()
	sd, err := c.head(ctx, c.backendFor(subject), subject.Digest())
	if err != nil {
		return v1.Descriptor{}, err
	}
	b, err := c.attachmentBackend(subject)
	if err != nil {
		return v1.Descriptor{}, err
	}
	emptyCfg := []byte("{}")
	cfgDigest := sha256Digest(emptyCfg)
	layerDigest := sha256Digest(layer.Content)
	if err := b.putBlob(ctx, cfgDigest, emptyCfg); err != nil {
		return v1.Descriptor{}, err
	}
	if err := b.putBlob(ctx, layerDigest, layer.Content); err != nil {
		return v1.Descriptor{}, err
	}
	ch, _ := v1.NewHash(cfgDigest)
	lh, _ := v1.NewHash(layerDigest)
	m := referrerManifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  artifactType,
		Config:        v1.Descriptor{MediaType: MediaTypeEmptyJSON, Digest: ch, Size: int64(len(emptyCfg)), ArtifactType: artifactType},
		Layers:        []v1.Descriptor{{MediaType: types.MediaType(layer.MediaType), Digest: lh, Size: int64(len(layer.Content)), Annotations: maps.Clone(layer.Annotations)}},
		Subject:       &v1.Descriptor{MediaType: sd.MediaType, Digest: sd.Digest, Size: sd.Size},
		Annotations:   maps.Clone(annotations),
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Descriptor{}, err
	}
	mh, _ := v1.NewHash(sha256Digest(raw))
	desc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: mh, Size: int64(len(raw)), ArtifactType: artifactType, Annotations: maps.Clone(annotations)}
	indexed, err := b.putManifest(ctx, mh.String(), raw, string(types.OCIManifestSchema1), subject.Digest())
	if err != nil {
		return v1.Descriptor{}, err
	}
	c.forgetReferrers(b, subject.Digest())
	if !indexed {
		if err := c.updateFallbackTag(ctx, b, subject.Digest(), desc); err != nil {
			return v1.Descriptor{}, err
		}
	}
	return desc, nil
}

// referrerManifest is an OCI 1.1 image manifest with artifactType, in
// cosign's field order.
type referrerManifest struct {
	SchemaVersion int64             `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType,omitempty"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
}

// updateFallbackTag adds desc to the referrers fallback index of subject,
// unless the registry turns out to have a referrers API after all (some,
// like go-containerregistry's, do not send OCI-Subject).
func (c *Client) updateFallbackTag(ctx context.Context, b backend, subject string, desc v1.Descriptor) error {
	rr, isRemote := b.(*remoteRepo)
	if isRemote {
		host := rr.repo.RegistryStr()
		c.mu.Lock()
		known, noAPI := c.noRefs[host]
		c.mu.Unlock()
		if !known || !noAPI {
			_, ok, err := b.referrers(ctx, subject)
			if err != nil {
				return err
			}
			c.mu.Lock()
			c.noRefs[host] = !ok
			c.mu.Unlock()
			if ok {
				return nil
			}
		}
	}
	tag := attachmentTag(subject, "")
	idx := manifestDoc{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	raw, _, err := c.manifestFresh(ctx, b, tag, -1, true)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		doc, err := decodeManifest(raw)
		if err == nil && !doc.isIndex() {
			err = fmt.Errorf("%w: the tag is not an index; refusing to overwrite it", ErrMalformed)
		}
		if err != nil {
			return &Error{Op: "fetch manifest", Target: b.String() + ":" + tag, Err: err}
		}
		for _, d := range doc.Manifests {
			if d.Digest == desc.Digest {
				return nil
			}
		}
		idx.Manifests, idx.Annotations = doc.Manifests, doc.Annotations
	}
	idx.Manifests = append(idx.Manifests, desc)
	if len(idx.Manifests) > MaxLayers {
		return &Error{Op: "push manifest", Target: b.String() + ":" + tag, Err: fmt.Errorf("%w: the fallback index holds %d referrers", ErrTooMany, len(idx.Manifests)-1)}
	}
	sortDescriptors(idx.Manifests)
	out, err := json.Marshal(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		Manifests     []v1.Descriptor   `json:"manifests"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{2, types.OCIImageIndex, idx.Manifests, idx.Annotations})
	if err != nil {
		return err
	}
	c.forgetTag(b, tag)
	if _, err := b.putManifest(ctx, tag, out, string(types.OCIImageIndex), ""); err != nil {
		return err
	}
	c.forgetTag(b, tag)
	return nil
}
