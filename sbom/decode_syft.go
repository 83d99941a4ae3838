package sbom

import (
	"bytes"
	"encoding/json"
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
	Name      string         `json:"name"`
	Version   string         `json:"version"`
	Type      string         `json:"type"`
	PURL      string         `json:"purl"`
	Locations []syftLocation `json:"locations"`
	Licenses  []syftLicense  `json:"licenses"`
}

type syftLocation struct {
	Path string `json:"path"`
}

// syftLicense is an object ({value, spdxExpression, type}) in current
// schemas and a bare string in schemas before 8.
type syftLicense struct {
	Value          string `json:"value"`
	SPDXExpression string `json:"spdxExpression"`
	Type           string `json:"type"`
}

func (l *syftLicense) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &l.Value)
	}
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	type plain syftLicense
	return json.Unmarshal(b, (*plain)(l))
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
		for _, l := range a.Locations {
			if len(p.Locations) < maxLocations {
				p.Locations = append(p.Locations, l.Path)
			}
		}
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
