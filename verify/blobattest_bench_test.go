package verify

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/sbom"
)

// BenchmarkBlobAttestationNPM verifies npm's real attestations document for
// a package (two bundles: npm's publish attestation and keyless SLSA
// provenance with a Rekor entry) against the 25 KB tarball, hashed with
// sha512, on a long-lived Verifier with the public-good trusted root.
func BenchmarkBlobAttestationNPM(b *testing.B) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "corpus", "attestations"))
	if err != nil {
		b.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(dir, "slsa-verifier/npm/provenance-npm-test-cli-v1-prega.tgz.json"))
	if err != nil {
		b.Skipf("corpus absent: %v", err)
	}
	tgz, err := os.ReadFile(filepath.Join(dir, "slsa-verifier/npm/provenance-npm-test-cli-v1-prega.tgz"))
	if err != nil {
		b.Fatal(err)
	}
	v, err := New(WithTrustedRootFile(filepath.Join(dir, "trusted_root.public-good.json")))
	if err != nil {
		b.Fatal(err)
	}
	req := Requirements{Authorities: []Authority{{Name: "ci", Keyless: &KeylessAuthority{Identities: []Identity{{
		Issuer: "https://token.actions.githubusercontent.com", Subject: "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"}}}}}}
	att := AttestationRequirement{PredicateType: attest.PredicateSLSAProvenanceV1, Provenance: &attest.Expectations{SourceRepository: "github.com/sigstore/sigstore-js"}}
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		bundles, err := SplitBundles(doc)
		if err != nil {
			b.Fatal(err)
		}
		res, err := v.BlobAttestation(ctx, bundles, ArtifactBytes(tgz), att, req)
		if err != nil || !res.Verified {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSBOMRules is the SBOM check on a verified attestation: decoding
// an SPDX predicate of n packages and evaluating license and package rules.
func BenchmarkSBOMRules(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		pkgs := make([][4]string, n)
		for i := range pkgs {
			pkgs[i] = [4]string{fmt.Sprintf("pkg%d", i), "1.0.0", fmt.Sprintf("pkg:npm/pkg%d@1.0.0", i), "MIT OR Apache-2.0"}
		}
		payload := sbomStatement(b, attest.PredicateSPDX, spdxDocFor(pkgs))
		check := sbomCheck(sbom.Rules{DenyLicenses: []string{"GPL-*", "AGPL-*"}, DenyPackages: []string{"pkg:npm/event-stream@3.3.6", "pkg:npm/@evil/*"}})
		b.Run(fmt.Sprintf("spdx-%d-packages-%dKB", n, len(payload)>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if e := check(payload, nil); e != nil {
					b.Fatal(e)
				}
			}
		})
	}
}
