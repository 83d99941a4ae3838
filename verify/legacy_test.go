package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"strings"
	"testing"
)

func TestLegacyBundleHostile(t *testing.T) {
	f := newFixture(t)
	good := f.keylessSig(aliceID, imageDigest)
	att := f.keylessAtt(aliceID, imageDigest, "https://slsa.dev/provenance/v1")
	with := func(a Attachment, k, v string) Attachment {
		a.Annotations = maps.Clone(a.Annotations)
		if v == "" {
			delete(a.Annotations, k)
		} else {
			a.Annotations[k] = v
		}
		return a
	}
	setWith := func(edit func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(good.Annotations[AnnotationBundle]), &m)
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	payload := func(edit func(p map[string]any)) func(m map[string]any) {
		return func(m map[string]any) { edit(m["Payload"].(map[string]any)) }
	}
	for _, tc := range []struct {
		name string
		a    Attachment
		want string
	}{
		{"no signature", with(good, AnnotationSignature, ""), "want a base64 signature"},
		{"signature not base64", with(good, AnnotationSignature, "!!"), "want a base64 signature"},
		{"certificate not PEM", with(good, AnnotationCertificate, "MIIB"), "want one PEM certificate"},
		{"two certificates", with(good, AnnotationCertificate, good.Annotations[AnnotationCertificate]+good.Annotations[AnnotationCertificate]), "more data"},
		{"certificate garbage", with(good, AnnotationCertificate, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate"},
		{"Rekor bundle not JSON", with(good, AnnotationBundle, "{"), "Rekor bundle"},
		{"no SET", with(good, AnnotationBundle, setWith(func(m map[string]any) { delete(m, "SignedEntryTimestamp") })), "no SignedEntryTimestamp"},
		{"body not base64", with(good, AnnotationBundle, setWith(payload(func(p map[string]any) { p["body"] = "%%" }))), "want base64"},
		{"body not an entry", with(good, AnnotationBundle, setWith(payload(func(p map[string]any) { p["body"] = base64.StdEncoding.EncodeToString([]byte("[]")) }))), "kind and apiVersion"},
		{"logID not hex", with(good, AnnotationBundle, setWith(payload(func(p map[string]any) { p["logID"] = "xyz" }))), "want hex"},
		{"negative log index", with(good, AnnotationBundle, setWith(payload(func(p map[string]any) { p["logIndex"] = -1 }))), "negative log index"},
		{"no integrated time", with(good, AnnotationBundle, setWith(payload(func(p map[string]any) { p["integratedTime"] = 0 }))), "no integrated time"},
		{"timestamp not JSON", with(good, AnnotationTimestamp, "xx"), "SignedRFC3161Timestamp"},
		{"envelope not JSON", Attachment{Format: FormatLegacyAttestation, Content: []byte("{"), Annotations: att.Annotations}, "DSSE envelope"},
		{"envelope with two signatures", Attachment{Format: FormatLegacyAttestation, Annotations: att.Annotations,
			Content: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="},{"sig":"AA=="}]}`)}, "exactly one"},
		{"envelope with an empty signature", Attachment{Format: FormatLegacyAttestation, Annotations: att.Annotations,
			Content: []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":""}]}`)}, "empty signature"},
		{"unknown format", Attachment{Format: "docker-content-trust", Content: good.Content, Annotations: good.Annotations}, "not a legacy cosign layer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := legacyBundle(tc.a.Format, tc.a.Content, tc.a.Annotations)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error mentioning %q, got %v", tc.want, err)
			}
		})
	}
}

// cosign's --rekor-entry-type intoto and very old cosign versions log
// entries sigstore-go cannot verify: the error says so, and an authority
// that skips the log still works.
func TestLegacyUnsupportedTlogEntry(t *testing.T) {
	f := newFixture(t)
	a := f.keylessAtt(aliceID, imageDigest, "https://slsa.dev/provenance/v1")
	body := []byte(`{"apiVersion":"0.0.1","kind":"intoto","spec":{}}`)
	a.Annotations[AnnotationBundle] = f.setBundle(body, 1700000000, 3)
	res, err := f.verifier().ImageAttestations(context.Background(), imageDigest, []Attachment{a}, AttestationRequirement{}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantDenied(t, res, err, ReasonTlogInvalid)
	if !strings.Contains(err.Error(), "intoto 0.0.1") {
		t.Errorf("the error should name the entry kind: %v", err)
	}

	k := newKey(t)
	s := f.keyedSig(k, imageDigest, false)
	s.Annotations[AnnotationBundle] = f.setBundle([]byte(`{"apiVersion":"0.0.1","kind":"rekord","spec":{}}`), 1700000000, 3)
	res, err = f.verifier().ImageSignatures(context.Background(), imageDigest, []Attachment{s}, Requirements{Authorities: []Authority{keyAuth("k", k, true)}})
	wantVerified(t, res, err)
	res, err = f.verifier().ImageSignatures(context.Background(), imageDigest, []Attachment{s}, Requirements{Authorities: []Authority{keyAuth("k", k, false)}})
	wantDenied(t, res, err, ReasonTlogInvalid)
}

// FuzzLegacyBundle feeds the legacy annotation → bundle converter, and the
// verification behind it, with mutated cosign layers: it must never panic,
// and anything it accepts must be a v0.1 bundle.
func FuzzLegacyBundle(f *testing.F) {
	fx := newFixture(f)
	k := newKey(f)
	for _, a := range []Attachment{
		fx.keylessSig(aliceID, imageDigest),
		fx.keyedSig(k, imageDigest, true),
		fx.keylessAtt(aliceID, imageDigest, "https://slsa.dev/provenance/v1"),
	} {
		f.Add(a.Format == FormatLegacyAttestation, a.Content, a.Annotations[AnnotationSignature], a.Annotations[AnnotationCertificate],
			a.Annotations[AnnotationBundle], a.Annotations[AnnotationTimestamp])
	}
	v := fx.verifier()
	req := Requirements{Authorities: []Authority{keylessAuth("ci", alice), keyAuth("k", k, false)}}
	c, err := req.compile()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, att bool, content []byte, sig, cert, rekor, ts string) {
		format := FormatLegacySignature
		if att {
			format = FormatLegacyAttestation
		}
		ann := map[string]string{AnnotationSignature: sig, AnnotationCertificate: cert, AnnotationBundle: rekor, AnnotationTimestamp: ts}
		l, err := legacyBundle(format, content, ann)
		if err == nil {
			if v, _ := l.b.Version(); v != "v0.1" {
				t.Fatalf("converted to %s, want v0.1", v)
			}
		}
		s, _, _, err := imageSigned(Attachment{Format: format, Content: content, Annotations: ann}, must[digest](t)(parseDigest(imageDigest)))
		if err == nil {
			v.check(context.Background(), s, c)
		}
	})
}
