package attest_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vouchdev/vouch/attest"
)

func TestPredicateTypeFor(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"slsaprovenance", "https://slsa.dev/provenance/v0.2"},
		{"slsaprovenance02", "https://slsa.dev/provenance/v0.2"},
		{"slsaprovenance1", "https://slsa.dev/provenance/v1"},
		{"link", "https://in-toto.io/Link/v1"},
		{"spdx", "https://spdx.dev/Document"},
		{"spdxjson", "https://spdx.dev/Document"},
		{"cyclonedx", "https://cyclonedx.org/bom"},
		{"vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"},
		{"openvex", "https://openvex.dev/ns"},
		{"custom", "https://cosign.sigstore.dev/attestation/v1"},
		{"https://example.com/my-predicate/v1", "https://example.com/my-predicate/v1"},
		{"https://sigstore.dev/cosign/sign/v1", attest.PredicateCosignSign},
		{"slsa", ""},
		{"", ""},
		{"not a uri", ""},
		{"relative/path", ""},
	} {
		got, err := attest.PredicateTypeFor(tc.name)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("PredicateTypeFor(%q) = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestCosignPredicate(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		name, typ, in string
		wantType      string
		want          string // JSON; "" = an error
	}{
		{"custom wraps the file as text", "custom", "hello\n", attest.PredicateCosignCustom, `{"Data":"hello\n","Timestamp":"2026-01-02T02:04:05Z"}`},
		{"custom by URI wraps too", attest.PredicateCosignCustom, "x", attest.PredicateCosignCustom, `{"Data":"x","Timestamp":"2026-01-02T02:04:05Z"}`},
		{"spdx is a JSON string", "spdx", "SPDXVersion: SPDX-2.3\n", attest.PredicateSPDX, `"SPDXVersion: SPDX-2.3\n"`},
		{"spdxjson keeps the document, keys sorted", "spdxjson", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","n":12345678901234567890}`, attest.PredicateSPDX, `{"SPDXID":"SPDXRef-DOCUMENT","n":12345678901234567890,"spdxVersion":"SPDX-2.3"}`},
		{"cyclonedx", "cyclonedx", `{"bomFormat":"CycloneDX"}`, attest.PredicateCycloneDX, `{"bomFormat":"CycloneDX"}`},
		{"any URI takes a JSON object", "https://example.com/p", `{"b":1,"a":2}`, "https://example.com/p", `{"a":2,"b":1}`},
		{"any URI rejects a non-object", "https://example.com/p", `[1]`, "", ""},
		{"spdxjson rejects non-JSON", "spdxjson", `SPDXVersion`, "", ""},
		{"slsaprovenance needs builder and buildType", "slsaprovenance", `{"builder":{"id":"b"}}`, "", ""},
		{"slsaprovenance round-trips", "slsaprovenance", `{"builder":{"id":"b"},"buildType":"t","unknown":1}`, attest.PredicateSLSAProvenanceV02, `{"builder":{"id":"b"},"buildType":"t","invocation":{"configSource":{}}}`},
		{"slsaprovenance1 needs runDetails", "slsaprovenance1", `{"buildDefinition":{}}`, "", ""},
		{"vuln", "vuln", `{"scanner":{"uri":"u","version":"1"}}`, attest.PredicateCosignVuln, ""},
		{"unknown name", "slsa", `{}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			typ, pred, err := attest.CosignPredicate(tc.typ, []byte(tc.in), now)
			if tc.wantType == "" {
				if err == nil {
					t.Fatalf("want an error, got %s", pred)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if typ != tc.wantType {
				t.Fatalf("type %q, want %q", typ, tc.wantType)
			}
			if tc.want != "" && string(pred) != tc.want {
				t.Fatalf("predicate %s\nwant      %s", pred, tc.want)
			}
			if !json.Valid(pred) {
				t.Fatalf("predicate is not JSON: %s", pred)
			}
		})
	}
}

func TestPredicateTypeNames(t *testing.T) {
	names := strings.Join(attest.PredicateTypeNames(), " ")
	if names != "custom cyclonedx link openvex slsaprovenance slsaprovenance02 slsaprovenance1 spdx spdxjson vuln" {
		t.Fatal(names)
	}
}

var fixedTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
