package attest_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/vouchdev/vouch/attest"
)

// Per-attestation costs on the verification path (parse, provenance, checks)
// and of signing. Run: go test ./attest -run '^$' -bench . -benchmem

func BenchmarkParseStatementProvenance(b *testing.B) {
	st, _ := corpusStatement(b, filepath.Join("slsa-verifier", "bcr", "MODULE.bazel.intoto.jsonl"), 0)
	raw, _ := st.MarshalJSON()
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := attest.ParseStatement(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProvenanceCheck(b *testing.B) {
	st, claims := corpusStatement(b, filepath.Join("slsa-verifier", "gha_generic-v2.1.0-push-v14.intoto.jsonl"), 0)
	exp := attest.Expectations{BuilderID: genericBuilder, SourceRepository: examplePackage, SourceVersionedTag: "v14"}
	b.ReportAllocs()
	for b.Loop() {
		p, err := attest.ParseProvenance(st)
		if err != nil {
			b.Fatal(err)
		}
		if err := exp.Check(p, claims); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBundleStatement(b *testing.B) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, _ := attest.NewSigner(key)
	st, _ := attest.NewStatement(attest.PredicateCosignSign, nil, []attest.Subject{{Digest: map[string]string{"sha256": sha256Hex}}})
	raw, _ := st.MarshalJSON()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.BundleStatement(context.Background(), raw); err != nil {
			b.Fatal(err)
		}
	}
}
