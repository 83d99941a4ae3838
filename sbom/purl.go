package sbom

import (
	"net/url"
	"strings"
)

// purlID is the identity part of a package URL: type, namespace, name and
// the qualifiers that distinguish co-installable packages (arch for deb, rpm,
// apk and alpm). Version, other qualifiers and subpath are not part of it.
type purlID struct {
	typ, namespace, name string
	arch                 string
	version              string // kept for pattern matching, not part of the key
}

// parsePURL parses a package URL leniently (pkg:type/ns/name@version?q#sub,
// percent-decoding each segment) and normalises it per ecosystem. It is a
// hand-written parser rather than packageurl-go because it runs once per
// package on inputs of 10^5 packages and must never fail loudly: a bad purl
// falls back to name keying.
func parsePURL(s string) (purlID, bool) {
	var id purlID
	if len(s) < 5 || !strings.EqualFold(s[:4], "pkg:") {
		return id, false
	}
	s = strings.TrimLeft(s[4:], "/")
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	var qualifiers string
	if i := strings.LastIndexByte(s, '?'); i >= 0 {
		s, qualifiers = s[:i], s[i+1:]
	}
	// The version separator is the last '@' after the last '/': npm scopes
	// are often written literally as pkg:npm/@scope/name.
	if i := strings.LastIndexByte(s, '@'); i >= 0 && i > strings.LastIndexByte(s, '/') {
		id.version = unescape(s[i+1:])
		s = s[:i]
	}
	slash := strings.IndexByte(s, '/')
	if slash <= 0 {
		return id, false
	}
	id.typ = strings.ToLower(s[:slash])
	rest := strings.Trim(s[slash+1:], "/")
	if rest == "" {
		return id, false
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		segs := strings.Split(rest[:i], "/")
		for j, seg := range segs {
			segs[j] = unescape(seg)
		}
		id.namespace = strings.Join(segs, "/")
		id.name = unescape(rest[i+1:])
	} else {
		id.name = unescape(rest)
	}
	if id.name == "" {
		return id, false
	}
	if keepsArch(id.typ) && qualifiers != "" {
		for _, q := range strings.Split(qualifiers, "&") {
			if k, v, ok := strings.Cut(q, "="); ok && strings.EqualFold(k, "arch") {
				id.arch = strings.ToLower(unescape(v))
			}
		}
	}
	id.normalise()
	return id, true
}

func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

// keepsArch reports whether packages of this type can be installed once per
// architecture side by side, so the arch qualifier is part of the identity.
func keepsArch(typ string) bool {
	switch typ {
	case "deb", "rpm", "apk", "alpm":
		return true
	}
	return false
}

// normalise applies the purl spec's per-type rules, and PEP 503 for pypi.
// Matching is case-insensitive where the ecosystem's resolver is; Maven,
// gem and the rest stay case-sensitive.
func (id *purlID) normalise() {
	switch id.typ {
	case "alpm", "apk", "bitbucket", "composer", "deb", "github", "gitlab", "golang", "hex", "npm", "nuget", "cargo", "pub", "huggingface", "mlflow", "oci", "swid":
		id.namespace = strings.ToLower(id.namespace)
		id.name = strings.ToLower(id.name)
	case "pypi":
		id.namespace = strings.ToLower(id.namespace)
		id.name = pep503(id.name)
	case "rpm":
		id.namespace = strings.ToLower(id.namespace)
	}
}

// pep503 normalises a Python project name: lower case, runs of -, _ and .
// collapsed to a single -.
func pep503(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			sep = true
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteByte(c)
	}
	return b.String()
}

func (id purlID) key() string {
	var b strings.Builder
	b.Grow(len(id.typ) + len(id.namespace) + len(id.name) + len(id.arch) + 16)
	b.WriteString("pkg:")
	b.WriteString(id.typ)
	b.WriteByte('/')
	if id.namespace != "" {
		b.WriteString(id.namespace)
		b.WriteByte('/')
	}
	b.WriteString(id.name)
	if id.arch != "" {
		b.WriteString("?arch=")
		b.WriteString(id.arch)
	}
	return b.String()
}

// displayName is how reports name a package: the purl's type, namespace and
// name as the document spells them (Go module paths and Maven coordinates
// are case-sensitive to their tools), with the architecture for deb and
// rpm, where one package may be installed for several.
func displayName(p Package) string {
	if id, ok := parsePURLRaw(p.PURL); ok {
		var b strings.Builder
		b.WriteString(id.typ)
		b.WriteByte('/')
		if id.namespace != "" {
			b.WriteString(id.namespace)
			b.WriteByte('/')
		}
		b.WriteString(id.name)
		if id.arch != "" && (id.typ == "deb" || id.typ == "rpm") {
			b.WriteByte(':')
			b.WriteString(id.arch)
		}
		return b.String()
	}
	if p.Ecosystem != "" {
		return p.Ecosystem + "/" + p.Name
	}
	return p.Name
}

// parsePURLRaw parses without case or PEP 503 normalisation, for display.
func parsePURLRaw(s string) (purlID, bool) {
	if s == "" {
		return purlID{}, false
	}
	id, ok := parsePURL(s)
	if !ok {
		return id, false
	}
	// Re-derive namespace and name with their original spelling.
	raw := s[4:]
	raw = strings.TrimLeft(raw, "/")
	if i := strings.LastIndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.LastIndexByte(raw, '?'); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.LastIndexByte(raw, '@'); i >= 0 && i > strings.LastIndexByte(raw, '/') {
		raw = raw[:i]
	}
	if slash := strings.IndexByte(raw, '/'); slash > 0 {
		rest := strings.Trim(raw[slash+1:], "/")
		if i := strings.LastIndexByte(rest, '/'); i >= 0 {
			id.namespace = unescape(rest[:i])
			id.name = unescape(rest[i+1:])
		} else {
			id.namespace, id.name = "", unescape(rest)
		}
	}
	return id, true
}

// ecosystemOfSyftType maps syft's package types to purl types, for packages
// that carry no purl.
func ecosystemOfSyftType(t string) string {
	switch t {
	case "go-module":
		return "golang"
	case "python":
		return "pypi"
	case "java-archive", "jenkins-plugin":
		return "maven"
	case "rust-crate":
		return "cargo"
	case "dotnet":
		return "nuget"
	case "php-composer":
		return "composer"
	case "dart-pub":
		return "pub"
	case "github-action", "github-action-workflow":
		return "github"
	case "apk", "deb", "rpm", "npm", "gem", "hex", "conan", "alpm", "cocoapods", "swift", "hackage", "opam", "conda":
		return t
	}
	return t
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= 0x80 {
			return strings.ToLower(s)
		}
	}
	return s
}
