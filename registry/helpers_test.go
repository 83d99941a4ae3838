package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// newClient returns a Client with no retry backoff (tests count requests
// and should not sleep).
func newClient(t testing.TB, opts ...registry.Option) *registry.Client {
	t.Helper()
	c, err := registry.New(append([]registry.Option{registry.WithRetryBackoff(time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustRef(t testing.TB, s string) registry.Ref {
	t.Helper()
	r, err := registry.ParseRef(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Attachments as cosign writes them.
var (
	sigLayer = registry.Layer{
		Content:   []byte(`{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"sha256:00"},"type":"cosign container image signature"},"optional":null}`),
		MediaType: registry.MediaTypeSimpleSigning,
		Annotations: map[string]string{
			"dev.cosignproject.cosign/signature": "MEUCIQDkey1",
		},
	}
	attLayer = registry.Layer{
		Content:   []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"MEQ"}]}`),
		MediaType: registry.MediaTypeDSSE,
		Annotations: map[string]string{
			"predicateType":                      "https://slsa.dev/provenance/v1",
			"dev.cosignproject.cosign/signature": "",
		},
	}
	sbomLayer = registry.Layer{
		Content:   []byte(`{"spdxVersion":"SPDX-2.3"}`),
		MediaType: "text/spdx+json",
	}
	sigBundle = registry.Layer{
		Content:   []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"c2ln"}}`),
		MediaType: registry.MediaTypeBundle,
	}
	attBundle = registry.Layer{
		Content:   []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"YXR0"}}`),
		MediaType: registry.MediaTypeBundle,
	}
)

func bundleAnnotations(predicateType string) map[string]string {
	return map[string]string{
		registry.AnnotationCreated:             "2026-01-01T00:00:00Z",
		registry.AnnotationBundleContent:       "dsse-envelope",
		registry.AnnotationBundlePredicateType: predicateType,
	}
}

// attachAll writes one attachment of each kind in each scheme vouch writes:
// legacy .sig/.att/.sbom tags and two bundle referrers (a signature and a
// provenance attestation).
func attachAll(t testing.TB, c *registry.Client, subject registry.Ref) {
	t.Helper()
	ctx := ctxT(t)
	for _, a := range []struct {
		kind registry.Kind
		l    registry.Layer
	}{{registry.KindSignature, sigLayer}, {registry.KindAttestation, attLayer}, {registry.KindSBOM, sbomLayer}} {
		if err := c.AttachLegacy(ctx, subject, a.kind, a.l); err != nil {
			t.Fatalf("AttachLegacy %s: %v", a.kind, err)
		}
	}
	if _, err := c.AttachReferrer(ctx, subject, registry.MediaTypeBundle, sigBundle, bundleAnnotations(registry.PredicateTypeCosignSign)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AttachReferrer(ctx, subject, registry.MediaTypeBundle, attBundle, bundleAnnotations("https://slsa.dev/provenance/v1")); err != nil {
		t.Fatal(err)
	}
}

// summary renders attachments as "kind/format/path/predicateType" lines.
func summary(as []registry.Attachment) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%s/%s/%s/%s", a.Kind, a.Format, a.Path, a.PredicateType))
	}
	return out
}

// rawManifest is a manifest pushed as is, for writers other than ours.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// putRaw pushes raw JSON as a manifest to ref (repo:tag or repo@digest on
// reg) with ggcr's own writer, which also maintains the referrers fallback
// tag for manifests with a subject on registries without the API.
func putRaw(t testing.TB, reg *registrytest.Registry, ref string, v any, mt types.MediaType) v1.Hash {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	n, err := name.ParseReference(reg.Ref(ref))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(n, rawManifest{raw, mt}); err != nil {
		t.Fatalf("put %s: %v", n, err)
	}
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	return h
}

// pushBlob uploads data to repo with ggcr and returns its descriptor.
func pushBlob(t testing.TB, reg *registrytest.Registry, repo string, data []byte, mt string) v1.Descriptor {
	t.Helper()
	r, err := name.NewRepository(reg.Ref(repo))
	if err != nil {
		t.Fatal(err)
	}
	l := static.NewLayer(data, types.MediaType(mt))
	if err := remote.WriteLayer(r, l); err != nil {
		t.Fatal(err)
	}
	h, _ := l.Digest()
	return v1.Descriptor{MediaType: types.MediaType(mt), Digest: h, Size: int64(len(data))}
}

// putRawDigest pushes v as an OCI manifest by digest and returns its descriptor.
func putRawDigest(t testing.TB, reg *registrytest.Registry, repo string, v any) v1.Descriptor {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	h, size, _ := v1.SHA256(bytes.NewReader(raw))
	n, err := name.ParseReference(reg.Ref(repo + "@" + h.String()))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(n, rawManifest{raw, types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: size}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// jsonRaw marshals as the bytes it holds.
type jsonRaw []byte

func (j jsonRaw) MarshalJSON() ([]byte, error) { return j, nil }

func sha256Hex(b []byte) v1.Hash {
	h, _, _ := v1.SHA256(bytes.NewReader(b))
	return h
}

func typesMediaType(s string) types.MediaType { return types.MediaType(s) }
