package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/verify"
)

// A Verifier is built once and serves every call. With a trusted_root.json
// file (or WithTUF and a cache directory for the public-good root), nothing
// is read until a check needs it.
func ExampleNew() {
	cache, _ := os.UserCacheDir()
	v, err := verify.New(
		verify.WithTUF(filepath.Join(cache, "vouch", "tuf")), // the Sigstore public-good root, cached
		verify.WithOffline(), // only the cache: no network call
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = v
}

// Verifying a release file against a Sigstore bundle signed with a key (here
// a throwaway key, and no transparency log, so no trusted root is needed).
func ExampleVerifier_Blob() {
	artifact := []byte("release v1.2.3\n")
	key, _ := sign.NewEphemeralKeypair(nil)
	pb, _ := sign.Bundle(&sign.PlainData{Data: artifact}, key, sign.BundleOptions{})
	b, _ := bundle.NewBundle(pb)

	v, _ := verify.New()
	req := verify.Requirements{Authorities: []verify.Authority{{
		Name: "release-key",
		Key:  &verify.KeyAuthority{PublicKey: key.GetPublicKey(), InsecureIgnoreTlog: true},
	}}}
	res, err := v.Blob(context.Background(), b, verify.ArtifactBytes(artifact), req)
	fmt.Println(res.Verified, res.Signature.Authority, res.Signature.Tlog.Status, err)

	_, err = v.Blob(context.Background(), b, verify.ArtifactBytes([]byte("release v6.6.6\n")), req)
	fmt.Println(verify.ReasonOf(err))
	// Output:
	// true release-key skipped <nil>
	// digest_mismatch
}

// Verifying the signature layers discovery found on an image: here one
// cosign legacy .sig layer, signed with a key, and the same signature copied
// onto another image.
func ExampleVerifier_ImageSignatures() {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const digest = "sha256:4f2a5ba5c0e4f63e1ed5d8ab2b0f8e1e0a4d8a1bb9a6d2f1b5bd3a60b1f7fd11"
	payload := []byte(`{"critical":{"identity":{"docker-reference":"registry.example.com/app"},` +
		`"image":{"docker-manifest-digest":"` + digest + `"},"type":"cosign container image signature"},"optional":null}`)
	sum := sha256.Sum256(payload)
	sig, _ := ecdsa.SignASN1(rand.Reader, priv, sum[:])
	layer := verify.Attachment{
		Format:      verify.FormatLegacySignature,
		Content:     payload,
		Annotations: map[string]string{verify.AnnotationSignature: base64.StdEncoding.EncodeToString(sig)},
		Source:      "registry.example.com/app:sha256-4f2a….sig layer 0",
	}

	v, _ := verify.New()
	req := verify.Requirements{Authorities: []verify.Authority{{
		Name: "release-key",
		Key:  &verify.KeyAuthority{PublicKey: priv.Public(), InsecureIgnoreTlog: true},
	}}}
	res, err := v.ImageSignatures(context.Background(), digest, []verify.Attachment{layer}, req)
	fmt.Println(res.Verified, res.Satisfied, err)

	const other = "sha256:9b1e0c1d5e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d"
	res, err = v.ImageSignatures(context.Background(), other, []verify.Attachment{layer}, req)
	fmt.Println(res.Verified, res.Failure.Reason, err.(*verify.Error).Denied())
	// Output:
	// true [release-key] <nil>
	// false digest_mismatch true
}

// Verifying an image where it lives: here an OCI layout written by cosign
// v2.6.5 (a registry works the same, by name), signed in cosign's legacy and
// bundle formats with a key, without a transparency log.
func ExampleVerifier_Image() {
	client, _ := registry.New()
	v, _ := verify.New(verify.WithRegistry(client))
	pemKey, _ := os.ReadFile("../testdata/cosign-v2.6.5/cosign.pub")
	pub, _ := attest.ParsePublicKey(pemKey)
	policy := verify.ImagePolicy{Signatures: &verify.Requirements{Authorities: []verify.Authority{{
		Name: "release-key",
		Key:  &verify.KeyAuthority{PublicKey: pub, InsecureIgnoreTlog: true},
	}}}}

	ref, _ := registry.ParseRef("oci-dir:../testdata/cosign-v2.6.5/layout:app")
	res, err := v.Image(context.Background(), ref, policy)
	fmt.Println(res.Verified, res.Digest, err)
	for _, s := range res.Digests[0].Signatures.Signatures {
		fmt.Println(s.Format, s.Authority, s.Tlog.Status)
	}

	// Another key: a denial, with a stable reason.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	policy.Signatures.Authorities[0].Key.PublicKey = other.Public()
	res, err = v.Image(context.Background(), ref, policy)
	fmt.Println(res.Verified, res.Failure.Reason, err.(*verify.Error).Denied())
	// Output:
	// true sha256:b5164e5389a2a2085b23308619d0fca1fb28f068fa4bb81fff80683c97517db9 <nil>
	// legacy-signature release-key skipped
	// bundle release-key skipped
	// false key_mismatch true
}
