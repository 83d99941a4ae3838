package registry

import (
	"strings"
	"testing"
)

// Parsers of input from strangers get fuzz targets:
//
//	go test ./registry -run '^$' -fuzz FuzzParseRef -fuzztime 30s
//	go test ./registry -run '^$' -fuzz FuzzAllowlistPattern -fuzztime 30s
//	go test ./registry -run '^$' -fuzz FuzzDecodeManifest -fuzztime 30s

const fuzzDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"nginx", "docker.io/library/nginx:1.25", "localhost:5000/a/b:c", "ghcr.io/a/b@" + fuzzDigest,
		"ghcr.io/a/b:v1@" + fuzzDigest, "oci-dir:./x", "oci-dir:/a:b/c:d", "oci-dir:x@" + fuzzDigest,
		"[::1]:5000/x", "a/b/c/d/e/f", "oci-dir:@", "@", ":", "ghcr.io/a@sha256:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if r.IsZero() {
			t.Fatalf("ParseRef(%q) gave the zero Ref without error", s)
		}
		again, err := ParseRef(r.String())
		if err != nil {
			t.Fatalf("ParseRef(%q).String() = %q does not parse: %v", s, r.String(), err)
		}
		if again.String() != r.String() {
			t.Fatalf("round trip: %q -> %q -> %q", s, r.String(), again.String())
		}
		if r.Digest() != "" && !strings.Contains(r.String(), "@"+r.Digest()) {
			t.Fatalf("pinned %q prints as %q", s, r.String())
		}
	})
}

func FuzzAllowlistPattern(f *testing.F) {
	for _, s := range []string{
		"my-org-registry.io", "public.ecr.aws/team/*", "ghcr.io/acme/**", "nginx", "nginx:1.25",
		"docker.io/*", "localhost:5000", "ghcr.io/a/b@" + fuzzDigest, "**", "*/x", "a/**/**/b",
		"[::1]:5000/x", "ghcr.io/a:b/c",
	} {
		f.Add(s, "ghcr.io/acme/app:v1")
	}
	f.Fuzz(func(t *testing.T, pat, image string) {
		p, err := parsePattern(pat)
		if err != nil {
			return
		}
		if p.host == "" || len(p.path) == 0 {
			t.Fatalf("pattern %q parsed without host or path: %+v", pat, p)
		}
		if strings.Contains(p.host, "*") {
			t.Fatalf("pattern %q has a wildcard host", pat)
		}
		r, err := ParseRef(image)
		if err != nil {
			return
		}
		if p.match(r) && !r.IsLayout() && strings.ToLower(r.Registry()) != p.host {
			t.Fatalf("pattern %q (host %q) matched %q on another host", pat, p.host, image)
		}
	})
}

func FuzzDecodeManifest(f *testing.F) {
	for _, s := range []string{
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"` + fuzzDigest + `","size":2},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"` + fuzzDigest + `","size":10,"annotations":{"a":"b"}}]}`,
		`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + fuzzDigest + `","size":1,"artifactType":"x"}]}`,
		`{"schemaVersion":2,"manifests":[]}`,
		`{"schemaVersion":1}`, `[]`, `{}`, `{"schemaVersion":2,"layers":[{"digest":"sha256:xyz"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeManifest(b)
		if err != nil {
			return
		}
		if len(m.Layers)+len(m.Manifests) > MaxLayers {
			t.Fatalf("accepted %d descriptors", len(m.Layers)+len(m.Manifests))
		}
		if m.isIndex() && (len(m.Layers) > 0 || m.Config != nil) {
			t.Fatal("accepted an index with layers or config")
		}
		for _, l := range append(m.Layers, m.Manifests...) {
			if l.Size < 0 || l.Digest.Hex == "" {
				t.Fatalf("accepted descriptor %+v", l)
			}
			_ = classify(m, l) // never panics
		}
	})
}
