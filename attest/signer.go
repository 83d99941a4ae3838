package attest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Signer signs with a private key the way cosign does with --key: the hash is
// the one sigstore's signature.LoadDefaultSignerVerifier picks for the key
// (SHA-256 for P-256 and RSA, SHA-384 for P-384, SHA-512 for P-521) and
// Ed25519 keys sign the message itself (PureEd25519, what cosign uses when it
// does not upload to a transparency log). vouch never uploads: bundles made
// here carry the public key's hint and no transparency log entry, like
// cosign's --tlog-upload=false.
type Signer struct {
	key     crypto.Signer
	details signature.AlgorithmDetails
	hint    string
}

// NewSigner returns a Signer for key (from ParsePrivateKey).
func NewSigner(key crypto.Signer) (*Signer, error) {
	if key == nil {
		return nil, errors.New("no signing key")
	}
	if err := checkPublicKey(key.Public()); err != nil {
		return nil, err
	}
	details, err := signature.GetDefaultAlgorithmDetails(key.Public())
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupportedKey, err)
	}
	hint, err := PublicKeyHint(key.Public())
	if err != nil {
		return nil, err
	}
	return &Signer{key: key, details: details, hint: hint}, nil
}

// Public returns the signer's public key.
func (s *Signer) Public() crypto.PublicKey { return s.key.Public() }

// Hint returns the public key hint bundles carry (PublicKeyHint).
func (s *Signer) Hint() string { return s.hint }

// HashFunc returns the hash the signer signs digests of, or 0 for Ed25519,
// which signs messages directly.
func (s *Signer) HashFunc() crypto.Hash { return s.details.GetHashType() }

// Sign signs payload and returns the raw signature (ASN.1 DER for ECDSA,
// PKCS#1 v1.5 for RSA). Over a simple-signing payload this is the base64
// value of cosign's dev.cosignproject.cosign/signature annotation.
func (s *Signer) Sign(payload []byte) ([]byte, error) {
	h := s.HashFunc()
	if h == 0 {
		return s.key.Sign(rand.Reader, payload, crypto.Hash(0))
	}
	d := h.New()
	d.Write(payload)
	return s.key.Sign(rand.Reader, d.Sum(nil), h)
}

// SignEnvelope signs payload as DSSE (over PAE(payloadType, payload)) and
// returns the envelope with one signature and an empty keyid, as cosign
// writes it into .att layers. For an attestation, payloadType is
// PayloadTypeInToto and payload a statement's JSON.
func (s *Signer) SignEnvelope(payloadType string, payload []byte) (*Envelope, error) {
	if payloadType == "" {
		return nil, errors.New("DSSE needs a payload type")
	}
	sig, err := s.Sign(PAE(payloadType, payload))
	if err != nil {
		return nil, err
	}
	return &Envelope{
		PayloadType: payloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
		Signatures:  []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	}, nil
}

// BundleBlob signs the artifact read from r and returns a Sigstore bundle v0.3
// with a message signature and the public key hint, what `cosign sign-blob
// --key K --bundle B --new-bundle-format --tlog-upload=false` writes. The
// artifact is hashed while streaming (Ed25519 keys read it into memory, as
// PureEd25519 signs the whole message).
func (s *Signer) BundleBlob(ctx context.Context, r io.Reader) (*bundle.Bundle, error) {
	kp := &keypair{s: s}
	content := &sign.PlainData{}
	if h := s.HashFunc(); h != 0 {
		d := h.New()
		if _, err := io.Copy(d, readerWithContext(ctx, r)); err != nil {
			return nil, fmt.Errorf("reading the artifact: %w", err)
		}
		kp.prehashed = d.Sum(nil)
	} else {
		data, err := io.ReadAll(readerWithContext(ctx, r))
		if err != nil {
			return nil, fmt.Errorf("reading the artifact: %w", err)
		}
		content.Data = data
	}
	return s.bundle(ctx, content, kp)
}

// BundleStatement signs statement (a statement's JSON) as DSSE with payload
// type PayloadTypeInToto and returns a Sigstore bundle v0.3 with the public
// key hint: what cosign v2.6 `attest --new-bundle-format` and `attest-blob
// --new-bundle-format` write with --tlog-upload=false, and what `sign
// --new-bundle-format` writes over a statement with predicate type
// PredicateCosignSign.
func (s *Signer) BundleStatement(ctx context.Context, statement []byte) (*bundle.Bundle, error) {
	if _, err := ParseStatement(statement); err != nil {
		return nil, err
	}
	return s.bundle(ctx, &sign.DSSEData{Data: statement, PayloadType: PayloadTypeInToto}, &keypair{s: s})
}

func (s *Signer) bundle(ctx context.Context, content sign.Content, kp *keypair) (*bundle.Bundle, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pb, err := sign.Bundle(content, kp, sign.BundleOptions{Context: ctx})
	if err != nil {
		return nil, err
	}
	return bundle.NewBundle(pb)
}

// keypair adapts a Signer to sigstore-go's sign.Keypair. When prehashed is
// set, SignData signs that digest (computed while streaming the artifact)
// instead of hashing its input.
type keypair struct {
	s         *Signer
	prehashed []byte
}

var _ sign.Keypair = (*keypair)(nil)

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	if k.s.HashFunc() == 0 {
		// PureEd25519 signs the message; the bundle's message digest (an
		// unauthenticated hint checked against the artifact) is SHA-512.
		return protocommon.HashAlgorithm_SHA2_512
	}
	return k.s.details.GetProtoHashType()
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return k.s.details.GetSignatureAlgorithm()
}

func (k *keypair) GetHint() []byte { return []byte(k.s.hint) }

func (k *keypair) GetKeyAlgorithm() string {
	switch k.s.Public().(type) {
	case *ecdsa.PublicKey:
		return "ECDSA"
	case *rsa.PublicKey:
		return "RSA"
	case ed25519.PublicKey:
		return "ED25519"
	}
	return ""
}

func (k *keypair) GetPublicKey() crypto.PublicKey { return k.s.Public() }

func (k *keypair) GetPublicKeyPem() (string, error) {
	b, err := MarshalPublicKey(k.s.Public())
	return string(b), err
}

// SignData returns the signature over data and the digest the bundle records.
func (k *keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	h := k.s.HashFunc()
	switch {
	case k.prehashed != nil:
		sig, err := k.s.key.Sign(rand.Reader, k.prehashed, h)
		return sig, k.prehashed, err
	case h == 0:
		sig, err := k.s.key.Sign(rand.Reader, data, crypto.Hash(0))
		sum := sha512.Sum512(data)
		return sig, sum[:], err
	}
	d := h.New()
	d.Write(data)
	digest := d.Sum(nil)
	sig, err := k.s.key.Sign(rand.Reader, digest, h)
	return sig, digest, err
}

// readerWithContext stops reading once ctx is done.
func readerWithContext(ctx context.Context, r io.Reader) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return r.Read(p)
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
