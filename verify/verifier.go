package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"io"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Verifier checks signatures against trust material. It is long-lived and
// safe for concurrent use: it loads the trusted root at most once, when a
// check first needs it, and keeps the sigstore-go verifiers it builds, so one
// Verifier serves thousands of calls. Each call takes its own [Requirements].
type Verifier struct {
	o     options
	trust trust

	mu    sync.RWMutex
	cache map[cacheKey]*sgverify.Verifier
}

// New returns a Verifier. It makes no network call and reads no file: trust
// material is loaded when a check first needs it.
func New(opts ...Option) (*Verifier, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, errorf(ReasonInvalidInput, "verify.New: %w", err)
		}
	}
	if err := o.validate(); err != nil {
		return nil, errorf(ReasonInvalidInput, "verify.New: %w", err)
	}
	v := &Verifier{o: o, cache: map[cacheKey]*sgverify.Verifier{}}
	v.trust.load = o.loader()
	return v, nil
}

// verifierMode is a sigstore-go verifier configuration.
type verifierMode uint8

const (
	// modeKeyless: Fulcio certificates through the trusted root; a
	// transparency-log entry, an observer timestamp and (unless ignored) an
	// SCT are required.
	modeKeyless verifierMode = iota
	// modeKey: one public key, with a transparency-log entry from the trusted
	// root and an observer timestamp.
	modeKey
	// modeKeyNoTlog: one public key, no trusted root, no tlog, no timestamp.
	modeKeyNoTlog
)

type cacheKey struct {
	mode verifierMode
	key  string // PKIX DER for key modes
}

// maxCachedVerifiers bounds the verifier cache; callers passing ever new keys
// cannot grow it without limit. Past the bound the cache starts over.
const maxCachedVerifiers = 1024

// sigstoreVerifier returns the sigstore-go verifier for mode (and key),
// building it once. Modes that need the trusted root load it.
func (v *Verifier) sigstoreVerifier(ctx context.Context, mode verifierMode, k *compiledKey) (*sgverify.Verifier, error) {
	ck := cacheKey{mode: mode}
	if k != nil {
		ck.key = k.der
	}
	v.mu.RLock()
	sv := v.cache[ck]
	v.mu.RUnlock()
	if sv != nil {
		return sv, nil
	}

	var tm root.TrustedMaterial
	var vopts []sgverify.VerifierOption
	switch mode {
	case modeKeyNoTlog:
		km, err := keyMaterial(k)
		if err != nil {
			return nil, err
		}
		tm = km
		vopts = []sgverify.VerifierOption{sgverify.WithNoObserverTimestamps(), sgverify.WithoutStatementPredicate()}
	case modeKey:
		km, err := keyMaterial(k)
		if err != nil {
			return nil, err
		}
		r, err := v.trust.get(ctx)
		if err != nil {
			return nil, err
		}
		tm = root.TrustedMaterialCollection{km, r}
		vopts = []sgverify.VerifierOption{sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1), sgverify.WithoutStatementPredicate()}
	case modeKeyless:
		r, err := v.trust.get(ctx)
		if err != nil {
			return nil, err
		}
		tm = r
		vopts = []sgverify.VerifierOption{sgverify.WithTransparencyLog(1), sgverify.WithObserverTimestamps(1), sgverify.WithoutStatementPredicate()}
		if !v.o.ignoreSCT {
			vopts = append(vopts, sgverify.WithSignedCertificateTimestamps(1))
		}
	}
	sv, err := sgverify.NewVerifier(tm, vopts...)
	if err != nil {
		return nil, errorf(ReasonInvalidInput, "configuring sigstore-go: %w", err)
	}
	v.mu.Lock()
	if len(v.cache) >= maxCachedVerifiers {
		clear(v.cache)
	}
	v.cache[ck] = sv
	v.mu.Unlock()
	return sv, nil
}

// keyMaterial is trusted material holding one public key, whatever hint a
// signature names (legacy cosign signatures carry none; bundles carry a hint
// we do not rely on).
func keyMaterial(k *compiledKey) (*root.TrustedPublicKeyMaterial, error) {
	var sv signature.Verifier
	var err error
	if pub, ok := k.pub.(ed25519.PublicKey); ok {
		sv, err = newEd25519Verifier(pub)
	} else {
		sv, err = signature.LoadDefaultVerifier(k.pub)
	}
	if err != nil {
		return nil, errorf(ReasonInvalidInput, "loading the public key: %w", err)
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil }), nil
}

// rekorLogs returns the trusted Rekor logs, if the trusted root is loaded.
func (v *Verifier) rekorLogs() map[string]*root.TransparencyLog {
	if tm := v.trust.tm.Load(); tm != nil {
		return (*tm).RekorLogs()
	}
	return nil
}

// ed25519Verifier accepts pure Ed25519 and Ed25519ph signatures by one key:
// cosign signs simple-signing payloads and DSSE envelopes with pure
// Ed25519, while Sigstore message signatures over a digest (hashedrekord)
// use Ed25519ph. The two are domain-separated (RFC 8032), so accepting
// either is not a confusion. sigstore-go picks between them itself for
// certificates, but not for public keys.
type ed25519Verifier struct {
	pure *signature.ED25519Verifier
	ph   *signature.ED25519phVerifier
}

func newEd25519Verifier(pub ed25519.PublicKey) (*ed25519Verifier, error) {
	pure, err := signature.LoadED25519Verifier(pub)
	if err != nil {
		return nil, err
	}
	ph, err := signature.LoadED25519phVerifier(pub)
	if err != nil {
		return nil, err
	}
	return &ed25519Verifier{pure: pure, ph: ph}, nil
}

func (e *ed25519Verifier) PublicKey(opts ...signature.PublicKeyOption) (crypto.PublicKey, error) {
	return e.pure.PublicKey(opts...)
}

func (e *ed25519Verifier) VerifySignature(sig, message io.Reader, opts ...signature.VerifyOption) error {
	s, err := io.ReadAll(io.LimitReader(sig, 1024))
	if err != nil {
		return err
	}
	var m []byte
	if message != nil {
		if m, err = io.ReadAll(message); err != nil {
			return err
		}
	}
	if err := e.pure.VerifySignature(bytes.NewReader(s), bytes.NewReader(m), opts...); err == nil {
		return nil
	}
	return e.ph.VerifySignature(bytes.NewReader(s), bytes.NewReader(m), opts...)
}
