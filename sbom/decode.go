package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Limits on documents Decode accepts. Documents come from strangers (an
// attestation, a pull request's artifact), so every size and count that
// drives memory is capped before it is allocated. The defaults hold the
// largest real SBOMs measured (a Debian root file system with 93,000 file
// entries: 77 MB of SPDX) with room to spare; options raise or lower them.
const (
	// MaxDocumentBytes is the largest document read.
	MaxDocumentBytes = 256 << 20
	// MaxPackages is the most packages (SPDX packages, CycloneDX components
	// at any depth, syft artifacts) one document may hold.
	MaxPackages = 250_000
	// MaxElements is the most license, location, property, external
	// reference and relationship entries one document may hold, together.
	MaxElements = 8_000_000
	// MaxDepth is the deepest JSON nesting accepted in the parts of a
	// document Decode skips (CycloneDX components may nest 32 deep).
	MaxDepth = 128
)

// DecodeOption changes how Decode reads a document.
type DecodeOption func(*decodeOptions) error

type decodeOptions struct {
	maxBytes    int64
	maxPackages int
	maxElements int
	format      Format
}

// WithMaxBytes sets the largest document Decode reads. The default is
// MaxDocumentBytes.
func WithMaxBytes(n int64) DecodeOption {
	return func(o *decodeOptions) error {
		if n <= 0 {
			return &UsageError{Msg: "WithMaxBytes needs a positive size"}
		}
		o.maxBytes = n
		return nil
	}
}

// WithMaxPackages sets the most packages a document may hold. The default
// is MaxPackages.
func WithMaxPackages(n int) DecodeOption {
	return func(o *decodeOptions) error {
		if n <= 0 {
			return &UsageError{Msg: "WithMaxPackages needs a positive count"}
		}
		o.maxPackages = n
		o.maxElements = max(o.maxElements, 32*n)
		return nil
	}
}

// WithFormat makes Decode fail unless the document is in format f. Use it
// where the format is claimed elsewhere (an in-toto predicate type of
// https://spdx.dev/Document must carry SPDX). The default is to accept any
// supported format.
func WithFormat(f Format) DecodeOption {
	return func(o *decodeOptions) error {
		switch f {
		case FormatSPDXJSON, FormatCycloneDXJSON, FormatSyftJSON:
			o.format = f
			return nil
		}
		return &UsageError{Msg: "WithFormat: unknown format " + quote(string(f))}
	}
}

// Decode reads an SBOM in SPDX 2.x JSON, CycloneDX JSON (1.0–1.7) or syft
// JSON, identified from its content. It keeps what comparisons and rules
// need (see Document) and drops the rest, reading the validated JSON with a
// pull reader rather than reflection: two 100,000-package documents decode
// and diff in about 1.4 s on one core.
//
// Keys match exactly, as the formats define them. A key that differs from
// one Decode reads only in case ("Components") is refused: readers built on
// encoding/json would take it for the real one and see other packages.
//
// Errors are *DecodeError values naming the detected format and what is
// wrong: truncated or invalid JSON (with line and column), a document that
// claims one format and carries another's fields, an unsupported version
// (SPDX 3, XML, tag-value), or a limit exceeded (wrapping ErrLimit).
func Decode(r io.Reader, opts ...DecodeOption) (*Document, error) {
	o := decodeOptions{maxBytes: MaxDocumentBytes, maxPackages: MaxPackages, maxElements: MaxElements}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	data, err := io.ReadAll(io.LimitReader(r, o.maxBytes+1))
	if err != nil {
		return nil, &DecodeError{Msg: "reading input: " + err.Error(), Err: err}
	}
	if int64(len(data)) > o.maxBytes {
		return nil, &DecodeError{Format: sniff(data), Msg: fmt.Sprintf("document is larger than %d bytes", o.maxBytes), Err: ErrLimit}
	}
	return decodeBytes(data, o)
}

func decodeBytes(data []byte, o decodeOptions) (*Document, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, &DecodeError{Msg: "empty input"}
	case trimmed[0] == '<':
		return nil, &DecodeError{Msg: "this is XML; only JSON SBOMs are read (convert with syft convert or cyclonedx-cli)"}
	case bytes.HasPrefix(trimmed, []byte("SPDXVersion:")):
		return nil, &DecodeError{Format: FormatSPDXJSON, Msg: "this is SPDX tag-value; only SPDX JSON is read (convert with syft convert or spdx tools-java)"}
	case trimmed[0] != '{':
		return nil, &DecodeError{Format: sniff(data), Msg: "not a JSON object"}
	}
	if !json.Valid(trimmed) {
		// Parse again for the position and kind of the problem.
		var v struct{}
		err := json.Unmarshal(trimmed, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, jsonError(trimmed, sniff(trimmed), err)
	}
	r := &jsonReader{data: trimmed, format: sniff(trimmed), maxPackages: o.maxPackages, maxElements: o.maxElements}
	var raw rawDocument
	if err := raw.read(r); err != nil {
		return nil, err
	}
	f, err := raw.identify()
	if err != nil {
		return nil, err
	}
	if o.format != "" && o.format != f {
		return nil, &DecodeError{Format: f, Msg: fmt.Sprintf("expected %s, but the document is %s", o.format, f)}
	}
	var d *Document
	switch f {
	case FormatSPDXJSON:
		d, err = raw.spdx()
	case FormatCycloneDXJSON:
		d, err = raw.cyclonedx()
	case FormatSyftJSON:
		d, err = raw.syft()
	}
	if err != nil {
		return nil, err
	}
	if len(d.Packages) > o.maxPackages {
		return nil, &DecodeError{Format: f, Msg: fmt.Sprintf("more than %d packages", o.maxPackages), Err: ErrLimit}
	}
	return d, nil
}

// sniff guesses a document's format from its marker fields, for error
// messages about documents that could not be parsed (a truncated file).
func sniff(data []byte) Format {
	switch {
	case bytes.Contains(data, []byte(`"bomFormat"`)):
		return FormatCycloneDXJSON
	case bytes.Contains(data, []byte(`"spdxVersion"`)):
		return FormatSPDXJSON
	case bytes.Contains(data, []byte(`"artifacts"`)) || bytes.Contains(data, []byte(`"anchore/syft`)):
		return FormatSyftJSON
	}
	return ""
}

// jsonError turns encoding/json errors into messages with a position.
func jsonError(data []byte, f Format, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		if strings.Contains(syn.Error(), "exceeded max depth") {
			return &DecodeError{Format: f, Msg: "JSON nested deeper than encoding/json's limit of 10000 levels", Err: fmt.Errorf("%w: %v", ErrLimit, err)}
		}
		if syn.Offset >= int64(len(data)) || strings.Contains(syn.Error(), "unexpected end") {
			return &DecodeError{Format: f, Msg: "truncated document: the JSON ends before it is complete", Err: err}
		}
		line, col := position(data, syn.Offset)
		return &DecodeError{Format: f, Msg: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, syn), Err: err}
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "a value"
		}
		return &DecodeError{Format: f, Msg: fmt.Sprintf("%s at line %d, column %d is a JSON %s; expected %s", field, line, col, typ.Value, jsonKind(typ.Type.Kind().String())), Err: err}
	}
	return &DecodeError{Format: f, Msg: err.Error(), Err: err}
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a " + k
}

func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	col = int(off) - bytes.LastIndexByte(data[:off], '\n')
	return line, col
}

// rawDocument holds the fields of all three formats that Decode reads.
// Which fields are present tells the format, and fields of two formats in
// one document are an error. Slices are nil when their key is absent (or
// null) and non-nil when present.
type rawDocument struct {
	// SPDX 2.x
	SPDXVersion       string
	SPDXName          string
	Creators          []string
	DocumentDescribes []string
	Packages          []spdxPackage
	Relationships     []spdxRelationship
	// SPDX 3 (JSON-LD) marker
	Context []byte

	// CycloneDX
	BOMFormat   string
	SpecVersion string
	Metadata    *cdxMetadata
	Components  []cdxComponent

	// syft
	Schema     *syftSchema
	Descriptor *syftDescriptor
	Source     *syftSource
	Distro     *syftDistro
	Artifacts  []syftArtifact
}

var topLevelKeys = []string{"spdxVersion", "name", "creationInfo", "documentDescribes", "packages", "relationships", "@context",
	"bomFormat", "specVersion", "metadata", "components", "schema", "descriptor", "source", "distro", "artifacts"}

func (d *rawDocument) read(r *jsonReader) error {
	if r.peek() != '{' {
		return r.typeError("the document", "an object")
	}
	return r.object("the document", topLevelKeys, func(key []byte) error {
		var err error
		switch string(key) {
		case "spdxVersion":
			d.SPDXVersion, err = r.str("spdxVersion")
		case "name":
			d.SPDXName, err = r.str("name")
		case "creationInfo":
			err = r.object("creationInfo", []string{"creators"}, func(k []byte) error {
				if string(k) != "creators" {
					return r.skip()
				}
				d.Creators = d.Creators[:0]
				return r.array("creators", classElements, func() error {
					s, err := r.str("a creator")
					d.Creators = append(d.Creators, s)
					return err
				})
			})
		case "documentDescribes":
			d.DocumentDescribes = []string{}
			err = r.array("documentDescribes", classElements, func() error {
				s, err := r.str("documentDescribes entry")
				d.DocumentDescribes = append(d.DocumentDescribes, s)
				return err
			})
		case "packages":
			n, perr := r.precount()
			if perr != nil {
				return perr
			}
			if r.peek() != 'n' {
				d.Packages = make([]spdxPackage, 0, n)
			}
			err = r.array("packages", classPackages, func() error {
				p, err := readSPDXPackage(r)
				d.Packages = append(d.Packages, p)
				return err
			})
		case "relationships":
			err = r.array("relationships", classElements, func() error {
				rel, err := readSPDXRelationship(r)
				if rel.Type == "DESCRIBES" || rel.Type == "DESCRIBED_BY" {
					d.Relationships = append(d.Relationships, rel)
				}
				return err
			})
		case "@context":
			start := r.pos
			err = r.skip()
			d.Context = r.data[start:r.pos]
		case "bomFormat":
			d.BOMFormat, err = r.str("bomFormat")
		case "specVersion":
			d.SpecVersion, err = r.str("specVersion")
		case "metadata":
			d.Metadata, err = readCDXMetadata(r)
		case "components":
			n, perr := r.precount()
			if perr != nil {
				return perr
			}
			if r.peek() != 'n' {
				d.Components = make([]cdxComponent, 0, n)
			}
			err = r.array("components", classPackages, func() error {
				c, err := readCDXComponent(r, 1)
				d.Components = append(d.Components, c)
				return err
			})
		case "schema":
			d.Schema = &syftSchema{}
			err = r.object("schema", []string{"version", "url"}, func(k []byte) error {
				var err error
				switch string(k) {
				case "version":
					d.Schema.Version, err = r.str("schema.version")
				case "url":
					d.Schema.URL, err = r.str("schema.url")
				default:
					err = r.skip()
				}
				return err
			})
		case "descriptor":
			d.Descriptor = &syftDescriptor{}
			err = r.object("descriptor", []string{"name", "version"}, func(k []byte) error {
				var err error
				switch string(k) {
				case "name":
					d.Descriptor.Name, err = r.str("descriptor.name")
				case "version":
					d.Descriptor.Version, err = r.str("descriptor.version")
				default:
					err = r.skip()
				}
				return err
			})
		case "source":
			d.Source = &syftSource{}
			err = r.object("source", []string{"name", "type"}, func(k []byte) error {
				var err error
				switch string(k) {
				case "name":
					d.Source.Name, err = r.str("source.name")
				case "type":
					d.Source.Type, err = r.str("source.type")
				default:
					err = r.skip()
				}
				return err
			})
		case "distro":
			d.Distro = &syftDistro{}
			err = r.object("distro", []string{"id", "name", "versionID"}, func(k []byte) error {
				var err error
				switch string(k) {
				case "id":
					d.Distro.ID, err = r.str("distro.id")
				case "name":
					d.Distro.Name, err = r.str("distro.name")
				case "versionID":
					d.Distro.VersionID, err = r.str("distro.versionID")
				default:
					err = r.skip()
				}
				return err
			})
		case "artifacts":
			n, perr := r.precount()
			if perr != nil {
				return perr
			}
			if r.peek() != 'n' {
				d.Artifacts = make([]syftArtifact, 0, n)
			}
			err = r.array("artifacts", classPackages, func() error {
				a, err := readSyftArtifact(r)
				d.Artifacts = append(d.Artifacts, a)
				return err
			})
		default:
			err = r.skip()
		}
		return err
	})
}

func (r *rawDocument) identify() (Format, error) {
	var claims []string
	var f Format
	if r.SPDXVersion != "" {
		claims, f = append(claims, "spdxVersion (SPDX)"), FormatSPDXJSON
	}
	if r.BOMFormat != "" {
		claims, f = append(claims, "bomFormat (CycloneDX)"), FormatCycloneDXJSON
	}
	if r.Schema != nil && strings.Contains(r.Schema.URL, "anchore/syft") || r.Artifacts != nil && r.Descriptor != nil {
		claims, f = append(claims, "schema/artifacts (syft)"), FormatSyftJSON
	}
	switch len(claims) {
	case 0:
		if bytes.Contains(r.Context, []byte("spdx.org/rdf/3")) {
			return "", &DecodeError{Format: FormatSPDXJSON, Msg: "this is SPDX 3 (JSON-LD), which is not read yet; write SPDX 2.3 (syft: -o spdx-json@2.3)"}
		}
		return "", &DecodeError{Msg: "not a recognised SBOM: no spdxVersion (SPDX 2.x), bomFormat (CycloneDX) or syft schema field"}
	case 1:
	default:
		return "", &DecodeError{Msg: "the document claims to be several formats at once: " + strings.Join(claims, ", ") + "; refusing to guess"}
	}
	// A document whose marker says one format but whose content is
	// another's is refused: a consumer reading the marker would see
	// different packages than one reading the content.
	foreign := map[Format][]struct {
		present bool
		field   string
	}{
		FormatSPDXJSON:      {{r.Components != nil, "components (CycloneDX)"}, {r.Artifacts != nil, "artifacts (syft)"}},
		FormatCycloneDXJSON: {{r.Packages != nil, "packages (SPDX)"}, {r.Artifacts != nil, "artifacts (syft)"}},
		FormatSyftJSON:      {{r.Packages != nil, "packages (SPDX)"}, {r.Components != nil, "components (CycloneDX)"}},
	}
	for _, x := range foreign[f] {
		if x.present {
			return "", &DecodeError{Format: f, Msg: fmt.Sprintf("the document claims to be %s but carries %s; refusing to guess which to read", f, x.field)}
		}
	}
	switch f {
	case FormatSPDXJSON:
		v := r.SPDXVersion
		switch {
		case strings.HasPrefix(v, "SPDX-2."):
		case strings.HasPrefix(v, "SPDX-3"):
			return "", &DecodeError{Format: f, Msg: "SPDX 3 is not read yet; write SPDX 2.3"}
		default:
			return "", &DecodeError{Format: f, Msg: "unsupported spdxVersion " + quote(v) + "; SPDX 2.x JSON is read"}
		}
	case FormatCycloneDXJSON:
		if !strings.EqualFold(r.BOMFormat, "CycloneDX") {
			return "", &DecodeError{Format: f, Msg: "bomFormat is " + quote(r.BOMFormat) + ", not \"CycloneDX\""}
		}
		if !strings.HasPrefix(r.SpecVersion, "1.") {
			return "", &DecodeError{Format: f, Msg: "unsupported specVersion " + quote(r.SpecVersion) + "; CycloneDX 1.x JSON is read"}
		}
	}
	return f, nil
}

// licenseCache normalises each distinct license text once per document:
// in real SBOMs a handful of expressions cover thousands of packages.
type licenseCache map[string]string

func (c licenseCache) normalize(parts []string) string {
	if len(parts) == 0 {
		return ""
	}
	k := parts[0]
	if len(parts) > 1 {
		k = strings.Join(parts, "\x00")
	}
	if v, ok := c[k]; ok {
		return v
	}
	v := NormalizeLicense(parts...)
	c[k] = v
	return v
}

// Ecosystem is the ecosystem of a package: its purl's type, or, without a
// usable purl, syft's package type mapped to a purl type ("go-module" →
// "golang", "python" → "pypi", "java-archive" → "maven", …).
func Ecosystem(purl, syftType string) string {
	if id, ok := parsePURL(purl); ok {
		return id.typ
	}
	return ecosystemOfSyftType(syftType)
}
