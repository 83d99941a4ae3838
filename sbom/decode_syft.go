package sbom

import (
	"strings"
)

type syftSchema struct {
	Version string `json:"version"`
	URL     string `json:"url"`
}

type syftDescriptor struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type syftSource struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type syftDistro struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	VersionID string `json:"versionID"`
}

type syftArtifact struct {
	Name      string
	Version   string
	Type      string
	PURL      string
	Locations []string
	Licenses  []syftLicense
}

// syftLicense is an object ({value, spdxExpression, type}) in current
// schemas and a bare string in schemas before 8.
type syftLicense struct {
	Value          string
	SPDXExpression string
	Type           string
}

var syftArtifactKeys = []string{"name", "version", "type", "purl", "locations", "licenses"}

func readSyftArtifact(r *jsonReader) (syftArtifact, error) {
	var a syftArtifact
	err := r.object("an artifact", syftArtifactKeys, func(k []byte) error {
		var err error
		switch string(k) {
		case "name":
			a.Name, err = r.str("name")
		case "version":
			a.Version, err = r.str("version")
		case "type":
			a.Type, err = r.str("type")
		case "purl":
			a.PURL, err = r.str("purl")
		case "locations":
			err = r.array("locations", classElements, func() error {
				return r.object("a location", []string{"path"}, func(k []byte) error {
					if string(k) != "path" {
						return r.skip()
					}
					p, err := r.str("path")
					if len(a.Locations) < maxLocations {
						a.Locations = append(a.Locations, p)
					}
					return err
				})
			})
		case "licenses":
			err = r.array("licenses", classElements, func() error {
				var l syftLicense
				var err error
				if r.peek() == '"' {
					l.Value, err = r.str("license")
				} else {
					err = r.object("a license", []string{"value", "spdxExpression", "type"}, func(k []byte) error {
						var err error
						switch string(k) {
						case "value":
							l.Value, err = r.str("license value")
						case "spdxExpression":
							l.SPDXExpression, err = r.str("spdxExpression")
						case "type":
							l.Type, err = r.str("license type")
						default:
							err = r.skip()
						}
						return err
					})
				}
				a.Licenses = append(a.Licenses, l)
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
	return a, err
}

func (r *rawDocument) syft() (*Document, error) {
	d := &Document{Format: FormatSyftJSON}
	if r.Schema != nil {
		d.FormatVersion = r.Schema.Version
	}
	if r.Descriptor != nil {
		d.Tool, d.ToolVersion = r.Descriptor.Name, r.Descriptor.Version
	}
	if r.Source != nil {
		d.SourceName = r.Source.Name
		d.SourceKind = syftSourceKind(r.Source.Type)
	}
	if r.Distro != nil {
		name := r.Distro.ID
		if name == "" {
			name = r.Distro.Name
		}
		d.Distro = strings.TrimSpace(name + " " + r.Distro.VersionID)
	}
	cache := licenseCache{}
	d.Packages = make([]Package, 0, len(r.Artifacts))
	for i := range r.Artifacts {
		a := &r.Artifacts[i]
		p := Package{Name: a.Name, Version: a.Version, PURL: a.PURL, Ecosystem: Ecosystem(a.PURL, a.Type)}
		p.Locations = a.Locations
		var concluded, all []string
		for _, l := range a.Licenses {
			text := l.SPDXExpression
			if text == "" {
				text = l.Value
			}
			if text == "" {
				continue
			}
			all = append(all, text)
			if l.Type == "concluded" {
				concluded = append(concluded, text)
			}
		}
		if len(concluded) > 0 {
			all = concluded
		}
		p.Licenses = cache.normalize(all)
		d.Packages = append(d.Packages, p)
	}
	return d, nil
}

func syftSourceKind(t string) SourceKind {
	switch t {
	case "image", "snap", "oci-model":
		return SourceImage
	case "directory", "dir":
		return SourceDirectory
	case "file":
		return SourceFile
	}
	return SourceUnknown
}
