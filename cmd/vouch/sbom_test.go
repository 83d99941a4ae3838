package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/sbom"
)

func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSBOMGenerate(t *testing.T) {
	dir := t.TempDir()
	writeTestFile(t, dir, "package-lock.json", `{"name":"app","version":"1.0.0","lockfileVersion":3,"packages":{
		"":{"name":"app","version":"1.0.0"},
		"node_modules/lodash":{"version":"4.17.21","license":"MIT"}}}`)
	stdout, stderr, code := run(t, "", "sbom", "generate", "dir:"+dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var spdx struct {
		SPDXVersion  string `json:"spdxVersion"`
		CreationInfo struct {
			Creators []string `json:"creators"`
		} `json:"creationInfo"`
	}
	if err := json.Unmarshal([]byte(stdout), &spdx); err != nil || spdx.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("default output is not SPDX 2.3 (%v): %.300s", err, stdout)
	}
	if !strings.Contains(strings.Join(spdx.CreationInfo.Creators, " "), "Tool: vouch-") {
		t.Errorf("creators %v do not name vouch", spdx.CreationInfo.Creators)
	}

	out := filepath.Join(dir, "app.cdx.json")
	_, stderr, code = run(t, "", "sbom", "generate", "-o", "cyclonedx-json", "--file", out, "dir:"+dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := sbom.Decode(strings.NewReader(string(b)))
	if err != nil || doc.Format != sbom.FormatCycloneDXJSON || doc.FormatVersion != "1.6" {
		t.Fatalf("--file output: %v %+v", err, doc)
	}
	if len(doc.Packages) == 0 || !strings.Contains(stderr, "Wrote cyclonedx-json SBOM") {
		t.Errorf("packages %v, stderr %q", doc.Packages, stderr)
	}
}

func TestSBOMGenerateUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sbom", "generate"}, "one SOURCE"},
		{[]string{"sbom", "generate", "./proj"}, "looks like a local path"},
		{[]string{"sbom", "generate", "-o", "xml", "dir:."}, "spdx-json, cyclonedx-json or syft-json"},
		{[]string{"sbom", "generate", "oci-dir:" + filepath.Join(t.TempDir(), "missing")}, "as oci-dir"},
		{[]string{"sbom", "generate", "--platform", "linux/arm64", "dir:."}, "image sources only"},
	} {
		_, stderr, code := run(t, "", tc.args...)
		if code != exitUndecided || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

const (
	oldCDX = `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"tools":{"components":[{"name":"syft","version":"1.57.2"}]}},"components":[
		{"type":"library","name":"lodash","version":"4.17.21","purl":"pkg:npm/lodash@4.17.21","licenses":[{"license":{"id":"MIT"}}]},
		{"type":"library","name":"express","version":"4.18.2","purl":"pkg:npm/express@4.18.2","licenses":[{"license":{"id":"MIT"}}]}]}`
	newCDX = `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"tools":{"components":[{"name":"syft","version":"1.57.2"}]}},"components":[
		{"type":"library","name":"lodash","version":"4.17.20","purl":"pkg:npm/lodash@4.17.20","licenses":[{"license":{"id":"MIT"}}]},
		{"type":"library","name":"express","version":"4.18.2","purl":"pkg:npm/express@4.18.2","licenses":[{"license":{"id":"MIT"}}]},
		{"type":"library","name":"gpl-or-mit","version":"1.0.0","purl":"pkg:npm/gpl-or-mit@1.0.0","licenses":[{"expression":"MIT OR GPL-3.0-only"}]},
		{"type":"library","name":"gpl-and-mit","version":"1.0.0","purl":"pkg:npm/gpl-and-mit@1.0.0","licenses":[{"expression":"MIT AND GPL-3.0-only"}]}]}`
)

func TestSBOMDiff(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeTestFile(t, dir, "old.cdx.json", oldCDX)
	newPath := writeTestFile(t, dir, "new.cdx.json", newCDX)

	stdout, stderr, code := run(t, "", "sbom", "diff", oldPath, newPath)
	if code != 0 || !strings.Contains(stdout, "downgraded  npm/lodash") || !strings.Contains(stdout, "1 unchanged") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// A tripped gate exits 1 and says why.
	_, stderr, code = run(t, "", "sbom", "diff", "--fail-on", "added,downgrade", oldPath, newPath)
	if code != exitDenied || !strings.Contains(stderr, "denied (downgrade)") || !strings.Contains(stderr, "denied (added)") {
		t.Errorf("--fail-on: exit %d, stderr %q", code, stderr)
	}
	// --deny-license evaluates AND/OR: only gpl-and-mit trips.
	_, stderr, code = run(t, "", "sbom", "diff", "--deny-license", "GPL-3.0-only", oldPath, newPath)
	if code != exitDenied || !strings.Contains(stderr, "gpl-and-mit") || strings.Contains(stderr, "gpl-or-mit") {
		t.Errorf("--deny-license: exit %d, stderr %q", code, stderr)
	}

	stdout, _, code = run(t, "", "sbom", "diff", "-o", "json", "--fail-on", "downgrade", oldPath, newPath)
	var report struct {
		SchemaVersion int `json:"schemaVersion"`
		Summary       struct {
			Downgraded int `json:"downgraded"`
		} `json:"summary"`
		Denied []struct {
			Gate string `json:"gate"`
		} `json:"denied"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil || code != exitDenied {
		t.Fatalf("json: exit %d, %v: %s", code, err, stdout)
	}
	if report.SchemaVersion != schemaVersion || report.Summary.Downgraded != 1 || len(report.Denied) != 1 || report.Denied[0].Gate != "downgrade" {
		t.Errorf("json report %+v", report)
	}
	if sbom.ReportSchemaVersion != schemaVersion {
		t.Errorf("sbom.ReportSchemaVersion %d != schemaVersion %d", sbom.ReportSchemaVersion, schemaVersion)
	}

	stdout, _, code = run(t, "", "sbom", "diff", "-o", "markdown", oldPath, newPath)
	if code != 0 || !strings.Contains(stdout, "| Change | Package |") {
		t.Errorf("markdown: exit %d: %s", code, stdout)
	}

	// NEW from stdin.
	stdout, _, code = run(t, newCDX, "sbom", "diff", oldPath, "-")
	if code != 0 || !strings.Contains(stdout, "npm/lodash") {
		t.Errorf("stdin: exit %d: %s", code, stdout)
	}
}

// Input that cannot be read is "could not decide" (exit 2), never a pass
// or a denial; so is bad usage.
func TestSBOMDiffUnreadable(t *testing.T) {
	dir := t.TempDir()
	oldPath := writeTestFile(t, dir, "old.cdx.json", oldCDX)
	truncated := writeTestFile(t, dir, "truncated.json", newCDX[:len(newCDX)/2])
	liar := writeTestFile(t, dir, "liar.json", `{"bomFormat":"CycloneDX","specVersion":"1.6","packages":[{"name":"x"}]}`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{oldPath, truncated}, "truncated"},
		{[]string{oldPath, liar}, "claims to be cyclonedx-json"},
		{[]string{oldPath, filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"--fail-on", "downgrades", oldPath, oldPath}, "unknown --fail-on"},
		{[]string{oldPath}, "OLD and NEW"},
		{[]string{"-", "-"}, "stdin"},
		{[]string{"-o", "yaml", oldPath, oldPath}, "text, json or markdown"},
	} {
		_, stderr, code := run(t, "", append([]string{"sbom", "diff", "--fail-on", "any"}, tc.args...)...)
		if code != exitUndecided || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}
