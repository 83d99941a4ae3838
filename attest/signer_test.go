package attest_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/vouchdev/vouch/attest"
)

type testKey struct {
	name string
	key  crypto.Signer
	hash crypto.Hash
}

var (
	testKeysOnce sync.Once
	testKeysList []testKey
)

// testKeys returns one key of each kind a Signer supports, generated once.
func testKeys(t *testing.T) []testKey {
	t.Helper()
	testKeysOnce.Do(func() { testKeysList = generateTestKeys() })
	return testKeysList
}

func generateTestKeys() []testKey {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	r, _ := rsa.GenerateKey(rand.Reader, 2048)
	return []testKey{
		{"ECDSA P-256", p256, crypto.SHA256},
		{"ECDSA P-384", p384, crypto.SHA384},
		{"ECDSA P-521", p521, crypto.SHA512},
		{"Ed25519", ed, 0},
		{"RSA 2048", r, crypto.SHA256},
	}
}

// keyVerifier returns sigstore-go trusted material holding pub, as cosign
// builds it for --key, and the matching verifier options (no transparency
// log, no timestamps: what --insecure-ignore-tlog means for a key).
func keyVerifier(t *testing.T, pub crypto.PublicKey) *verify.Verifier {
	t.Helper()
	details, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := signature.LoadVerifierFromAlgorithmDetails(pub, details)
	if err != nil {
		t.Fatal(err)
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignUsesTheKeysHash(t *testing.T) {
	msg := []byte(`{"critical":{}}`)
	for _, k := range testKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			s, err := attest.NewSigner(k.key)
			if err != nil {
				t.Fatal(err)
			}
			if s.HashFunc() != k.hash {
				t.Fatalf("hash %v, want %v", s.HashFunc(), k.hash)
			}
			sig, err := s.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			var digest []byte
			if k.hash != 0 {
				h := k.hash.New()
				h.Write(msg)
				digest = h.Sum(nil)
			}
			var ok bool
			switch pub := k.key.Public().(type) {
			case *ecdsa.PublicKey:
				ok = ecdsa.VerifyASN1(pub, digest, sig)
			case ed25519.PublicKey:
				ok = ed25519.Verify(pub, msg, sig)
			case *rsa.PublicKey:
				ok = rsa.VerifyPKCS1v15(pub, k.hash, digest, sig) == nil
			}
			if !ok {
				t.Fatal("signature does not verify with the standard library")
			}
		})
	}
}

func TestSignEnvelope(t *testing.T) {
	st := testStatement(t, strings.Repeat("ab", 32))
	payload, _ := st.MarshalJSON()
	for _, k := range testKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			s, _ := attest.NewSigner(k.key)
			env, err := s.SignEnvelope(attest.PayloadTypeInToto, payload)
			if err != nil {
				t.Fatal(err)
			}
			got, err := attest.VerifyEnvelope(env, k.key.Public())
			if err != nil || !bytes.Equal(got, payload) {
				t.Fatalf("verify: %v", err)
			}
			// cosign's envelope JSON: keyid present and empty.
			b, _ := json.Marshal(env)
			if !strings.Contains(string(b), `"signatures":[{"keyid":"","sig":"`) || !strings.HasPrefix(string(b), `{"payloadType":"application/vnd.in-toto+json","payload":"`) {
				t.Fatalf("envelope JSON %s", b)
			}
			if _, err := attest.ParseEnvelope(b); err != nil {
				t.Fatal(err)
			}

			tampered := *env
			tampered.Payload = base64.StdEncoding.EncodeToString(bytes.Replace(payload, []byte("abab"), []byte("abac"), 1))
			if _, err := attest.VerifyEnvelope(&tampered, k.key.Public()); !errors.Is(err, attest.ErrEnvelopeSignature) {
				t.Fatalf("tampered payload: %v", err)
			}
			retyped := *env
			retyped.PayloadType = "text/plain"
			if _, err := attest.VerifyEnvelope(&retyped, k.key.Public()); !errors.Is(err, attest.ErrEnvelopeSignature) {
				t.Fatalf("changed payload type (PAE covers it): %v", err)
			}
			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if _, err := attest.VerifyEnvelope(env, other.Public()); !errors.Is(err, attest.ErrEnvelopeSignature) {
				t.Fatalf("another key: %v", err)
			}
		})
	}
}

func TestBundleBlobVerifiesWithSigstoreGo(t *testing.T) {
	artifact := []byte("release artifact\n")
	for _, k := range testKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			s, _ := attest.NewSigner(k.key)
			b, err := s.BundleBlob(context.Background(), bytes.NewReader(artifact))
			if err != nil {
				t.Fatal(err)
			}
			if b.GetMediaType() != "application/vnd.dev.sigstore.bundle.v0.3+json" ||
				b.GetVerificationMaterial().GetPublicKey().GetHint() != s.Hint() ||
				len(b.GetVerificationMaterial().GetTlogEntries()) != 0 || b.GetMessageSignature() == nil {
				t.Fatalf("bundle shape: %v", b)
			}
			v := keyVerifier(t, k.key.Public())
			if _, err := v.Verify(b, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithKey())); err != nil {
				t.Fatalf("sigstore-go: %v", err)
			}
			if _, err := v.Verify(b, verify.NewPolicy(verify.WithArtifact(strings.NewReader("another artifact\n")), verify.WithKey())); err == nil {
				t.Fatal("verified against another artifact")
			}
			// The JSON round-trips through sigstore-go's parser.
			j, err := b.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var again bundle.Bundle
			if err := again.UnmarshalJSON(j); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestBundleBlobDigestIsTheArtifacts(t *testing.T) {
	artifact := []byte("x")
	for _, k := range testKeys(t) {
		s, _ := attest.NewSigner(k.key)
		b, err := s.BundleBlob(context.Background(), bytes.NewReader(artifact))
		if err != nil {
			t.Fatal(err)
		}
		var want []byte
		switch k.hash {
		case 0, crypto.SHA512:
			sum := sha512.Sum512(artifact)
			want = sum[:]
		case crypto.SHA384:
			sum := sha512.Sum384(artifact)
			want = sum[:]
		default:
			sum := sha256.Sum256(artifact)
			want = sum[:]
		}
		if got := b.GetMessageSignature().GetMessageDigest().GetDigest(); !bytes.Equal(got, want) {
			t.Errorf("%s: message digest %x, want %x", k.name, got, want)
		}
	}
}

func TestBundleBlobStopsOnCancel(t *testing.T) {
	k := testKeys(t)[0]
	s, _ := attest.NewSigner(k.key)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.BundleBlob(ctx, strings.NewReader("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}

func TestBundleStatementVerifiesWithSigstoreGo(t *testing.T) {
	digest := strings.Repeat("cd", 32)
	st := testStatement(t, digest)
	payload, _ := st.MarshalJSON()
	for _, k := range testKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			s, _ := attest.NewSigner(k.key)
			b, err := s.BundleStatement(context.Background(), payload)
			if err != nil {
				t.Fatal(err)
			}
			v := keyVerifier(t, k.key.Public())
			raw, _ := hex.DecodeString(digest)
			res, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", raw), verify.WithKey()))
			if err != nil {
				t.Fatalf("sigstore-go: %v", err)
			}
			if res.Statement.GetPredicateType() != st.PredicateType() {
				t.Fatalf("statement %v", res.Statement)
			}
			other, _ := hex.DecodeString(strings.Repeat("ef", 32))
			if _, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest("sha256", other), verify.WithKey())); err == nil {
				t.Fatal("a bundle for another digest verified")
			}
			got, err := attest.StatementFromBundle(b)
			if err != nil || !got.MatchesDigest("sha256", digest) {
				t.Fatalf("StatementFromBundle: %v", err)
			}
		})
	}
}

func TestBundleStatementRejectsNonStatements(t *testing.T) {
	s, _ := attest.NewSigner(testKeys(t)[0].key)
	for _, in := range []string{"", "hello", `{"_type":"x"}`, `[]`} {
		if _, err := s.BundleStatement(context.Background(), []byte(in)); !errors.Is(err, attest.ErrMalformedStatement) {
			t.Errorf("%q: want ErrMalformedStatement, got %v", in, err)
		}
	}
}

// DSSE in a Sigstore bundle must carry exactly one signature; only in-toto
// payloads are statements.
func TestStatementFromBundleHostile(t *testing.T) {
	k := testKeys(t)[0]
	s, _ := attest.NewSigner(k.key)
	st := testStatement(t, strings.Repeat("ab", 32))
	payload, _ := st.MarshalJSON()
	fresh := func() *bundle.Bundle {
		b, err := s.BundleStatement(context.Background(), payload)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	twoSigs := fresh()
	env := twoSigs.GetDsseEnvelope()
	env.Signatures = append(env.Signatures, &protodsse.Signature{Sig: env.Signatures[0].Sig})
	if _, err := attest.StatementFromBundle(twoSigs); !errors.Is(err, attest.ErrSignatureCount) {
		t.Fatalf("two signatures: %v", err)
	}
	if _, err := keyVerifier(t, k.key.Public()).Verify(twoSigs, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithKey())); err == nil {
		t.Fatal("sigstore-go accepted two signatures")
	}

	noSigs := fresh()
	noSigs.GetDsseEnvelope().Signatures = nil
	if _, err := attest.StatementFromBundle(noSigs); !errors.Is(err, attest.ErrSignatureCount) {
		t.Fatalf("no signatures: %v", err)
	}

	plain := fresh()
	plain.GetDsseEnvelope().PayloadType = "application/vnd.in-toto.provenance+json"
	if _, err := attest.StatementFromBundle(plain); !errors.Is(err, attest.ErrPayloadType) {
		t.Fatalf("payload type: %v", err)
	}

	blob, _ := s.BundleBlob(context.Background(), strings.NewReader("x"))
	if _, err := attest.StatementFromBundle(blob); !errors.Is(err, attest.ErrMalformedEnvelope) {
		t.Fatalf("message signature: %v", err)
	}
}

func TestStatementFromBundleCorpus(t *testing.T) {
	dir := corpusDir(t, "attestations")
	for _, tc := range []struct {
		file string
		want error
	}{
		{"sigstore-go/dsse-2sigs.sigstore.json", attest.ErrSignatureCount},
		{"gh-cli/sigstoreBundle-invalid-signature.json", attest.ErrPayloadType}, // text/plain payload
		{"conformance/happy-path-intoto-in-dsse-v3/bundle.sigstore.json", nil},
	} {
		b := corpusBundles(t, dir+"/"+tc.file)[0]
		_, err := attest.StatementFromBundle(b)
		if !errors.Is(err, tc.want) && (tc.want != nil || err != nil) {
			t.Errorf("%s: want %v, got %v", tc.file, tc.want, err)
		}
	}
}

func testStatement(t *testing.T, sha256hex string) *attest.Statement {
	t.Helper()
	st, err := attest.NewStatement(attest.PredicateSLSAProvenanceV1, []byte(`{"buildDefinition":{"buildType":"https://example.com/t"},"runDetails":{"builder":{"id":"https://example.com/b"}}}`),
		[]attest.Subject{{Name: "app", Digest: map[string]string{"sha256": sha256hex}}})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
