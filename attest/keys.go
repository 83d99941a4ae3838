package attest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PEM block types of private keys.
const (
	// SigstorePrivateKeyPEMType is what cosign (v1.13+) and vouch write: a
	// PKCS#8 key encrypted with scrypt and NaCl secretbox (go-securesystemslib's
	// "encrypted" format), base64 JSON inside the PEM block.
	SigstorePrivateKeyPEMType = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// CosignPrivateKeyPEMType is the same format under the label older cosign
	// versions wrote.
	CosignPrivateKeyPEMType = "ENCRYPTED COSIGN PRIVATE KEY"
)

// ErrIncorrectPassword means an encrypted private key did not decrypt with the
// password given.
var ErrIncorrectPassword = errors.New("incorrect password for the private key (or the key file is corrupted)")

// ErrMalformedKey is wrapped by errors about key files that cannot be read.
var ErrMalformedKey = errors.New("malformed key")

// ErrUnsupportedKey is wrapped by errors about keys of a type or size vouch
// does not sign or verify with.
var ErrUnsupportedKey = errors.New("unsupported key")

// ParsePublicKey parses a PEM public key ("PUBLIC KEY", PKIX; or "RSA PUBLIC
// KEY", PKCS#1): ECDSA P-256, P-384 or P-521, Ed25519, or RSA of 2048, 3072 or
// 4096 bits.
func ParsePublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	block, err := decodePEM(pemBytes)
	if err != nil {
		return nil, err
	}
	var pub crypto.PublicKey
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a public key (want \"PUBLIC KEY\")", ErrMalformedKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	if err := checkPublicKey(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

func decodePEM(pemBytes []byte) (*pem.Block, error) {
	if len(pemBytes) > MaxKeySize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit for a key file", ErrMalformedKey, len(pemBytes), MaxKeySize)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrMalformedKey)
	}
	return block, nil
}

// checkPublicKey accepts the key types and sizes Sigstore signs with.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w: ECDSA curve %s (use P-256, P-384 or P-521)", ErrUnsupportedKey, k.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return nil
		}
		return fmt.Errorf("%w: Ed25519 key of %d bytes", ErrUnsupportedKey, len(k))
	case *rsa.PublicKey:
		switch bits := k.N.BitLen(); bits {
		case 2048, 3072, 4096:
			return nil
		default:
			return fmt.Errorf("%w: RSA key of %d bits (use %d, 3072 or %d)", ErrUnsupportedKey, bits, MinRSABits, MaxRSABits)
		}
	}
	return fmt.Errorf("%w: %T (use ECDSA, Ed25519 or RSA)", ErrUnsupportedKey, pub)
}

// IsEncrypted reports whether pemBytes holds a private key in cosign's
// encrypted format, which needs a password.
func IsEncrypted(pemBytes []byte) bool {
	block, err := decodePEM(pemBytes)
	return err == nil && (block.Type == SigstorePrivateKeyPEMType || block.Type == CosignPrivateKeyPEMType)
}

// ParsePrivateKey reads a PEM private key: cosign's encrypted format
// (SigstorePrivateKeyPEMType or CosignPrivateKeyPEMType, decrypted with
// password), PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY" or PKCS#1 "RSA
// PRIVATE KEY". password is ignored for unencrypted keys. A wrong password
// returns an error wrapping ErrIncorrectPassword.
func ParsePrivateKey(pemBytes, password []byte) (crypto.Signer, error) {
	block, err := decodePEM(pemBytes)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case SigstorePrivateKeyPEMType, CosignPrivateKeyPEMType:
		der, err := decrypt(block.Bytes, password)
		if err != nil {
			return nil, err
		}
		key, err = x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("%w: decrypted key is not PKCS#8: %v", ErrMalformedKey, err)
		}
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("%w: password-protected PKCS#8 (\"ENCRYPTED PRIVATE KEY\"); convert it with `cosign import-key-pair` or `openssl pkcs8 -topk8 -nocrypt`", ErrUnsupportedKey)
	default:
		return nil, fmt.Errorf("%w: PEM block %q is not a private key", ErrMalformedKey, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %T", ErrUnsupportedKey, key)
	}
	if err := checkPublicKey(signer.Public()); err != nil {
		return nil, err
	}
	if k, ok := signer.(*rsa.PrivateKey); ok {
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformedKey, err)
		}
	}
	return signer, nil
}

// encryptedKey is go-securesystemslib's encrypted format. It is checked here
// before decrypting so that a malformed file is reported as such, and any
// failure to decrypt a well-formed one means a wrong password.
type encryptedKey struct {
	KDF struct {
		Name   string `json:"name"`
		Params struct {
			N, R, P int
		} `json:"params"`
		Salt []byte `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// scryptParams are the parameter sets go-securesystemslib accepts (legacy,
// standard, OWASP): anything else would let a key file cost arbitrary CPU.
var scryptParams = [][3]int{{1 << 15, 8, 1}, {1 << 16, 8, 1}, {1 << 17, 8, 1}}

func decrypt(data, password []byte) ([]byte, error) {
	var k encryptedKey
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("%w: encrypted key is not JSON: %v", ErrMalformedKey, err)
	}
	if k.KDF.Name != "scrypt" || k.Cipher.Name != "nacl/secretbox" {
		return nil, fmt.Errorf("%w: encrypted with %q/%q, want scrypt/nacl/secretbox", ErrMalformedKey, k.KDF.Name, k.Cipher.Name)
	}
	known := false
	for _, p := range scryptParams {
		known = known || (k.KDF.Params.N == p[0] && k.KDF.Params.R == p[1] && k.KDF.Params.P == p[2])
	}
	if !known {
		return nil, fmt.Errorf("%w: unsupported scrypt parameters N=%d r=%d p=%d", ErrMalformedKey, k.KDF.Params.N, k.KDF.Params.R, k.KDF.Params.P)
	}
	if len(k.Cipher.Nonce) != 24 || len(k.KDF.Salt) == 0 || len(k.Ciphertext) <= 16 {
		return nil, fmt.Errorf("%w: truncated encrypted key", ErrMalformedKey)
	}
	der, err := encrypted.Decrypt(data, password)
	if err != nil {
		return nil, ErrIncorrectPassword
	}
	return der, nil
}

// MarshalPrivateKey encrypts key with password in cosign's format (scrypt
// N=65536 r=8 p=1, NaCl secretbox over PKCS#8) under SigstorePrivateKeyPEMType,
// exactly as `cosign generate-key-pair` and `cosign import-key-pair` write it.
// A nil or empty password is allowed, as cosign allows it.
func MarshalPrivateKey(key crypto.Signer, password []byte) ([]byte, error) {
	if err := checkPublicKey(key.Public()); err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if password == nil {
		password = []byte{}
	}
	enc, err := encrypted.Encrypt(der, password)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyPEMType, Bytes: enc}), nil
}

// MarshalPublicKey returns pub as a PEM "PUBLIC KEY" (PKIX), as cosign writes
// cosign.pub.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// GenerateKeyPair generates an ECDSA P-256 key pair, as `cosign
// generate-key-pair` does, and returns the private key encrypted with password
// (MarshalPrivateKey) and the public key (MarshalPublicKey).
func GenerateKeyPair(password []byte) (privatePEM, publicPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if privatePEM, err = MarshalPrivateKey(key, password); err != nil {
		return nil, nil, err
	}
	if publicPEM, err = MarshalPublicKey(key.Public()); err != nil {
		return nil, nil, err
	}
	return privatePEM, publicPEM, nil
}

// PublicKeyHint returns the hint Sigstore bundles carry for a public key: the
// standard base64 of the SHA-256 of its PKIX DER encoding.
func PublicKeyHint(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// equalPublicKeys reports whether two public keys are the same key.
func equalPublicKeys(a, b crypto.PublicKey) bool {
	da, errA := x509.MarshalPKIXPublicKey(a)
	db, errB := x509.MarshalPKIXPublicKey(b)
	return errA == nil && errB == nil && bytes.Equal(da, db)
}
