package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"testing"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/rekor/pkg/generated/models"
	"github.com/sigstore/rekor/pkg/types"
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1"
	_ "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigdsse "github.com/sigstore/sigstore/pkg/signature/dsse"
)

// fixture is a fake Sigstore (sigstore-go's VirtualSigstore: Fulcio, Rekor,
// TSA) plus helpers that produce what cosign and its successors attach to
// images. VirtualSigstore certificates live ten minutes, so every test
// makes its own fixture and nothing is committed.
type fixture struct {
	t  testing.TB
	vs *ca.VirtualSigstore
}

const (
	aliceID     = "alice@example.com"
	bobID       = "bob@example.com"
	testIssuer  = "https://issuer.example.com"
	imageDigest = "sha256:4f2a5ba5c0e4f63e1ed5d8ab2b0f8e1e0a4d8a1bb9a6d2f1b5bd3a60b1f7fd11"
	otherDigest = "sha256:9b1e0c1d5e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d"
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, vs: vs}
}

// verifier trusts the fixture (VirtualSigstore certificates carry no SCTs).
func (f *fixture) verifier(opts ...Option) *Verifier {
	f.t.Helper()
	v, err := New(append([]Option{WithTrustedMaterial(f.vs), WithInsecureIgnoreSCT()}, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// simpleSigningPayload is what cosign signs for an image (legacy format).
func simpleSigningPayload(digest string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"registry.example.com/app"},"image":{"docker-manifest-digest":"` +
		digest + `"},"type":"cosign container image signature"},"optional":null}`)
}

// statementFor is an in-toto v1 statement about digest.
func statementFor(digest, predicateType string) []byte {
	alg, h, _ := cutDigest(digest)
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "registry.example.com/app", "digest": map[string]string{alg: h}}},
		"predicateType": predicateType,
		"predicate":     map[string]any{},
	})
	return b
}

func cutDigest(d string) (string, string, bool) {
	for i := range d {
		if d[i] == ':' {
			return d[:i], d[i+1:], true
		}
	}
	return "", "", false
}

// setBundle is cosign's dev.sigstore.cosign/bundle annotation for entry e,
// with a fresh signed entry timestamp from the fixture's Rekor.
func (f *fixture) setBundle(body []byte, integratedTime, logIndex int64) string {
	f.t.Helper()
	logID := must[string](f.t)(f.vs.RekorLogID())
	set := must[[]byte](f.t)(f.vs.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: integratedTime, LogIndex: logIndex, LogID: logID,
	}))
	b, _ := json.Marshal(map[string]any{
		"SignedEntryTimestamp": set,
		"Payload": map[string]any{
			"body": base64.StdEncoding.EncodeToString(body), "integratedTime": integratedTime, "logIndex": logIndex, "logID": logID,
		},
	})
	return string(b)
}

func pemCert(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

func (f *fixture) entityParts(te *ca.TestEntity) (cert *x509.Certificate, body []byte, it, idx int64) {
	f.t.Helper()
	vc, err := te.VerificationContent()
	if err != nil {
		f.t.Fatal(err)
	}
	e := must[[]*tlog.Entry](f.t)(te.TlogEntries())[0]
	return vc.Certificate(), e.TransparencyLogEntry().CanonicalizedBody, e.IntegratedTime().Unix(), e.LogIndex()
}

// teSignature is the raw signature of a test entity.
func teSignature(t testing.TB, te *ca.TestEntity) []byte {
	t.Helper()
	sc, err := te.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	return sc.Signature()
}

// teEnvelope is the DSSE envelope of a test entity.
func teEnvelope(t testing.TB, te *ca.TestEntity) *dsse.Envelope {
	t.Helper()
	sc, err := te.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	return sc.EnvelopeContent().RawEnvelope()
}

// keylessSig is a legacy .sig layer signed by identity through the fixture:
// certificate, Rekor SET bundle and RFC 3161 timestamp annotations.
func (f *fixture) keylessSig(identity, digest string) Attachment {
	f.t.Helper()
	return f.keylessSigAt(identity, digest, time.Now().Add(5*time.Minute))
}

func (f *fixture) keylessSigAt(identity, digest string, integrated time.Time) Attachment {
	f.t.Helper()
	payload := simpleSigningPayload(digest)
	te := must[*ca.TestEntity](f.t)(f.vs.SignAtTime(identity, testIssuer, payload, integrated))
	cert, body, it, idx := f.entityParts(te)
	ts := must[[][]byte](f.t)(te.Timestamps())
	tsJSON, _ := json.Marshal(map[string][]byte{"SignedRFC3161Timestamp": ts[0]})
	return Attachment{
		Format:  FormatLegacySignature,
		Content: payload,
		Source:  "keyless .sig",
		Annotations: map[string]string{
			AnnotationSignature:   base64.StdEncoding.EncodeToString(teSignature(f.t, te)),
			AnnotationCertificate: pemCert(cert),
			AnnotationBundle:      f.setBundle(body, it, idx),
			AnnotationTimestamp:   string(tsJSON),
		},
	}
}

// keylessAtt is a legacy .att layer: a DSSE envelope with a dsse 0.0.1 entry.
func (f *fixture) keylessAtt(identity, digest, predicateType string) Attachment {
	f.t.Helper()
	te := must[*ca.TestEntity](f.t)(f.vs.Attest(identity, testIssuer, statementFor(digest, predicateType)))
	env := teEnvelope(f.t, te)
	content, _ := json.Marshal(env)
	cert, body, it, idx := f.entityParts(te)
	return Attachment{
		Format:  FormatLegacyAttestation,
		Content: content,
		Source:  "keyless .att",
		Annotations: map[string]string{
			AnnotationSignature:   "",
			AnnotationCertificate: pemCert(cert),
			AnnotationBundle:      f.setBundle(body, it, idx),
			"predicateType":       predicateType,
		},
	}
}

// keylessBundle is a cosign v3 image signature: a v0.3 bundle with a DSSE
// in-toto statement of type predicateType about digest, and a dsse entry with
// inclusion proof and promise.
func (f *fixture) keylessBundle(identity, digest, predicateType string) Attachment {
	f.t.Helper()
	te := must[*ca.TestEntity](f.t)(f.vs.AttestAtTime(identity, testIssuer, statementFor(digest, predicateType), time.Now().Add(5*time.Minute), true))
	env := teEnvelope(f.t, te)
	cert, body, it, idx := f.entityParts(te)
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{f.tlogEntry(body, it, idx, true)},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: protoEnvelope(f.t, env)},
	}
	return Attachment{Format: FormatBundle, Content: bundleJSON(f.t, pb), Source: "keyless bundle"}
}

func protoEnvelope(t testing.TB, env *dsse.Envelope) *protodsse.Envelope {
	t.Helper()
	payload := must[[]byte](t)(base64.StdEncoding.DecodeString(env.Payload))
	pe := &protodsse.Envelope{PayloadType: env.PayloadType, Payload: payload}
	for _, s := range env.Signatures {
		pe.Signatures = append(pe.Signatures, &protodsse.Signature{Sig: must[[]byte](t)(base64.StdEncoding.DecodeString(s.Sig)), Keyid: s.KeyID})
	}
	return pe
}

func bundleJSON(t testing.TB, pb *protobundle.Bundle) []byte {
	t.Helper()
	b := must[*sgbundle.Bundle](t)(sgbundle.NewBundle(pb))
	return must[[]byte](t)(b.MarshalJSON())
}

// tlogEntry is a Rekor v1 entry for body, with a signed entry timestamp and,
// if asked, an inclusion proof with a checkpoint.
func (f *fixture) tlogEntry(body []byte, integratedTime, logIndex int64, withProof bool) *protorekor.TransparencyLogEntry {
	f.t.Helper()
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil {
		f.t.Fatal(err)
	}
	logID := must[string](f.t)(f.vs.RekorLogID())
	rawID, _ := hex.DecodeString(logID)
	set := must[[]byte](f.t)(f.vs.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: integratedTime, LogIndex: logIndex, LogID: logID,
	}))
	e := &protorekor.TransparencyLogEntry{
		LogIndex:          logIndex,
		LogId:             &protocommon.LogId{KeyId: rawID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    integratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		CanonicalizedBody: body,
	}
	if withProof {
		p := must[*models.InclusionProof](f.t)(f.vs.GetInclusionProof(body))
		ip := &protorekor.InclusionProof{
			LogIndex:   *p.LogIndex,
			RootHash:   must[[]byte](f.t)(hex.DecodeString(*p.RootHash)),
			TreeSize:   *p.TreeSize,
			Checkpoint: &protorekor.Checkpoint{Envelope: *p.Checkpoint},
		}
		for _, h := range p.Hashes {
			ip.Hashes = append(ip.Hashes, must[[]byte](f.t)(hex.DecodeString(h)))
		}
		e.InclusionProof = ip
	}
	return e
}

// keyPair is a signing key for keyed tests.
type keyPair struct {
	priv *ecdsa.PrivateKey
	pem  []byte
}

func newKey(t testing.TB) keyPair {
	t.Helper()
	priv := must[*ecdsa.PrivateKey](t)(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	return keyPair{priv: priv, pem: must[[]byte](t)(cryptoutils.MarshalPublicKeyToPEM(priv.Public()))}
}

func (k keyPair) pub() crypto.PublicKey { return k.priv.Public() }

// rekorBody is the canonical body of a Rekor v1 entry, built with Rekor's
// own types.
func rekorBody(t testing.TB, kind, version string, props types.ArtifactProperties) []byte {
	t.Helper()
	ctx := context.Background()
	pe := must[models.ProposedEntry](t)(types.NewProposedEntry(ctx, kind, version, props))
	ei := must[types.EntryImpl](t)(types.CreateVersionedEntry(pe))
	return must[[]byte](t)(types.CanonicalizeEntry(ctx, ei))
}

// keyedSig is a legacy .sig layer signed with key k; with tlog, it carries
// a hashedrekord entry's SET bundle.
func (f *fixture) keyedSig(k keyPair, digest string, withTlog bool) Attachment {
	f.t.Helper()
	payload := simpleSigningPayload(digest)
	sum := sha256.Sum256(payload)
	sig := must[[]byte](f.t)(ecdsa.SignASN1(rand.Reader, k.priv, sum[:]))
	a := Attachment{
		Format: FormatLegacySignature, Content: payload, Source: "keyed .sig",
		Annotations: map[string]string{AnnotationSignature: base64.StdEncoding.EncodeToString(sig)},
	}
	if withTlog {
		body := rekorBody(f.t, "hashedrekord", "0.0.1", types.ArtifactProperties{
			ArtifactHash: hex.EncodeToString(sum[:]), SignatureBytes: sig, PublicKeyBytes: [][]byte{k.pem}, PKIFormat: "x509",
		})
		a.Annotations[AnnotationBundle] = f.setBundle(body, time.Now().Unix(), 42)
	}
	return a
}

// keyedBundle is a v0.3 bundle with a DSSE statement about digest signed
// with key k; with tlog, it carries a dsse entry with proof and promise.
func (f *fixture) keyedBundle(k keyPair, digest, predicateType string, withTlog bool) Attachment {
	f.t.Helper()
	stmt := statementFor(digest, predicateType)
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
	if withTlog {
		envJSON, _ := json.Marshal(env)
		body := rekorBody(f.t, "dsse", "0.0.1", types.ArtifactProperties{
			ArtifactBytes: envJSON, PublicKeyBytes: [][]byte{k.pem}, PKIFormat: "x509",
		})
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{f.tlogEntry(body, time.Now().Unix(), 7, true)}
	}
	return Attachment{Format: FormatBundle, Content: bundleJSON(f.t, pb), Source: "keyed bundle"}
}
