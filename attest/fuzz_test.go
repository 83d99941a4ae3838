package attest_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/attest"
)

// Seeds: the fixtures in testdata/attest and hand-made edge cases. Run with
// go test ./attest -run '^$' -fuzz FuzzParseStatement (one target at a time).

func FuzzParseStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + sha256Hex + `"}}],"predicateType":"p","predicate":{}}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"p","subject":[{"digest":{"gitCommit":"` + sha256Hex[:40] + `"}}],"predicate":"s"}`))
	f.Add([]byte(`{"_type":1}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	if payload := fixturePayload(f); payload != nil {
		f.Add(payload)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := attest.ParseStatement(b)
		if err != nil {
			return
		}
		out, _ := s.MarshalJSON()
		if !bytes.Equal(out, b) {
			t.Fatal("MarshalJSON is not the parsed bytes")
		}
		if len(s.Subjects()) == 0 || s.PredicateType() == "" {
			t.Fatal("accepted a statement without subjects or predicate type")
		}
		for _, sub := range s.Subjects() {
			for alg, d := range sub.Digest {
				if !s.MatchesDigest(alg, d) {
					t.Fatalf("subject digest %s:%s does not match itself", alg, d)
				}
			}
		}
		if p, err := attest.ParseProvenance(s); err == nil {
			_ = attest.Expectations{SourceRepository: "github.com/a/b", BuilderID: "x"}.Check(p, nil)
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	f.Add([]byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"` + sig + `"}]}`))
	f.Add([]byte(`{"payloadType":"t","payload":"e30","signatures":[{"sig":"_-8"}]}`))
	f.Add([]byte(`{"payloadType":"t","payload":"e30=","signatures":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := attest.ParseEnvelope(b)
		if err != nil {
			return
		}
		if n := len(env.Signatures); n < 1 || n > attest.MaxEnvelopeSignatures {
			t.Fatalf("accepted %d signatures", n)
		}
		_, _ = attest.StatementFromEnvelope(env)
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	for _, name := range []string{"cosign.key", "cosign-legacy-label.key", "cosign.pub"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", "attest", name)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("-----BEGIN EC PRIVATE KEY-----\nMAA=\n-----END EC PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\ne30=\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := attest.ParsePrivateKey(b, []byte("x"))
		if err != nil {
			return
		}
		if _, err := attest.NewSigner(key); err != nil {
			t.Fatalf("ParsePrivateKey accepted a key NewSigner rejects: %v", err)
		}
	})
}

func FuzzNormalizeSource(f *testing.F) {
	for _, s := range []string{
		"git+https://github.com/slsa-framework/example-package@refs/tags/v14",
		"github.com/a/b", "git@github.com:a/b.git", "https://github.com/a/b.git/", "ssh://u@h/p@r", "x@y@z/a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		repo, _, err := attest.NormalizeSource(s)
		if err != nil {
			return
		}
		again, ref, err := attest.NormalizeSource(repo)
		if err != nil || again != repo || ref != "" {
			t.Fatalf("not idempotent: %q → %q → %q, %q, %v", s, repo, again, ref, err)
		}
		if strings.Contains(repo, "://") || strings.HasSuffix(repo, "/") || strings.HasSuffix(repo, ".git") {
			t.Fatalf("%q normalised to %q", s, repo)
		}
	})
}

// fixturePayload returns the statement cosign signed in a fixture bundle.
func fixturePayload(f *testing.F) []byte {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "attest", "artifact.txt.cosign-attestation.json"))
	if err != nil {
		return nil
	}
	i := bytes.Index(b, []byte(`"payload":"`))
	if i < 0 {
		return nil
	}
	rest := b[i+len(`"payload":"`):]
	j := bytes.IndexByte(rest, '"')
	p, _ := base64.StdEncoding.DecodeString(string(rest[:j]))
	return p
}
