package sbom

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode: Decode never panics, and what it accepts is valid JSON
// within the limits.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{spdxDoc, cdxDoc, syftDoc, `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"components":[{}]}]}`, `{"spdxVersion":"SPDX-2.3","packages":[{"externalRefs":[{"referenceType":"purl","referenceLocator":"pkg:npm/%40a/b@1?arch=x#y"}]}]}`} {
		f.Add([]byte(s))
	}
	for _, name := range []string{"dir-v1.spdx.json", "dir-v1.cdx.json", "dir-v1.syft.json"} {
		if b, err := os.ReadFile(filepath.Join(goldenDir, name)); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Decode(bytes.NewReader(data), WithMaxPackages(1000), WithMaxBytes(1<<20))
		if err != nil {
			return
		}
		if !json.Valid(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) {
			t.Fatalf("accepted invalid JSON")
		}
		if len(d.Packages) > 1000 {
			t.Fatalf("%d packages over the limit", len(d.Packages))
		}
		for _, p := range d.Packages {
			_ = p.Key()
			if NormalizeLicense(p.Licenses) != p.Licenses {
				t.Fatalf("license %q is not normalised", p.Licenses)
			}
		}
		Diff(d, d)
	})
}

// FuzzNormalizeLicense: normalising is idempotent and never panics.
func FuzzNormalizeLicense(f *testing.F) {
	for _, s := range []string{"MIT", "MIT OR (Apache-2.0 AND BSD-3-Clause)", "GPL-2.0+ WITH Classpath-exception-2.0", "((", "LicenseRef-a b", "mit and MIT or isc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeLicense(s)
		if n2 := NormalizeLicense(n); n2 != n {
			t.Fatalf("NormalizeLicense(%q) = %q, but NormalizeLicense(%q) = %q", s, n, n, n2)
		}
		newLicenseMatcher([]string{"GPL-3.0-only", "MIT*"}).deniedLicense(parseLicense(n))
	})
}
