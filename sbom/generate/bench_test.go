package generate

import (
	"context"
	"strings"
	"testing"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/pkg/cataloger/golang"
)

// BenchmarkGenerate compares Generate with a direct syft library call on
// the same sources and configuration, license scanner built once for both.
func BenchmarkGenerate(b *testing.B) {
	g := testGenerator(b)
	scannerCtx, err := syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
	if err != nil {
		b.Fatal(err)
	}
	sources := []struct{ name, provider, path string }{
		{"dir", "local-directory", dirFixture(b, 1)},
		{"oci-dir", "oci-dir", ociLayout(b, 1, false)},
	}
	for _, s := range sources {
		b.Run(s.name+"/vouch", func(b *testing.B) {
			for b.Loop() {
				if _, err := g.Generate(context.Background(), strings.Replace(s.provider, "local-directory", "dir", 1)+":"+s.path); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(s.name+"/syft", func(b *testing.B) {
			for b.Loop() {
				src, err := syft.GetSource(scannerCtx, s.path, syft.DefaultGetSourceConfig().WithSources(s.provider))
				if err != nil {
					b.Fatal(err)
				}
				pc := pkgcataloging.DefaultConfig()
				pc.Golang = golang.DefaultCatalogerConfig().WithUsePackagesLib(false)
				if _, err := syft.CreateSBOM(scannerCtx, src, syft.DefaultCreateSBOMConfig().WithPackagesConfig(pc)); err != nil {
					b.Fatal(err)
				}
				src.Close()
			}
		})
	}
}
