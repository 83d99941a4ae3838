package sbom

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// synthetic builds an SBOM of n packages shaped like syft's output (purl,
// licenses, type and location properties) across five ecosystems. Version
// 2 upgrades ~5% of packages, downgrades ~1%, adds ~1% and removes ~1%.
func synthetic(n, version int, format Format) []byte {
	type p struct{ typ, ns, name, ver, lic string }
	var ps []p
	ecos := []struct{ typ, ns string }{{"npm", ""}, {"pypi", ""}, {"golang", "github.com/acme"}, {"maven", "com.acme"}, {"deb", "debian"}}
	for i := 0; i < n; i++ {
		e := ecos[i%len(ecos)]
		minor := i%7 + 1
		switch {
		case version == 2 && i%20 == 3:
			minor += 1
		case version == 2 && i%100 == 7:
			minor -= 1
		}
		if version == 2 && i%100 == 11 {
			continue // removed
		}
		ps = append(ps, p{e.typ, e.ns, fmt.Sprintf("pkg-%d", i), fmt.Sprintf("1.%d.%d", minor, i%3), []string{"MIT", "Apache-2.0", "BSD-3-Clause OR MIT"}[i%3]})
		if version == 2 && i%100 == 13 {
			ps = append(ps, p{e.typ, e.ns, fmt.Sprintf("new-%d", i), "0.1.0", "ISC"})
		}
	}
	purl := func(x p) string {
		if x.ns != "" {
			return "pkg:" + x.typ + "/" + x.ns + "/" + x.name + "@" + x.ver
		}
		return "pkg:" + x.typ + "/" + x.name + "@" + x.ver
	}
	var b bytes.Buffer
	switch format {
	case FormatCycloneDXJSON:
		b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"tools":{"components":[{"name":"syft","version":"1.57.2"}]},"component":{"bom-ref":"root","type":"container","name":"bench"}},"components":[`)
		for i, x := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"bom-ref":"%s?package-id=%x","type":"library","name":"%s","version":"%s","licenses":[{"license":{"id":"%s"}}],"cpe":"cpe:2.3:a:%s:%s:%s:*:*:*:*:*:*:*","purl":"%s","properties":[{"name":"syft:package:foundBy","value":"%s-cataloger"},{"name":"syft:package:type","value":"%s"},{"name":"syft:package:metadataType","value":"x"},{"name":"syft:location:0:path","value":"/app/%s/%s"}]}`,
				purl(x), i, x.name, x.ver, x.lic, x.name, x.name, x.ver, purl(x), x.typ, x.typ, x.typ, x.name)
		}
		b.WriteString(`]}`)
	case FormatSPDXJSON:
		b.WriteString(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"bench","creationInfo":{"creators":["Tool: syft-1.57.2"]},"packages":[`)
		for i, x := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"%s","SPDXID":"SPDXRef-Package-%s-%s-%x","versionInfo":"%s","supplier":"NOASSERTION","downloadLocation":"NOASSERTION","filesAnalyzed":false,"sourceInfo":"acquired package info from the following paths: /app/%s/%s","licenseConcluded":"NOASSERTION","licenseDeclared":"%s","copyrightText":"NOASSERTION","externalRefs":[{"referenceCategory":"SECURITY","referenceType":"cpe23Type","referenceLocator":"cpe:2.3:a:%s:%s:%s:*:*:*:*:*:*:*"},{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"%s"}]}`,
				x.name, x.typ, x.name, i, x.ver, x.typ, x.name, x.lic, x.name, x.name, x.ver, purl(x))
		}
		b.WriteString(`],"relationships":[{"spdxElementId":"SPDXRef-DOCUMENT","relationshipType":"DESCRIBES","relatedSpdxElement":"SPDXRef-DocumentRoot-Image-bench"}]}`)
	}
	return b.Bytes()
}

var (
	syntheticCache   = map[string][2][]byte{}
	syntheticCacheMu sync.Mutex
)

func syntheticPair(n int, f Format) (old, new []byte) {
	syntheticCacheMu.Lock()
	defer syntheticCacheMu.Unlock()
	k := fmt.Sprint(n, f)
	if p, ok := syntheticCache[k]; ok {
		return p[0], p[1]
	}
	p := [2][]byte{synthetic(n, 1, f), synthetic(n, 2, f)}
	syntheticCache[k] = p
	return p[0], p[1]
}

// The synthetic pair must produce the changes it was built with.
func TestSyntheticDiff(t *testing.T) {
	for _, f := range []Format{FormatCycloneDXJSON, FormatSPDXJSON} {
		old, new := syntheticPair(1000, f)
		a, err := Decode(bytes.NewReader(old))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Decode(bytes.NewReader(new))
		if err != nil {
			t.Fatal(err)
		}
		r := Diff(a, b)
		if r.Summary.Added != 10 || r.Summary.Removed != 10 || r.Summary.Upgraded == 0 || r.Summary.Downgraded == 0 {
			t.Errorf("%s: %s", f, r.SummaryLine())
		}
	}
}

// BenchmarkDiff measures what `vouch sbom diff` does: decode both
// documents and diff them, at 1k, 10k and 100k packages per side.
func BenchmarkDiff(b *testing.B) {
	for _, f := range []Format{FormatCycloneDXJSON, FormatSPDXJSON} {
		for _, n := range []int{1_000, 10_000, 100_000} {
			old, new := syntheticPair(n, f)
			b.Run(fmt.Sprintf("%s/n=%d", f, n), func(b *testing.B) {
				b.SetBytes(int64(len(old) + len(new)))
				b.ReportAllocs()
				for b.Loop() {
					x, err := Decode(bytes.NewReader(old))
					if err != nil {
						b.Fatal(err)
					}
					y, err := Decode(bytes.NewReader(new))
					if err != nil {
						b.Fatal(err)
					}
					Diff(x, y)
				}
			})
		}
	}
}

// BenchmarkDiffOnly is the comparison alone, on decoded documents.
func BenchmarkDiffOnly(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		old, new := syntheticPair(n, FormatCycloneDXJSON)
		x, _ := Decode(bytes.NewReader(old))
		y, _ := Decode(bytes.NewReader(new))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				Diff(x, y)
			}
		})
	}
}
