package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// layoutRepo is an OCI image layout directory: index.json, oci-layout and
// blobs/<alg>/<hex>. Tags are index.json entries annotated
// org.opencontainers.image.ref.name; `cosign save` layouts mark the image
// and its signatures with a "kind" annotation instead; OCI 1.1 referrers
// are manifests in index.json whose subject is the image.
type layoutRepo struct {
	c   *Client
	dir string
}

var _ backend = (*layoutRepo)(nil)

func (l *layoutRepo) String() string { return Ref{layout: l.dir}.Name() }

func (l *layoutRepo) err(op, target string, err error) error {
	t := l.String()
	if target != "" {
		t += target
	}
	return &Error{Op: op, Target: t, Err: err}
}

// readIndex reads index.json, capped and decoded.
func (l *layoutRepo) readIndex() (*manifestDoc, error) {
	raw, err := readFileCapped(filepath.Join(l.dir, "index.json"), MaxManifestSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, l.err("read layout", "", fmt.Errorf("%w: no index.json: %s is not an OCI image layout", ErrNotFound, l.dir))
	}
	if err != nil {
		return nil, l.err("read layout", "", err)
	}
	doc, err := decodeManifest(raw)
	if err != nil {
		return nil, l.err("read layout", "", fmt.Errorf("index.json: %w", err))
	}
	if !doc.isIndex() {
		return nil, l.err("read layout", "", fmt.Errorf("%w: index.json is not an index", ErrMalformed))
	}
	return doc, nil
}

// readFileCapped refuses a file over max before and while reading it.
func readFileCapped(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the limit of %d", ErrTooLarge, filepath.Base(path), fi.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: %s is over the limit of %d bytes", ErrTooLarge, filepath.Base(path), max)
	}
	return b, nil
}

func (l *layoutRepo) blobPath(digest string) (string, error) {
	h, err := v1.NewHash(digest) // validates: no path tricks in algorithm or hex
	if err != nil {
		return "", fmt.Errorf("%w: bad digest %q: %v", ErrMalformed, digest, err)
	}
	return filepath.Join(l.dir, "blobs", h.Algorithm, h.Hex), nil
}

var attachmentTagRE = regexp.MustCompile(`^(sha256|sha512)-([0-9a-f]+)(\.sig|\.att|\.sbom)?$`)

// lookup finds the index.json entry a tag names.
func (l *layoutRepo) lookup(idx *manifestDoc, tag string) (v1.Descriptor, error) {
	var found []v1.Descriptor
	for _, d := range idx.Manifests {
		if d.Annotations[AnnotationRefName] == tag {
			found = append(found, d)
		}
	}
	if len(found) == 0 { // full references as ref names (containerd, some tools)
		for _, d := range idx.Manifests {
			if rn := d.Annotations[AnnotationRefName]; strings.Contains(rn, "/") || strings.Contains(rn, ":") {
				if t, err := name.NewTag(rn, name.WeakValidation); err == nil && hasExplicitTag(rn) && t.TagStr() == tag {
					found = append(found, d)
				}
			}
		}
	}
	if len(found) == 0 { // `cosign save`: kind annotations beside the signed image
		if m := attachmentTagRE.FindStringSubmatch(tag); m != nil && m[3] != "" {
			subject := m[1] + ":" + m[2]
			kind := map[string]string{".sig": cosignKindSigs, ".att": cosignKindAtts, ".sbom": cosignKindSboms}[m[3]]
			if cosignImage(idx) == subject {
				for _, d := range idx.Manifests {
					if d.Annotations[AnnotationCosignKind] == kind {
						found = append(found, d)
					}
				}
			}
		}
	}
	switch len(found) {
	case 0:
		return v1.Descriptor{}, l.err("resolve", ":"+tag, fmt.Errorf("%w: no index.json entry is tagged %q", ErrNotFound, tag))
	case 1:
		return found[0], nil
	}
	return v1.Descriptor{}, l.err("resolve", ":"+tag, fmt.Errorf("%w: %d index.json entries are tagged %q", ErrMalformed, len(found), tag))
}

// cosignImage is the digest of the image a `cosign save` layout holds, or "".
func cosignImage(idx *manifestDoc) string {
	for _, d := range idx.Manifests {
		switch d.Annotations[AnnotationCosignKind] {
		case cosignKindImage, cosignKindImageIndex:
			return d.Digest.String()
		}
	}
	return ""
}

// isAttachmentEntry reports whether an index.json entry is an attachment
// rather than an image (as far as its annotations tell).
func isAttachmentEntry(d v1.Descriptor) bool {
	switch d.Annotations[AnnotationCosignKind] {
	case cosignKindSigs, cosignKindAtts, cosignKindSboms:
		return true
	}
	return attachmentTagRE.MatchString(d.Annotations[AnnotationRefName])
}

// defaultImage picks the image of a layout named without tag or digest.
func (l *layoutRepo) defaultImage(ctx context.Context) (v1.Descriptor, error) {
	idx, err := l.readIndex()
	if err != nil {
		return v1.Descriptor{}, err
	}
	for _, d := range idx.Manifests {
		if k := d.Annotations[AnnotationCosignKind]; k == cosignKindImage || k == cosignKindImageIndex {
			return d, nil
		}
	}
	var cands []v1.Descriptor
	for _, d := range idx.Manifests {
		if !isAttachmentEntry(d) && (d.MediaType.IsImage() || d.MediaType.IsIndex() || d.MediaType == "") {
			cands = append(cands, d)
		}
	}
	if len(cands) > 1 { // referrers are manifests too: drop those with a subject
		var images []v1.Descriptor
		for _, d := range cands {
			raw, _, err := l.getManifest(ctx, d.Digest.String(), d.Size)
			if err != nil {
				return v1.Descriptor{}, err
			}
			if doc, err := decodeManifest(raw); err == nil && doc.Subject == nil {
				images = append(images, d)
			}
		}
		cands = images
	}
	switch len(cands) {
	case 0:
		return v1.Descriptor{}, l.err("resolve", "", fmt.Errorf("%w: the layout holds no image", ErrNotFound))
	case 1:
		return cands[0], nil
	}
	var names []string
	for _, d := range cands {
		if rn := d.Annotations[AnnotationRefName]; rn != "" {
			names = append(names, rn)
		} else {
			names = append(names, d.Digest.String())
		}
	}
	return v1.Descriptor{}, l.err("resolve", "", fmt.Errorf("%w: the layout holds %d images (%s); name one: oci-dir:PATH:TAG or oci-dir:PATH@sha256:…",
		ErrInvalidReference, len(cands), strings.Join(names, ", ")))
}

func (l *layoutRepo) getManifest(ctx context.Context, id string, size int64) ([]byte, string, error) {
	const op = "fetch manifest"
	var entry *v1.Descriptor
	if !isDigest(id) {
		idx, err := l.readIndex()
		if err != nil {
			return nil, "", err
		}
		d, err := l.lookup(idx, id)
		if err != nil {
			return nil, "", err
		}
		entry, id, size = &d, d.Digest.String(), d.Size
	}
	if size > MaxManifestSize {
		return nil, "", l.err(op, "@"+id, fmt.Errorf("%w: its descriptor claims %d bytes, over MaxManifestSize (%d)", ErrTooLarge, size, MaxManifestSize))
	}
	raw, err := l.readBlob(id, MaxManifestSize)
	if err != nil {
		return nil, "", l.err(op, "@"+id, err)
	}
	mt := bodyMediaType(raw)
	if mt == "" && entry != nil {
		mt = string(entry.MediaType)
	}
	if mt == "" {
		mt = string(types.OCIManifestSchema1)
		if doc, err := decodeManifest(raw); err == nil && doc.isIndex() {
			mt = string(types.OCIImageIndex)
		}
	}
	return raw, mt, nil
}

// readBlob reads and checks a blob, capped at max.
func (l *layoutRepo) readBlob(digest string, max int64) ([]byte, error) {
	p, err := l.blobPath(digest)
	if err != nil {
		return nil, err
	}
	b, err := readFileCapped(p, max)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: blob %s is not in the layout", ErrNotFound, digest)
	}
	if err != nil {
		return nil, err
	}
	if err := checkDigest(digest, b); err != nil {
		return nil, err
	}
	return b, nil
}

func (l *layoutRepo) headManifest(ctx context.Context, id string) (v1.Descriptor, error) {
	idx, err := l.readIndex()
	if err != nil {
		return v1.Descriptor{}, err
	}
	if !isDigest(id) {
		d, err := l.lookup(idx, id)
		if err != nil {
			return v1.Descriptor{}, err
		}
		if d.MediaType == "" {
			raw, mt, err := l.getManifest(ctx, d.Digest.String(), d.Size)
			if err != nil {
				return v1.Descriptor{}, err
			}
			d.MediaType, d.Size = types.MediaType(mt), int64(len(raw))
		}
		return v1.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size}, nil
	}
	raw, mt, err := l.getManifest(ctx, id, -1)
	if err != nil {
		return v1.Descriptor{}, err
	}
	h, _ := v1.NewHash(id)
	return v1.Descriptor{MediaType: types.MediaType(mt), Digest: h, Size: int64(len(raw))}, nil
}

func (l *layoutRepo) getBlob(ctx context.Context, digest string, size, max int64) ([]byte, error) {
	const op = "fetch blob"
	if size > max {
		return nil, l.err(op, "@"+digest, fmt.Errorf("%w: its descriptor claims %d bytes, over the limit of %d", ErrTooLarge, size, max))
	}
	b, err := l.readBlob(digest, max)
	if err != nil {
		return nil, l.err(op, "@"+digest, err)
	}
	if int64(len(b)) != size {
		return nil, l.err(op, "@"+digest, fmt.Errorf("%w: the blob is %d bytes, the descriptor says %d", ErrDigestMismatch, len(b), size))
	}
	return b, nil
}

// referrers scans index.json for manifests whose subject is digest.
func (l *layoutRepo) referrers(ctx context.Context, digest string) ([]v1.Descriptor, bool, error) {
	idx, err := l.readIndex()
	if err != nil {
		return nil, true, err
	}
	var out []v1.Descriptor
	for _, d := range idx.Manifests {
		if d.Digest.String() == digest || !d.MediaType.IsImage() && d.MediaType != "" {
			continue
		}
		if k := d.Annotations[AnnotationCosignKind]; k != "" {
			continue // `cosign save` entries are found by their kind
		}
		if err := ctx.Err(); err != nil {
			return nil, true, l.err("list referrers", "", contextErr(err))
		}
		raw, _, err := l.c.manifest(ctx, l, d.Digest.String(), d.Size)
		if err != nil {
			return nil, true, err
		}
		doc, err := decodeManifest(raw)
		if err != nil || doc.Subject == nil || doc.Subject.Digest.String() != digest {
			continue
		}
		out = append(out, d)
	}
	return out, true, nil
}

func (l *layoutRepo) putBlob(ctx context.Context, digest string, data []byte) error {
	p, err := l.blobPath(digest)
	if err != nil {
		return l.err("push blob", "@"+digest, err)
	}
	if fi, err := os.Stat(p); err == nil && fi.Size() == int64(len(data)) {
		return nil
	}
	if err := writeFileAtomic(p, data); err != nil {
		return l.err("push blob", "@"+digest, err)
	}
	return nil
}

func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), p)
}

func (l *layoutRepo) putManifest(ctx context.Context, id string, raw []byte, mediaType, subject string) (bool, error) {
	digest := sha256Digest(raw)
	if err := l.putBlob(ctx, digest, raw); err != nil {
		return false, err
	}
	l.c.layoutMu.Lock()
	defer l.c.layoutMu.Unlock()
	idx, err := l.readIndex()
	if err != nil {
		return false, err
	}
	h, _ := v1.NewHash(digest)
	desc := v1.Descriptor{MediaType: types.MediaType(mediaType), Digest: h, Size: int64(len(raw))}
	if doc, err := decodeManifest(raw); err == nil {
		desc.ArtifactType = doc.ArtifactType
		if desc.ArtifactType == "" && doc.Subject != nil && doc.Config != nil {
			desc.ArtifactType = string(doc.Config.MediaType)
		}
		if len(doc.Annotations) > 0 && doc.Subject != nil {
			desc.Annotations = map[string]string{}
			for k, v := range doc.Annotations {
				desc.Annotations[k] = v
			}
		}
	}
	keep := idx.Manifests[:0:0]
	if isDigest(id) {
		for _, d := range idx.Manifests {
			if d.Digest.String() == digest && d.Annotations[AnnotationRefName] == "" {
				return subject != "", nil // already there
			}
		}
		keep = append(keep, idx.Manifests...)
	} else {
		if desc.Annotations == nil {
			desc.Annotations = map[string]string{}
		}
		desc.Annotations[AnnotationRefName] = id
		// Replace what the tag named, including a `cosign save` entry of
		// the same kind for the same image; keep that kind annotation so
		// `cosign verify --local-image` still finds it.
		kind := ""
		if m := attachmentTagRE.FindStringSubmatch(id); m != nil && m[3] != "" && cosignImage(idx) == m[1]+":"+m[2] {
			kind = map[string]string{".sig": cosignKindSigs, ".att": cosignKindAtts, ".sbom": cosignKindSboms}[m[3]]
			desc.Annotations[AnnotationCosignKind] = kind
		}
		for _, d := range idx.Manifests {
			if d.Annotations[AnnotationRefName] == id || kind != "" && d.Annotations[AnnotationCosignKind] == kind {
				continue
			}
			keep = append(keep, d)
		}
	}
	idx.Manifests = append(keep, desc)
	out, err := json.MarshalIndent(struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     types.MediaType   `json:"mediaType"`
		Manifests     []v1.Descriptor   `json:"manifests"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{2, types.OCIImageIndex, idx.Manifests, idx.Annotations}, "", "  ")
	if err != nil {
		return false, err
	}
	if err := writeFileAtomic(filepath.Join(l.dir, "index.json"), append(out, '\n')); err != nil {
		return false, l.err("push manifest", "", err)
	}
	return subject != "", nil
}

// sortDescriptors orders descriptors by digest, for stable output.
func sortDescriptors(ds []v1.Descriptor) {
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Digest.String() < ds[j].Digest.String() })
}
