package registry

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// LayoutPrefix starts a reference to an OCI image layout on disk:
// oci-dir:PATH, oci-dir:PATH:TAG or oci-dir:PATH@sha256:….
const LayoutPrefix = "oci-dir:"

// Ref names an image in a registry (host/repo:tag, host/repo@sha256:…,
// normalised as go-containerregistry does: "nginx" is
// index.docker.io/library/nginx:latest) or in an OCI image layout
// directory (oci-dir:PATH[:TAG|@sha256:…]). The zero Ref names nothing.
type Ref struct {
	repo   name.Repository // registry refs
	layout string          // layout refs: the directory, cleaned
	tag    string
	digest string
}

// ErrInvalidReference is wrapped by every ParseRef error.
var ErrInvalidReference = errors.New("invalid image reference")

// RefOption changes how ParseRef reads a reference.
type RefOption func(*refOptions)

type refOptions struct {
	nameOpts     []name.Option
	registryOnly bool
}

// WithDefaultRegistry makes references without a registry host resolve to
// host instead of Docker Hub. The default is index.docker.io.
func WithDefaultRegistry(host string) RefOption {
	return func(o *refOptions) { o.nameOpts = append(o.nameOpts, name.WithDefaultRegistry(host)) }
}

// RegistryOnly refuses oci-dir: references. Use it wherever the reference
// comes from someone else (an admission request, a policy, a manifest file),
// so that an image name can never make the process read local files.
// The default accepts both forms.
func RegistryOnly() RefOption {
	return func(o *refOptions) { o.registryOnly = true }
}

var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ParseRef parses an image reference: "nginx", "host:5000/repo:tag",
// "host/repo@sha256:…", "host/repo:tag@sha256:…" (the digest pins it, the
// tag is kept for display), "oci-dir:PATH", "oci-dir:PATH:tag" or
// "oci-dir:PATH@sha256:…". In an oci-dir reference the tag is what follows
// the last colon of the last path element.
func ParseRef(s string, opts ...RefOption) (Ref, error) {
	var o refOptions
	for _, opt := range opts {
		opt(&o)
	}
	if s == "" {
		return Ref{}, fmt.Errorf("%w: empty", ErrInvalidReference)
	}
	if s != strings.TrimSpace(s) || strings.ContainsAny(s, "\x00\n\r\t") {
		return Ref{}, fmt.Errorf("%w %q: contains whitespace or control characters", ErrInvalidReference, s)
	}
	if rest, ok := strings.CutPrefix(s, LayoutPrefix); ok {
		if o.registryOnly {
			return Ref{}, fmt.Errorf("%w %q: only registry references are accepted here, not OCI layouts", ErrInvalidReference, s)
		}
		return parseLayoutRef(s, rest)
	}
	if strings.Contains(s, "://") {
		return Ref{}, fmt.Errorf("%w %q: write host/repository[:tag|@digest], without a URL scheme", ErrInvalidReference, s)
	}
	nameOpts := append([]name.Option{name.WeakValidation}, o.nameOpts...)
	var r Ref
	base := s
	if i := strings.LastIndex(s, "@"); i >= 0 {
		d, err := name.NewDigest(s, nameOpts...)
		if err != nil {
			return Ref{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
		}
		r.repo, r.digest, base = d.Context(), d.DigestStr(), s[:i]
		if t, err := name.NewTag(base, nameOpts...); err == nil && hasExplicitTag(base) {
			r.tag = t.TagStr()
		}
		return r, nil
	}
	t, err := name.NewTag(base, nameOpts...)
	if err != nil {
		return Ref{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
	}
	r.repo, r.tag = t.Context(), t.TagStr()
	return r, nil
}

// hasExplicitTag reports whether s (no digest) ends in :tag rather than a
// host port.
func hasExplicitTag(s string) bool {
	i := strings.LastIndex(s, ":")
	return i >= 0 && !strings.Contains(s[i+1:], "/")
}

func parseLayoutRef(orig, rest string) (Ref, error) {
	var r Ref
	if i := strings.LastIndex(rest, "@"); i >= 0 && (strings.HasPrefix(rest[i+1:], "sha256:") || strings.HasPrefix(rest[i+1:], "sha512:")) {
		h, err := v1.NewHash(rest[i+1:])
		if err != nil {
			return Ref{}, fmt.Errorf("%w %q: bad digest: %v", ErrInvalidReference, orig, err)
		}
		r.digest, rest = h.String(), rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.ContainsAny(rest[i+1:], `/\`) {
		tag := rest[i+1:]
		if !tagRE.MatchString(tag) {
			return Ref{}, fmt.Errorf("%w %q: bad tag %q (letters, digits, '_', '.', '-', at most 128)", ErrInvalidReference, orig, tag)
		}
		r.tag, rest = tag, rest[:i]
	}
	if rest == "" {
		return Ref{}, fmt.Errorf("%w %q: write oci-dir:PATH[:tag|@sha256:…]", ErrInvalidReference, orig)
	}
	r.layout = filepath.Clean(rest)
	if strings.TrimSpace(r.layout) != r.layout {
		return Ref{}, fmt.Errorf("%w %q: the layout path starts or ends with a space", ErrInvalidReference, orig)
	}
	return r, nil
}

// IsZero reports whether r is the zero Ref.
func (r Ref) IsZero() bool {
	return r.layout == "" && r.repo.RegistryStr() == "" && r.repo.RepositoryStr() == ""
}

// IsLayout reports whether r names an image in an OCI layout directory.
func (r Ref) IsLayout() bool { return r.layout != "" }

// LayoutPath is the layout directory of an oci-dir reference, "" otherwise.
func (r Ref) LayoutPath() string { return r.layout }

// Registry is the registry host (with port, if any): "index.docker.io",
// "localhost:5000". It is "" for layouts.
func (r Ref) Registry() string {
	if r.IsLayout() {
		return ""
	}
	return r.repo.RegistryStr()
}

// Repository is the repository path inside the registry ("library/nginx").
// It is "" for layouts.
func (r Ref) Repository() string {
	if r.IsLayout() {
		return ""
	}
	return r.repo.RepositoryStr()
}

// Name is where the image lives, without tag or digest:
// "index.docker.io/library/nginx" or "oci-dir:PATH".
func (r Ref) Name() string {
	if r.IsLayout() {
		if strings.Contains(filepath.Base(r.layout), ":") {
			// "oci-dir:dir/a:b/" — the slash says ":b" is not a tag.
			return LayoutPrefix + r.layout + string(filepath.Separator)
		}
		return LayoutPrefix + r.layout
	}
	if r.IsZero() {
		return ""
	}
	return r.repo.Name()
}

// Tag is the tag, "" when the reference names only a digest (or a layout's
// only image).
func (r Ref) Tag() string { return r.tag }

// Digest is the pinned digest ("sha256:…"), or "" for a tag reference.
func (r Ref) Digest() string { return r.digest }

// WithDigest returns a copy of r pinned to digest d; the tag stays for display.
func (r Ref) WithDigest(d string) Ref {
	r.digest = d
	return r
}

// WithTag returns a copy of r naming tag in the same repository, unpinned.
func (r Ref) WithTag(tag string) Ref {
	r.tag, r.digest = tag, ""
	return r
}

// String is the canonical form: "host/repo@sha256:…" when pinned,
// "host/repo:tag" otherwise; "oci-dir:PATH[@sha256:…|:tag]" for layouts.
func (r Ref) String() string {
	n := r.Name()
	switch {
	case n == "":
		return ""
	case r.digest != "":
		return n + "@" + r.digest
	case r.tag != "":
		return n + ":" + r.tag
	}
	return n
}

// MarshalText writes String, so Refs read well in JSON.
func (r Ref) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// ident is what a registry or layout is asked for: the digest when pinned.
func (r Ref) ident() string {
	if r.digest != "" {
		return r.digest
	}
	return r.tag
}

// repoRef is r without tag or digest (the repository).
func (r Ref) repoRef() Ref {
	r.tag, r.digest = "", ""
	return r
}

// parseRepository parses "host/repo" or "oci-dir:PATH" (no tag or digest).
func parseRepository(s string) (Ref, error) {
	if rest, ok := strings.CutPrefix(s, LayoutPrefix); ok {
		if rest == "" {
			return Ref{}, fmt.Errorf("%w %q", ErrInvalidReference, s)
		}
		return Ref{layout: filepath.Clean(rest)}, nil
	}
	repo, err := name.NewRepository(s, name.WeakValidation)
	if err != nil {
		return Ref{}, fmt.Errorf("%w %q: %v", ErrInvalidReference, s, err)
	}
	return Ref{repo: repo}, nil
}

// attachmentTag is cosign's tag for attachments of digest d: "sha256-<hex>"
// plus the suffix (".sig", ".att", ".sbom", or "" for the referrers
// fallback tag).
func attachmentTag(d, suffix string) string {
	return strings.Replace(d, ":", "-", 1) + suffix
}
