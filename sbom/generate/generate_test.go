package generate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vouchdev/vouch/sbom"
)

func generate(t testing.TB, source string, opts ...GenerateOption) *SBOM {
	t.Helper()
	d, err := testGenerator(t).Generate(context.Background(), source, opts...)
	if err != nil {
		t.Fatalf("Generate(%s): %v", source, err)
	}
	return d
}

func keysAndVersions(d *SBOM) []string {
	var out []string
	for _, p := range d.Packages {
		out = append(out, p.Key()+"@"+p.Version)
	}
	sort.Strings(out)
	return out
}

// encodeGolden encodes d in every format, checks each against its golden
// file, and checks that decoding each gives back the same packages: the
// three decoders and the generator agree.
func encodeGolden(t *testing.T, d *SBOM, base string, paths ...string) {
	t.Helper()
	for _, f := range []struct {
		format sbom.Format
		ext    string
	}{{sbom.FormatSPDXJSON, ".spdx.json"}, {sbom.FormatCycloneDXJSON, ".cdx.json"}, {sbom.FormatSyftJSON, ".syft.json"}} {
		var b bytes.Buffer
		if err := d.Encode(&b, f.format); err != nil {
			t.Fatalf("Encode %s: %v", f.format, err)
		}
		golden(t, base+f.ext, normalizeOutput(b.Bytes(), paths...))
		back, err := sbom.Decode(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("Decode(Encode(%s)): %v", f.format, err)
		}
		if back.Format != f.format {
			t.Errorf("decoded format %q, want %q", back.Format, f.format)
		}
		r := sbom.Diff(d.Document, back)
		if len(r.Changes) != 0 || r.Summary.Unchanged != len(d.Packages) || len(r.Warnings) != 0 {
			t.Errorf("%s round trip is not lossless for comparison: %s, warnings %v, changes %+v", f.format, r.SummaryLine(), r.Warnings, r.Changes)
		}
		if back.SourceKind != d.SourceKind || back.Tool != d.Tool || back.ToolVersion != d.ToolVersion || back.Distro != d.Distro {
			t.Errorf("%s: decoded (kind %q, tool %q %q, distro %q), generated (kind %q, tool %q %q, distro %q)", f.format,
				back.SourceKind, back.Tool, back.ToolVersion, back.Distro, d.SourceKind, d.Tool, d.ToolVersion, d.Distro)
		}
	}
}

func TestGenerateDirectory(t *testing.T) {
	dir := dirFixture(t, 1)
	d := generate(t, "dir:"+dir, WithName("demo", "1.0.0"))
	want := []string{
		"pkg:golang/github.com/google/uuid@v1.6.0",
		"pkg:golang/github.com/pkg/errors@v0.9.1",
		"pkg:golang/golang.org/x/text@v0.14.0",
		"pkg:maven/com.example/demo@1.0.0",
		"pkg:maven/com.google.guava/guava@32.1.2-jre",
		"pkg:maven/org.apache.commons/commons-lang3@3.12.0",
		"pkg:npm/debug@2.6.8",
		"pkg:npm/debug@2.6.9",
		"pkg:npm/demo-web@1.0.0",
		"pkg:npm/express@4.18.2",
		"pkg:npm/lodash@4.17.21",
		"pkg:pypi/flask@3.0.0",
		"pkg:pypi/requests@2.31.0",
		"pkg:pypi/urllib3@2.0.7",
		"pkg:pypi/zope-interface@6.0",
	}
	if got := keysAndVersions(d); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("packages:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The Go cataloger must not have run the go toolchain: with it, the
	// main module example.com/demo appears as a package.
	for _, p := range d.Packages {
		if p.Name == "example.com/demo" {
			t.Errorf("main module listed: the go toolchain ran (UsePackagesLib)")
		}
	}
	if d.SourceKind != sbom.SourceDirectory || d.Tool != "vouch-test" || d.SourceName != "demo" {
		t.Errorf("document: kind %q tool %q name %q", d.SourceKind, d.Tool, d.SourceName)
	}
	encodeGolden(t, d, "dir-v1", dir)
}

func TestGenerateImageSources(t *testing.T) {
	dir := ociLayout(t, 1, false)
	want := []string{
		"pkg:apk/alpine/busybox?arch=x86_64@1.36.1-r15",
		"pkg:apk/alpine/libssl3?arch=x86_64@3.1.4-r5",
		"pkg:apk/alpine/musl?arch=x86_64@1.2.4_git20230717-r4",
	}
	var first *SBOM
	for _, src := range []string{"oci-dir:" + dir, "oci-archive:" + ociArchive(t, dir), "docker-archive:" + dockerArchive(t, 1)} {
		d := generate(t, src, WithName("fixture", "v1"))
		if got := keysAndVersions(d); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: packages %v, want %v", src, got, want)
		}
		if d.Distro != "alpine 3.19.1" || d.SourceKind != sbom.SourceImage {
			t.Errorf("%s: distro %q kind %q", src, d.Distro, d.SourceKind)
		}
		if first == nil {
			first = d
			encodeGolden(t, d, "image-v1", dir)
		}
	}
}

func TestGeneratePlatform(t *testing.T) {
	dir := ociLayout(t, 1, true)
	for _, tc := range []struct{ platform, arch string }{{"linux/arm64", "aarch64"}, {"linux/amd64", "x86_64"}} {
		d := generate(t, "oci-dir:"+dir, WithPlatform(tc.platform))
		if len(d.Packages) != 3 {
			t.Fatalf("%s: %d packages", tc.platform, len(d.Packages))
		}
		for _, p := range d.Packages {
			if !strings.Contains(p.PURL, "arch="+tc.arch) {
				t.Errorf("%s: package %s is not the %s build", tc.platform, p.PURL, tc.arch)
			}
		}
	}
	_, err := testGenerator(t).Generate(context.Background(), "dir:"+t.TempDir(), WithPlatform("linux/arm64"))
	var ue *sbom.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("platform with a directory source: %v, want a UsageError", err)
	}
	if _, err := testGenerator(t).Generate(context.Background(), "oci-dir:"+dir, WithPlatform("not a platform/x/y/z")); !errors.As(err, &ue) {
		t.Errorf("bad platform: %v, want a UsageError", err)
	}
}

// A local source that does not exist must fail on its own provider, never
// fall through to a Docker daemon, a registry pull or the Snap store.
func TestGenerateNoFallthrough(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "does-not-exist")
	for _, src := range []string{"oci-dir:" + missing, "oci-archive:" + missing, "docker-archive:" + missing, "dir:" + missing} {
		_, err := testGenerator(t).Generate(context.Background(), src)
		if err == nil {
			t.Fatalf("%s: no error", src)
		}
		var se *SourceError
		if !errors.As(err, &se) {
			t.Errorf("%s: %v, want a SourceError", src, err)
		}
		for _, other := range []string{"docker:", "podman", "containerd", "oci-registry", "snap", "https://"} {
			if strings.Contains(err.Error(), other) {
				t.Errorf("%s: error mentions %q, so another provider was tried: %v", src, other, err)
			}
		}
	}
}

func TestParseSource(t *testing.T) {
	local := filepath.Join(t.TempDir(), "app")
	if err := os.Mkdir(local, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Dir(local))
	for _, tc := range []struct {
		in, provider, input string
		bad                 bool
	}{
		{in: "oci-dir:/x", provider: "oci-dir", input: "/x"},
		{in: "oci-archive:x.tar", provider: "oci-archive", input: "x.tar"},
		{in: "docker-archive:x.tar", provider: "docker-archive", input: "x.tar"},
		{in: "dir:.", provider: "local-directory", input: "."},
		{in: "file:go.mod", provider: "local-file", input: "go.mod"},
		{in: "registry:ghcr.io/a/b:1", provider: "oci-registry", input: "ghcr.io/a/b:1"},
		{in: "ghcr.io/a/b@sha256:" + strings.Repeat("a", 64), provider: "oci-registry", input: "ghcr.io/a/b@sha256:" + strings.Repeat("a", 64)},
		// A bare path is refused with a hint, not pulled from Docker Hub.
		{in: "./proj", bad: true},
		{in: "/abs/proj", bad: true},
		// A bare word that is also a local directory is ambiguous.
		{in: "app", bad: true},
		{in: "oci-dir:", bad: true},
		{in: "registry:Not A Ref", bad: true},
		{in: "", bad: true},
		{in: "UPPER/case:tag", bad: true},
	} {
		s, err := parseSource(tc.in)
		if tc.bad {
			var ue *sbom.UsageError
			if !errors.As(err, &ue) {
				t.Errorf("parseSource(%q) = %+v, %v; want a UsageError", tc.in, s, err)
			}
			continue
		}
		if err != nil || s.provider != tc.provider || s.input != tc.input {
			t.Errorf("parseSource(%q) = %+v, %v; want provider %s input %s", tc.in, s, err, tc.provider, tc.input)
		}
	}
}

// Image sources unpack to temporary directories; none may be left behind.
func TestGenerateRemovesTempDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	layoutDir := ociLayout(t, 1, false)
	archive := ociArchive(t, layoutDir)
	before := listDir(t, tmp)
	generate(t, "oci-archive:"+archive)
	generate(t, "docker-archive:"+dockerArchive(t, 1))
	if after := listDir(t, tmp); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("temporary directories left behind: %v (before: %v)", after, before)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "stereoscope") || strings.HasPrefix(e.Name(), "syft") {
			names = append(names, e.Name())
		}
	}
	return names
}

// A registry source: an in-process registry on loopback, plain HTTP,
// anonymous.
func TestGenerateRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, err := name.ParseReference(host + "/fixture:v2")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, fixtureImage(t, "amd64", "x86_64", 2)); err != nil {
		t.Fatal(err)
	}
	d := generate(t, ref.String())
	if got := keysAndVersions(d); len(got) != 4 || !strings.Contains(strings.Join(got, " "), "curl") {
		t.Errorf("packages %v", got)
	}
	d2 := generate(t, "registry:"+ref.String())
	if len(d2.Packages) != 4 {
		t.Errorf("registry: scheme: %d packages", len(d2.Packages))
	}
}

func TestGenerateCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := testGenerator(t).Generate(ctx, "dir:"+dirFixture(t, 1))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// The whole flow a user runs: generate an image's SBOM, change a
// dependency, generate again, read exactly what changed.
func TestGenerateDiffImages(t *testing.T) {
	a := generate(t, "oci-dir:"+ociLayout(t, 1, false), WithName("fixture", "v1"))
	b := generate(t, "oci-dir:"+ociLayout(t, 2, false), WithName("fixture", "v2"))
	r := sbom.Diff(a.Document, b.Document)
	var lines []string
	for _, c := range r.Changes {
		lines = append(lines, c.String())
	}
	want := []string{
		"added apk/alpine/curl 8.5.0-r0",
		"downgrade apk/alpine/libssl3 3.1.4-r5 -> 3.1.4-r1",
		"upgrade apk/alpine/musl 1.2.4_git20230717-r4 -> 1.2.4_git20230717-r5",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if r.Summary.Unchanged != 1 {
		t.Errorf("unchanged %d, want 1", r.Summary.Unchanged)
	}
}

// The user flow on a project: generate, change dependencies, generate
// again, read exactly what changed, in every output form.
func TestDiffDirectoryGolden(t *testing.T) {
	old := generate(t, "dir:"+dirFixture(t, 1), WithName("demo", "1.0.0"))
	new := generate(t, "dir:"+dirFixture(t, 2), WithName("demo", "2.0.0"))
	r := sbom.Diff(old.Document, new.Document)
	want := strings.Join([]string{
		"removed golang/github.com/pkg/errors v0.9.1",
		"downgrade golang/golang.org/x/text v0.14.0 -> v0.13.0",
		"upgrade maven/org.apache.commons/commons-lang3 3.12.0 -> 3.14.0",
		"upgrade npm/debug 2.6.8 -> 3.2.7",
		"added npm/left-pad 1.3.0",
		"downgrade npm/lodash 4.17.21 -> 4.17.20",
		"upgrade pypi/requests 2.31.0 -> 2.32.3",
		"upgrade pypi/zope-interface 6.0 -> 6.1",
	}, "\n")
	if got := changeLines(r); got != want {
		t.Errorf("changes:\n%s\nwant:\n%s", got, want)
	}
	var text, md bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "diff-dir.txt", text.Bytes())
	golden(t, "diff-dir.md", md.Bytes())
	golden(t, "diff-dir.json", append(js, '\n'))
	if err := r.Gate(sbom.Gates{FailOn: []string{"downgrade"}, DenyLicenses: []string{"WTFPL"}}); err == nil || !strings.Contains(err.Error(), "left-pad") {
		t.Errorf("gate: %v", err)
	}
}

func changeLines(r *sbom.Report) string {
	var lines []string
	for _, c := range r.Changes {
		lines = append(lines, c.String())
	}
	return strings.Join(lines, "\n")
}
