package attest_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/attest"
)

// The DSSE specification's test vector.
func TestPAE(t *testing.T) {
	got := string(attest.PAE("http://example.com/HelloWorld", []byte("hello world")))
	if want := "DSSEv1 29 http://example.com/HelloWorld 11 hello world"; got != want {
		t.Fatalf("PAE = %q, want %q", got, want)
	}
}

func envelopeJSON(payloadType, payload string, sigs ...string) string {
	var s []string
	for _, sig := range sigs {
		s = append(s, `{"keyid":"","sig":"`+sig+`"}`)
	}
	return `{"payloadType":"` + payloadType + `","payload":"` + payload + `","signatures":[` + strings.Join(s, ",") + `]}`
}

func TestParseEnvelope(t *testing.T) {
	st := testStatement(t, sha256Hex)
	raw, _ := st.MarshalJSON()
	sig := base64.StdEncoding.EncodeToString([]byte("signature"))
	for _, tc := range []struct{ name, json string }{
		{"standard base64", envelopeJSON(attest.PayloadTypeInToto, base64.StdEncoding.EncodeToString(raw), sig)},
		{"URL-safe base64", envelopeJSON(attest.PayloadTypeInToto, base64.URLEncoding.EncodeToString(raw), base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}))},
		{"unpadded base64", envelopeJSON(attest.PayloadTypeInToto, base64.RawStdEncoding.EncodeToString(raw), sig)},
		{"several signatures", envelopeJSON(attest.PayloadTypeInToto, base64.StdEncoding.EncodeToString(raw), sig, sig)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := attest.ParseEnvelope([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			got, err := attest.StatementFromEnvelope(env)
			if err != nil || !got.MatchesDigest("sha256", sha256Hex) {
				t.Fatalf("statement: %v", err)
			}
		})
	}
}

func TestParseEnvelopeHostile(t *testing.T) {
	payload := base64.StdEncoding.EncodeToString([]byte("{}"))
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	good := envelopeJSON(attest.PayloadTypeInToto, payload, sig)
	var tooMany []string
	for i := 0; i <= attest.MaxEnvelopeSignatures; i++ {
		tooMany = append(tooMany, sig)
	}
	for _, tc := range []struct{ name, json string }{
		{"empty", ""},
		{"truncated", good[:len(good)/2]},
		{"not an object", `"x"`},
		{"trailing data", good + `{}`},
		{"oversized", `{"payloadType":"` + attest.PayloadTypeInToto + `","payload":"` + strings.Repeat("A", attest.MaxEnvelopeSize) + `","signatures":[{"sig":"` + sig + `"}]}`},
		{"no signatures", envelopeJSON(attest.PayloadTypeInToto, payload)},
		{"too many signatures", envelopeJSON(attest.PayloadTypeInToto, payload, tooMany...)},
		{"empty signature", envelopeJSON(attest.PayloadTypeInToto, payload, "")},
		{"signature not base64", envelopeJSON(attest.PayloadTypeInToto, payload, "!!!")},
		{"payload not base64", envelopeJSON(attest.PayloadTypeInToto, "%%%", sig)},
		{"no payload", `{"payloadType":"` + attest.PayloadTypeInToto + `","signatures":[{"sig":"` + sig + `"}]}`},
		{"no payload type", envelopeJSON("", payload, sig)},
		{"duplicate payload", `{"payloadType":"` + attest.PayloadTypeInToto + `","payload":"` + payload + `","payload":"e30=","signatures":[{"sig":"` + sig + `"}]}`},
		{"signatures not a list", `{"payloadType":"t","payload":"` + payload + `","signatures":{}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := attest.ParseEnvelope([]byte(tc.json)); !errors.Is(err, attest.ErrMalformedEnvelope) {
				t.Fatalf("want ErrMalformedEnvelope, got %v", err)
			}
		})
	}
}

func TestStatementFromEnvelopeRequiresInToto(t *testing.T) {
	st := testStatement(t, sha256Hex)
	raw, _ := st.MarshalJSON()
	for _, pt := range []string{"text/plain", "application/vnd.in-toto.provenance+json", "application/json", ""} {
		env := &attest.Envelope{PayloadType: pt, Payload: base64.StdEncoding.EncodeToString(raw)}
		if _, err := attest.StatementFromEnvelope(env); !errors.Is(err, attest.ErrPayloadType) {
			t.Errorf("payload type %q: want ErrPayloadType, got %v", pt, err)
		}
	}
}

// A DSSE envelope as cosign writes it into .att layers verifies with the key
// from a cosign fixture, and the statement inside matches the artifact.
func TestCosignEnvelopeVerifies(t *testing.T) {
	var b struct {
		DSSEEnvelope struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig string `json:"sig"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(readTestdata(t, "artifact.txt.cosign-attestation.json"), &b); err != nil {
		t.Fatal(err)
	}
	envJSON := fmt.Sprintf(`{"payloadType":%q,"payload":%q,"signatures":[{"keyid":"","sig":%q}]}`, b.DSSEEnvelope.PayloadType, b.DSSEEnvelope.Payload, b.DSSEEnvelope.Signatures[0].Sig)
	env, err := attest.ParseEnvelope([]byte(envJSON))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := attest.ParsePublicKey(readTestdata(t, "cosign.pub"))
	payload, err := attest.VerifyEnvelope(env, pub)
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.ParseStatement(payload)
	if err != nil || !st.MatchesDigest("sha256", "618e4020d8e9e85e4d27439cad5be8b016a3d7f9c55b42798bb3056f4eaeba5c") {
		t.Fatalf("statement: %v", err)
	}
}
