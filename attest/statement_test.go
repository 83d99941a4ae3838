package attest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/vouchdev/vouch/attest"
)

var sha256Hex = strings.Repeat("0123456789abcdef", 4)

func TestParseStatement(t *testing.T) {
	for _, tc := range []struct {
		name, json, predicateType string
		predicate                 string // raw JSON, "" for none
	}{
		{"v1", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"https://example.com/p","predicate":{"k":1}}`, "https://example.com/p", `{"k":1}`},
		{"v0.1 as cosign writes it", `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://example.com/p","subject":[{"name":"a","digest":{"sha256":"` + sha256Hex + `"}}],"predicate":{}}`, "https://example.com/p", `{}`},
		{"unknown fields are ignored", `{"_type":"https://in-toto.io/Statement/v1","extra":[1,2],"subject":[{"digest":{"sha256":"` + sha256Hex + `"},"futureField":true}],"predicateType":"p","predicate":{}}`, "p", `{}`},
		{"no predicate (cosign image signature)", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1"}`, attest.PredicateCosignSign, ""},
		{"string predicate (cosign --type spdx)", `{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicate":"SPDXVersion: SPDX-2.2"}`, attest.PredicateSPDX, `"SPDXVersion: SPDX-2.2"`},
		{"custom digest algorithm", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"blake3":"anything"}}],"predicateType":"p"}`, "p", ""},
		{"git object ids may be SHA-256", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"` + sha256Hex + `"}}],"predicateType":"p"}`, "p", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := attest.ParseStatement([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if s.PredicateType() != tc.predicateType || string(s.Predicate()) != tc.predicate {
				t.Fatalf("predicate type %q predicate %s", s.PredicateType(), s.Predicate())
			}
			if b, _ := s.MarshalJSON(); string(b) != tc.json {
				t.Fatal("MarshalJSON must return the signed bytes")
			}
		})
	}
}

func TestParseStatementHostile(t *testing.T) {
	subject := func(digest string) string {
		return `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{` + digest + `}}],"predicateType":"p","predicate":{}}`
	}
	many := make([]string, attest.MaxSubjects+1)
	for i := range many {
		many[i] = `{"digest":{"sha256":"` + sha256Hex + `"}}`
	}
	digests := make([]string, attest.MaxSubjectDigests+1)
	for i := range digests {
		digests[i] = fmt.Sprintf(`"alg%d":"v"`, i)
	}
	for _, tc := range []struct{ name, json string }{
		{"empty", ``},
		{"not JSON", `hello`},
		{"array", `[]`},
		{"truncated", subject(`"sha256":"` + sha256Hex + `"`)[:60]},
		{"trailing data", subject(`"sha256":"`+sha256Hex+`"`) + `{}`},
		{"duplicate _type", `{"_type":"https://in-toto.io/Statement/v1","_type":"https://in-toto.io/Statement/v0.1","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"p"}`},
		{"duplicate predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"p","predicate":{},"predicate":{"evil":1}}`},
		{"duplicate digest key", subject(`"sha256":"` + sha256Hex + `","sha256":"` + strings.Repeat("f", 64) + `"`)},
		{"unknown _type", `{"_type":"https://in-toto.io/Statement/v2","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"p"}`},
		{"_type not a string", `{"_type":1,"subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"p"}`},
		{"no _type", `{"subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"p"}`},
		{"no predicateType", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}]}`},
		{"empty predicateType", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":""}`},
		{"no subject", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"p"}`},
		{"empty subject list", `{"_type":"https://in-toto.io/Statement/v1","subject":[],"predicateType":"p"}`},
		{"subject without digest", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x"}],"predicateType":"p"}`},
		{"sha256 not hex", subject(`"sha256":"` + strings.Repeat("g", 64) + `"`)},
		{"sha256 too short", subject(`"sha256":"` + sha256Hex[:63] + `"`)},
		{"sha256 too long", subject(`"sha256":"` + sha256Hex + `00"`)},
		{"sha512 of sha256 length", subject(`"sha512":"` + sha256Hex + `"`)},
		{"gitCommit 39 characters", subject(`"gitCommit":"` + sha256Hex[:39] + `"`)},
		{"empty digest value", subject(`"sha256":""`)},
		{"digest not a string", subject(`"sha256":5`)},
		{"too many subjects", `{"_type":"https://in-toto.io/Statement/v1","subject":[` + strings.Join(many, ",") + `],"predicateType":"p"}`},
		{"too many digests", subject(strings.Join(digests, ","))},
		{"oversized", subject(`"sha256":"` + sha256Hex + `"`)[:len(subject(""))-1] + `,"pad":"` + strings.Repeat("a", attest.MaxStatementSize) + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := attest.ParseStatement([]byte(tc.json))
			if !errors.Is(err, attest.ErrMalformedStatement) {
				t.Fatalf("want ErrMalformedStatement, got %v", err)
			}
		})
	}
}

func TestMatchesDigest(t *testing.T) {
	sha512Hex := strings.Repeat("ab", 64)
	s, err := attest.ParseStatement([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sha256Hex + `"}},{"name":"b","digest":{"sha512":"` + sha512Hex + `","sha256":"` + strings.Repeat("1", 64) + `"}}],"predicateType":"p"}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg, hex string
		want     bool
	}{
		{"sha256", sha256Hex, true},
		{"sha256", strings.ToUpper(sha256Hex), true},
		{"sha512", sha512Hex, true},
		{"sha256", strings.Repeat("1", 64), true},
		{"sha256", strings.Repeat("2", 64), false},
		{"sha512", sha256Hex, false}, // right value, wrong algorithm
		{"sha256", sha256Hex[:63], false},
		{"", "", false},
	} {
		if got := s.MatchesDigest(tc.alg, tc.hex); got != tc.want {
			t.Errorf("MatchesDigest(%s, %s) = %v", tc.alg, tc.hex, got)
		}
	}
	if got := s.DigestAlgorithms(); strings.Join(got, ",") != "sha256,sha512" {
		t.Errorf("DigestAlgorithms = %v", got)
	}
	if len(s.Subjects()) != 2 || s.Subjects()[1].Name != "b" {
		t.Errorf("Subjects = %v", s.Subjects())
	}
}

// The statement cosign v2.6.5 `sign --new-bundle-format` builds (protojson of
// an in-toto v1 Statement with one subject and no predicate) reads back, and
// NewStatement builds the same statement.
func TestCosignSignStatement(t *testing.T) {
	cosign, err := protojson.Marshal(&intotov1.Statement{
		Type:          intotov1.StatementTypeUri,
		Subject:       []*intotov1.ResourceDescriptor{{Digest: map[string]string{"sha256": sha256Hex}}},
		PredicateType: attest.PredicateCosignSign,
	})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := attest.ParseStatement(cosign)
	if err != nil {
		t.Fatal(err)
	}
	built, err := attest.NewStatement(attest.PredicateCosignSign, nil, []attest.Subject{{Digest: map[string]string{"sha256": sha256Hex}}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := parsed.Proto()
	b, _ := built.Proto()
	aj, _ := protojson.Marshal(a)
	bj, _ := protojson.Marshal(b)
	var x, y any
	_ = json.Unmarshal(aj, &x)
	_ = json.Unmarshal(bj, &y)
	if fmt.Sprint(x) != fmt.Sprint(y) {
		t.Fatalf("cosign %s\nvouch  %s", aj, bj)
	}
	// sigstore-go reads statements with protojson and rejects unknown fields.
	raw, _ := built.MarshalJSON()
	var st intotov1.Statement
	if err := protojson.Unmarshal(raw, &st); err != nil {
		t.Fatalf("sigstore-go's parser rejects our statement: %v", err)
	}
}

// cosign v2.6.5 attest-blob --type slsaprovenance1 wrote
// testdata/attest/artifact.txt.cosign-attestation.json; vouch builds the same
// statement byte for byte.
func TestCosignAttestBlobStatementBytes(t *testing.T) {
	var b struct {
		DSSEEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(readTestdata(t, "artifact.txt.cosign-attestation.json"), &b); err != nil {
		t.Fatal(err)
	}
	cosign, _ := base64.StdEncoding.DecodeString(b.DSSEEnvelope.Payload)

	predType, pred, err := attest.CosignPredicate("slsaprovenance1", readTestdata(t, "predicate-slsa1.json"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.NewStatement(predType, pred,
		[]attest.Subject{{Name: "artifact.txt", Digest: map[string]string{"sha256": "618e4020d8e9e85e4d27439cad5be8b016a3d7f9c55b42798bb3056f4eaeba5c"}}},
		attest.WithStatementType(attest.StatementTypeV01))
	if err != nil {
		t.Fatal(err)
	}
	ours, _ := st.MarshalJSON()
	if !bytes.Equal(ours, cosign) {
		t.Fatalf("statement differs from cosign's\ncosign %s\nvouch  %s", cosign, ours)
	}
}

func TestNewStatementErrors(t *testing.T) {
	good := []attest.Subject{{Digest: map[string]string{"sha256": sha256Hex}}}
	if _, err := attest.NewStatement("", nil, good); err == nil {
		t.Error("empty predicate type accepted")
	}
	if _, err := attest.NewStatement("p", []byte("{"), good); err == nil {
		t.Error("invalid predicate JSON accepted")
	}
	if _, err := attest.NewStatement("p", nil, nil); !errors.Is(err, attest.ErrMalformedStatement) {
		t.Errorf("no subjects: %v", err)
	}
	if _, err := attest.NewStatement("p", nil, []attest.Subject{{Digest: map[string]string{"sha256": "xyz"}}}); !errors.Is(err, attest.ErrMalformedStatement) {
		t.Errorf("bad digest: %v", err)
	}
	if _, err := attest.NewStatement("p", nil, good, attest.WithStatementType("https://in-toto.io/Statement/v9")); err == nil {
		t.Error("unknown statement type accepted")
	}
}

func TestCosignSignStatementHelper(t *testing.T) {
	st, err := attest.CosignSignStatement("sha256:"+sha256Hex, map[string]string{"env": "prod"})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := st.MarshalJSON()
	want := `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://sigstore.dev/cosign/sign/v1","subject":[{"digest":{"sha256":"` + sha256Hex + `"},"annotations":{"env":"prod"}}],"predicate":{}}`
	if string(raw) != want {
		t.Fatalf("statement\n%s\nwant\n%s", raw, want)
	}
	// In-toto's own validation (predicate required) and sigstore-go's strict parser accept it.
	var pb intotov1.Statement
	if err := protojson.Unmarshal(raw, &pb); err != nil || pb.Validate() != nil {
		t.Fatalf("in-toto: %v %v", err, pb.Validate())
	}
	if got := st.Subjects()[0].Annotations["env"]; got != "prod" {
		t.Fatalf("annotations %v", st.Subjects()[0].Annotations)
	}
	for _, bad := range []string{"sha256:abc", sha256Hex, "md5:" + sha256Hex} {
		if _, err := attest.CosignSignStatement(bad, nil); err == nil {
			t.Errorf("digest %q accepted", bad)
		}
	}
}
