package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
)

// Annotations cosign writes on legacy .sig and .att layers.
const (
	AnnotationSignature   = "dev.cosignproject.cosign/signature"
	AnnotationCertificate = "dev.sigstore.cosign/certificate"
	AnnotationChain       = "dev.sigstore.cosign/chain"
	AnnotationBundle      = "dev.sigstore.cosign/bundle"
	AnnotationTimestamp   = "dev.sigstore.cosign/rfc3161timestamp"
)

// legacy is a cosign legacy layer converted to a v0.1 Sigstore bundle.
type legacy struct {
	b *entity
	// droppedTlog explains a Rekor entry left out because sigstore-go cannot
	// verify its kind (rekord, intoto 0.0.1); empty otherwise.
	droppedTlog string
}

// rekorSETBundle is cosign's "dev.sigstore.cosign/bundle" annotation: a Rekor
// entry with its signed entry timestamp (pkg/cosign/bundle/rekor.go).
type rekorSETBundle struct {
	SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
	Payload              struct {
		Body           string `json:"body"`
		IntegratedTime int64  `json:"integratedTime"`
		LogIndex       int64  `json:"logIndex"`
		LogID          string `json:"logID"`
	} `json:"Payload"`
}

// rfc3161Annotation is cosign's "dev.sigstore.cosign/rfc3161timestamp".
type rfc3161Annotation struct {
	SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
}

// supportedEntries are the Rekor v1 entry kinds sigstore-go verifies.
var supportedEntries = map[string]bool{"hashedrekord/0.0.1": true, "dsse/0.0.1": true, "intoto/0.0.2": true}

// legacyBundle converts a cosign legacy layer to a v0.1 Sigstore bundle
// (v0.1 because cosign stores a signed entry timestamp and no inclusion
// proof). content is the layer blob: a simple-signing payload for
// FormatLegacySignature, a DSSE envelope for FormatLegacyAttestation.
// The chain annotation is not used: as for any Sigstore bundle,
// intermediates come from the trusted root.
func legacyBundle(format Format, content []byte, ann map[string]string) (*legacy, error) {
	for k, v := range ann {
		if len(v) > MaxAnnotationSize {
			return nil, fmt.Errorf("annotation %s is %d bytes, more than %d", k, len(v), MaxAnnotationSize)
		}
	}
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{},
	}
	switch format {
	case FormatLegacySignature:
		sig, err := base64.StdEncoding.DecodeString(ann[AnnotationSignature])
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("annotation %s: want a base64 signature", AnnotationSignature)
		}
		sum := sha256.Sum256(content)
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}}
	case FormatLegacyAttestation:
		env, err := parseEnvelope(content)
		if err != nil {
			return nil, err
		}
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
	default:
		return nil, fmt.Errorf("format %q is not a legacy cosign layer", format)
	}

	if c := ann[AnnotationCertificate]; c != "" {
		der, err := pemCertificate(c)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", AnnotationCertificate, err)
		}
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{{RawBytes: der}}},
		}
	} else {
		// Signed with a key. Legacy signatures name no key, so the hint is
		// empty; the verifier supplies the authority's key.
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{}}
	}

	l := &legacy{}
	if s := ann[AnnotationBundle]; s != "" {
		tle, dropped, err := legacyTlogEntry(s)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", AnnotationBundle, err)
		}
		if tle != nil {
			pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{tle}
		}
		l.droppedTlog = dropped
	}
	// cosign stamps the raw signature of a .sig layer, which is what
	// sigstore-go checks; for a legacy .att it stamped the whole envelope,
	// which sigstore-go cannot use, so the annotation is ignored there.
	if s := ann[AnnotationTimestamp]; s != "" && format == FormatLegacySignature {
		var ts rfc3161Annotation
		if err := json.Unmarshal([]byte(s), &ts); err != nil || len(ts.SignedRFC3161Timestamp) == 0 {
			return nil, fmt.Errorf("annotation %s: want {\"SignedRFC3161Timestamp\": base64}", AnnotationTimestamp)
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: ts.SignedRFC3161Timestamp}},
		}
	}
	// Not sgbundle.NewBundle: its validation parses every Rekor entry, and
	// verification parses them again. This bundle is valid v0.1 by
	// construction (content, verification material, a signed entry
	// timestamp on every entry); parsing the entries once here is the rest
	// of NewBundle's validation.
	l.b = newEntity(&sgbundle.Bundle{Bundle: pb})
	entries, err := l.b.TlogEntries()
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.HasInclusionPromise() {
			return nil, fmt.Errorf("Rekor entry without a signed entry timestamp")
		}
	}
	return l, nil
}

func pemCertificate(s string) ([]byte, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("want one PEM certificate")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("want one PEM certificate, found more data after it")
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		return nil, err
	}
	return block.Bytes, nil
}

// legacyTlogEntry converts a Rekor SET bundle annotation to a transparency
// log entry with an inclusion promise. A syntactically valid entry of a kind
// sigstore-go cannot verify is dropped with an explanation.
func legacyTlogEntry(s string) (*protorekor.TransparencyLogEntry, string, error) {
	var rb rekorSETBundle
	if err := json.Unmarshal([]byte(s), &rb); err != nil {
		return nil, "", fmt.Errorf("Rekor bundle: %w", err)
	}
	if len(rb.SignedEntryTimestamp) == 0 {
		return nil, "", fmt.Errorf("Rekor bundle has no SignedEntryTimestamp")
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil || len(body) == 0 {
		return nil, "", fmt.Errorf("Rekor bundle body: want base64")
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil || len(logID) == 0 {
		return nil, "", fmt.Errorf("Rekor bundle logID: want hex")
	}
	if rb.Payload.LogIndex < 0 || rb.Payload.IntegratedTime <= 0 {
		return nil, "", fmt.Errorf("Rekor bundle: negative log index or no integrated time")
	}
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil || kv.Kind == "" || kv.APIVersion == "" {
		return nil, "", fmt.Errorf("Rekor entry body: want a JSON object with kind and apiVersion")
	}
	if !supportedEntries[kv.Kind+"/"+kv.APIVersion] {
		return nil, fmt.Sprintf("the transparency-log entry is %s %s, which sigstore-go cannot verify "+
			"(it verifies hashedrekord 0.0.1, dsse 0.0.1 and intoto 0.0.2): sign or attest again with a current cosign (its default entry types work)",
			kv.Kind, kv.APIVersion), nil
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, "", nil
}

// dsseJSON is a DSSE envelope in its JSON form (base64 payload and signatures).
type dsseJSON struct {
	PayloadType string `json:"payloadType"`
	Payload     []byte `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   []byte `json:"sig"`
	} `json:"signatures"`
}

func parseEnvelope(content []byte) (*protodsse.Envelope, error) {
	var e dsseJSON
	if err := json.Unmarshal(content, &e); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	if e.PayloadType == "" || len(e.Payload) == 0 {
		return nil, fmt.Errorf("DSSE envelope has no payloadType or payload")
	}
	if len(e.Signatures) != 1 {
		return nil, fmt.Errorf("DSSE envelope has %d signatures: want exactly one", len(e.Signatures))
	}
	env := &protodsse.Envelope{PayloadType: e.PayloadType, Payload: e.Payload}
	for _, s := range e.Signatures {
		if len(s.Sig) == 0 {
			return nil, fmt.Errorf("DSSE envelope has an empty signature")
		}
		env.Signatures = append(env.Signatures, &protodsse.Signature{Sig: s.Sig, Keyid: s.KeyID})
	}
	return env, nil
}
