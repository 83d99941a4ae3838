package verify

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/vouchdev/vouch/attest"
)

// blobStatement is an in-toto statement of predicateType whose one subject
// carries digests (algorithm → hex).
func blobStatement(t testing.TB, predicateType string, predicate any, digests map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": "app.tgz", "digest": digests}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyedAtt signs statement with k as vouch attest-blob does: a v0.3 bundle
// with a public key hint and no transparency-log entry.
func keyedAtt(t testing.TB, k keyPair, statement []byte, source string) Attachment {
	t.Helper()
	s := must[*attest.Signer](t)(attest.NewSigner(k.priv))
	b := must[[]byte](t)(must[*sgbundle.Bundle](t)(s.BundleStatement(context.Background(), statement)).MarshalJSON())
	return Attachment{Format: FormatBundle, Content: b, Source: source}
}

func sha256Hex(b []byte) string { return strings.TrimPrefix(blobDigest(b), "sha256:") }

func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}

func wantBlobAttDenied(t *testing.T, res *BlobAttestationResult, err error, want Reason) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Reason != want || !e.Denied() {
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Fatalf("want a %s denial, got %v\n%s", want, err, b)
	}
	if res == nil || res.Verified || res.Failure == nil || res.Failure.Reason != want {
		t.Fatalf("result does not carry the denial: %+v", res)
	}
}

func wantBlobAttVerified(t *testing.T, res *BlobAttestationResult, err error) {
	t.Helper()
	if err != nil || res == nil || !res.Verified {
		b, _ := json.MarshalIndent(res, "", "  ")
		t.Fatalf("want verified, got %v\n%s", err, b)
	}
}

// failureOf is bundle i's failure reason ("" when it has none).
func failureOf(res *BlobAttestationResult, i int) Reason {
	if res == nil || i >= len(res.Attestations) || res.Attestations[i].Failure == nil {
		return ""
	}
	return res.Attestations[i].Failure.Reason
}

func TestBlobAttestation(t *testing.T) {
	ctx := context.Background()
	v := must[*Verifier](t)(New())
	k, other := newKey(t), newKey(t)
	req := Requirements{Authorities: []Authority{keyAuth("release", k, true)}}
	artifact := []byte("the npm tarball\n")
	anotherFile := []byte("another file\n")
	const custom = "https://example.com/predicate/v1"
	pred := map[string]any{"ok": true}

	good := keyedAtt(t, k, blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(artifact)}), "good")
	npm := keyedAtt(t, k, blobStatement(t, custom, pred, map[string]string{"sha512": sha512Hex(artifact)}), "sha512 only")
	both := keyedAtt(t, k, blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(anotherFile), "sha512": sha512Hex(artifact)}), "both")
	elsewhere := keyedAtt(t, k, blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(anotherFile)}), "about another file")
	otherType := keyedAtt(t, k, blobStatement(t, attest.PredicateSLSAProvenanceV1, pred, map[string]string{"sha256": sha256Hex(artifact)}), "provenance")
	otherKey := keyedAtt(t, other, blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(artifact)}), "another key")
	junk := Attachment{Format: FormatBundle, Content: []byte(`{"mediaType":"nonsense"}`), Source: "junk"}
	signer := must[*attest.Signer](t)(attest.NewSigner(k.priv))
	msgSig := Attachment{Format: FormatBundle, Content: must[[]byte](t)(must[*sgbundle.Bundle](t)(signer.BundleBlob(ctx, bytes.NewReader(artifact))).MarshalJSON()), Source: "message signature"}

	// The payload is changed after signing: the subject now names the artifact.
	tampered := keyedAtt(t, k, blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(anotherFile)}), "tampered")
	tampered.Content = bytes.Replace(tampered.Content,
		[]byte(b64(blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(anotherFile)}))),
		[]byte(b64(blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(artifact)}))), 1)
	if bytes.Equal(tampered.Content, keyedAtt(t, k, blobStatement(t, custom, pred, map[string]string{"sha256": sha256Hex(anotherFile)}), "tampered").Content) {
		t.Fatal("tampering did not change the bundle")
	}

	sha256Digest := must[Artifact](t)(ArtifactDigest(blobDigest(artifact)))
	sha512Digest := must[Artifact](t)(ArtifactDigest("sha512:" + sha512Hex(artifact)))

	for _, tc := range []struct {
		name     string
		bundles  []Attachment
		artifact func() Artifact
		typ      string
		want     Reason   // "" = verified
		each     []Reason // per-bundle failure reasons, when checked
		digest   string
	}{
		{name: "one bundle, the file", bundles: []Attachment{good}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, digest: blobDigest(artifact)},
		{name: "read from a reader", bundles: []Attachment{good}, artifact: func() Artifact { return ArtifactReader(bytes.NewReader(artifact)) }, typ: custom},
		{name: "its sha256 digest", bundles: []Attachment{good}, artifact: func() Artifact { return sha256Digest }, typ: custom},
		{name: "npm: a sha512 subject hashes the file with sha512", bundles: []Attachment{npm}, artifact: func() Artifact { return ArtifactReader(bytes.NewReader(artifact)) }, typ: custom, digest: "sha512:" + sha512Hex(artifact)},
		{name: "sha512 subject, sha512 digest given", bundles: []Attachment{npm}, artifact: func() Artifact { return sha512Digest }, typ: custom},
		{name: "sha512 subject, sha256 digest given", bundles: []Attachment{npm}, artifact: func() Artifact { return sha256Digest }, typ: custom, want: ReasonDigestMismatch},
		{name: "a sha256 subject of another file does not hide a matching sha512 one", bundles: []Attachment{both}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom},
		{name: "any type when none is required", bundles: []Attachment{otherType}, artifact: func() Artifact { return ArtifactBytes(artifact) }},
		{name: "a statement about another file", bundles: []Attachment{elsewhere}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonDigestMismatch},
		{name: "only another predicate type", bundles: []Attachment{otherType}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonNoAttestations, each: []Reason{ReasonPredicateTypeMismatch}},
		{name: "signed by another key", bundles: []Attachment{otherKey}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonKeyMismatch},
		{name: "payload changed after signing", bundles: []Attachment{tampered}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonKeyMismatch},
		{name: "a malformed bundle", bundles: []Attachment{junk}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonMalformed},
		{name: "a signature over the file is not an attestation", bundles: []Attachment{msgSig}, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonPredicateTypeMismatch},
		{name: "no bundles", bundles: nil, artifact: func() Artifact { return ArtifactBytes(artifact) }, typ: custom, want: ReasonNoAttestations},
		{
			name:     "any one bundle that passes counts; the others say why not",
			bundles:  []Attachment{otherType, junk, elsewhere, otherKey, msgSig, tampered, good},
			artifact: func() Artifact { return ArtifactReader(bytes.NewReader(artifact)) },
			typ:      custom,
			each:     []Reason{ReasonPredicateTypeMismatch, ReasonMalformed, ReasonDigestMismatch, ReasonKeyMismatch, ReasonPredicateTypeMismatch, ReasonKeyMismatch, ""},
		},
		{
			name:     "none passes, for different reasons",
			bundles:  []Attachment{otherType, elsewhere, otherKey},
			artifact: func() Artifact { return ArtifactBytes(artifact) },
			typ:      custom,
			want:     ReasonNoMatchingSignatures,
			each:     []Reason{ReasonPredicateTypeMismatch, ReasonDigestMismatch, ReasonKeyMismatch},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := v.BlobAttestation(ctx, tc.bundles, tc.artifact(), AttestationRequirement{PredicateType: tc.typ}, req)
			if tc.want == "" {
				wantBlobAttVerified(t, res, err)
				if tc.digest != "" && res.Digest != tc.digest {
					t.Errorf("digest %s, want %s", res.Digest, tc.digest)
				}
				if len(res.Satisfied) != 1 || res.Satisfied[0] != "release" {
					t.Errorf("satisfied %v", res.Satisfied)
				}
				for i, a := range res.Attestations {
					if a.Verified && (len(a.Payload) == 0 || a.Authority != "release") {
						t.Errorf("bundle %d verified without its statement or authority: %+v", i, a)
					}
				}
			} else {
				wantBlobAttDenied(t, res, err, tc.want)
			}
			if tc.each != nil {
				if len(res.Attestations) != len(tc.each) {
					t.Fatalf("%d results for %d bundles", len(res.Attestations), len(tc.each))
				}
				for i, want := range tc.each {
					if got := failureOf(res, i); got != want {
						t.Errorf("bundle %d (%s): failure %q, want %q: %+v", i, tc.bundles[i].Source, got, want, res.Attestations[i].Failure)
					}
					if res.Attestations[i].Source != tc.bundles[i].Source {
						t.Errorf("bundle %d: source %q", i, res.Attestations[i].Source)
					}
				}
			}
		})
	}

	t.Run("the types found are listed", func(t *testing.T) {
		_, err := v.BlobAttestation(ctx, []Attachment{otherType}, ArtifactBytes(artifact), AttestationRequirement{PredicateType: custom}, req)
		if err == nil || !strings.Contains(err.Error(), attest.PredicateSLSAProvenanceV1) {
			t.Fatalf("%v", err)
		}
	})
	t.Run("a digest of the wrong algorithm says which to give", func(t *testing.T) {
		_, err := v.BlobAttestation(ctx, []Attachment{npm}, sha256Digest, AttestationRequirement{}, req)
		if err == nil || !strings.Contains(err.Error(), "sha512") || !strings.Contains(err.Error(), "give the file") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("more bundles than the cap cannot be decided", func(t *testing.T) {
		many := make([]Attachment, MaxBundles+1)
		for i := range many {
			many[i] = good
		}
		res, err := v.BlobAttestation(ctx, many, ArtifactBytes(artifact), AttestationRequirement{}, req)
		if res != nil || ReasonOf(err) != ReasonInvalidInput {
			t.Fatalf("%v %+v", err, res)
		}
	})
	t.Run("a legacy layer is not a bundle", func(t *testing.T) {
		res, err := v.BlobAttestation(ctx, []Attachment{{Format: FormatLegacyAttestation, Content: []byte("{}")}}, ArtifactBytes(artifact), AttestationRequirement{}, req)
		if res != nil || ReasonOf(err) != ReasonInvalidInput {
			t.Fatalf("%v %+v", err, res)
		}
	})
	t.Run("the artifact is not read when no bundle needs it", func(t *testing.T) {
		r := &countingReader{r: bytes.NewReader(artifact)}
		_, err := v.BlobAttestation(ctx, []Attachment{otherType, junk}, ArtifactReader(r), AttestationRequirement{PredicateType: custom}, req)
		if err == nil || r.n != 0 {
			t.Fatalf("read %d bytes, err %v", r.n, err)
		}
	})
	t.Run("the artifact is read once for several algorithms", func(t *testing.T) {
		r := &countingReader{r: bytes.NewReader(artifact)}
		res, err := v.BlobAttestation(ctx, []Attachment{elsewhere, npm, good}, ArtifactReader(r), AttestationRequirement{PredicateType: custom}, req)
		wantBlobAttVerified(t, res, err)
		if r.n != len(artifact) || !res.Attestations[1].Verified || !res.Attestations[2].Verified {
			t.Fatalf("read %d bytes: %+v", r.n, res)
		}
	})
}

type countingReader struct {
	r *bytes.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// Several bundles, several authorities: each authority counts once, each
// bundle for one authority.
func TestBlobAttestationThreshold(t *testing.T) {
	ctx := context.Background()
	v := must[*Verifier](t)(New())
	k1, k2 := newKey(t), newKey(t)
	artifact := []byte("release\n")
	st := blobStatement(t, "https://example.com/p", map[string]any{}, map[string]string{"sha256": sha256Hex(artifact)})
	a1, a1again, a2 := keyedAtt(t, k1, st, "k1"), keyedAtt(t, k1, st, "k1 again"), keyedAtt(t, k2, st, "k2")
	req := Requirements{Threshold: 2, Authorities: []Authority{keyAuth("one", k1, true), keyAuth("two", k2, true)}}

	res, err := v.BlobAttestation(ctx, []Attachment{a1, a2}, ArtifactBytes(artifact), AttestationRequirement{}, req)
	wantBlobAttVerified(t, res, err)
	if len(res.Satisfied) != 2 || res.Attestations[0].Authority != "one" || res.Attestations[1].Authority != "two" {
		t.Fatalf("%+v", res)
	}
	res, err = v.BlobAttestation(ctx, []Attachment{a1, a1again}, ArtifactBytes(artifact), AttestationRequirement{}, req)
	wantBlobAttDenied(t, res, err, ReasonThresholdNotMet)
}

// Provenance expectations decide whether an attestation counts: one that
// verifies but claims the wrong builder does not, and another bundle in the
// same file that meets them still does.
func TestBlobAttestationProvenance(t *testing.T) {
	ctx := context.Background()
	v := must[*Verifier](t)(New())
	k := newKey(t)
	req := Requirements{Authorities: []Authority{keyAuth("release", k, true)}}
	artifact := []byte("binary-linux-amd64\n")
	d := blobDigest(artifact)
	const runner = "https://github.com/actions/runner/github-hosted"
	right := keyedAtt(t, k, provenanceFor(t, d, runner, "https://github.com/acme/app", "refs/tags/v1.0.0"), "acme")
	wrong := keyedAtt(t, k, provenanceFor(t, d, runner, "https://github.com/acme/app-fork", "refs/tags/v1.0.0"), "fork")
	att := AttestationRequirement{PredicateType: attest.PredicateSLSAProvenanceV1, Provenance: &attest.Expectations{SourceRepository: "github.com/acme/app"}}

	res, err := v.BlobAttestation(ctx, []Attachment{wrong}, ArtifactBytes(artifact), att, req)
	wantBlobAttDenied(t, res, err, ReasonProvenanceMismatch)
	if res.Attestations[0].Verified || res.Attestations[0].Authority != "" {
		t.Fatalf("an attestation that breaks the expectations is not verified: %+v", res.Attestations[0])
	}
	res, err = v.BlobAttestation(ctx, []Attachment{wrong, right}, ArtifactBytes(artifact), att, req)
	wantBlobAttVerified(t, res, err)
	if failureOf(res, 0) != ReasonProvenanceMismatch || !res.Attestations[1].Verified {
		t.Fatalf("%+v", res)
	}
}

// Keyless blob attestations: the identity must match, and the statement is
// bound to the certificate that signed it.
func TestBlobAttestationKeyless(t *testing.T) {
	f := newFixture(t)
	v := f.verifier()
	ctx := context.Background()
	artifact := []byte("keyless release\n")
	const typ = "https://example.com/p"
	te := must[*ca.TestEntity](t)(f.vs.AttestAtTime(aliceID, testIssuer, blobStatement(t, typ, map[string]any{}, map[string]string{"sha256": sha256Hex(artifact)}), time.Now().Add(5*time.Minute), true))
	cert, body, it, idx := f.entityParts(te)
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: cert.Raw}},
			TlogEntries: []*protorekor.TransparencyLogEntry{f.tlogEntry(body, it, idx, true)},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: protoEnvelope(t, teEnvelope(t, te))},
	}
	att := Attachment{Format: FormatBundle, Content: bundleJSON(t, pb), Source: "keyless"}

	res, err := v.BlobAttestation(ctx, []Attachment{att}, ArtifactBytes(artifact), AttestationRequirement{PredicateType: typ},
		Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	wantBlobAttVerified(t, res, err)
	if id := res.Attestations[0].Identity; id == nil || id.Subject != aliceID || res.Attestations[0].Tlog.Status != TlogVerified {
		t.Fatalf("%+v", res.Attestations[0])
	}
	res, err = v.BlobAttestation(ctx, []Attachment{att}, ArtifactBytes(artifact), AttestationRequirement{PredicateType: typ},
		Requirements{Authorities: []Authority{keylessAuth("ci", bob)}})
	wantBlobAttDenied(t, res, err, ReasonIdentityMismatch)
	// A keyless attestation cannot satisfy a key.
	res, err = v.BlobAttestation(ctx, []Attachment{att}, ArtifactBytes(artifact), AttestationRequirement{PredicateType: typ},
		Requirements{Authorities: []Authority{keyAuth("k", newKey(t), true)}})
	wantBlobAttDenied(t, res, err, ReasonKeyMismatch)
}

func b64(b []byte) string {
	out, _ := json.Marshal(b) // standard base64, quoted
	return strings.Trim(string(out), `"`)
}

func TestSplitBundles(t *testing.T) {
	one := `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","content":1}`
	pretty := "{\n  \"mediaType\": \"application/vnd.dev.sigstore.bundle.v0.3+json\"\n}\n"
	for _, tc := range []struct {
		name    string
		in      string
		sources []string
		want    Reason // error reason
	}{
		{name: "one bundle", in: one, sources: []string{"bundle"}},
		{name: "one pretty-printed bundle", in: pretty, sources: []string{"bundle"}},
		{name: "a byte order mark", in: "\xef\xbb\xbf" + one + "\n" + one, sources: []string{"line 1", "line 2"}},
		{name: "JSON lines with blank lines", in: one + "\n\n" + one + "\r\n" + one + "\n", sources: []string{"line 1", "line 3", "line 4"}},
		{name: "a garbage line is a bundle that will fail", in: one + "\nnot json\n", sources: []string{"line 1", "line 2"}},
		{name: "npm attestations document", in: `{"attestations":[{"predicateType":"https://github.com/npm/attestation/tree/main/specs/publish/v0.1","bundle":` + one + `},{"predicateType":"https://slsa.dev/provenance/v1","bundle":` + one + `}]}`, sources: []string{"attestations[0]", "attestations[1]"}},
		{name: "npm document entry without a bundle", in: `{"attestations":[{"predicateType":"x"}]}`, sources: []string{"attestations[0]"}},
		{name: "npm document without attestations", in: `{"attestations":[]}`, want: ReasonNoAttestations},
		{name: "empty file", in: " \n\t\n", want: ReasonNoAttestations},
		{name: "too many lines", in: strings.Repeat(one+"\n", MaxBundles+1), want: ReasonMalformed},
		{name: "too many npm entries", in: `{"attestations":[` + strings.TrimSuffix(strings.Repeat(`{"bundle":{}},`, MaxBundles+1), ",") + `]}`, want: ReasonMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitBundles([]byte(tc.in))
			if tc.want != "" {
				if ReasonOf(err) != tc.want {
					t.Fatalf("want %s, got %v", tc.want, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var sources []string
			for _, a := range got {
				sources = append(sources, a.Source)
				if a.Format != FormatBundle {
					t.Errorf("format %s", a.Format)
				}
			}
			if fmt.Sprint(sources) != fmt.Sprint(tc.sources) {
				t.Fatalf("sources %q, want %q", sources, tc.sources)
			}
		})
	}
	t.Run("the byte order mark is not part of the first bundle", func(t *testing.T) {
		got, err := SplitBundles([]byte("\xef\xbb\xbf" + one))
		if err != nil || len(got) != 1 || string(got[0].Content) != one {
			t.Fatalf("%v %q", err, got)
		}
	})
	t.Run("larger than the cap", func(t *testing.T) {
		_, err := SplitBundles(make([]byte, MaxBundleFileSize+1))
		if ReasonOf(err) != ReasonMalformed {
			t.Fatalf("%v", err)
		}
	})
}

// FuzzSplitBundles: any file splits without panicking, within the caps, and
// every piece is a bundle attachment with a source.
func FuzzSplitBundles(f *testing.F) {
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Add([]byte("{}\n{}\n\n{}"))
	f.Add([]byte(`{"attestations":[{"predicateType":"x","bundle":{}},{"bundle":null}]}`))
	f.Add([]byte(`{"attestations":null}`))
	f.Add([]byte(`[{"bundle":{}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := SplitBundles(data)
		if err != nil {
			if ReasonOf(err) == "" {
				t.Fatalf("error without a reason: %v", err)
			}
			return
		}
		if len(got) == 0 || len(got) > MaxBundles {
			t.Fatalf("%d bundles", len(got))
		}
		for _, a := range got {
			if a.Format != FormatBundle || a.Source == "" {
				t.Fatalf("%+v", a)
			}
		}
	})
}
