package sbom

import (
	"path"
	"sort"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
)

// Limits on license expressions, which come from documents.
const (
	// MaxLicenseExpressionLen is the longest expression parsed as an
	// expression; longer text is kept as one opaque license reference.
	MaxLicenseExpressionLen = 4096
	// maxLicenseDepth bounds parenthesis nesting.
	maxLicenseDepth = 32
)

// NormalizeLicense returns the canonical form of an SPDX license expression,
// so that two documents that say the same thing compare equal. Several
// expressions (the separate license statements of one package, as syft and
// CycloneDX list them) are combined with AND.
//
//   - license IDs in the SPDX list's spelling (mit → MIT), deprecated GNU IDs
//     mapped to -only / -or-later (GPL-2.0+ → GPL-2.0-or-later);
//   - names that are not on the list as LicenseRef-<name>, with characters
//     outside [A-Za-z0-9.-] replaced by '-' (what syft's SPDX writer does),
//     whether or not the document wrote the LicenseRef- or sha256: prefix;
//   - AND / OR operands flattened, de-duplicated and sorted;
//   - NOASSERTION and NONE dropped (no license information).
//
// Text that is not a valid expression becomes a single LicenseRef.
// Normalising a normalised expression returns it unchanged.
func NormalizeLicense(exprs ...string) string {
	switch len(exprs) {
	case 0:
		return ""
	case 1:
		return parseLicense(exprs[0]).String()
	}
	n := &licenseNode{op: opAnd}
	for _, e := range exprs {
		n.kids = append(n.kids, parseLicense(e))
	}
	return n.simplify().String()
}

type licenseOp uint8

const (
	opLeaf licenseOp = iota
	opAnd
	opOr
	opNone // no information
)

type licenseNode struct {
	op   licenseOp
	id   string // leaf: canonical license, "ID" or "ID WITH exception"
	kids []*licenseNode
}

func (n *licenseNode) String() string {
	switch n.op {
	case opNone:
		return ""
	case opLeaf:
		return n.id
	}
	parts := make([]string, 0, len(n.kids))
	for _, k := range n.kids {
		s := k.String()
		if k.op == opAnd || k.op == opOr {
			s = "(" + s + ")"
		}
		parts = append(parts, s)
	}
	sep := " AND "
	if n.op == opOr {
		sep = " OR "
	}
	return strings.Join(parts, sep)
}

func parseLicense(expr string) *licenseNode {
	expr = strings.TrimSpace(expr)
	if expr == "" {
		return &licenseNode{op: opNone}
	}
	if len(expr) > MaxLicenseExpressionLen {
		if !strings.ContainsAny(expr, " \t\r\n()") {
			return &licenseNode{op: opLeaf, id: canonicalLicenseID(expr)}
		}
		return opaqueLicense(expr[:MaxLicenseExpressionLen])
	}
	p := licenseParser{toks: tokenizeLicense(expr)}
	n, ok := p.or(0)
	if !ok || p.pos != len(p.toks) {
		return opaqueLicense(expr)
	}
	return n.simplify()
}

// opaqueLicense keeps text that is not an expression as one LicenseRef.
// Rules still see license IDs inside it (see licenseMatcher.deniedLicense).
func opaqueLicense(expr string) *licenseNode {
	return &licenseNode{op: opLeaf, id: "LicenseRef-" + sanitizeLicenseRef(expr)}
}

func tokenizeLicense(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			flush(i)
		case '(', ')':
			flush(i)
			toks = append(toks, s[i:i+1])
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

type licenseParser struct {
	toks []string
	pos  int
}

func (p *licenseParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op)
}

func (p *licenseParser) or(depth int) (*licenseNode, bool) {
	n, ok := p.and(depth)
	if !ok {
		return nil, false
	}
	for p.peekOp("OR") {
		p.pos++
		r, ok := p.and(depth)
		if !ok {
			return nil, false
		}
		n = &licenseNode{op: opOr, kids: []*licenseNode{n, r}}
	}
	return n, true
}

func (p *licenseParser) and(depth int) (*licenseNode, bool) {
	n, ok := p.with(depth)
	if !ok {
		return nil, false
	}
	for p.peekOp("AND") {
		p.pos++
		r, ok := p.with(depth)
		if !ok {
			return nil, false
		}
		n = &licenseNode{op: opAnd, kids: []*licenseNode{n, r}}
	}
	return n, true
}

func (p *licenseParser) with(depth int) (*licenseNode, bool) {
	if p.pos >= len(p.toks) {
		return nil, false
	}
	t := p.toks[p.pos]
	if t == "(" {
		if depth >= maxLicenseDepth {
			return nil, false
		}
		p.pos++
		n, ok := p.or(depth + 1)
		if !ok || p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return nil, false
		}
		p.pos++
		return n, true
	}
	if t == ")" || isLicenseOperator(t) {
		return nil, false
	}
	p.pos++
	id := canonicalLicenseID(t)
	if id == "" {
		return &licenseNode{op: opNone}, true
	}
	if p.peekOp("WITH") {
		p.pos++
		if p.pos >= len(p.toks) || p.toks[p.pos] == "(" || p.toks[p.pos] == ")" || isLicenseOperator(p.toks[p.pos]) {
			return nil, false
		}
		exc := p.toks[p.pos]
		p.pos++
		if ok, canon := spdxlicenses.IsException(exc); ok {
			exc = canon
		}
		id += " WITH " + exc
	}
	return &licenseNode{op: opLeaf, id: id}, true
}

func isLicenseOperator(t string) bool {
	return strings.EqualFold(t, "AND") || strings.EqualFold(t, "OR") || strings.EqualFold(t, "WITH")
}

// gnuOnly maps deprecated GNU license IDs (and their + forms) to the
// current ones.
var gnuFamilies = []string{"GPL-1.0", "GPL-2.0", "GPL-3.0", "LGPL-2.0", "LGPL-2.1", "LGPL-3.0", "AGPL-1.0", "AGPL-3.0", "GFDL-1.1", "GFDL-1.2", "GFDL-1.3"}

// canonicalLicenseID returns the SPDX list spelling of a license ID, or
// LicenseRef-<sanitised> for anything else; "" for NOASSERTION and NONE.
// It is idempotent: the sanitised form is looked up too, so a second pass
// over LicenseRef-<sanitised> finds nothing new.
func canonicalLicenseID(t string) string {
	if strings.EqualFold(t, "NOASSERTION") || strings.EqualFold(t, "NONE") {
		return ""
	}
	if len(t) > len("LicenseRef-") && strings.EqualFold(t[:len("LicenseRef-")], "LicenseRef-") {
		t = t[len("LicenseRef-"):]
	}
	t = strings.TrimPrefix(t, "sha256:")
	if id, ok := lookupLicenseID(t); ok {
		return id
	}
	s := sanitizeLicenseRef(t)
	if s != t {
		if id, ok := lookupLicenseID(s); ok {
			return id
		}
	}
	return "LicenseRef-" + s
}

func lookupLicenseID(t string) (string, bool) {
	if ok, canon := spdxlicenses.IsActiveLicense(t); ok {
		return canon, true
	}
	plus := strings.HasSuffix(t, "+")
	base := strings.TrimSuffix(t, "+")
	for _, fam := range gnuFamilies {
		if strings.EqualFold(base, fam) {
			if plus {
				return fam + "-or-later", true
			}
			return fam + "-only", true
		}
	}
	if ok, canon := spdxlicenses.IsDeprecatedLicense(t); ok {
		return canon, true
	}
	if plus {
		if ok, canon := spdxlicenses.IsActiveLicense(base); ok {
			return canon + "+", true
		}
	}
	return "", false
}

// sanitizeLicenseRef is syft's SPDX element-ID rule: anything outside
// [A-Za-z0-9.-] becomes '-'.
func sanitizeLicenseRef(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// simplify flattens nested operators of the same kind, drops "no
// information" operands, de-duplicates and sorts.
func (n *licenseNode) simplify() *licenseNode {
	if n.op != opAnd && n.op != opOr {
		return n
	}
	var kids []*licenseNode
	var add func(k *licenseNode)
	add = func(k *licenseNode) {
		k = k.simplify()
		switch {
		case k.op == opNone:
		case k.op == n.op:
			kids = append(kids, k.kids...)
		default:
			kids = append(kids, k)
		}
	}
	for _, k := range n.kids {
		add(k)
	}
	sort.SliceStable(kids, func(i, j int) bool { return kids[i].String() < kids[j].String() })
	out := kids[:0]
	for i, k := range kids {
		if i > 0 && k.String() == kids[i-1].String() {
			continue
		}
		out = append(out, k)
	}
	switch len(out) {
	case 0:
		return &licenseNode{op: opNone}
	case 1:
		return out[0]
	}
	return &licenseNode{op: n.op, kids: out}
}

// licenseMatcher decides whether a single license is denied.
type licenseMatcher struct {
	exact map[string]bool // upper-cased canonical IDs
	globs []string        // upper-cased patterns with * or ?
}

func newLicenseMatcher(denied []string) licenseMatcher {
	m := licenseMatcher{exact: map[string]bool{}}
	for _, d := range denied {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		if strings.ContainsAny(d, "*?[") {
			m.globs = append(m.globs, strings.ToUpper(d))
			continue
		}
		m.exact[strings.ToUpper(d)] = true
		if c := canonicalLicenseID(d); c != "" {
			m.exact[strings.ToUpper(c)] = true
		}
	}
	return m
}

func (m licenseMatcher) empty() bool { return len(m.exact) == 0 && len(m.globs) == 0 }

func (m licenseMatcher) matches(id string) bool {
	u := strings.ToUpper(id)
	if m.exact[u] {
		return true
	}
	for _, g := range m.globs {
		if ok, _ := path.Match(g, u); ok {
			return true
		}
	}
	return false
}

// deniedLicense reports whether an expression cannot be satisfied without a
// denied license, and names one denied license that makes it so. OR needs
// one acceptable branch, AND needs all; a license WITH an exception is
// denied when the license is, or the whole "ID WITH exception" is.
func (m licenseMatcher) deniedLicense(n *licenseNode) (string, bool) {
	switch n.op {
	case opLeaf:
		if m.matches(n.id) {
			return n.id, true
		}
		if lic, _, ok := strings.Cut(n.id, " WITH "); ok && m.matches(lic) {
			return lic, true
		}
		// Fail closed on text that is not on the SPDX list: a LicenseRef
		// that spells out a denied ID ("LicenseRef-GPL-3.0-only-AND--") is
		// denied.
		if len(n.id) > len("LicenseRef-") && strings.HasPrefix(n.id, "LicenseRef-") {
			ref := strings.ToUpper(n.id[len("LicenseRef-"):])
			for d := range m.exact {
				if containsWord(ref, d) {
					return d, true
				}
			}
		}
		return "", false
	case opAnd:
		for _, k := range n.kids {
			if id, bad := m.deniedLicense(k); bad {
				return id, true
			}
		}
		return "", false
	case opOr:
		var first string
		for i, k := range n.kids {
			id, bad := m.deniedLicense(k)
			if !bad {
				return "", false
			}
			if i == 0 {
				first = id
			}
		}
		return first, len(n.kids) > 0
	}
	return "", false
}

// containsWord reports whether w occurs in s as a whole license ID: not
// preceded or followed by a letter, digit, '.' or '+', and not followed by
// "-ONLY" or "-OR-LATER" (which would make it another ID). s and w are upper
// case.
func containsWord(s, w string) bool {
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		end := i + len(w)
		before := i == 0 || !isIDChar(s[i-1])
		after := end == len(s) || !isIDChar(s[end]) && !strings.HasPrefix(s[end:], "-ONLY") && !strings.HasPrefix(s[end:], "-OR-LATER")
		if before && after {
			return true
		}
		off = i + 1
	}
	return false
}

func isIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '+'
}
