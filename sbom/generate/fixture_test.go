package generate

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/sbom")

// goldenDir holds the golden outputs (see testdata/README.md).
const goldenDir = "../../testdata/sbom"

// Fixtures are built by the tests, so what they contain is visible here.
// v2 of each changes dependencies in ways the diff must report exactly.

// dirFixture writes a project with npm, Go, Python and Maven manifests.
func dirFixture(t testing.TB, version int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "proj")
	files := map[string]string{
		"package-lock.json": npmLock(version),
		"go.mod":            goMod(version),
		"requirements.txt":  requirements(version),
		"pom.xml":           pom(version),
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func npmLock(v int) string {
	// v1 → v2: lodash downgraded, left-pad (WTFPL) added, the nested copy of
	// debug upgraded from 2.6.8 to 3.2.7 while the top-level 2.6.9 stays.
	lodash, nested, extra := "4.17.21", "2.6.8", ""
	if v == 2 {
		lodash, nested = "4.17.20", "3.2.7"
		extra = `,
    "node_modules/left-pad": {"version": "1.3.0", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz", "license": "WTFPL"}`
	}
	return `{
  "name": "demo-web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {"name": "demo-web", "version": "1.0.0", "dependencies": {"express": "^4.18.2", "lodash": "^4.17.0"}},
    "node_modules/lodash": {"version": "` + lodash + `", "resolved": "https://registry.npmjs.org/lodash/-/lodash-` + lodash + `.tgz", "license": "MIT"},
    "node_modules/debug": {"version": "2.6.9", "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz", "license": "MIT"},
    "node_modules/express": {"version": "4.18.2", "resolved": "https://registry.npmjs.org/express/-/express-4.18.2.tgz", "license": "MIT", "dependencies": {"debug": "2.6.9"}},
    "node_modules/express/node_modules/debug": {"version": "` + nested + `", "resolved": "https://registry.npmjs.org/debug/-/debug-` + nested + `.tgz", "license": "MIT"}` + extra + `
  }
}
`
}

func goMod(v int) string {
	// v1 → v2: golang.org/x/text downgraded, github.com/pkg/errors removed.
	if v == 2 {
		return "module example.com/demo\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgolang.org/x/text v0.13.0\n)\n"
	}
	return "module example.com/demo\n\ngo 1.22\n\nrequire (\n\tgithub.com/google/uuid v1.6.0\n\tgithub.com/pkg/errors v0.9.1\n\tgolang.org/x/text v0.14.0\n)\n"
}

func requirements(v int) string {
	// v1 → v2: requests upgraded; zope.interface upgraded and respelled
	// zope_interface (the same project under PEP 503); Flask respelled only.
	if v == 2 {
		return "requests==2.32.3\nFlask==3.0.0\nDjango>=4.2,<5\nurllib3==2.0.7 ; python_version >= \"3.8\"\nzope_interface==6.1\n"
	}
	return "requests==2.31.0\nflask==3.0.0\nDjango>=4.2,<5\nurllib3==2.0.7 ; python_version >= \"3.8\"\nzope.interface==6.0\n"
}

func pom(v int) string {
	// v1 → v2: commons-lang3 upgraded.
	lang := "3.12.0"
	if v == 2 {
		lang = "3.14.0"
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>com.example</groupId>
  <artifactId>demo</artifactId>
  <version>1.0.0</version>
  <dependencies>
    <dependency><groupId>org.apache.commons</groupId><artifactId>commons-lang3</artifactId><version>` + lang + `</version></dependency>
    <dependency><groupId>com.google.guava</groupId><artifactId>guava</artifactId><version>32.1.2-jre</version></dependency>
  </dependencies>
</project>
`
}

// apkPackage is one entry of an Alpine package database.
type apkPackage struct{ name, version, license string }

func apkDB(arch string, pkgs []apkPackage) string {
	var b strings.Builder
	for _, p := range pkgs {
		b.WriteString("C:Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=\nP:" + p.name + "\nV:" + p.version + "\nA:" + arch +
			"\nS:1000\nI:2000\nT:" + p.name + " package\nU:https://alpinelinux.org\nL:" + p.license + "\no:" + p.name +
			"\nm:Fixture <fixture@example.com>\nt:1700000000\nF:usr/lib\nR:lib" + p.name + ".so\n\n")
	}
	return b.String()
}

func imagePackages(version int) []apkPackage {
	// v1 → v2: libssl3 downgraded, musl upgraded, curl added.
	if version == 2 {
		return []apkPackage{{"busybox", "1.36.1-r15", "GPL-2.0-only"}, {"curl", "8.5.0-r0", "curl"}, {"libssl3", "3.1.4-r1", "Apache-2.0"}, {"musl", "1.2.4_git20230717-r5", "MIT"}}
	}
	return []apkPackage{{"busybox", "1.36.1-r15", "GPL-2.0-only"}, {"libssl3", "3.1.4-r5", "Apache-2.0"}, {"musl", "1.2.4_git20230717-r4", "MIT"}}
}

// fixtureImage builds an Alpine-like image with an apk database, offline
// and byte-reproducibly (fixed timestamps, no randomness).
func fixtureImage(t testing.TB, arch, apkArch string, version int) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{
		{"etc/os-release", "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\n"},
		{"lib/apk/db/installed", apkDB(apkArch, imagePackages(version))},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	layerBytes := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerBytes)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: arch, RootFS: v1.RootFS{Type: "layers"}})
	if err != nil {
		t.Fatal(err)
	}
	img, err = mutate.AppendLayers(img, layer)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ociLayout writes the v-th fixture image as an OCI layout; with
// multiArch, an index holding linux/amd64 and linux/arm64 variants.
func ociLayout(t testing.TB, version int, multiArch bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if !multiArch {
		if err := p.AppendImage(fixtureImage(t, "amd64", "x86_64", version)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: fixtureImage(t, "amd64", "x86_64", version), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: fixtureImage(t, "arm64", "aarch64", version), Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	if err := p.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ociArchive tars a layout with entries named without a "./" prefix
// (stereoscope rejects "./" as a path traversal).
func ociArchive(t testing.TB, layoutDir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.oci.tar")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.Walk(layoutDir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == layoutDir {
			return err
		}
		rel, _ := filepath.Rel(layoutDir, path)
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		_, err = tw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func dockerArchive(t testing.TB, version int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "image.docker.tar")
	ref, err := name.ParseReference("vouch.test/fixture:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := tarball.WriteToFile(out, ref, fixtureImage(t, "amd64", "x86_64", version)); err != nil {
		t.Fatal(err)
	}
	return out
}

// The license scanner takes seconds to build: one Generator serves every
// test in the package.
var (
	sharedGenOnce sync.Once
	sharedGen     *Generator
	sharedGenErr  error
)

func testGenerator(t testing.TB) *Generator {
	t.Helper()
	sharedGenOnce.Do(func() {
		sharedGen, sharedGenErr = NewGenerator(context.Background(), WithTool("vouch-test", "0.0.0"))
	})
	if sharedGenErr != nil {
		t.Fatal(sharedGenErr)
	}
	return sharedGen
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
	// syft derives a directory source's ID from its (temporary) path.
	hashIDRE = regexp.MustCompile(`"[0-9a-f]{16}"`)
)

// normalizeOutput removes what changes from run to run: UUIDs, timestamps
// and the fixture's temporary path.
func normalizeOutput(b []byte, paths ...string) []byte {
	s := string(b)
	for _, p := range paths {
		s = strings.ReplaceAll(s, p, "$FIXTURE")
	}
	s = uuidRE.ReplaceAllString(s, "00000000-0000-0000-0000-000000000000")
	s = timeRE.ReplaceAllString(s, "2000-01-01T00:00:00Z")
	s = hashIDRE.ReplaceAllString(s, `"0000000000000000"`)
	return []byte(s)
}

// golden compares got with testdata/sbom/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./sbom/generate -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./sbom/generate -update if the change is intended); got:\n%s", name, truncateForLog(got))
	}
}

func truncateForLog(b []byte) string {
	if len(b) > 4000 {
		return string(b[:4000]) + "\n…"
	}
	return string(b)
}
