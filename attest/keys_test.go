package attest_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/attest"
)

// Fixtures made by cosign v2.6.5 (testdata/README.md says how).
const testPassword = "vouch-test"

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "attest", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseCosignPrivateKeys(t *testing.T) {
	pub, err := attest.ParsePublicKey(readTestdata(t, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		file, pubFile string
		password      []byte
	}{
		{"cosign.key", "cosign.pub", []byte(testPassword)},
		{"cosign-legacy-label.key", "cosign.pub", []byte(testPassword)}, // "ENCRYPTED COSIGN PRIVATE KEY"
		{"cosign-empty-password.key", "cosign-empty-password.pub", []byte{}},
		{"cosign-empty-password.key", "cosign-empty-password.pub", nil},
	} {
		key, err := attest.ParsePrivateKey(readTestdata(t, tc.file), tc.password)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		want, err := attest.ParsePublicKey(readTestdata(t, tc.pubFile))
		if err != nil {
			t.Fatal(err)
		}
		if !want.(*ecdsa.PublicKey).Equal(key.Public()) {
			t.Errorf("%s: private key does not match %s", tc.file, tc.pubFile)
		}
		if !attest.IsEncrypted(readTestdata(t, tc.file)) {
			t.Errorf("%s: IsEncrypted = false", tc.file)
		}
	}
	_ = pub
}

func TestWrongPassword(t *testing.T) {
	for _, pw := range [][]byte{[]byte("wrong"), nil, []byte(testPassword + " ")} {
		_, err := attest.ParsePrivateKey(readTestdata(t, "cosign.key"), pw)
		if !errors.Is(err, attest.ErrIncorrectPassword) {
			t.Errorf("password %q: want ErrIncorrectPassword, got %v", pw, err)
		}
	}
}

// encryptedPEM re-encodes cosign.key's JSON after mutate changed it.
func encryptedPEM(t *testing.T, mutate func(m map[string]any)) []byte {
	t.Helper()
	block, _ := pem.Decode(readTestdata(t, "cosign.key"))
	var m map[string]any
	if err := json.Unmarshal(block.Bytes, &m); err != nil {
		t.Fatal(err)
	}
	mutate(m)
	b, _ := json.Marshal(m)
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: b})
}

func TestParsePrivateKeyHostile(t *testing.T) {
	key := readTestdata(t, "cosign.key")
	for _, tc := range []struct {
		name string
		pem  []byte
		want error
	}{
		{"empty", nil, attest.ErrMalformedKey},
		{"not PEM", []byte("hello"), attest.ErrMalformedKey},
		{"truncated PEM", key[:len(key)/2], attest.ErrMalformedKey},
		{"oversized", append(bytes.Repeat([]byte(" "), attest.MaxKeySize), key...), attest.ErrMalformedKey},
		{"a certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), attest.ErrMalformedKey},
		{"a public key", readTestdata(t, "cosign.pub"), attest.ErrMalformedKey},
		{"encrypted body is not JSON", pem.EncodeToMemory(&pem.Block{Type: attest.SigstorePrivateKeyPEMType, Bytes: []byte("nope")}), attest.ErrMalformedKey},
		// scrypt parameters an attacker picks would cost arbitrary CPU and memory.
		{"huge scrypt N", encryptedPEM(t, func(m map[string]any) { m["kdf"].(map[string]any)["params"].(map[string]any)["N"] = 1 << 24 }), attest.ErrMalformedKey},
		{"unknown kdf", encryptedPEM(t, func(m map[string]any) { m["kdf"].(map[string]any)["name"] = "pbkdf2" }), attest.ErrMalformedKey},
		{"short nonce", encryptedPEM(t, func(m map[string]any) { m["cipher"].(map[string]any)["nonce"] = "AAAA" }), attest.ErrMalformedKey},
		{"no ciphertext", encryptedPEM(t, func(m map[string]any) { delete(m, "ciphertext") }), attest.ErrMalformedKey},
		{"tampered ciphertext", encryptedPEM(t, func(m map[string]any) {
			ct, _ := base64.StdEncoding.DecodeString(m["ciphertext"].(string))
			ct[5] ^= 1
			m["ciphertext"] = base64.StdEncoding.EncodeToString(ct)
		}), attest.ErrIncorrectPassword},
		{"PKCS#8 garbage", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x03, 1, 2, 3}}), attest.ErrMalformedKey},
		{"password-protected PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), attest.ErrUnsupportedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.ParsePrivateKey(tc.pem, []byte(testPassword))
			if !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
}

func TestUnencryptedPrivateKeyFormats(t *testing.T) {
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rsa2048, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	sec1, _ := x509.MarshalECPrivateKey(p384)
	for _, tc := range []struct {
		name string
		pem  []byte
		pub  crypto.PublicKey
		ok   bool
	}{
		{"PKCS#8 P-256", pkcs8(p256), p256.Public(), true},
		{"PKCS#8 P-384", pkcs8(p384), p384.Public(), true},
		{"PKCS#8 Ed25519", pkcs8(ed), ed.Public(), true},
		{"PKCS#8 RSA 2048", pkcs8(rsa2048), rsa2048.Public(), true},
		{"SEC1 P-384", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), p384.Public(), true},
		{"PKCS#1 RSA", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsa2048)}), rsa2048.Public(), true},
		{"P-224 is not supported", pkcs8(p224), nil, false},
		{"RSA 1024 is too small", pkcs8(rsa1024), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if attest.IsEncrypted(tc.pem) {
				t.Fatal("IsEncrypted = true for an unencrypted key")
			}
			key, err := attest.ParsePrivateKey(tc.pem, nil)
			if !tc.ok {
				if !errors.Is(err, attest.ErrUnsupportedKey) {
					t.Fatalf("want ErrUnsupportedKey, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Fatal("public key mismatch")
			}
			// Re-encrypted in cosign's format, the key reads back.
			enc, err := attest.MarshalPrivateKey(key, []byte("pw"))
			if err != nil {
				t.Fatal(err)
			}
			again, err := attest.ParsePrivateKey(enc, []byte("pw"))
			if err != nil || !tc.pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(again.Public()) {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestGenerateKeyPair(t *testing.T) {
	priv, pub, err := attest.GenerateKeyPair([]byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(priv), "-----BEGIN "+attest.SigstorePrivateKeyPEMType+"-----") {
		t.Fatalf("private key PEM type: %s", priv[:40])
	}
	key, err := attest.ParsePrivateKey(priv, []byte("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := key.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("want an ECDSA P-256 key like cosign, got %T", key)
	}
	p, err := attest.ParsePublicKey(pub)
	if err != nil || !p.(*ecdsa.PublicKey).Equal(key.Public()) {
		t.Fatalf("public key: %v", err)
	}
	if _, err := attest.ParsePrivateKey(priv, []byte("s3cret!")); !errors.Is(err, attest.ErrIncorrectPassword) {
		t.Fatalf("wrong password: %v", err)
	}
	// The scrypt parameters are cosign's (N=65536, r=8, p=1).
	block, _ := pem.Decode(priv)
	var doc struct {
		KDF struct {
			Params struct{ N, R, P int } `json:"params"`
		} `json:"kdf"`
	}
	if err := json.Unmarshal(block.Bytes, &doc); err != nil || doc.KDF.Params.N != 65536 || doc.KDF.Params.R != 8 || doc.KDF.Params.P != 1 {
		t.Fatalf("scrypt parameters %+v, %v", doc.KDF.Params, err)
	}
}

func TestParsePublicKey(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	pkix := func(pub crypto.PublicKey) []byte {
		b, err := attest.MarshalPublicKey(pub)
		if err != nil {
			der, _ := x509.MarshalPKIXPublicKey(pub)
			return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		}
		return b
	}
	for _, tc := range []struct {
		name string
		pem  []byte
		ok   bool
	}{
		{"cosign.pub", readTestdata(t, "cosign.pub"), true},
		{"P-384", pkix(p384.Public()), true},
		{"Ed25519", pkix(ed.Public()), true},
		{"RSA PKIX", pkix(rsaKey.Public()), true},
		{"RSA PKCS#1", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}), true},
		{"P-224", pkix(p224.Public()), false},
		{"private key", readTestdata(t, "cosign.key"), false},
		{"garbage DER", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{0x30, 0}}), false},
		{"no PEM", []byte("ssh-ed25519 AAAA"), false},
	} {
		_, err := attest.ParsePublicKey(tc.pem)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// A verifier's cost grows with the RSA modulus: keys over MaxRSABits are
// refused before any use.
func TestRSAKeySizeLimits(t *testing.T) {
	for _, bits := range []int{attest.MaxRSABits + 8, 8192, 1024, 2040} {
		n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
		n.Add(n, big.NewInt(1))
		der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
		if err != nil {
			t.Fatal(err)
		}
		_, err = attest.ParsePublicKey(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		if !errors.Is(err, attest.ErrUnsupportedKey) {
			t.Errorf("RSA %d bits: want ErrUnsupportedKey, got %v", bits, err)
		}
	}
}

func TestPublicKeyHintMatchesCosign(t *testing.T) {
	// cosign wrote this hint into its bundle for cosign.pub.
	var b struct {
		VerificationMaterial struct {
			PublicKey struct{ Hint string } `json:"publicKey"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(readTestdata(t, "artifact.txt.cosign-bundle.json"), &b); err != nil {
		t.Fatal(err)
	}
	pub, _ := attest.ParsePublicKey(readTestdata(t, "cosign.pub"))
	hint, err := attest.PublicKeyHint(pub)
	if err != nil || hint != b.VerificationMaterial.PublicKey.Hint {
		t.Fatalf("hint %q, cosign wrote %q (%v)", hint, b.VerificationMaterial.PublicKey.Hint, err)
	}
}
