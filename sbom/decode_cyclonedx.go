package sbom

import (
	"cmp"
	"sort"
	"strconv"
	"strings"
)

type cdxMetadata struct {
	Component             *cdxComponent
	ToolName, ToolVersion string
}

type cdxComponent struct {
	BOMRef     string
	Type       string
	Group      string
	Name       string
	Version    string
	PURL       string
	Licenses   []cdxLicense
	SyftType   string   // property syft:package:type
	Locations  []string // properties syft:location:N:path (in N order), then evidence occurrences
	Components []cdxComponent
}

type cdxLicense struct {
	Text            string // id, name or expression
	Acknowledgement string // "declared" or "concluded" (CycloneDX 1.6)
}

func readCDXMetadata(r *jsonReader) (*cdxMetadata, error) {
	m := &cdxMetadata{}
	err := r.object("metadata", []string{"component", "tools"}, func(k []byte) error {
		switch string(k) {
		case "component":
			if r.null() {
				return nil
			}
			c, err := readCDXComponent(r, 1)
			m.Component = &c
			return err
		case "tools":
			// An array of tools (CycloneDX ≤ 1.4) or an object with
			// components and services (1.5 and later).
			readTools := func() error {
				var name, version string
				err := r.object("a tool", []string{"name", "version"}, func(k []byte) error {
					var err error
					switch string(k) {
					case "name":
						name, err = r.str("tool name")
					case "version":
						version, err = r.str("tool version")
					default:
						err = r.skip()
					}
					return err
				})
				if m.ToolName == "" && name != "" {
					m.ToolName, m.ToolVersion = name, version
				}
				return err
			}
			if r.peek() == '[' {
				return r.array("metadata.tools", classElements, readTools)
			}
			return r.object("metadata.tools", []string{"components", "services"}, func(k []byte) error {
				switch string(k) {
				case "components", "services":
					return r.array("metadata.tools."+string(k), classElements, readTools)
				}
				return r.skip()
			})
		}
		return r.skip()
	})
	return m, err
}

var cdxComponentKeys = []string{"bom-ref", "type", "group", "name", "version", "purl", "licenses", "properties", "evidence", "components"}

func readCDXComponent(r *jsonReader, depth int) (cdxComponent, error) {
	var c cdxComponent
	if depth > maxComponentDepth {
		return c, &DecodeError{Format: FormatCycloneDXJSON, Msg: "components nested deeper than " + strconv.Itoa(maxComponentDepth) + " levels", Err: ErrLimit}
	}
	type loc struct {
		i    int
		path string
	}
	var locs []loc
	var occurrences []string
	err := r.object("a component", cdxComponentKeys, func(k []byte) error {
		var err error
		switch string(k) {
		case "bom-ref":
			c.BOMRef, err = r.str("bom-ref")
		case "type":
			c.Type, err = r.str("type")
		case "group":
			c.Group, err = r.str("group")
		case "name":
			c.Name, err = r.str("name")
		case "version":
			c.Version, err = r.str("version")
		case "purl":
			c.PURL, err = r.str("purl")
		case "licenses":
			err = r.array("licenses", classElements, func() error {
				l, err := readCDXLicense(r)
				if l.Text != "" {
					c.Licenses = append(c.Licenses, l)
				}
				return err
			})
		case "properties":
			err = r.array("properties", classElements, func() error {
				var name, value string
				err := r.object("a property", []string{"name", "value"}, func(k []byte) error {
					var err error
					switch string(k) {
					case "name":
						name, err = r.str("property name")
					case "value":
						value, err = r.str("property value")
					default:
						err = r.skip()
					}
					return err
				})
				switch {
				case name == "syft:package:type":
					c.SyftType = value
				case strings.HasPrefix(name, "syft:location:") && strings.HasSuffix(name, ":path"):
					n, nerr := strconv.Atoi(name[len("syft:location:") : len(name)-len(":path")])
					if nerr == nil && len(locs) < maxLocations {
						locs = append(locs, loc{n, value})
					}
				}
				return err
			})
		case "evidence":
			err = r.object("evidence", []string{"occurrences"}, func(k []byte) error {
				if string(k) != "occurrences" {
					return r.skip()
				}
				return r.array("evidence.occurrences", classElements, func() error {
					return r.object("an occurrence", []string{"location"}, func(k []byte) error {
						if string(k) != "location" {
							return r.skip()
						}
						l, err := r.str("location")
						if l != "" && len(occurrences) < maxLocations {
							occurrences = append(occurrences, l)
						}
						return err
					})
				})
			})
		case "components":
			err = r.array("components", classPackages, func() error {
				sub, err := readCDXComponent(r, depth+1)
				c.Components = append(c.Components, sub)
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
	sort.SliceStable(locs, func(i, j int) bool { return locs[i].i < locs[j].i })
	for _, l := range locs {
		c.Locations = append(c.Locations, l.path)
	}
	for _, o := range occurrences {
		if len(c.Locations) < maxLocations {
			c.Locations = append(c.Locations, o)
		}
	}
	return c, err
}

func readCDXLicense(r *jsonReader) (cdxLicense, error) {
	var l cdxLicense
	var id, name, expr string
	err := r.object("a license choice", []string{"license", "expression", "acknowledgement"}, func(k []byte) error {
		var err error
		switch string(k) {
		case "expression":
			expr, err = r.str("expression")
		case "acknowledgement":
			l.Acknowledgement, err = r.str("acknowledgement")
		case "license":
			err = r.object("license", []string{"id", "name", "acknowledgement"}, func(k []byte) error {
				var err error
				switch string(k) {
				case "id":
					id, err = r.str("license id")
				case "name":
					name, err = r.str("license name")
				case "acknowledgement":
					l.Acknowledgement, err = r.str("acknowledgement")
				default:
					err = r.skip()
				}
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
	l.Text = cmp.Or(expr, id, name)
	return l, err
}

func (r *rawDocument) cyclonedx() (*Document, error) {
	d := &Document{Format: FormatCycloneDXJSON, FormatVersion: r.SpecVersion}
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
		d.Tool, d.ToolVersion = m.ToolName, m.ToolVersion
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
	p := Package{Name: c.Name, Version: c.Version, PURL: c.PURL, Locations: c.Locations}
	if p.PURL == "" && c.SyftType == "" && c.Group != "" {
		p.Name = c.Group + "/" + c.Name
	}
	p.Ecosystem = Ecosystem(p.PURL, c.SyftType)

	// CycloneDX 1.6 marks each license as declared or concluded; prefer the
	// concluded ones when there are any, as SPDX readers do.
	var concluded, all []string
	for _, l := range c.Licenses {
		all = append(all, l.Text)
		if l.Acknowledgement == "concluded" {
			concluded = append(concluded, l.Text)
		}
	}
	if len(concluded) > 0 {
		all = concluded
	}
	p.Licenses = cache.normalize(all)
	return p
}
