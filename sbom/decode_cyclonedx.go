package sbom

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

type cdxMetadata struct {
	Component *cdxComponent `json:"component"`
	// Tools is an array of tools (CycloneDX ≤ 1.4) or an object with
	// components and services (1.5 and later).
	Tools json.RawMessage `json:"tools"`
}

type cdxComponent struct {
	BOMRef     string             `json:"bom-ref"`
	Type       string             `json:"type"`
	Group      string             `json:"group"`
	Name       string             `json:"name"`
	Version    string             `json:"version"`
	PURL       string             `json:"purl"`
	Licenses   []cdxLicenseChoice `json:"licenses"`
	Properties []cdxProperty      `json:"properties"`
	Evidence   *cdxEvidence       `json:"evidence"`
	Components []cdxComponent     `json:"components"`
}

type cdxLicenseChoice struct {
	License *struct {
		ID              string `json:"id"`
		Name            string `json:"name"`
		Acknowledgement string `json:"acknowledgement"`
	} `json:"license"`
	Expression      string `json:"expression"`
	Acknowledgement string `json:"acknowledgement"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxEvidence struct {
	Occurrences []struct {
		Location string `json:"location"`
	} `json:"occurrences"`
}

type cdxTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (r *rawDocument) cyclonedx(o decodeOptions) (*Document, error) {
	d := &Document{Format: FormatCycloneDXJSON}
	json.Unmarshal(r.SpecVersion, &d.FormatVersion) //nolint:errcheck // checked by identify
	var rootRef string
	if m := r.Metadata; m != nil {
		if c := m.Component; c != nil {
			rootRef = c.BOMRef
			d.SourceName = c.Name
			switch c.Type {
			case "container":
				d.SourceKind = SourceImage
			case "file":
				// syft writes "file" for directories and files alike.
				d.SourceKind = SourceDirectory
			}
		}
		d.Tool, d.ToolVersion = cdxToolOf(m.Tools)
	}

	cache := licenseCache{}
	d.Packages = make([]Package, 0, len(r.Components))
	var walk func(cs []cdxComponent, depth int) error
	walk = func(cs []cdxComponent, depth int) error {
		if depth > maxComponentDepth {
			return &DecodeError{Format: FormatCycloneDXJSON, Msg: "components nested deeper than " + strconv.Itoa(maxComponentDepth) + " levels", Err: ErrLimit}
		}
		for i := range cs {
			c := &cs[i]
			switch {
			case c.Type == "file":
				// File entries are not packages.
			case c.Type == "operating-system":
				if d.Distro == "" {
					d.Distro = strings.TrimSpace(c.Name + " " + c.Version)
				}
			case rootRef != "" && c.BOMRef == rootRef:
				// The described root, repeated among the components.
			default:
				d.Packages = append(d.Packages, cdxPackage(c, cache))
			}
			if len(c.Components) > 0 {
				if err := walk(c.Components, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(r.Components, 0); err != nil {
		return nil, err
	}
	if m := r.Metadata; m != nil && m.Component != nil && len(m.Component.Components) > 0 {
		// Sub-components of the root are packages of what was scanned.
		if err := walk(m.Component.Components, 1); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// maxComponentDepth bounds CycloneDX component nesting.
const maxComponentDepth = 32

func cdxPackage(c *cdxComponent, cache licenseCache) Package {
	p := Package{Name: c.Name, Version: c.Version, PURL: c.PURL}
	var syftType string
	type loc struct {
		i    int
		path string
	}
	var locs []loc
	for _, prop := range c.Properties {
		switch {
		case prop.Name == "syft:package:type":
			syftType = prop.Value
		case strings.HasPrefix(prop.Name, "syft:location:") && strings.HasSuffix(prop.Name, ":path"):
			n, err := strconv.Atoi(prop.Name[len("syft:location:") : len(prop.Name)-len(":path")])
			if err == nil && len(locs) < maxLocations {
				locs = append(locs, loc{n, prop.Value})
			}
		}
	}
	sort.SliceStable(locs, func(i, j int) bool { return locs[i].i < locs[j].i })
	for _, l := range locs {
		p.Locations = append(p.Locations, l.path)
	}
	if c.Evidence != nil {
		for _, oc := range c.Evidence.Occurrences {
			if oc.Location != "" && len(p.Locations) < maxLocations {
				p.Locations = append(p.Locations, oc.Location)
			}
		}
	}
	if p.PURL == "" && syftType == "" && c.Group != "" {
		p.Name = c.Group + "/" + c.Name
	}
	p.Ecosystem = Ecosystem(p.PURL, syftType)

	// CycloneDX 1.6 marks each license as declared or concluded; prefer the
	// concluded ones when there are any, as SPDX readers do.
	var concluded, all []string
	for _, l := range c.Licenses {
		var text, ack string
		switch {
		case l.Expression != "":
			text, ack = l.Expression, l.Acknowledgement
		case l.License != nil && l.License.ID != "":
			text, ack = l.License.ID, l.License.Acknowledgement
		case l.License != nil && l.License.Name != "":
			text, ack = l.License.Name, l.License.Acknowledgement
		default:
			continue
		}
		all = append(all, text)
		if ack == "concluded" {
			concluded = append(concluded, text)
		}
	}
	if len(concluded) > 0 {
		all = concluded
	}
	p.Licenses = cache.normalize(all)
	return p
}

func cdxToolOf(raw json.RawMessage) (string, string) {
	if len(raw) == 0 {
		return "", ""
	}
	var legacy []cdxTool
	if json.Unmarshal(raw, &legacy) == nil {
		for _, t := range legacy {
			if t.Name != "" {
				return t.Name, t.Version
			}
		}
		return "", ""
	}
	var modern struct {
		Components []cdxTool `json:"components"`
		Services   []cdxTool `json:"services"`
	}
	if json.Unmarshal(raw, &modern) == nil {
		for _, t := range append(modern.Components, modern.Services...) {
			if t.Name != "" {
				return t.Name, t.Version
			}
		}
	}
	return "", ""
}
