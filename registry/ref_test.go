package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/registry"
)

const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in                         string
		str, name, tag, digest     string
		registry, repository, path string
		layout                     bool
	}{
		{in: "nginx", str: "index.docker.io/library/nginx:latest", name: "index.docker.io/library/nginx", tag: "latest", registry: "index.docker.io", repository: "library/nginx"},
		{in: "docker.io/library/nginx:1.25", str: "index.docker.io/library/nginx:1.25", tag: "1.25", registry: "index.docker.io", repository: "library/nginx"},
		{in: "acme/app", str: "index.docker.io/acme/app:latest", tag: "latest", registry: "index.docker.io", repository: "acme/app"},
		{in: "localhost:5000/repo:tag", str: "localhost:5000/repo:tag", tag: "tag", registry: "localhost:5000", repository: "repo"},
		{in: "localhost:5000/repo", str: "localhost:5000/repo:latest", tag: "latest", registry: "localhost:5000", repository: "repo"},
		{in: "ghcr.io/acme/deep/app@" + dgst, str: "ghcr.io/acme/deep/app@" + dgst, digest: dgst, registry: "ghcr.io", repository: "acme/deep/app"},
		// Tag and digest: the digest pins, the tag stays for display.
		{in: "ghcr.io/acme/app:v1@" + dgst, str: "ghcr.io/acme/app@" + dgst, tag: "v1", digest: dgst, registry: "ghcr.io", repository: "acme/app"},
		{in: "127.0.0.1:5000/a@" + dgst, str: "127.0.0.1:5000/a@" + dgst, digest: dgst, registry: "127.0.0.1:5000", repository: "a"},
		// Layouts.
		{in: "oci-dir:./img", str: "oci-dir:img", name: "oci-dir:img", layout: true, path: "img"},
		{in: "oci-dir:/tmp/x/img:v1", str: "oci-dir:/tmp/x/img:v1", tag: "v1", layout: true, path: "/tmp/x/img"},
		{in: "oci-dir:/tmp/img@" + dgst, str: "oci-dir:/tmp/img@" + dgst, digest: dgst, layout: true, path: "/tmp/img"},
		{in: "oci-dir:/tmp/img:v1@" + dgst, str: "oci-dir:/tmp/img@" + dgst, tag: "v1", digest: dgst, layout: true, path: "/tmp/img"},
		// A colon in a directory name, not in the last element: no tag.
		{in: "oci-dir:/tmp/a:b/img", str: "oci-dir:/tmp/a:b/img", layout: true, path: "/tmp/a:b/img"},
		// A colon in the last element: a trailing slash keeps it in the path.
		{in: "oci-dir:/tmp/a:b/", str: "oci-dir:/tmp/a:b/", name: "oci-dir:/tmp/a:b/", layout: true, path: "/tmp/a:b"},
		{in: "oci-dir:/tmp/a:b/:v1", str: "oci-dir:/tmp/a:b/:v1", tag: "v1", layout: true, path: "/tmp/a:b"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := registry.ParseRef(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if r.String() != tc.str {
				t.Errorf("String() = %q, want %q", r.String(), tc.str)
			}
			if tc.name != "" && r.Name() != tc.name {
				t.Errorf("Name() = %q, want %q", r.Name(), tc.name)
			}
			if r.Tag() != tc.tag || r.Digest() != tc.digest {
				t.Errorf("Tag, Digest = %q, %q; want %q, %q", r.Tag(), r.Digest(), tc.tag, tc.digest)
			}
			if r.Registry() != tc.registry || r.Repository() != tc.repository {
				t.Errorf("Registry, Repository = %q, %q; want %q, %q", r.Registry(), r.Repository(), tc.registry, tc.repository)
			}
			if r.IsLayout() != tc.layout || r.LayoutPath() != tc.path {
				t.Errorf("IsLayout, LayoutPath = %v, %q; want %v, %q", r.IsLayout(), r.LayoutPath(), tc.layout, tc.path)
			}
			// The canonical form parses back to itself.
			again, err := registry.ParseRef(r.String())
			if err != nil || again.String() != r.String() {
				t.Errorf("ParseRef(String()) = %v, %v", again, err)
			}
		})
	}
}

func TestParseRefRejects(t *testing.T) {
	for _, tc := range []struct{ in, why string }{
		{"", "empty"},
		{" nginx", "leading space"},
		{"nginx\n", "newline"},
		{"https://ghcr.io/acme/app", "URL scheme"},
		{"ghcr.io/Acme/app", "upper case repository"},
		{"ghcr.io/acme/app@sha256:1234", "short digest"},
		{"ghcr.io/acme/app@md5:0123", "unknown digest algorithm"},
		{"ghcr.io/acme/app:bad tag", "space in tag"},
		{"oci-dir:", "no path"},
		{"oci-dir:/x:bad!tag", "bad layout tag"},
		{"oci-dir:/x@sha256:zz", "bad layout digest"},
		{"oci-dir:/x@sha256:../../etc/passwd", "path in digest"},
		{"oci-dir: /", "space around the layout path (found by FuzzParseRef)"},
	} {
		if r, err := registry.ParseRef(tc.in); err == nil {
			t.Errorf("%s: ParseRef(%q) = %v, want an error", tc.why, tc.in, r)
		} else if !errors.Is(err, registry.ErrInvalidReference) {
			t.Errorf("%s: error %v does not wrap ErrInvalidReference", tc.why, err)
		}
	}
}

func TestParseRefOptions(t *testing.T) {
	// Where references come from strangers, a name must never read files.
	if _, err := registry.ParseRef("oci-dir:/etc", registry.RegistryOnly()); err == nil || !strings.Contains(err.Error(), "only registry references") {
		t.Errorf("RegistryOnly accepted a layout: %v", err)
	}
	if _, err := registry.ParseRef("ghcr.io/a/b", registry.RegistryOnly()); err != nil {
		t.Errorf("RegistryOnly refused a registry reference: %v", err)
	}
	r, err := registry.ParseRef("app:v1", registry.WithDefaultRegistry("registry.example.com"))
	if err != nil || r.String() != "registry.example.com/app:v1" {
		t.Errorf("WithDefaultRegistry: %v, %v", r, err)
	}
}

func TestRefWithDigest(t *testing.T) {
	r, _ := registry.ParseRef("ghcr.io/acme/app:v1")
	p := r.WithDigest(dgst)
	if p.String() != "ghcr.io/acme/app@"+dgst || p.Tag() != "v1" || r.Digest() != "" {
		t.Errorf("WithDigest: %v (tag %q), original %v", p, p.Tag(), r)
	}
	var zero registry.Ref
	if !zero.IsZero() || zero.String() != "" {
		t.Errorf("zero Ref: %q", zero.String())
	}
}
