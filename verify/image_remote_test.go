package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

const slsaV1 = "https://slsa.dev/provenance/v1"

// remote is a registry for image tests, a client on it and the fixture's
// Sigstore.
type remoteFixture struct {
	*fixture
	reg    *registrytest.Registry
	client *registry.Client
}

func newRemoteFixture(t testing.TB, opts ...registrytest.Option) *remoteFixture {
	t.Helper()
	reg := registrytest.New(t, opts...)
	return &remoteFixture{fixture: newFixture(t), reg: reg, client: newTestClient(t)}
}

func newTestClient(t testing.TB) *registry.Client {
	t.Helper()
	c, err := registry.New(registry.WithRetryBackoff(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *remoteFixture) ref(s string) registry.Ref {
	f.t.Helper()
	r, err := registry.ParseRef(f.reg.Ref(s))
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

// push pushes a random image to repo:tag and returns it pinned.
func (f *remoteFixture) push(repoTag string) registry.Ref {
	f.t.Helper()
	d := f.reg.PushRandomImage(f.t, repoTag)
	repo, _, _ := strings.Cut(repoTag, ":")
	return f.ref(repo + "@" + d)
}

// imageVerifier is a verifier trusting the fixture, with a registry client
// of its own (clients remember tags and listings for a while).
func (f *remoteFixture) imageVerifier(opts ...Option) *Verifier {
	return f.verifier(append([]Option{WithRegistry(newTestClient(f.t))}, opts...)...)
}

// attach writes a as cosign would: legacy layers into the .sig/.att tag,
// bundles as referrers announcing claimedType.
func (f *remoteFixture) attach(subject registry.Ref, a Attachment, claimedType string) {
	f.t.Helper()
	ctx := context.Background()
	var err error
	switch a.Format {
	case FormatLegacySignature:
		err = f.client.AttachLegacy(ctx, subject, registry.KindSignature, registry.Layer{Content: a.Content, MediaType: registry.MediaTypeSimpleSigning, Annotations: a.Annotations})
	case FormatLegacyAttestation:
		err = f.client.AttachLegacy(ctx, subject, registry.KindAttestation, registry.Layer{Content: a.Content, MediaType: registry.MediaTypeDSSE, Annotations: a.Annotations})
	case FormatBundle:
		ann := map[string]string{registry.AnnotationBundleContent: "dsse-envelope"}
		if claimedType != "" {
			ann[registry.AnnotationBundlePredicateType] = claimedType
		}
		_, err = f.client.AttachReferrer(ctx, subject, registry.MediaTypeBundle, registry.Layer{Content: a.Content, MediaType: registry.MediaTypeBundle}, ann)
	}
	if err != nil {
		f.t.Fatal(err)
	}
}

func sigPolicy(auths ...Authority) ImagePolicy {
	return ImagePolicy{Signatures: &Requirements{Authorities: auths}}
}

func attPolicy(predicateType string, auths ...Authority) ImagePolicy {
	return ImagePolicy{Attestations: []ImageAttestation{{
		AttestationRequirement: AttestationRequirement{PredicateType: predicateType},
		Requirements:           Requirements{Authorities: auths},
	}}}
}

func wantImageVerified(t *testing.T, res *Result, err error) {
	t.Helper()
	if err != nil || res == nil || !res.Verified || res.Failure != nil {
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Fatalf("want verified, got %v\n%s", err, b)
	}
}

// wantImageFailure checks the reason, and that err, the result and its
// Err agree on it.
func wantImageFailure(t *testing.T, res *Result, err error, want Reason) {
	t.Helper()
	b, _ := json.MarshalIndent(res, "", "  ")
	if res == nil || res.Verified || res.Failure == nil || res.Failure.Reason != want || ReasonOf(err) != want || ReasonOf(res.Err()) != want {
		t.Fatalf("want %s, got %v (%s)\n%s", want, err, ReasonOf(err), b)
	}
	var d interface{ Denied() bool }
	if !errors.As(err, &d) || d.Denied() != want.Denied() {
		t.Fatalf("%s: Denied() should be %v: %v", want, want.Denied(), err)
	}
}

// Every format and kind, signed keyless and with a key, attached through a
// registry and verified end to end.
func TestImageEndToEnd(t *testing.T) {
	for _, withReferrers := range []bool{true, false} {
		name := "referrers API"
		var opts []registrytest.Option
		if !withReferrers {
			name = "fallback tag"
			opts = append(opts, registrytest.WithoutReferrers())
		}
		t.Run(name, func(t *testing.T) {
			f := newRemoteFixture(t, opts...)
			k := newKey(t)
			keyless := keylessAuth("ci", alice)
			keyed := keyAuth("release", k, false)
			for _, tc := range []struct {
				name   string
				attach func(d string) (Attachment, string)
				policy ImagePolicy
				format Format
			}{
				{"keyless legacy signature", func(d string) (Attachment, string) { return f.keylessSig(aliceID, d), "" }, sigPolicy(keyless), FormatLegacySignature},
				{"keyless bundle signature", func(d string) (Attachment, string) {
					return f.keylessBundle(aliceID, d, PredicateCosignSign), PredicateCosignSign
				}, sigPolicy(keyless), FormatBundle},
				{"keyed legacy signature", func(d string) (Attachment, string) { return f.keyedSig(k, d, true), "" }, sigPolicy(keyed), FormatLegacySignature},
				{"keyed bundle signature", func(d string) (Attachment, string) {
					return f.keyedBundle(k, d, PredicateCosignSign, true), PredicateCosignSign
				}, sigPolicy(keyed), FormatBundle},
				{"keyless legacy attestation", func(d string) (Attachment, string) { return f.keylessAtt(aliceID, d, slsaV1), "" }, attPolicy(slsaV1, keyless), FormatLegacyAttestation},
				{"keyless bundle attestation", func(d string) (Attachment, string) { return f.keylessBundle(aliceID, d, slsaV1), slsaV1 }, attPolicy(slsaV1, keyless), FormatBundle},
				{"keyed bundle attestation", func(d string) (Attachment, string) { return f.keyedBundle(k, d, slsaV1, true), slsaV1 }, attPolicy(slsaV1, keyed), FormatBundle},
				{"bundle whose predicate type is not announced", func(d string) (Attachment, string) { return f.keyedBundle(k, d, slsaV1, true), "" }, attPolicy(slsaV1, keyed), FormatBundle},
			} {
				t.Run(tc.name, func(t *testing.T) {
					repo := strings.ReplaceAll(tc.name, " ", "-")
					img := f.push(repo + ":v1")
					a, claimed := tc.attach(img.Digest())
					f.attach(img, a, claimed)
					res, err := f.imageVerifier().Image(context.Background(), f.ref(repo+":v1"), tc.policy)
					wantImageVerified(t, res, err)
					if res.Digest != img.Digest() || len(res.Digests) != 1 || res.Digests[0].Digest != img.Digest() || !res.Digests[0].Verified {
						t.Fatalf("digests: %+v", res)
					}
					ir := res.Digests[0].Signatures
					if tc.policy.Signatures == nil {
						ir = res.Digests[0].Attestations[0]
						if ir.PredicateType != slsaV1 {
							t.Errorf("predicate type %q", ir.PredicateType)
						}
					}
					s := ir.Signatures[0]
					if len(ir.Signatures) != 1 || s.Format != tc.format || !s.Verified || s.Tlog == nil || s.Tlog.Status != TlogVerified || s.Tlog.LogIndex == nil || s.Source == "" {
						t.Fatalf("signature: %+v", ir.Signatures)
					}
					if (s.Identity != nil) != (s.Authority == "ci") {
						t.Errorf("identity %+v for authority %s", s.Identity, s.Authority)
					}
				})
			}
		})
	}
}

// Another image's valid signature copied onto this image's .sig tag (and
// another image's bundle attached to this one) is a digest mismatch.
func TestImageCopiedSignature(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	img := f.push("app:v1")
	other := f.push("other:v1")
	f.attach(img, f.keyedSig(k, other.Digest(), false), "")
	f.attach(img, f.keyedBundle(k, other.Digest(), PredicateCosignSign, false), PredicateCosignSign)
	res, err := f.imageVerifier().Image(context.Background(), img, sigPolicy(keyAuth("k", k, true)))
	wantImageFailure(t, res, err, ReasonDigestMismatch)
	if sigs := res.Digests[0].Signatures.Signatures; len(sigs) != 2 || sigs[0].Failure.Reason != ReasonDigestMismatch || sigs[1].Failure.Reason != ReasonDigestMismatch {
		t.Fatalf("%+v", sigs)
	}
}

// moveTagOnFirst makes the registry move tag to image next the first time
// a request matches pathRE, before answering it: the tag moves between
// resolution and the rest of the verification.
func moveTagOnFirst(t *testing.T, reg *registrytest.Registry, pathRE, tag string, next v1.Image) {
	reg.On(registrytest.Hook{Path: pathRE, Times: 1, Handler: func(w http.ResponseWriter, r *http.Request) {
		raw, _ := next.RawManifest()
		mt, _ := next.MediaType()
		repo, tagName, _ := strings.Cut(tag, ":")
		put, _ := http.NewRequest(http.MethodPut, reg.URL+"/v2/"+repo+"/manifests/"+tagName, bytes.NewReader(raw))
		put.Header.Set("Content-Type", string(mt))
		if resp, err := http.DefaultClient.Do(put); err != nil || resp.StatusCode != http.StatusCreated {
			t.Errorf("moving %s: %v %v", tag, err, resp)
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, reg.URL+r.URL.Path, nil)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}})
}

// A tag that moves between resolution and verification: the verification
// stays bound to the digest resolved first, and the tag is asked once.
func TestImageTagMovedDuringVerification(t *testing.T) {
	k := newKey(t)
	for _, tc := range []struct {
		name                  string
		signFirst, signSecond bool
		wantVerified          bool
	}{
		{"first signed, moved to an unsigned image", true, false, true},
		{"first unsigned, moved to a signed image", false, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRemoteFixture(t)
			first := f.push("app:v1")
			secondImg, _ := random.Image(128, 1)
			second := f.ref("app@" + f.reg.PushImage(t, "app:scratch", secondImg))
			if tc.signFirst {
				f.attach(first, f.keyedSig(k, first.Digest(), false), "")
			}
			if tc.signSecond {
				f.attach(second, f.keyedSig(k, second.Digest(), false), "")
			}
			moveTagOnFirst(t, f.reg, `/manifests/sha256-[0-9a-f]{64}\.sig$`, "app:v1", secondImg)
			f.reg.Reset()
			res, err := f.imageVerifier().Image(context.Background(), f.ref("app:v1"), sigPolicy(keyAuth("k", k, true)))
			if res.Digest != first.Digest() || len(res.Digests) != 1 || res.Digests[0].Digest != first.Digest() {
				t.Fatalf("not bound to the first digest %s: %+v", first.Digest(), res)
			}
			if tc.wantVerified {
				wantImageVerified(t, res, err)
			} else {
				wantImageFailure(t, res, err, ReasonNoSignatures)
			}
			if n := f.reg.Count(http.MethodHead, `/manifests/v1$`) + f.reg.Count(http.MethodGet, `/manifests/v1$`); n != 1 {
				t.Errorf("the tag was asked %d times, want once", n)
			}
			if n := f.reg.Count("", regexp.QuoteMeta(strings.Replace(second.Digest(), ":", "-", 1))); n != 0 {
				t.Errorf("the second image's attachments were read %d times", n)
			}
			// It did move.
			if r, err := newTestClient(t).Resolve(context.Background(), f.ref("app:v1")); err != nil || r.Ref.Digest() != second.Digest() {
				t.Fatalf("the tag did not move: %v", err)
			}
		})
	}
}

// A registry that fails, lies or stalls makes the verification undecided
// (never "unsigned", never verified).
func TestImageHostileRegistry(t *testing.T) {
	const sigTag = `/manifests/sha256-[0-9a-f]{64}\.sig$`
	const blob = `/blobs/sha256:`
	for _, tc := range []struct {
		name    string
		hook    registrytest.Hook
		timeout time.Duration
		want    Reason
	}{
		{"500 on the .sig tag", registrytest.Hook{Path: sigTag, Status: http.StatusInternalServerError}, 0, ReasonRegistryUnavailable},
		{"429 on the .sig tag", registrytest.Hook{Path: sigTag, Status: http.StatusTooManyRequests}, 0, ReasonRegistryUnavailable},
		{"the .sig manifest is not what its digest says", registrytest.Hook{Path: sigTag,
			Body: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}`)},
			0, ReasonRegistryUnavailable},
		{"the signature layer is not what its digest says", registrytest.Hook{Path: blob, Method: http.MethodGet, Body: []byte(`{"critical":{}}`)}, 0, ReasonRegistryUnavailable},
		{"an endless signature layer (1 GiB)", registrytest.Hook{Path: blob, Method: http.MethodGet, Oversize: 1 << 30, NoContentLength: true}, 0, ReasonRegistryUnavailable},
		{"a 1 GiB signature layer announced", registrytest.Hook{Path: blob, Method: http.MethodGet, Oversize: 1 << 30}, 0, ReasonRegistryUnavailable},
		{"the .sig tag stalls past the deadline", registrytest.Hook{Path: sigTag, Delay: 20 * time.Second}, 300 * time.Millisecond, ReasonTimeout},
		{"the signature layer stalls past the deadline", registrytest.Hook{Path: blob, Delay: 20 * time.Second}, 300 * time.Millisecond, ReasonTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newRemoteFixture(t)
			k := newKey(t)
			img := f.push("app:v1")
			f.attach(img, f.keyedSig(k, img.Digest(), false), "")
			f.reg.On(tc.hook)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			res, err := f.imageVerifier().Image(ctx, img, sigPolicy(keyAuth("k", k, true)))
			wantImageFailure(t, res, err, tc.want)
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
}

// No signatures, every place read: a denial. The same image with a place
// that failed: could not decide. A signature on one path while another path
// fails: verified, with a warning naming the failed path.
func TestImageNoSignaturesVersusUnreadable(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	policy := sigPolicy(keyAuth("k", k, true))
	ctx := context.Background()

	bare := f.push("bare:v1")
	res, err := f.imageVerifier().Image(ctx, bare, policy)
	wantImageFailure(t, res, err, ReasonNoSignatures)

	f.reg.On(registrytest.Hook{Path: `/referrers/`, Status: http.StatusInternalServerError})
	res, err = f.imageVerifier().Image(ctx, bare, policy)
	wantImageFailure(t, res, err, ReasonRegistryUnavailable)
	if !strings.Contains(res.Failure.Message, "referrers") {
		t.Errorf("the failure should name the path: %s", res.Failure.Message)
	}

	signed := f.push("signed:v1")
	f.attach(signed, f.keyedSig(k, signed.Digest(), false), "")
	res, err = f.imageVerifier().Image(ctx, signed, policy)
	wantImageVerified(t, res, err)
	if len(res.Warnings) != 1 || res.Warnings[0].Path != string(registry.PathReferrers) || res.Warnings[0].Reason != ReasonRegistryUnavailable {
		t.Fatalf("warnings: %+v", res.Warnings)
	}

	// A bad signature where the referrers could not be read: could not
	// decide (a good one may be there), never a denial.
	wrong := newKey(t)
	f.attach(bare, f.keyedSig(wrong, bare.Digest(), false), "")
	res, err = f.imageVerifier().Image(ctx, bare, policy)
	wantImageFailure(t, res, err, ReasonRegistryUnavailable)

	// A failure on a place that cannot hold signatures (the .att tag,
	// read for an attestation requirement) does not stop a denial for
	// want of signatures; the attestation requirement, met from the
	// referrers, warns about it.
	f.reg.ClearHooks()
	f.reg.On(registrytest.Hook{Path: `\.att$`, Status: http.StatusInternalServerError})
	attested := f.push("attested:v1")
	f.attach(attested, f.keyedBundle(k, attested.Digest(), slsaV1, false), slsaV1)
	both := policy
	both.Attestations = attPolicy(slsaV1, keyAuth("k", k, true)).Attestations
	res, err = f.imageVerifier().Image(ctx, attested, both)
	wantImageFailure(t, res, err, ReasonNoSignatures)
	if a := res.Digests[0].Attestations[0]; !a.Verified || len(res.Warnings) != 1 || !strings.HasSuffix(strings.Fields(res.Warnings[0].Message)[0], ".att") {
		t.Fatalf("attestations %+v, warnings %+v", a, res.Warnings)
	}
}

// The threshold counts distinct authorities, across paths and formats.
func TestImageThreshold(t *testing.T) {
	f := newRemoteFixture(t)
	k1, k2 := newKey(t), newKey(t)
	two := ImagePolicy{Signatures: &Requirements{Threshold: 2, Authorities: []Authority{keyAuth("one", k1, true), keyAuth("two", k2, true)}}}
	img := f.push("app:v1")
	f.attach(img, f.keyedSig(k1, img.Digest(), false), "")
	f.attach(img, f.keyedBundle(k1, img.Digest(), PredicateCosignSign, false), PredicateCosignSign)
	res, err := f.imageVerifier().Image(context.Background(), img, two)
	wantImageFailure(t, res, err, ReasonThresholdNotMet)
	f.attach(img, f.keyedBundle(k2, img.Digest(), PredicateCosignSign, false), PredicateCosignSign)
	res, err = f.imageVerifier().Image(context.Background(), img, two)
	wantImageVerified(t, res, err)
	if got := res.Digests[0].Signatures.Satisfied; len(got) != 2 {
		t.Fatalf("satisfied %v", got)
	}
}

// Required annotations (cosign verify -a): carried by the signed payload or
// the statement subject, never taken from anywhere else.
func TestImageAnnotations(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	img := f.push("app:v1")
	f.attach(img, f.keyedSig(k, img.Digest(), false), "") // optional: null
	policy := sigPolicy(keyAuth("k", k, true))
	policy.Annotations = map[string]string{"env": "prod"}
	res, err := f.imageVerifier().Image(context.Background(), img, policy)
	wantImageFailure(t, res, err, ReasonAnnotationMismatch)

	legacy := f.keyedSigPayload(k, []byte(`{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"`+img.Digest()+
		`"},"type":"cosign container image signature"},"optional":{"env":"prod"}}`))
	f.attach(img, legacy, "")
	res, err = f.imageVerifier().Image(context.Background(), img, policy)
	wantImageVerified(t, res, err)

	other := f.push("other:v1")
	f.attach(other, f.keyedBundleStatement(k, statementWithAnnotations(other.Digest(), map[string]any{"env": "prod"})), PredicateCosignSign)
	res, err = f.imageVerifier().Image(context.Background(), other, policy)
	wantImageVerified(t, res, err)
	policy.Annotations["team"] = "a"
	res, err = f.imageVerifier().Image(context.Background(), other, policy)
	wantImageFailure(t, res, err, ReasonAnnotationMismatch)
}

// --platform: the index and the platform manifest must each verify, and the
// result reports both digests.
func TestImagePlatform(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	idx := f.ref("multi@" + f.reg.PushRandomIndex(t, "multi:v1", 2))
	arm := v1.Platform{OS: "linux", Architecture: "arm64"}
	policy := sigPolicy(keyAuth("k", k, true))
	policy.Platform = &arm
	f.attach(idx, f.keyedSig(k, idx.Digest(), false), "")

	// The index alone is signed: verifying it passes, its arm64 manifest fails.
	res, err := f.imageVerifier().Image(context.Background(), f.ref("multi:v1"), sigPolicy(keyAuth("k", k, true)))
	wantImageVerified(t, res, err)
	res, err = f.imageVerifier().Image(context.Background(), f.ref("multi:v1"), policy)
	wantImageFailure(t, res, err, ReasonNoSignatures)
	if len(res.Digests) != 2 || res.Digests[0].Digest != idx.Digest() || !res.Digests[0].Verified || res.Digests[1].Verified ||
		res.Digests[1].Platform != "linux/arm64/v8" || !strings.Contains(res.Failure.Message, "linux/arm64") {
		t.Fatalf("%+v", res)
	}
	// Sign the arm64 manifest too (cosign sign -r): both verify.
	child := f.ref("multi@" + res.Digests[1].Digest)
	f.attach(child, f.keyedSig(k, child.Digest(), false), "")
	res, err = f.imageVerifier().Image(context.Background(), idx, policy)
	wantImageVerified(t, res, err)
	if len(res.Digests) != 2 || res.Digests[1].Digest != child.Digest() || res.Digest != idx.Digest() {
		t.Fatalf("%+v", res)
	}
	// A platform the index does not have.
	s390 := v1.Platform{OS: "linux", Architecture: "riscv64"}
	policy.Platform = &s390
	res, err = f.imageVerifier().Image(context.Background(), idx, policy)
	wantImageFailure(t, res, err, ReasonNotFound)

	// A single image: the platform does not apply, with a warning.
	single := f.push("single:v1")
	f.attach(single, f.keyedSig(k, single.Digest(), false), "")
	res, err = f.imageVerifier().Image(context.Background(), f.ref("single:v1"), policy)
	wantImageVerified(t, res, err)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "not an index") {
		t.Fatalf("warnings %+v", res.Warnings)
	}
}

// BuildKit writes provenance as unsigned in-toto statements, inside the
// index (attestation manifests) or as referrers: never an attestation.
func TestImageBuildKitAttestationsNeverCount(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	img, _ := random.Image(128, 1)
	imgDigest, _ := img.Digest()
	statement := static.NewLayer(statementFor(imgDigest.String(), slsaV1), types.MediaType(registry.MediaTypeInToto))
	attManifest, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), statement)
	if err != nil {
		t.Fatal(err)
	}
	attManifest = mutate.ConfigMediaType(attManifest, types.OCIConfigJSON)
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: attManifest, Descriptor: v1.Descriptor{
			Platform:    &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{registry.AnnotationDockerReferenceType: "attestation-manifest", "vnd.docker.reference.digest": imgDigest.String()},
		}},
	)
	n, _ := name.ParseReference(f.reg.Ref("bk:v1"))
	if err := remote.WriteIndex(n, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	// The same statement as a referrer of the image, unsigned.
	child := f.ref("bk@" + imgDigest.String())
	if _, err := f.client.AttachReferrer(context.Background(), child, registry.MediaTypeInToto,
		registry.Layer{Content: statementFor(imgDigest.String(), slsaV1), MediaType: registry.MediaTypeInToto, Annotations: map[string]string{"in-toto.io/predicate-type": slsaV1}}, nil); err != nil {
		t.Fatal(err)
	}
	amd := v1.Platform{OS: "linux", Architecture: "amd64"}
	for _, tc := range []struct {
		name     string
		ref      registry.Ref
		platform *v1.Platform
	}{
		{"the index", f.ref("bk@" + idxDigest.String()), nil},
		{"the index and its platform", f.ref("bk:v1"), &amd},
		{"the platform manifest", child, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := attPolicy(slsaV1, keyAuth("k", k, true))
			p.Platform = tc.platform
			f.reg.Reset()
			res, err := f.imageVerifier().Image(context.Background(), tc.ref, p)
			wantImageFailure(t, res, err, ReasonNoAttestations)
			if n := f.reg.Count(http.MethodGet, `/blobs/`); n != 0 {
				t.Errorf("fetched %d blobs: unsigned statements are never read", n)
			}
		})
	}
}

// Attachments whose claimed kind or type cannot matter are not fetched, and
// a claim never makes anything count: the signed predicate type decides.
func TestImageFetchesOnlyWhatMatters(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	img := f.push("app:v1")
	f.attach(img, f.keyedSig(k, img.Digest(), false), "")
	f.attach(img, f.keyedBundle(k, img.Digest(), "https://spdx.dev/Document", false), "https://spdx.dev/Document")
	f.attach(img, f.keyedBundle(k, img.Digest(), "https://cyclonedx.org/bom", false), slsaV1) // lies about its type

	f.reg.Reset()
	res, err := f.imageVerifier().Image(context.Background(), img, sigPolicy(keyAuth("k", k, true)))
	wantImageVerified(t, res, err)
	if n := f.reg.Count(http.MethodGet, `/blobs/`); n != 1 {
		t.Errorf("verifying signatures fetched %d blobs, want the one signature", n)
	}
	f.reg.Reset()
	res, err = f.imageVerifier().Image(context.Background(), img, attPolicy(slsaV1, keyAuth("k", k, true)))
	wantImageFailure(t, res, err, ReasonNoAttestations)
	if n := f.reg.Count(http.MethodGet, `/blobs/`); n != 1 {
		t.Errorf("verifying SLSA attestations fetched %d blobs, want the one claiming to be SLSA", n)
	}
	if !strings.Contains(res.Failure.Message, "https://cyclonedx.org/bom") {
		t.Errorf("the denial should name the type the signed statement has: %s", res.Failure.Message)
	}
}

// The requests one digest-pinned verification costs on first contact: one
// ping, one per attachment path that may hold signatures, one per referrer
// manifest, one per layer verified; no resolution. A second verification on the same Verifier
// fetches no content again.
func TestImageRequestCount(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	img := f.push("app:v1")
	f.attach(img, f.keyedSig(k, img.Digest(), false), "") // another docker-reference: fetched
	f.attach(img, f.keyedBundle(k, img.Digest(), PredicateCosignSign, false), PredicateCosignSign)
	f.attach(img, f.keyedSigPayload(k, cosignPayload(t, img, nil)), "") // what cosign writes: predicted
	f.reg.Reset()
	v := f.imageVerifier()
	res, err := v.Image(context.Background(), img, sigPolicy(keyAuth("k", k, true)))
	wantImageVerified(t, res, err)
	if n := len(res.Digests[0].Signatures.Signatures); n != 3 {
		t.Fatalf("%d signatures verified, want 3", n)
	}
	got := map[string]int{}
	for _, q := range f.reg.Requests() {
		got[q.Method+" "+requestClass(q.Path)]++
	}
	want := map[string]int{
		"GET ping": 1, "GET .sig": 1, "GET referrers": 1, "GET fallback": 1, // no .att, .sbom: they hold no signatures
		"GET manifest by digest": 1, // the bundle's referrer manifest
		"GET blob":               2, // the bundle, and the payload that cannot be predicted
	}
	if len(got) != len(want) {
		t.Errorf("requests %v, want %v\n%v", got, want, f.reg.Requests())
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d requests, want %d\n%v", k, got[k], n, f.reg.Requests())
		}
	}
	f.reg.Reset()
	res, err = v.Image(context.Background(), img, sigPolicy(keyAuth("k", k, true)))
	wantImageVerified(t, res, err)
	if n := f.reg.Count("", `/blobs/|/manifests/sha256:`); n != 0 {
		t.Errorf("content fetched again: %v", f.reg.Requests())
	}
}

func requestClass(p string) string {
	switch {
	case p == "/v2/":
		return "ping"
	case strings.Contains(p, "/referrers/"):
		return "referrers"
	case strings.Contains(p, "/blobs/"):
		return "blob"
	case regexp.MustCompile(`/manifests/sha256-[0-9a-f]{64}\.(sig|att|sbom)$`).MatchString(p):
		return p[strings.LastIndex(p, "."):]
	case regexp.MustCompile(`/manifests/sha256-[0-9a-f]{64}$`).MatchString(p):
		return "fallback"
	case strings.Contains(p, "/manifests/sha256:"):
		return "manifest by digest"
	}
	return p
}

// Images verifies many images at once; identical references once; each
// result stands alone.
func TestImages(t *testing.T) {
	f := newRemoteFixture(t)
	k := newKey(t)
	var refs []registry.Ref
	for i := range 6 {
		img := f.push("app" + string(rune('a'+i)) + ":v1")
		if i != 3 {
			f.attach(img, f.keyedSig(k, img.Digest(), false), "")
		}
		refs = append(refs, img)
	}
	refs = append(refs, refs[0])
	f.reg.On(registrytest.Hook{Path: `/v2/appf/manifests/sha256-[0-9a-f]{64}\.sig$`, Status: http.StatusServiceUnavailable})
	res := f.imageVerifier(WithMaxWorkers(2)).Images(context.Background(), refs, sigPolicy(keyAuth("k", k, true)))
	if len(res) != len(refs) {
		t.Fatalf("%d results", len(res))
	}
	for i, r := range res {
		want := Reason("")
		switch i {
		case 3:
			want = ReasonNoSignatures
		case 5:
			want = ReasonRegistryUnavailable
		}
		if got := ReasonOf(r.Err()); got != want || r.Ref != refs[i].String() {
			t.Errorf("%d %s: %s, want %q", i, r.Ref, got, want)
		}
	}
	if res[6] == res[0] || res[6].Digest != res[0].Digest {
		t.Error("a duplicate reference should get its own copy of the result")
	}
}

func TestImagePolicyErrors(t *testing.T) {
	f := newRemoteFixture(t)
	img := f.push("app:v1")
	k := newKey(t)
	noRegistry := f.verifier()
	for _, tc := range []struct {
		name string
		v    *Verifier
		p    ImagePolicy
	}{
		{"no registry client", noRegistry, sigPolicy(keyAuth("k", k, true))},
		{"nothing required", f.imageVerifier(), ImagePolicy{}},
		{"annotations without signatures", f.imageVerifier(), ImagePolicy{Annotations: map[string]string{"a": "b"}, Attestations: attPolicy(slsaV1, keyAuth("k", k, true)).Attestations}},
		{"no authorities", f.imageVerifier(), ImagePolicy{Signatures: &Requirements{}}},
		{"attestation without authorities", f.imageVerifier(), attPolicy(slsaV1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.reg.Reset()
			res, err := tc.v.Image(context.Background(), img, tc.p)
			wantImageFailure(t, res, err, ReasonInvalidInput)
			if len(f.reg.Requests()) != 0 {
				t.Errorf("a bad policy made requests: %v", f.reg.Requests())
			}
			for _, r := range tc.v.Images(context.Background(), []registry.Ref{img, img}, tc.p) {
				if ReasonOf(r.Err()) != ReasonInvalidInput {
					t.Errorf("Images: %+v", r)
				}
			}
		})
	}
	res, err := f.imageVerifier().Image(context.Background(), f.ref("app:nope"), sigPolicy(keyAuth("k", k, true)))
	wantImageFailure(t, res, err, ReasonNotFound)
}

// OCI layouts (cosign save, vouch sign into oci-dir:) verify like registries.
func TestImageLayout(t *testing.T) {
	ref, err := registry.ParseRef("oci-dir:../testdata/cosign-v2.6.5/layout:app")
	if err != nil {
		t.Fatal(err)
	}
	pub := must[[]byte](t)(readFile("../testdata/cosign-v2.6.5/cosign.pub"))
	v := must[*Verifier](t)(New(WithRegistry(newTestClient(t))))
	key := Authority{Name: "cosign.pub", Key: &KeyAuthority{PublicKey: must[any](t)(parsePEMPublicKey(pub)), InsecureIgnoreTlog: true}}
	res, err := v.Image(context.Background(), ref, ImagePolicy{
		Signatures:   &Requirements{Authorities: []Authority{key}},
		Attestations: []ImageAttestation{{AttestationRequirement{PredicateType: slsaV1}, Requirements{Authorities: []Authority{key}}}},
	})
	wantImageVerified(t, res, err)
	d := res.Digests[0]
	if len(d.Signatures.Signatures) != 2 || len(d.Attestations[0].Signatures) != 2 {
		t.Fatalf("want cosign's legacy and bundle signature and attestation: %+v", d)
	}
}

// keyedSigPayload is a legacy .sig layer over payload, signed with k, no tlog.
func (f *fixture) keyedSigPayload(k keyPair, payload []byte) Attachment {
	f.t.Helper()
	sum := sha256.Sum256(payload)
	sig := must[[]byte](f.t)(ecdsa.SignASN1(rand.Reader, k.priv, sum[:]))
	return Attachment{Format: FormatLegacySignature, Content: payload, Source: "keyed .sig",
		Annotations: map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)}}
}

// keyedBundleStatement is a v0.3 bundle over statement, signed with k, no tlog.
func (f *fixture) keyedBundleStatement(k keyPair, stmt []byte) Attachment {
	f.t.Helper()
	sv := must[signature.SignerVerifier](f.t)(signature.LoadECDSASignerVerifier(k.priv, crypto.SHA256))
	es := must[*dsse.EnvelopeSigner](f.t)(dsse.NewEnvelopeSigner(&sigdsse.SignerAdapter{SignatureSigner: sv, Pub: &k.priv.PublicKey}))
	env := must[*dsse.Envelope](f.t)(es.SignPayload(context.Background(), inTotoPayloadType, stmt))
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "test-key"}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: protoEnvelope(f.t, env)},
	}
	return Attachment{Format: FormatBundle, Content: bundleJSON(f.t, pb), Source: "keyed bundle"}
}

// statementWithAnnotations is a cosign v3 signature statement about digest
// whose subject carries annotations.
func statementWithAnnotations(digest string, ann map[string]any) []byte {
	alg, h, _ := cutDigest(digest)
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "registry.example.com/app", "digest": map[string]string{alg: h}, "annotations": ann}},
		"predicateType": PredicateCosignSign,
		"predicate":     map[string]any{},
	})
	return b
}

func readFile(p string) ([]byte, error) { return os.ReadFile(p) }

func parsePEMPublicKey(b []byte) (any, error) { return cryptoutils.UnmarshalPEMToPublicKey(b) }

// cosignPayload is the simple-signing payload cosign sign writes for img.
func cosignPayload(t testing.TB, img registry.Ref, annotations map[string]string) []byte {
	t.Helper()
	return must[[]byte](t)(attest.SimpleSigningPayload(img.Name(), img.Digest(), annotations))
}

// A cosign simple-signing payload is predicted from the image, and used
// only when it hashes to the layer digest; the signature over it is checked
// as always.
func TestImagePredictedPayload(t *testing.T) {
	f := newRemoteFixture(t)
	k, other := newKey(t), newKey(t)
	for _, tc := range []struct {
		name        string
		payload     func(img registry.Ref) []byte
		signer      keyPair
		annotations map[string]string
		blobs       int
		want        Reason
	}{
		{"cosign's payload", func(img registry.Ref) []byte { return cosignPayload(t, img, nil) }, k, nil, 0, ""},
		{"cosign's payload with the required annotations", func(img registry.Ref) []byte {
			return cosignPayload(t, img, map[string]string{"env": "prod", "team": "a"})
		},
			k, map[string]string{"env": "prod", "team": "a"}, 0, ""},
		{"annotations other than the required ones", func(img registry.Ref) []byte {
			return cosignPayload(t, img, map[string]string{"env": "prod", "x": "y"})
		},
			k, map[string]string{"env": "prod"}, 1, ""},
		{"another spelling of the same claims", func(img registry.Ref) []byte {
			return []byte(`{"critical":{"type":"cosign container image signature","image":{"docker-manifest-digest":"` + img.Digest() +
				`"},"identity":{"docker-reference":"` + img.Name() + `"}},"optional":null}`)
		}, k, nil, 1, ""},
		{"predicted, signed by another key", func(img registry.Ref) []byte { return cosignPayload(t, img, nil) }, other, nil, 0, ReasonKeyMismatch},
		{"predicted, annotations missing", func(img registry.Ref) []byte { return cosignPayload(t, img, nil) }, k, map[string]string{"env": "prod"}, 0, ReasonAnnotationMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := f.push(regexp.MustCompile(`[^a-z]+`).ReplaceAllString(tc.name, "-") + ":v1")
			f.attach(img, f.keyedSigPayload(tc.signer, tc.payload(img)), "")
			policy := sigPolicy(keyAuth("k", k, true))
			policy.Annotations = tc.annotations
			f.reg.Reset()
			res, err := f.imageVerifier().Image(context.Background(), img, policy)
			if tc.want == "" {
				wantImageVerified(t, res, err)
			} else {
				wantImageFailure(t, res, err, tc.want)
			}
			if n := f.reg.Count(http.MethodGet, `/blobs/`); n != tc.blobs {
				t.Errorf("%d blobs fetched, want %d", n, tc.blobs)
			}
		})
	}
}

// An endless list of signatures (GHSA-vfp6-jrw2-99g9): at most
// registry.MaxAttachments are read; when none of those verifies, the rest
// might have, so the answer is could-not-decide, never a denial and never a
// pass; a valid one among those read passes with a warning.
func TestImageTooManySignatures(t *testing.T) {
	f := newRemoteFixture(t)
	k, wrong := newKey(t), newKey(t)
	img := f.push("app:v1")
	layers := make([]registry.Layer, 0, registry.MaxAttachments+1)
	for i := range registry.MaxAttachments + 1 {
		a := f.keyedSigPayload(wrong, cosignPayload(t, img, map[string]string{"n": strconv.Itoa(i)}))
		layers = append(layers, registry.Layer{Content: a.Content, MediaType: registry.MediaTypeSimpleSigning, Annotations: a.Annotations})
	}
	if err := f.client.AttachLegacy(context.Background(), img, registry.KindSignature, layers...); err != nil {
		t.Fatal(err)
	}
	policy := sigPolicy(keyAuth("k", k, true))
	res, err := f.imageVerifier().Image(context.Background(), img, policy)
	wantImageFailure(t, res, err, ReasonRegistryUnavailable)
	if !strings.Contains(res.Failure.Message, "more than 100") || len(res.Digests[0].Signatures.Signatures) != registry.MaxAttachments {
		t.Fatalf("%d signatures checked: %s", len(res.Digests[0].Signatures.Signatures), res.Failure.Message)
	}

	other := f.push("other:v1")
	layers[0] = registry.Layer{Content: cosignPayload(t, other, nil), MediaType: registry.MediaTypeSimpleSigning,
		Annotations: f.keyedSigPayload(k, cosignPayload(t, other, nil)).Annotations}
	for i := 1; i < len(layers); i++ {
		a := f.keyedSigPayload(wrong, cosignPayload(t, other, map[string]string{"n": strconv.Itoa(i)}))
		layers[i] = registry.Layer{Content: a.Content, MediaType: registry.MediaTypeSimpleSigning, Annotations: a.Annotations}
	}
	if err := f.client.AttachLegacy(context.Background(), other, registry.KindSignature, layers...); err != nil {
		t.Fatal(err)
	}
	res, err = f.imageVerifier().Image(context.Background(), other, policy)
	wantImageVerified(t, res, err)
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Message, "more than 100") {
		t.Fatalf("warnings %+v", res.Warnings)
	}
}
