package registry_test

import (
	"strings"
	"testing"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// WithKinds skips the legacy tags that cannot hold the kinds asked for, and
// never the places that may hold anything.
func TestDiscoverWithKinds(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	subject := mustRef(t, reg.Ref("app@"+d))
	attachAll(t, newClient(t), subject)
	for _, tc := range []struct {
		kinds   []registry.Kind
		skipped []string
		want    []string
	}{
		{[]registry.Kind{registry.KindSignature}, []string{".att", ".sbom"}, []string{
			"signature/legacy/legacy-tag/",
			"signature/bundle/referrers/" + registry.PredicateTypeCosignSign,
			"attestation/bundle/referrers/https://slsa.dev/provenance/v1",
		}},
		{[]registry.Kind{registry.KindAttestation, registry.KindSBOM}, []string{".sig"}, []string{
			"attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1",
			"sbom/raw/legacy-tag/",
			"signature/bundle/referrers/" + registry.PredicateTypeCosignSign,
			"attestation/bundle/referrers/https://slsa.dev/provenance/v1",
		}},
	} {
		reg.Reset()
		atts, err := newClient(t).Discover(ctxT(t), subject, registry.WithKinds(tc.kinds...))
		if err != nil || !atts.Complete() {
			t.Fatalf("%v: %v %v", tc.kinds, err, atts.Failures)
		}
		if got := summary(atts.Items); !sameSet(got, tc.want) {
			t.Errorf("%v found:\n  %s", tc.kinds, strings.Join(got, "\n  "))
		}
		for _, suffix := range tc.skipped {
			if n := reg.Count("", `\`+suffix+`$`); n != 0 {
				t.Errorf("%v: the %s tag was read", tc.kinds, suffix)
			}
		}
		if reg.Count("", `/referrers/`) != 1 || reg.Count("", `/manifests/sha256-[0-9a-f]{64}$`) != 1 {
			t.Errorf("%v: the referrers API and the fallback tag must be read: %v", tc.kinds, reg.Requests())
		}
	}
}
