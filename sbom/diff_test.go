package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand"
	"strings"
	"testing"
)

func pkgs(specs ...string) []Package {
	// spec: "purl|licenses|loc1,loc2"
	var out []Package
	for _, s := range specs {
		f := strings.Split(s, "|")
		p := Package{PURL: f[0]}
		if id, ok := parsePURL(f[0]); ok {
			p.Name, p.Version, p.Ecosystem = id.name, id.version, id.typ
		}
		if len(f) > 1 {
			p.Licenses = NormalizeLicense(f[1])
		}
		if len(f) > 2 && f[2] != "" {
			p.Locations = strings.Split(f[2], ",")
		}
		out = append(out, p)
	}
	return out
}

func doc(specs ...string) *Document {
	return &Document{Tool: "syft", ToolVersion: "1.57.2", SourceKind: SourceImage, Packages: pkgs(specs...)}
}

func changeLines(r *Report) string {
	var lines []string
	for _, c := range r.Changes {
		lines = append(lines, c.String())
	}
	return strings.Join(lines, "\n")
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new *Document
		want     string
		summary  Summary
	}{
		{
			name: "added removed upgraded downgraded",
			old:  doc("pkg:npm/lodash@4.17.21", "pkg:npm/left@1.0.0", "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64"),
			new:  doc("pkg:npm/lodash@4.17.20", "pkg:npm/right@1.0.0", "pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64"),
			want: "upgrade deb/debian/libssl3:amd64 3.0.11-1 -> 3.0.13-1~deb12u1\nremoved npm/left 1.0.0\ndowngrade npm/lodash 4.17.21 -> 4.17.20\nadded npm/right 1.0.0",
		},
		{
			// Lexical order would call 1.10.0 older than 1.9.0.
			name: "ecosystem order not lexical",
			old:  doc("pkg:npm/a@1.9.0", "pkg:deb/debian/b@1:1.0-1", "pkg:apk/alpine/c@3.1.4-r5", "pkg:pypi/d@2.0.0rc1", "pkg:maven/g/e@1.0-SNAPSHOT", "pkg:deb/debian/f@1.0~rc1"),
			new:  doc("pkg:npm/a@1.10.0", "pkg:deb/debian/b@2.0-1", "pkg:apk/alpine/c@3.1.4-r10", "pkg:pypi/d@2.0.0", "pkg:maven/g/e@1.0", "pkg:deb/debian/f@1.0"),
			want: "upgrade apk/alpine/c 3.1.4-r5 -> 3.1.4-r10\ndowngrade deb/debian/b 1:1.0-1 -> 2.0-1\nupgrade deb/debian/f 1.0~rc1 -> 1.0\nupgrade maven/g/e 1.0-SNAPSHOT -> 1.0\nupgrade npm/a 1.9.0 -> 1.10.0\nupgrade pypi/d 2.0.0rc1 -> 2.0.0",
		},
		{
			// Identity drops qualifiers (distro bumps) and normalises names.
			name: "identity",
			old:  doc("pkg:apk/alpine/musl@1.2.4-r4?arch=x86_64&distro=alpine-3.19.1", "pkg:pypi/Zope.Interface@6.0", "pkg:npm/%40types/node@20.0.0", "pkg:golang/github.com/BurntSushi/toml@v1.3.2"),
			new:  doc("pkg:apk/alpine/musl@1.2.4-r4?arch=x86_64&distro=alpine-3.20.0", "pkg:pypi/zope_interface@6.0", "pkg:npm/@types/node@20.0.0", "pkg:golang/github.com/burntsushi/toml@v1.3.2"),
			want: "",
		},
		{
			// deb packages of two architectures are two packages.
			name: "arch kept for deb",
			old:  doc("pkg:deb/debian/libc6@2.36-9?arch=amd64", "pkg:deb/debian/libc6@2.36-9?arch=i386"),
			new:  doc("pkg:deb/debian/libc6@2.36-9?arch=amd64"),
			want: "removed deb/debian/libc6:i386 2.36-9",
		},
		{
			// debug {2.6.8 nested, 2.6.9} → {2.6.9, 3.2.7 nested}: 2.6.9 is
			// unchanged, the nested copy upgraded; not two removals and adds.
			name: "several versions",
			old:  doc("pkg:npm/debug@2.6.9||node_modules/debug", "pkg:npm/debug@2.6.8||node_modules/express/node_modules/debug"),
			new:  doc("pkg:npm/debug@3.2.7||node_modules/express/node_modules/debug", "pkg:npm/debug@2.6.9||node_modules/debug"),
			want: "upgrade npm/debug 2.6.8 -> 3.2.7",
		},
		{
			// Same location pairs copies before version order does.
			name: "pair by location",
			old:  doc("pkg:maven/g/a@1.0||/app/lib/a.jar", "pkg:maven/g/a@2.0||/opt/a.jar"),
			new:  doc("pkg:maven/g/a@0.9||/opt/a.jar", "pkg:maven/g/a@1.1||/app/lib/a.jar"),
			want: "upgrade maven/g/a 1.0 -> 1.1\ndowngrade maven/g/a 2.0 -> 0.9",
		},
		{
			// Leftovers pair highest with highest; the rest is added/removed.
			name: "uneven copies",
			old:  doc("pkg:golang/stdlib@go1.21.0", "pkg:golang/stdlib@go1.22.0"),
			new:  doc("pkg:golang/stdlib@go1.22.1"),
			want: "upgrade golang/stdlib go1.22.0 -> go1.22.1\nremoved golang/stdlib go1.21.0",
		},
		{
			name: "relicensed only when both declare",
			old:  doc("pkg:npm/a@1.0.0|MIT", "pkg:npm/b@1.0.0|", "pkg:npm/c@1.0.0|Apache-2.0 AND MIT", "pkg:npm/d@1.0.0|MIT"),
			new:  doc("pkg:npm/a@1.0.0|ISC", "pkg:npm/b@1.0.0|GPL-3.0-only", "pkg:npm/c@1.0.0|mit and apache-2.0", "pkg:npm/d@2.0.0|ISC"),
			want: "license of npm/a 1.0.0 changed from MIT to ISC\nupgrade npm/d 1.0.0 -> 2.0.0 (license MIT -> ISC)",
		},
		{
			name: "no purl keys on ecosystem and name",
			old:  &Document{Packages: []Package{{Name: "Hello", Version: "1", Ecosystem: "binary"}}},
			new:  &Document{Packages: []Package{{Name: "hello", Version: "2", Ecosystem: "binary"}}},
			want: "upgrade binary/hello 1 -> 2",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Diff(tc.old, tc.new)
			if got := changeLines(r); got != tc.want {
				t.Errorf("changes:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// The report must not depend on package order: syft enumerates a map.
func TestDiffDeterministic(t *testing.T) {
	old := doc("pkg:npm/debug@2.6.9|MIT|/a", "pkg:npm/debug@2.6.9||/b", "pkg:npm/debug@2.6.8|MIT", "pkg:npm/x@1.0.0", "pkg:npm/y@1.0.0|MIT", "pkg:npm/z@3.0.0")
	new := doc("pkg:npm/debug@2.6.9||/a", "pkg:npm/debug@2.6.9|MIT|/b", "pkg:npm/debug@4.0.0", "pkg:npm/debug@1.0.0", "pkg:npm/y@1.0.0|ISC", "pkg:npm/z@2.0.0")
	want, _ := json.Marshal(Diff(old, new))
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 50; i++ {
		rng.Shuffle(len(old.Packages), func(i, j int) { old.Packages[i], old.Packages[j] = old.Packages[j], old.Packages[i] })
		rng.Shuffle(len(new.Packages), func(i, j int) { new.Packages[i], new.Packages[j] = new.Packages[j], new.Packages[i] })
		got, _ := json.Marshal(Diff(old, new))
		if !bytes.Equal(got, want) {
			t.Fatalf("order-dependent report:\n%s\nvs\n%s", got, want)
		}
	}
}

func TestDiffWarnings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		old, new *Document
		want     string
	}{
		{"same", doc("pkg:npm/a@1"), doc("pkg:npm/a@1"), ""},
		{"tools", &Document{Tool: "syft", Packages: pkgs("pkg:npm/a@1")}, &Document{Tool: "trivy", Packages: pkgs("pkg:npm/a@1")}, "different tools"},
		{"versions", &Document{Tool: "syft", ToolVersion: "1.0.0", Packages: pkgs("pkg:npm/a@1")}, &Document{Tool: "syft", ToolVersion: "1.57.2", Packages: pkgs("pkg:npm/a@1")}, "different versions of syft"},
		{"kinds", &Document{SourceKind: SourceImage, Packages: pkgs("pkg:npm/a@1")}, &Document{SourceKind: SourceDirectory, Packages: pkgs("pkg:npm/a@1")}, "different kinds of source"},
		{"formats", &Document{Format: FormatSPDXJSON, Packages: pkgs("pkg:npm/a@1")}, &Document{Format: FormatCycloneDXJSON, Packages: pkgs("pkg:npm/a@1")}, "different formats"},
		{"empty", doc("pkg:npm/a@1"), doc(), "new SBOM lists no packages"},
	} {
		r := Diff(tc.old, tc.new)
		got := strings.Join(r.Warnings, "\n")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: warnings %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestGate(t *testing.T) {
	old := doc("pkg:npm/a@1.0.0|MIT", "pkg:npm/b@2.0.0|MIT", "pkg:npm/c@1.0.0|MIT", "pkg:npm/gone@1.0.0")
	new := doc("pkg:npm/a@1.0.0|MIT", "pkg:npm/b@1.0.0|MIT", "pkg:npm/c@1.0.0|Apache-2.0",
		"pkg:npm/dual@1.0.0|MIT OR GPL-3.0-only", "pkg:npm/both@1.0.0|MIT AND GPL-3.0-only", "pkg:npm/exc@1.0.0|GPL-2.0-only WITH Classpath-exception-2.0")
	r := Diff(old, new)
	for _, tc := range []struct {
		name  string
		gates Gates
		want  []string // gates that trip, in order
	}{
		{"none", Gates{}, nil},
		{"downgrade", Gates{FailOn: []string{"downgrade"}}, []string{"downgrade"}},
		{"added", Gates{FailOn: []string{"added"}}, []string{"added", "added", "added"}},
		{"removed", Gates{FailOn: []string{"removed"}}, []string{"removed"}},
		{"license-change", Gates{FailOn: []string{"license-change"}}, []string{"license-change"}},
		// MIT OR GPL-3.0-only can be taken as MIT; MIT AND GPL-3.0-only cannot.
		{"deny AND/OR", Gates{DenyLicenses: []string{"GPL-3.0-only"}}, []string{"deny-license"}},
		{"deny deprecated spelling", Gates{DenyLicenses: []string{"gpl-3.0"}}, []string{"deny-license"}},
		{"deny glob", Gates{DenyLicenses: []string{"GPL-*"}}, []string{"deny-license", "deny-license"}},
		{"deny WITH", Gates{DenyLicenses: []string{"GPL-2.0-only"}}, []string{"deny-license"}},
		{"deny unchanged is not judged", Gates{DenyLicenses: []string{"MIT"}}, []string{"deny-license", "deny-license"}},
	} {
		err := r.Gate(tc.gates)
		var ge *GateError
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.As(err, &ge) || !ge.Denied() {
			t.Fatalf("%s: %v, want a GateError", tc.name, err)
		}
		var got []string
		for _, tr := range ge.Trips {
			got = append(got, tr.Gate)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: tripped %v, want %v (%v)", tc.name, got, tc.want, err)
		}
	}
	var ue *UsageError
	if err := r.Gate(Gates{FailOn: []string{"downgrades"}}); !errors.As(err, &ue) {
		t.Errorf("unknown gate: %v, want a UsageError", err)
	}
}

func TestWriteMarkdownHostileNames(t *testing.T) {
	var specs []string
	for i := 0; i < 3000; i++ {
		specs = append(specs, "pkg:npm/pkg"+strings.Repeat("x", i%50)+"-"+string(rune('a'+i%26))+"@1.0.0")
	}
	new := doc(specs...)
	new.Packages = append(new.Packages, Package{Name: "evil|`@octocat <img src=x>`\n| injected |", Version: "1\x1b[31m"})
	r := Diff(doc(), new)
	var md bytes.Buffer
	if err := r.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if md.Len() > MarkdownMaxBytes {
		t.Errorf("markdown is %d bytes, over %d", md.Len(), MarkdownMaxBytes)
	}
	if !strings.Contains(md.String(), "more changes not shown") {
		t.Errorf("no truncation note")
	}
	r = Diff(doc(), &Document{Packages: new.Packages[len(new.Packages)-1:]})
	md.Reset()
	r.WriteMarkdown(&md)
	for _, line := range strings.Split(md.String(), "\n") {
		if strings.HasPrefix(line, "| ") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 5 {
			t.Errorf("a package name broke the table: %q", line)
		}
	}
	if strings.Contains(md.String(), "\x1b") || strings.Contains(md.String(), "| injected |") {
		t.Errorf("control characters or a row injection survived:\n%s", md.String())
	}
	var text bytes.Buffer
	r.WriteText(&text)
	if strings.Contains(text.String(), "\x1b") {
		t.Errorf("escape sequence in text output")
	}
}
