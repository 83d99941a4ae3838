package attest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"

	"github.com/vouchdev/vouch/attest"
)

// corpusDir returns ../shared/corpus/<sub> relative to the repository root.
// Tests that need it skip when it is absent, and fail instead when
// VOUCH_REQUIRE_INTEGRATION=1 (CI).
func corpusDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "corpus", sub)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("VOUCH_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("corpus %s is required (VOUCH_REQUIRE_INTEGRATION=1): %v", p, err)
		}
		t.Skipf("corpus %s not present: %v", p, err)
	}
	return p
}

// corpusBundles reads every Sigstore bundle in a corpus file: one bundle, JSON
// lines of bundles, or npm's {"attestations":[{"bundle":…}]} document.
func corpusBundles(t testing.TB, path string) []*bundle.Bundle {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raws [][]byte
	var npm struct {
		Attestations []struct{ Bundle json.RawMessage } `json:"attestations"`
	}
	if json.Unmarshal(data, &npm) == nil && len(npm.Attestations) > 0 {
		for _, a := range npm.Attestations {
			raws = append(raws, a.Bundle)
		}
	} else if json.Valid(data) {
		raws = [][]byte{data}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
				raws = append(raws, append([]byte(nil), line...))
			}
		}
	}
	var out []*bundle.Bundle
	for _, raw := range raws {
		var b bundle.Bundle
		if err := b.UnmarshalJSON(raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, &b)
	}
	return out
}

// corpusStatement returns the statement and certificate claims of bundle i of
// a corpus file. The bundle is not verified here: the corpus README records
// that each verifies, and attest only interprets what verify hands it.
func corpusStatement(t testing.TB, rel string, i int) (*attest.Statement, *attest.SignerClaims) {
	t.Helper()
	bundles := corpusBundles(t, filepath.Join(corpusDir(t, "attestations"), rel))
	if i >= len(bundles) {
		t.Fatalf("%s has %d bundles", rel, len(bundles))
	}
	st, err := attest.StatementFromBundle(bundles[i])
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	vc, err := bundles[i].VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	var claims *attest.SignerClaims
	if cert := vc.Certificate(); cert != nil {
		s, err := certificate.SummarizeCertificate(cert)
		if err != nil {
			t.Fatal(err)
		}
		claims = &s
	}
	return st, claims
}
