package attest

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// PayloadTypeInToto is the DSSE payload type of an in-toto statement, the
// only one vouch accepts for attestations.
const PayloadTypeInToto = "application/vnd.in-toto+json"

// Envelope is a DSSE envelope: {"payloadType", "payload" (base64), "signatures":
// [{"keyid", "sig" (base64)}]}. It is go-securesystemslib's type, so it can be
// handed to any DSSE library.
type Envelope = dsse.Envelope

// ErrMalformedEnvelope is wrapped by every error that means "this is not a
// well-formed DSSE envelope".
var ErrMalformedEnvelope = errors.New("malformed DSSE envelope")

// ErrPayloadType means a DSSE envelope does not carry an in-toto statement.
var ErrPayloadType = errors.New("DSSE payload type is not " + PayloadTypeInToto)

// ErrSignatureCount means a DSSE envelope in a Sigstore bundle does not carry
// exactly one signature.
var ErrSignatureCount = errors.New("a DSSE envelope in a Sigstore bundle must carry exactly one signature")

// PAE is the DSSE pre-authentication encoding of payload: the bytes that are
// actually signed.
func PAE(payloadType string, payload []byte) []byte { return dsse.PAE(payloadType, payload) }

// ParseEnvelope parses and checks a DSSE envelope: a payload type, a payload
// and between 1 and MaxEnvelopeSignatures signatures, each base64 in the
// standard or URL-safe alphabet. It does not verify any signature.
func ParseEnvelope(b []byte) (*Envelope, error) {
	if len(b) > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedEnvelope, len(b), MaxEnvelopeSize)
	}
	fields, err := objectFields(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedEnvelope, err)
	}
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedEnvelope, err)
	}
	if _, ok := fields["payload"]; !ok {
		return nil, fmt.Errorf("%w: no payload", ErrMalformedEnvelope)
	}
	if env.PayloadType == "" {
		return nil, fmt.Errorf("%w: no payloadType", ErrMalformedEnvelope)
	}
	if _, err := decodeBase64(env.Payload); err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformedEnvelope, err)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: no signatures", ErrMalformedEnvelope)
	}
	if len(env.Signatures) > MaxEnvelopeSignatures {
		return nil, fmt.Errorf("%w: %d signatures is over the limit of %d", ErrMalformedEnvelope, len(env.Signatures), MaxEnvelopeSignatures)
	}
	for i, s := range env.Signatures {
		sig, err := decodeBase64(s.Sig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("%w: signature %d is empty or not base64", ErrMalformedEnvelope, i)
		}
	}
	return &env, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not, as the
// DSSE spec requires of verifiers.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// StatementFromEnvelope decodes the in-toto statement an envelope carries. It
// does not verify the envelope's signatures: call it on an envelope that was
// verified, or use VerifyEnvelope.
func StatementFromEnvelope(env *Envelope) (*Statement, error) {
	if env.PayloadType != PayloadTypeInToto {
		return nil, fmt.Errorf("%w: got %q", ErrPayloadType, env.PayloadType)
	}
	payload, err := decodeBase64(env.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformedEnvelope, err)
	}
	return ParseStatement(payload)
}

// StatementFromBundle returns the in-toto statement of a Sigstore bundle whose
// content is a DSSE envelope, enforcing the bundle rules: exactly one
// signature and payload type PayloadTypeInToto. It does not verify the
// bundle: sigstore-go's verifier does that.
func StatementFromBundle(b *bundle.Bundle) (*Statement, error) {
	if b == nil || b.Bundle == nil || b.GetDsseEnvelope() == nil {
		return nil, fmt.Errorf("%w: the bundle holds no DSSE envelope (a message signature is not an attestation)", ErrMalformedEnvelope)
	}
	env := b.GetDsseEnvelope()
	if n := len(env.GetSignatures()); n != 1 {
		return nil, fmt.Errorf("%w: it has %d", ErrSignatureCount, n)
	}
	if env.GetPayloadType() != PayloadTypeInToto {
		return nil, fmt.Errorf("%w: got %q", ErrPayloadType, env.GetPayloadType())
	}
	return ParseStatement(env.GetPayload())
}

// ErrEnvelopeSignature means no signature on a DSSE envelope verifies with
// the given key (or the payload was changed after signing).
var ErrEnvelopeSignature = errors.New("no DSSE signature verifies with the key")

// VerifyEnvelope checks that a signature on env verifies with pub over the
// envelope's PAE, and returns the verified payload. The hash is chosen as
// Signer chooses it for the key (SHA-256 for P-256 and RSA, SHA-384 for
// P-384, none for Ed25519).
func VerifyEnvelope(env *Envelope, pub crypto.PublicKey) ([]byte, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	details, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return nil, err
	}
	v, err := signature.LoadVerifierFromAlgorithmDetails(pub, details)
	if err != nil {
		return nil, err
	}
	ev, err := dsse.NewEnvelopeVerifier(&sigdsse.VerifierAdapter{SignatureVerifier: v, Pub: pub})
	if err != nil {
		return nil, err
	}
	if len(env.Signatures) > MaxEnvelopeSignatures {
		return nil, fmt.Errorf("%w: %d signatures is over the limit of %d", ErrMalformedEnvelope, len(env.Signatures), MaxEnvelopeSignatures)
	}
	_, payload, err := ev.VerifyAndDecode(context.Background(), env)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrEnvelopeSignature, err)
	}
	return payload, nil
}
