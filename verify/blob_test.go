package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"testing"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// keylessBlobBundle is a v0.3 bundle with a message signature over artifact,
// a hashedrekord entry (proof and promise) and an RFC 3161 timestamp, as
// cosign sign-blob --bundle writes.
func (f *fixture) keylessBlobBundle(identity string, artifact []byte) *sgbundle.Bundle {
	f.t.Helper()
	te := must[*ca.TestEntity](f.t)(f.vs.Sign(identity, testIssuer, artifact))
	cert, body, it, idx := f.entityParts(te)
	sum := sha256.Sum256(artifact)
	ts := must[[][]byte](f.t)(te.Timestamps())
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:                   &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries:               []*protorekor.TransparencyLogEntry{f.tlogEntry(body, it, idx, true)},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts[0]}}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     teSignature(f.t, te),
		}},
	}
	return must[*sgbundle.Bundle](f.t)(ParseBundle(bundleJSON(f.t, pb)))
}

func blobDigest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func wantBlobDenied(t *testing.T, res *BlobResult, err error, want Reason) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Reason != want || !e.Denied() {
		t.Fatalf("want a %s denial, got %v", want, err)
	}
	if res == nil || res.Verified || res.Signature.Failure == nil || res.Signature.Failure.Reason != want {
		t.Fatalf("result does not carry the denial: %+v", res)
	}
}

func TestBlobKeyless(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	ctx := context.Background()
	artifact := []byte("release contents\n")
	b := f.keylessBlobBundle(aliceID, artifact)
	req := Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}

	for name, a := range map[string]Artifact{
		"bytes":  ArtifactBytes(artifact),
		"reader": ArtifactReader(bytes.NewReader(artifact)),
		"digest": must[Artifact](t)(ArtifactDigest(blobDigest(artifact))),
	} {
		res, err := v.Blob(ctx, b, a, req)
		if err != nil || !res.Verified {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Digest != blobDigest(artifact) || res.Signature.Identity.Subject != aliceID || res.Signature.Tlog.Status != TlogVerified {
			t.Errorf("%s: %+v", name, res)
		}
	}

	other := []byte("something else")
	res, err := v.Blob(ctx, b, ArtifactBytes(other), req)
	wantBlobDenied(t, res, err, ReasonDigestMismatch)
	res, err = v.Blob(ctx, b, must[Artifact](t)(ArtifactDigest(blobDigest(other))), req)
	wantBlobDenied(t, res, err, ReasonDigestMismatch)
	s512 := sha512.Sum512(artifact)
	res, err = v.Blob(ctx, b, must[Artifact](t)(ArtifactDigest("sha512:"+hex.EncodeToString(s512[:]))), req)
	wantBlobDenied(t, res, err, ReasonDigestMismatch)
	res, err = v.Blob(ctx, b, ArtifactBytes(artifact), Requirements{Authorities: []Authority{keylessAuth("ci", bob)}})
	wantBlobDenied(t, res, err, ReasonIdentityMismatch)
	if res.Signature.Identity == nil || res.Signature.Identity.Subject != aliceID {
		t.Errorf("an identity mismatch should report who did sign: %+v", res.Signature.Identity)
	}

	if _, err := v.Blob(ctx, b, ArtifactBytes(artifact), Requirements{Threshold: 2, Authorities: []Authority{keylessAuth("a", alice), keylessAuth("b", bob)}}); ReasonOf(err) != ReasonInvalidInput {
		t.Errorf("threshold 2 on one bundle: %v", err)
	}
	if _, err := ArtifactDigest("sha256:xyz"); ReasonOf(err) != ReasonInvalidInput {
		t.Errorf("bad digest: %v", err)
	}
}

func TestBlobDSSE(t *testing.T) {
	f := newFixture(t)
	artifact := []byte("a file the statement is about")
	a := f.keylessBundle(aliceID, blobDigest(artifact), "https://slsa.dev/provenance/v1")
	b := must[*sgbundle.Bundle](t)(ParseBundle(a.Content))
	req := Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}
	res, err := f.verifier().Blob(context.Background(), b, ArtifactReader(bytes.NewReader(artifact)), req)
	if err != nil || res.Signature.PredicateType != "https://slsa.dev/provenance/v1" {
		t.Fatalf("%v %+v", err, res)
	}
	res, err = f.verifier().Blob(context.Background(), b, ArtifactBytes([]byte("other")), req)
	wantBlobDenied(t, res, err, ReasonDigestMismatch)
}

func TestBlobKeyed(t *testing.T) {
	ctx := context.Background()
	artifact := []byte("keyed release")
	for _, alg := range []protocommon.PublicKeyDetails{
		protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
		protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384,
		protocommon.PublicKeyDetails_PKIX_ED25519_PH,
		protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256,
	} {
		t.Run(alg.String(), func(t *testing.T) {
			kp := must[*sign.EphemeralKeypair](t)(sign.NewEphemeralKeypair(&sign.EphemeralKeypairOptions{Algorithm: alg}))
			pb := must[*protobundle.Bundle](t)(sign.Bundle(&sign.PlainData{Data: artifact}, kp, sign.BundleOptions{}))
			b := must[*sgbundle.Bundle](t)(sgbundle.NewBundle(pb))
			v := must[*Verifier](t)(New())
			skip := Requirements{Authorities: []Authority{{Name: "k", Key: &KeyAuthority{PublicKey: kp.GetPublicKey(), InsecureIgnoreTlog: true}}}}
			res, err := v.Blob(ctx, b, ArtifactReader(bytes.NewReader(artifact)), skip)
			if err != nil || res.Signature.Tlog.Status != TlogSkipped {
				t.Fatalf("%v %+v", err, res)
			}
			res, err = v.Blob(ctx, b, ArtifactBytes([]byte("other")), skip)
			wantBlobDenied(t, res, err, ReasonDigestMismatch)

			d, err := ArtifactDigest(blobDigest(artifact))
			if err != nil {
				t.Fatal(err)
			}
			res, err = v.Blob(ctx, b, d, skip)
			switch alg {
			case protocommon.PublicKeyDetails_PKIX_ED25519_PH:
				s512 := sha512.Sum512(artifact)
				_, err = v.Blob(ctx, b, must[Artifact](t)(ArtifactDigest("sha512:"+hex.EncodeToString(s512[:]))), skip)
				if ReasonOf(err) != ReasonInvalidInput {
					t.Fatalf("an Ed25519 key needs the file: %v", err)
				}
			case protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384:
				// The bundle signs a SHA2_384 digest; a sha256 digest cannot match it.
				wantBlobDenied(t, res, err, ReasonDigestMismatch)
			default:
				if err != nil {
					t.Fatalf("digest: %v", err)
				}
			}

			// The transparency log is required unless opted out; the
			// check needs the trusted root, and none is configured.
			tm := must[*Verifier](t)(New(WithTrustedMaterial(newFixture(t).vs)))
			res, err = tm.Blob(ctx, b, ArtifactBytes(artifact), Requirements{Authorities: []Authority{{Name: "k", Key: &KeyAuthority{PublicKey: kp.GetPublicKey()}}}})
			wantBlobDenied(t, res, err, ReasonTlogMissing)

			other := must[*sign.EphemeralKeypair](t)(sign.NewEphemeralKeypair(&sign.EphemeralKeypairOptions{Algorithm: alg}))
			res, err = v.Blob(ctx, b, ArtifactBytes(artifact), Requirements{Authorities: []Authority{{Name: "k", Key: &KeyAuthority{PublicKey: other.GetPublicKey(), InsecureIgnoreTlog: true}}}})
			wantBlobDenied(t, res, err, ReasonKeyMismatch)
		})
	}
}

// sigstore-go v1.3.0 writes pure Ed25519 message signatures with no digest
// algorithm, and cannot verify them; neither can vouch.
func TestBlobPureEd25519MessageSignature(t *testing.T) {
	kp := must[*sign.EphemeralKeypair](t)(sign.NewEphemeralKeypair(&sign.EphemeralKeypairOptions{Algorithm: protocommon.PublicKeyDetails_PKIX_ED25519}))
	pb := must[*protobundle.Bundle](t)(sign.Bundle(&sign.PlainData{Data: []byte("x")}, kp, sign.BundleOptions{}))
	b := must[*sgbundle.Bundle](t)(sgbundle.NewBundle(pb))
	res, err := must[*Verifier](t)(New()).Blob(context.Background(), b, ArtifactBytes([]byte("x")),
		Requirements{Authorities: []Authority{{Key: &KeyAuthority{PublicKey: kp.GetPublicKey(), InsecureIgnoreTlog: true}}}})
	wantBlobDenied(t, res, err, ReasonMalformed)
}

func TestParseBundleHostile(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":        nil,
		"not json":     []byte("{"),
		"no content":   []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
		"v0.4":         []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.4+json"}`),
		"too large":    make([]byte, MaxContentSize+1),
		"unknown type": []byte(`{"mediaType":"application/json"}`),
	} {
		if _, err := ParseBundle(b); ReasonOf(err) != ReasonMalformed {
			t.Errorf("%s: want malformed, got %v", name, err)
		}
	}
}
