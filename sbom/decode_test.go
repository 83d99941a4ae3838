package sbom

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

const spdxDoc = `{
  "spdxVersion": "SPDX-2.3",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "app",
  "creationInfo": {"creators": ["Organization: Acme", "Tool: sbom-tool-2.2.3"]},
  "documentDescribes": ["SPDXRef-Root"],
  "packages": [
    {"SPDXID": "SPDXRef-Root", "name": "app", "versionInfo": "1.0", "primaryPackagePurpose": "APPLICATION"},
    {"SPDXID": "SPDXRef-1", "name": "lodash", "versionInfo": "4.17.21", "licenseConcluded": "NOASSERTION", "licenseDeclared": "MIT",
     "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:npm/lodash@4.17.21"}]},
    {"SPDXID": "SPDXRef-2", "name": "requests", "versionInfo": "2.31.0", "licenseConcluded": "Apache-2.0", "licenseDeclared": "MIT",
     "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/requests@2.31.0"}]},
    {"SPDXID": "SPDXRef-3", "name": "described-by-relationship", "versionInfo": "1"}
  ],
  "files": [{"SPDXID": "SPDXRef-File-1", "fileName": "/app/main.go", "checksums": [{"algorithm": "SHA1", "checksumValue": "00"}]}],
  "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-3"}]
}`

const cdxDoc = `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.5",
  "metadata": {
    "tools": {"components": [{"type": "application", "author": "anchore", "name": "syft", "version": "1.0.0"}]},
    "component": {"bom-ref": "root", "type": "container", "name": "ghcr.io/acme/app", "version": "sha256:00"}
  },
  "components": [
    {"bom-ref": "root", "type": "container", "name": "ghcr.io/acme/app"},
    {"type": "library", "name": "musl", "version": "1.2.4-r4", "purl": "pkg:apk/alpine/musl@1.2.4-r4?arch=x86_64",
     "licenses": [{"license": {"id": "MIT"}}],
     "properties": [{"name": "syft:package:type", "value": "apk"}, {"name": "syft:location:1:path", "value": "/b"}, {"name": "syft:location:0:path", "value": "/lib/apk/db/installed"}]},
    {"type": "library", "name": "dual", "version": "1", "licenses": [{"expression": "MIT OR Apache-2.0"}, {"license": {"name": "Custom License"}}],
     "components": [{"type": "library", "name": "nested", "version": "2", "purl": "pkg:npm/nested@2"}]},
    {"type": "file", "name": "/etc/passwd"},
    {"type": "operating-system", "name": "alpine", "version": "3.19.1"}
  ]
}`

const syftDoc = `{
  "artifacts": [
    {"id": "1", "name": "busybox", "version": "1.36.1-r15", "type": "apk", "purl": "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64",
     "locations": [{"path": "/lib/apk/db/installed", "layerID": "sha256:aa"}],
     "licenses": [{"value": "GPL-2.0-only", "spdxExpression": "GPL-2.0-only", "type": "declared"}]},
    {"id": "2", "name": "old", "version": "1", "type": "python", "licenses": ["BSD"]}
  ],
  "source": {"id": "x", "name": "alpine", "version": "3.19", "type": "image"},
  "distro": {"id": "alpine", "versionID": "3.19.1"},
  "descriptor": {"name": "syft", "version": "1.57.2"},
  "schema": {"version": "16.1.3", "url": "https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-16.1.3.json"}
}`

func TestDecodeFormats(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     Document
	}{
		{"spdx", spdxDoc, Document{Format: FormatSPDXJSON, FormatVersion: "2.3", Tool: "sbom-tool", ToolVersion: "2.2.3", SourceName: "app",
			Packages: []Package{
				// licenseDeclared where licenseConcluded is NOASSERTION,
				// licenseConcluded otherwise; the described roots are not packages.
				{Name: "lodash", Version: "4.17.21", PURL: "pkg:npm/lodash@4.17.21", Ecosystem: "npm", Licenses: "MIT"},
				{Name: "requests", Version: "2.31.0", PURL: "pkg:pypi/requests@2.31.0", Ecosystem: "pypi", Licenses: "Apache-2.0"},
			}}},
		{"cyclonedx", cdxDoc, Document{Format: FormatCycloneDXJSON, FormatVersion: "1.5", Tool: "syft", ToolVersion: "1.0.0", SourceKind: SourceImage, SourceName: "ghcr.io/acme/app", Distro: "alpine 3.19.1",
			Packages: []Package{
				{Name: "musl", Version: "1.2.4-r4", PURL: "pkg:apk/alpine/musl@1.2.4-r4?arch=x86_64", Ecosystem: "apk", Licenses: "MIT", Locations: []string{"/lib/apk/db/installed", "/b"}},
				{Name: "dual", Version: "1", Licenses: "(Apache-2.0 OR MIT) AND LicenseRef-Custom-License"},
				{Name: "nested", Version: "2", PURL: "pkg:npm/nested@2", Ecosystem: "npm"},
			}}},
		{"syft", syftDoc, Document{Format: FormatSyftJSON, FormatVersion: "16.1.3", Tool: "syft", ToolVersion: "1.57.2", SourceKind: SourceImage, SourceName: "alpine", Distro: "alpine 3.19.1",
			Packages: []Package{
				{Name: "busybox", Version: "1.36.1-r15", PURL: "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64", Ecosystem: "apk", Licenses: "GPL-2.0-only", Locations: []string{"/lib/apk/db/installed"}},
				{Name: "old", Version: "1", Ecosystem: "pypi", Licenses: "LicenseRef-BSD"},
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decode(strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			got, want := fmt.Sprintf("%+v", *d), fmt.Sprintf("%+v", tc.want)
			if got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

func TestDecodeHostile(t *testing.T) {
	deep := strings.Repeat(`{"components":[`, 40) + strings.Repeat("]}", 40)
	for _, tc := range []struct {
		name   string
		in     string
		opts   []DecodeOption
		format Format // detected format the error must name
		msg    string // substring of the error
		limit  bool   // wraps ErrLimit
	}{
		{name: "empty", in: "", msg: "empty input"},
		{name: "truncated spdx", in: spdxDoc[:len(spdxDoc)/2], format: FormatSPDXJSON, msg: "truncated"},
		{name: "truncated cyclonedx", in: cdxDoc[:200], format: FormatCycloneDXJSON, msg: "truncated"},
		{name: "truncated syft", in: syftDoc[:100], format: FormatSyftJSON, msg: "truncated"},
		{name: "invalid json with position", in: "{\n  \"bomFormat\": \"CycloneDX\",\n  \"specVersion\": \"1.6\" x\n}", format: FormatCycloneDXJSON, msg: "line 3"},
		{name: "wrong type", in: `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"a","version":1}]}`, format: FormatCycloneDXJSON, msg: "expected a string"},
		{name: "components not an array", in: `{"bomFormat":"CycloneDX","specVersion":"1.6","components":{"name":"a"}}`, format: FormatCycloneDXJSON, msg: "expected an array"},
		{name: "claims cyclonedx carries spdx packages", in: `{"bomFormat":"CycloneDX","specVersion":"1.6","packages":[{"name":"evil"}]}`, format: FormatCycloneDXJSON, msg: "carries packages (SPDX)"},
		{name: "claims spdx carries cyclonedx components", in: `{"spdxVersion":"SPDX-2.3","components":[{"name":"evil"}]}`, format: FormatSPDXJSON, msg: "carries components (CycloneDX)"},
		{name: "claims two formats", in: `{"spdxVersion":"SPDX-2.3","bomFormat":"CycloneDX","specVersion":"1.6"}`, msg: "several formats"},
		{name: "expected format mismatch", in: cdxDoc, opts: []DecodeOption{WithFormat(FormatSPDXJSON)}, format: FormatCycloneDXJSON, msg: "expected spdx-json"},
		{name: "bomFormat lies", in: `{"bomFormat":"SPDX","specVersion":"1.6"}`, format: FormatCycloneDXJSON, msg: `bomFormat is "SPDX"`},
		{name: "cyclonedx 2", in: `{"bomFormat":"CycloneDX","specVersion":"2.0"}`, format: FormatCycloneDXJSON, msg: "unsupported specVersion"},
		{name: "spdx 3", in: `{"spdxVersion":"SPDX-3.0"}`, format: FormatSPDXJSON, msg: "SPDX 3"},
		{name: "spdx 3 json-ld", in: `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[]}`, format: FormatSPDXJSON, msg: "SPDX 3"},
		{name: "xml", in: `<?xml version="1.0"?><bom xmlns="http://cyclonedx.org/schema/bom/1.6"/>`, msg: "XML"},
		{name: "tag-value", in: "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n", format: FormatSPDXJSON, msg: "tag-value"},
		{name: "not an object", in: `[1,2,3]`, msg: "not a JSON object"},
		{name: "unknown json", in: `{"hello":"world"}`, msg: "not a recognised SBOM"},
		{name: "deeply nested", in: `{"bomFormat":"CycloneDX","specVersion":"1.6",` + strings.Repeat(`"a":[`, 1) + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "]}", format: FormatCycloneDXJSON, msg: "nested deeper", limit: true},
		{name: "nested components", in: `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[` + deep + `]}`, opts: []DecodeOption{}, format: FormatCycloneDXJSON, msg: "nested deeper", limit: true},
		{name: "too large", in: cdxDoc, opts: []DecodeOption{WithMaxBytes(100)}, format: FormatCycloneDXJSON, msg: "larger than 100 bytes", limit: true},
		{name: "too many packages", in: cdxDoc, opts: []DecodeOption{WithMaxPackages(2)}, format: FormatCycloneDXJSON, msg: "more than 2 packages", limit: true},
		// encoding/json matches keys case-insensitively and unescapes them:
		// the limit must see what the decoder will see.
		{name: "escaped key evades nothing", in: `{"bomFormat":"CycloneDX","specVersion":"1.6","COMPONENTS":[{},{},{}],"metadata":{}}`, opts: []DecodeOption{WithMaxPackages(2)}, format: FormatCycloneDXJSON, msg: "more than 2 packages", limit: true},
		{name: "unicode-escaped key", in: `{"bomFormat":"CycloneDX","specVersion":"1.6","comp\u006fnents":[{},{},{}]}`, opts: []DecodeOption{WithMaxPackages(2)}, format: FormatCycloneDXJSON, msg: "more than 2 packages", limit: true},
		{name: "bad option", in: cdxDoc, opts: []DecodeOption{WithMaxPackages(0)}, msg: "positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in), tc.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			var de *DecodeError
			if errors.As(err, &de) && de.Format != tc.format {
				t.Errorf("detected format %q, want %q (%v)", de.Format, tc.format, err)
			}
			if tc.limit != errors.Is(err, ErrLimit) {
				t.Errorf("errors.Is(ErrLimit) = %v, want %v", !tc.limit, tc.limit)
			}
		})
	}
}

// 10^6 components: refused by the package limit quickly, before
// encoding/json allocates a struct per component.
func TestDecodeMillionComponents(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`)
	for i := 0; i < 1_000_000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"library","name":"p","version":"1"}`)
	}
	b.WriteString("]}")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Decode(bytes.NewReader(b.Bytes()))
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrLimit) || !strings.Contains(err.Error(), fmt.Sprintf("more than %d packages", MaxPackages)) {
		t.Fatalf("error %v, want the package limit", err)
	}
	// Reading the 44 MB input is the only large allocation.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*uint64(b.Len()) {
		t.Errorf("allocated %d MB refusing a %d MB document", alloc>>20, b.Len()>>20)
	}
	if elapsed > 5*time.Second {
		t.Errorf("took %v to refuse", elapsed)
	}
}

// Every prefix of a real document is refused cleanly, never a panic or a
// partial document.
func TestDecodeEveryTruncation(t *testing.T) {
	for _, name := range []string{"dir-v1.spdx.json", "dir-v1.cdx.json", "dir-v1.syft.json"} {
		full, err := os.ReadFile(filepath.Join(goldenDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(bytes.NewReader(full)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		step := max(1, len(full)/500)
		for n := 0; n < len(bytes.TrimSpace(full)); n += step {
			if d, err := Decode(bytes.NewReader(full[:n])); err == nil {
				t.Fatalf("%s cut at %d decoded to %d packages", name, n, len(d.Packages))
			}
		}
	}
}

func TestNormalizeLicense(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"NOASSERTION", ""},
		{"mit", "MIT"},
		{"MIT AND Apache-2.0", "Apache-2.0 AND MIT"},
		{"apache-2.0 and mit and MIT", "Apache-2.0 AND MIT"},
		{"(MIT OR Apache-2.0) AND BSD-3-Clause", "(Apache-2.0 OR MIT) AND BSD-3-Clause"},
		{"MIT AND (BSD-3-Clause AND ISC)", "BSD-3-Clause AND ISC AND MIT"},
		{"GPL-2.0+", "GPL-2.0-or-later"},
		{"GPL-2.0", "GPL-2.0-only"},
		{"LGPL-2.1+ OR MIT", "LGPL-2.1-or-later OR MIT"},
		{"GPL-2.0-only WITH classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"},
		{"LicenseRef-BSD-like", "LicenseRef-BSD-like"},
		{"BSD-like", "LicenseRef-BSD-like"},
		{"sha256:abc123", "LicenseRef-abc123"},
		{"Apache License 2.0", "LicenseRef-Apache-License-2.0"},
		{"MIT AND NOASSERTION", "MIT"},
		{"MIT AND (", "LicenseRef-MIT-AND--"},
		{strings.Repeat("(", 100) + "MIT" + strings.Repeat(")", 100), "LicenseRef-" + strings.Repeat("-", 100) + "MIT" + strings.Repeat("-", 100)},
	} {
		if got := NormalizeLicense(tc.in); got != tc.want {
			t.Errorf("NormalizeLicense(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDeniedLicense(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		denied []string
		want   bool
	}{
		{"MIT OR GPL-3.0-only", []string{"GPL-3.0-only"}, false},
		{"MIT AND GPL-3.0-only", []string{"GPL-3.0-only"}, true},
		{"(MIT OR GPL-3.0-only) AND (Apache-2.0 OR GPL-3.0-only)", []string{"GPL-3.0-only"}, false},
		{"(MIT AND GPL-3.0-only) OR (AGPL-3.0-only AND ISC)", []string{"GPL-3.0-only", "AGPL-3.0-only"}, true},
		{"GPL-3.0-or-later", []string{"GPL-3.0-only"}, false},
		{"GPL-3.0-or-later", []string{"GPL-3.0*"}, true},
		{"LGPL-2.1-only", []string{"GPL-*"}, false},
		{"GPL-2.0-only WITH Classpath-exception-2.0", []string{"GPL-2.0-only"}, true},
		{"GPL-2.0+", []string{"gpl-2.0-or-later"}, true},
		// Text that is not an expression still names the license: fail closed.
		{"GPL-3.0-only AND (", []string{"GPL-3.0-only"}, true},
		{"LicenseRef-LGPL-3.0-only", []string{"GPL-3.0-only"}, false},
		{"", []string{"GPL-3.0-only"}, false},
	} {
		m := newLicenseMatcher(tc.denied)
		_, got := m.deniedLicense(parseLicense(NormalizeLicense(tc.expr)))
		if got != tc.want {
			t.Errorf("deniedLicense(%q, %v) = %v, want %v", tc.expr, tc.denied, got, tc.want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		eco, a, b string
		want      int
	}{
		{"npm", "1.9.0", "1.10.0", -1},
		{"golang", "v0.14.0", "v0.13.0", 1},
		{"golang", "v0.0.0-20230101000000-abcdefabcdef", "v0.1.0", -1},
		{"deb", "1:1.0-1", "2.0-1", 1},
		{"deb", "1.0~rc1", "1.0", -1},
		{"apk", "3.1.4-r5", "3.1.4-r10", -1},
		{"apk", "1.2.4_git20230717-r4", "1.2.4_git20230717-r5", -1},
		{"pypi", "2.0.0rc1", "2.0.0", -1},
		{"pypi", "1.0", "1.0.0", 0},
		{"maven", "1.0-SNAPSHOT", "1.0", -1},
		{"maven", "32.1.2-jre", "33.0.0-jre", -1},
		{"rpm", "1:2.0-1.el9", "3.0-1.el9", 1},
		{"rpm", "2.0-1.el9", "2.0-10.el9", -1},
		{"gem", "not a version 2", "not a version 10", -1},
		{"apk", "∞", "1.0", 1},
	} {
		if got := CompareVersions(tc.eco, tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%s, %q, %q) = %d, want %d", tc.eco, tc.a, tc.b, got, tc.want)
		}
		if got := CompareVersions(tc.eco, tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%s, %q, %q) = %d, want %d", tc.eco, tc.b, tc.a, got, -tc.want)
		}
	}
}

func TestPackageKey(t *testing.T) {
	for _, tc := range []struct {
		p    Package
		want string
	}{
		{Package{PURL: "pkg:pypi/Zope.Interface@6.0"}, "pkg:pypi/zope-interface"},
		{Package{PURL: "pkg:pypi/zope__interface@6.0"}, "pkg:pypi/zope-interface"},
		{Package{PURL: "pkg:npm/%40Types/Node@20.0.0"}, "pkg:npm/@types/node"},
		{Package{PURL: "pkg:npm/@types/node"}, "pkg:npm/@types/node"},
		{Package{PURL: "pkg:deb/debian/libc6@2.36?arch=amd64&distro=debian-12"}, "pkg:deb/debian/libc6?arch=amd64"},
		{Package{PURL: "pkg:apk/alpine/musl@1.2.4-r4?distro=alpine-3.19.1&arch=x86_64"}, "pkg:apk/alpine/musl?arch=x86_64"},
		{Package{PURL: "pkg:npm/a@1.0.0?arch=x64"}, "pkg:npm/a"},
		{Package{PURL: "pkg:maven/org.Apache/Commons@1.0#sub/path"}, "pkg:maven/org.Apache/Commons"},
		{Package{PURL: "PKG:GOLANG/github.com/BurntSushi/toml@v1.0.0"}, "pkg:golang/github.com/burntsushi/toml"},
		{Package{PURL: "not a purl", Name: "X", Ecosystem: "binary"}, "name:binary/x"},
		{Package{Name: "Hello"}, "name:/hello"},
	} {
		if got := tc.p.Key(); got != tc.want {
			t.Errorf("Key(%+v) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestRules(t *testing.T) {
	d := doc("pkg:npm/event-stream@3.3.6|MIT", "pkg:npm/event-stream@4.0.0|MIT", "pkg:npm/%40evil/x@1.0.0|MIT",
		"pkg:pypi/requests@2.30.0|Apache-2.0", "pkg:pypi/Requests@2.32.0|Apache-2.0", "pkg:npm/dual@1|MIT OR AGPL-3.0-only", "pkg:npm/agpl@1|AGPL-3.0-only AND MIT",
		"pkg:deb/debian/libc6@2.36?arch=i386", "pkg:deb/debian/libc6@2.36?arch=amd64")
	rules := Rules{
		DenyLicenses: []string{"AGPL-3.0-only"},
		DenyPackages: []string{"pkg:npm/event-stream@3.3.6", "pkg:npm/@evil/*", "pkg:pypi/requests@<2.31.0", "pkg:deb/debian/libc6?arch=i386"},
	}
	if err := rules.Validate(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range rules.Evaluate(d) {
		got = append(got, v.Rule+" "+v.Package.PURL+" "+v.Pattern)
	}
	want := []string{
		"denyPackages pkg:deb/debian/libc6@2.36?arch=i386 pkg:deb/debian/libc6?arch=i386",
		"denyPackages pkg:npm/%40evil/x@1.0.0 pkg:npm/@evil/*",
		"denyLicenses pkg:npm/agpl@1 AGPL-3.0-only",
		"denyPackages pkg:npm/event-stream@3.3.6 pkg:npm/event-stream@3.3.6",
		"denyPackages pkg:pypi/requests@2.30.0 pkg:pypi/requests@<2.31.0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := (Rules{DenyPackages: []string{"event-stream"}}).Validate(); err == nil {
		t.Errorf("a pattern that is not a purl validated")
	}
	if v := (Rules{}).Evaluate(d); v != nil {
		t.Errorf("empty rules: %v", v)
	}
}
