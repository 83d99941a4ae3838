package sbom

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Rules are a policy's checks on the contents of an SBOM (the policy
// document's `sbom:` block), evaluated on a verified SBOM attestation.
type Rules struct {
	// DenyLicenses lists SPDX license IDs or globs. A package whose license
	// expression cannot be satisfied without a denied license violates the
	// rule (OR needs one acceptable branch, AND needs all).
	DenyLicenses []string `json:"denyLicenses,omitempty" yaml:"denyLicenses,omitempty"`
	// DenyPackages lists package URL patterns: pkg:TYPE/NAMESPACE/NAME with
	// an optional @VERSION. Namespace, name and version may use globs (*
	// and [..]; ? would start purl qualifiers); the version may also be a comparison (@<4.17.21, @>=2.0.0,
	// ordered per ecosystem). Names are normalised as identities are (case,
	// PEP 503), and an arch qualifier restricts deb, rpm, apk and alpm
	// patterns to one architecture. Examples: pkg:npm/event-stream@3.3.6,
	// pkg:npm/@evil/*, pkg:pypi/requests@<2.31.0.
	DenyPackages []string `json:"denyPackages,omitempty" yaml:"denyPackages,omitempty"`
}

// Violation is one package that breaks a rule.
type Violation struct {
	Package Package `json:"package"`
	// Rule is "denyLicenses" or "denyPackages"; Pattern is the entry of the
	// rule that matched.
	Rule    string `json:"rule"`
	Pattern string `json:"pattern"`
	// Reason says what is wrong, naming the package.
	Reason string `json:"reason"`
}

// Validate reports patterns that cannot match anything.
func (r Rules) Validate() error {
	for _, p := range r.DenyPackages {
		if _, err := compilePackagePattern(p); err != nil {
			return err
		}
	}
	for _, l := range r.DenyLicenses {
		if _, err := path.Match(strings.ToUpper(l), ""); err != nil {
			return &UsageError{Msg: "denyLicenses: bad pattern " + quote(l)}
		}
	}
	return nil
}

// Evaluate checks every package of d and returns the violations, sorted by
// package then rule; nil when there are none. Invalid patterns (see
// Validate) match nothing.
func (r Rules) Evaluate(d *Document) []Violation {
	if d == nil {
		return nil
	}
	deny := newLicenseMatcher(r.DenyLicenses)
	var pats []packagePattern
	for _, s := range r.DenyPackages {
		if p, err := compilePackagePattern(s); err == nil {
			pats = append(pats, p)
		}
	}
	var out []Violation
	licenseVerdicts := map[string]string{} // expression → denied ID ("" = allowed)
	for _, p := range d.Packages {
		if !deny.empty() && p.Licenses != "" {
			id, seen := licenseVerdicts[p.Licenses]
			if !seen {
				id, _ = deny.deniedLicense(parseLicense(p.Licenses))
				licenseVerdicts[p.Licenses] = id
			}
			if id != "" {
				out = append(out, Violation{Package: p, Rule: "denyLicenses", Pattern: id,
					Reason: fmt.Sprintf("%s %s is licensed %s, which needs denied license %s", displayName(p), p.Version, p.Licenses, id)})
			}
		}
		if len(pats) == 0 {
			continue
		}
		id, ok := parsePURL(p.PURL)
		if !ok {
			continue
		}
		for _, pat := range pats {
			if pat.matches(id, p.Version) {
				out = append(out, Violation{Package: p, Rule: "denyPackages", Pattern: pat.raw,
					Reason: fmt.Sprintf("%s %s matches denied package %s", displayName(p), p.Version, pat.raw)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Violation) int {
		return cmp.Or(strings.Compare(a.Package.Key(), b.Package.Key()), strings.Compare(a.Package.Version, b.Package.Version), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Pattern, b.Pattern))
	})
	return out
}

type packagePattern struct {
	raw string
	id  purlID
	op  string // "", "=", "<", "<=", ">", ">=" (with a version); "" + glob otherwise
}

func compilePackagePattern(s string) (packagePattern, error) {
	p := packagePattern{raw: s}
	id, ok := parsePURL(strings.TrimSpace(s))
	if !ok {
		return p, &UsageError{Msg: "denyPackages: " + quote(s) + " is not a package URL pattern (pkg:TYPE/NAME[@VERSION])"}
	}
	for _, op := range []string{"<=", ">=", "<", ">", "="} {
		if v, ok := strings.CutPrefix(id.version, op); ok {
			p.op, id.version = op, strings.TrimSpace(v)
			break
		}
	}
	for _, part := range []string{id.typ, id.namespace, id.name, id.version} {
		if _, err := path.Match(part, ""); err != nil {
			return p, &UsageError{Msg: "denyPackages: bad glob in " + quote(s)}
		}
	}
	p.id = id
	return p, nil
}

func (p packagePattern) matches(id purlID, version string) bool {
	if !globMatch(p.id.typ, id.typ) || !globMatch(p.id.namespace, id.namespace) || !globMatch(p.id.name, id.name) {
		return false
	}
	if p.id.arch != "" && p.id.arch != id.arch {
		return false
	}
	if p.id.version == "" {
		return true
	}
	if p.op == "" || p.op == "=" {
		return globMatch(p.id.version, version)
	}
	if version == "" {
		return false
	}
	c := CompareVersions(id.typ, version, p.id.version)
	switch p.op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// globMatch matches with path.Match semantics, where * does not cross '/'.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return pattern == s
	}
	ok, _ := path.Match(pattern, s)
	return ok
}
