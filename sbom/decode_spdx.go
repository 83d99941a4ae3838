package sbom

import (
	"strings"
)

type spdxPackage struct {
	SPDXID                string
	Name                  string
	VersionInfo           string
	LicenseConcluded      string
	LicenseDeclared       string
	SourceInfo            string
	PrimaryPackagePurpose string
	PURL                  string // the first externalRef of type purl
}

type spdxRelationship struct {
	Element string
	Type    string
	Related string
}

var spdxPackageKeys = []string{"SPDXID", "name", "versionInfo", "licenseConcluded", "licenseDeclared", "sourceInfo", "primaryPackagePurpose", "externalRefs"}

func readSPDXPackage(r *jsonReader) (spdxPackage, error) {
	var p spdxPackage
	err := r.object("a package", spdxPackageKeys, func(k []byte) error {
		var err error
		switch string(k) {
		case "SPDXID":
			p.SPDXID, err = r.str("SPDXID")
		case "name":
			p.Name, err = r.str("name")
		case "versionInfo":
			p.VersionInfo, err = r.str("versionInfo")
		case "licenseConcluded":
			p.LicenseConcluded, err = r.str("licenseConcluded")
		case "licenseDeclared":
			p.LicenseDeclared, err = r.str("licenseDeclared")
		case "sourceInfo":
			p.SourceInfo, err = r.str("sourceInfo")
		case "primaryPackagePurpose":
			p.PrimaryPackagePurpose, err = r.str("primaryPackagePurpose")
		case "externalRefs":
			err = r.array("externalRefs", classElements, func() error {
				var typ, loc string
				err := r.object("an externalRef", []string{"referenceType", "referenceLocator"}, func(k []byte) error {
					var err error
					switch string(k) {
					case "referenceType":
						typ, err = r.str("referenceType")
					case "referenceLocator":
						loc, err = r.str("referenceLocator")
					default:
						err = r.skip()
					}
					return err
				})
				if p.PURL == "" && strings.EqualFold(typ, "purl") {
					p.PURL = loc
				}
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
	return p, err
}

func readSPDXRelationship(r *jsonReader) (spdxRelationship, error) {
	var rel spdxRelationship
	err := r.object("a relationship", []string{"spdxElementId", "relationshipType", "relatedSpdxElement"}, func(k []byte) error {
		var err error
		switch string(k) {
		case "spdxElementId":
			rel.Element, err = r.str("spdxElementId")
		case "relationshipType":
			rel.Type, err = r.str("relationshipType")
		case "relatedSpdxElement":
			rel.Related, err = r.str("relatedSpdxElement")
		default:
			err = r.skip()
		}
		return err
	})
	rel.Type = strings.ToUpper(rel.Type)
	return rel, err
}

const spdxDocumentID = "SPDXRef-DOCUMENT"

// syftSourceInfoPrefix starts the sourceInfo syft writes for every package:
// "acquired package info from <what>: <path>, <path>".
const syftSourceInfoPrefix = "acquired package info from "

func (r *rawDocument) spdx() (*Document, error) {
	d := &Document{
		Format:        FormatSPDXJSON,
		FormatVersion: strings.TrimPrefix(r.SPDXVersion, "SPDX-"),
		SourceName:    r.SPDXName,
	}
	for _, c := range r.Creators {
		if t, ok := strings.CutPrefix(c, "Tool:"); ok {
			d.Tool, d.ToolVersion = splitToolVersion(strings.TrimSpace(t))
			break
		}
	}

	// The described root is what was scanned (an image, a directory),
	// not one of its packages.
	roots := make(map[string]bool, len(r.DocumentDescribes)+1)
	for _, id := range r.DocumentDescribes {
		roots[id] = true
	}
	for _, rel := range r.Relationships {
		switch {
		case rel.Element == spdxDocumentID && rel.Type == "DESCRIBES":
			roots[rel.Related] = true
		case rel.Related == spdxDocumentID && rel.Type == "DESCRIBED_BY":
			roots[rel.Element] = true
		}
	}

	cache := licenseCache{}
	sawRoot := false
	d.Packages = make([]Package, 0, len(r.Packages))
	for i := range r.Packages {
		sp := &r.Packages[i]
		if roots[sp.SPDXID] {
			if !sawRoot {
				d.SourceKind, d.SourceName, sawRoot = spdxRootKind(sp), sp.Name, true
			}
			continue
		}
		p := Package{Name: sp.Name, Version: sp.VersionInfo, PURL: sp.PURL}
		p.Ecosystem = Ecosystem(p.PURL, "")
		// licenseConcluded is what the SBOM's author concluded; most tools
		// (syft included) write NOASSERTION there and put what the package
		// declares in licenseDeclared.
		lic := sp.LicenseConcluded
		if isNoAssertion(lic) {
			lic = sp.LicenseDeclared
		}
		if !isNoAssertion(lic) {
			p.Licenses = cache.normalize([]string{lic})
		}
		p.Locations = syftSourceInfoPaths(sp.SourceInfo)
		d.Packages = append(d.Packages, p)
		if d.Distro == "" {
			d.Distro = distroOfPURL(p.PURL)
		}
	}
	return d, nil
}

// distroOfPURL reads the distro qualifier of an OS package's purl
// ("distro=alpine-3.19.1" → "alpine 3.19.1"): SPDX has no field for the
// distribution, syft records it there.
func distroOfPURL(purl string) string {
	if !strings.HasPrefix(purl, "pkg:apk/") && !strings.HasPrefix(purl, "pkg:deb/") && !strings.HasPrefix(purl, "pkg:rpm/") && !strings.HasPrefix(purl, "pkg:alpm/") {
		return ""
	}
	_, q, ok := strings.Cut(purl, "?")
	if !ok {
		return ""
	}
	q, _, _ = strings.Cut(q, "#")
	for _, kv := range strings.Split(q, "&") {
		if v, ok := strings.CutPrefix(kv, "distro="); ok {
			v = unescape(v)
			for i := 1; i < len(v); i++ {
				if v[i-1] == '-' && isDigit(v[i]) {
					return v[:i-1] + " " + v[i:]
				}
			}
			return v
		}
	}
	return ""
}

func isNoAssertion(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.EqualFold(s, "NOASSERTION") || strings.EqualFold(s, "NONE")
}

// spdxRootKind reads what syft's root package says it describes.
func spdxRootKind(p *spdxPackage) SourceKind {
	id := p.SPDXID
	switch {
	case strings.HasPrefix(id, "SPDXRef-DocumentRoot-Image-"), strings.HasPrefix(id, "SPDXRef-DocumentRoot-OCIModel-"):
		return SourceImage
	case strings.HasPrefix(id, "SPDXRef-DocumentRoot-Directory-"):
		return SourceDirectory
	case strings.HasPrefix(id, "SPDXRef-DocumentRoot-File-"):
		return SourceFile
	}
	switch strings.ToUpper(p.PrimaryPackagePurpose) {
	case "CONTAINER", "OPERATING-SYSTEM", "OPERATING_SYSTEM":
		return SourceImage
	}
	return SourceUnknown
}

// syftSourceInfoPaths extracts the paths from syft's sourceInfo text.
func syftSourceInfoPaths(s string) []string {
	rest, ok := strings.CutPrefix(s, syftSourceInfoPrefix)
	if !ok {
		return nil
	}
	_, paths, ok := strings.Cut(rest, ": ")
	if !ok || paths == "" {
		return nil
	}
	out := strings.Split(paths, ", ")
	if len(out) > maxLocations {
		out = out[:maxLocations]
	}
	return out
}

// maxLocations is the most paths kept per package.
const maxLocations = 64

// splitToolVersion splits "syft-1.57.2" or "syft 1.57.2" into name and
// version at the first separator followed by a digit.
func splitToolVersion(s string) (string, string) {
	for i := 1; i < len(s); i++ {
		if (s[i-1] == '-' || s[i-1] == ' ' || s[i-1] == '@') && (isDigit(s[i]) || s[i] == 'v' && i+1 < len(s) && isDigit(s[i+1])) {
			return s[:i-1], s[i:]
		}
	}
	// Development builds: "vouch-devel", "tool-unknown".
	if i := strings.LastIndexAny(s, "- "); i > 0 {
		switch strings.Trim(strings.ToLower(s[i+1:]), "()") {
		case "devel", "dev", "unknown", "snapshot", "latest", "main", "master":
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
