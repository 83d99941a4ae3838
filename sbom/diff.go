package sbom

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ReportSchemaVersion is the version of the JSON form of Report.
const ReportSchemaVersion = 1

// ChangeKind classifies one difference between two SBOMs.
type ChangeKind string

const (
	// Added: a package (or one more copy of it) is only in the new SBOM.
	Added ChangeKind = "added"
	// Removed: a package (or one copy of it) is only in the old SBOM.
	Removed ChangeKind = "removed"
	// Upgraded: the package's version went up in its ecosystem's order.
	Upgraded ChangeKind = "upgraded"
	// Downgraded: the version went down: a rollback, or a dependency
	// confusion signal.
	Downgraded ChangeKind = "downgraded"
	// Modified: the version changed but the two compare equal (spelling).
	Modified ChangeKind = "modified"
	// Relicensed: same version, different license.
	Relicensed ChangeKind = "relicensed"
)

// Report is the result of Diff: the changes only, unchanged packages as a
// count. Its JSON form is stable and versioned (schemaVersion).
type Report struct {
	SchemaVersion int          `json:"schemaVersion"`
	Old           DocumentInfo `json:"old"`
	New           DocumentInfo `json:"new"`
	Summary       Summary      `json:"summary"`
	Changes       []Change     `json:"changes"`
	// Warnings say why the comparison may mislead (SBOMs made by
	// different tools or versions, of different kinds of source).
	Warnings []string `json:"warnings"`

	ignoreLicenses bool
}

// DocumentInfo describes one side of a diff.
type DocumentInfo struct {
	Format        Format     `json:"format,omitempty"`
	FormatVersion string     `json:"formatVersion,omitempty"`
	Tool          string     `json:"tool,omitempty"`
	ToolVersion   string     `json:"toolVersion,omitempty"`
	SourceKind    SourceKind `json:"sourceKind,omitempty"`
	SourceName    string     `json:"sourceName,omitempty"`
	Distro        string     `json:"distro,omitempty"`
	Packages      int        `json:"packages"`
}

// Summary counts the changes by kind.
type Summary struct {
	Added      int `json:"added"`
	Removed    int `json:"removed"`
	Upgraded   int `json:"upgraded"`
	Downgraded int `json:"downgraded"`
	Modified   int `json:"modified"`
	Relicensed int `json:"relicensed"`
	// LicenseChanged counts every change whose license differs, including
	// upgrades and downgrades that also changed license.
	LicenseChanged int `json:"licenseChanged"`
	Unchanged      int `json:"unchanged"`
}

// Change is one difference. Old… fields are empty for Added, New… for
// Removed.
type Change struct {
	Kind ChangeKind `json:"kind"`
	// Name is the package as reports show it (purl type/namespace/name in
	// the document's spelling); Key is its normalised identity.
	Name      string `json:"name"`
	Key       string `json:"key"`
	Ecosystem string `json:"ecosystem,omitempty"`
	// PURL is the new side's package URL (the old one for Removed).
	PURL        string   `json:"purl,omitempty"`
	OldVersion  string   `json:"oldVersion,omitempty"`
	NewVersion  string   `json:"newVersion,omitempty"`
	OldLicenses string   `json:"oldLicenses,omitempty"`
	NewLicenses string   `json:"newLicenses,omitempty"`
	Locations   []string `json:"locations,omitempty"`
	// LicenseChanged: both sides declare a license and they differ.
	LicenseChanged bool `json:"licenseChanged,omitempty"`
}

// DiffOption changes how Diff compares.
type DiffOption func(*diffOptions)

type diffOptions struct {
	ignoreLicenses bool
}

// IgnoreLicenses compares versions only: no Relicensed changes and no
// LicenseChanged flags. Useful when the two SBOMs come from tools that
// detect licenses differently. The default is to compare licenses.
func IgnoreLicenses() DiffOption {
	return func(o *diffOptions) { o.ignoreLicenses = true }
}

// entry is one package prepared for comparison.
type entry struct {
	key  string
	locs string
	pkg  *Package
}

func entriesOf(d *Document) []entry {
	if d == nil {
		return nil
	}
	es := make([]entry, len(d.Packages))
	for i := range d.Packages {
		p := &d.Packages[i]
		es[i] = entry{key: p.Key(), locs: strings.Join(p.Locations, "\x00"), pkg: p}
	}
	slices.SortFunc(es, compareEntries)
	return es
}

func compareEntries(a, b entry) int {
	// Evaluated lazily: the key decides almost every comparison.
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	if c := strings.Compare(a.pkg.Version, b.pkg.Version); c != 0 {
		return c
	}
	if c := strings.Compare(a.locs, b.locs); c != 0 {
		return c
	}
	if c := strings.Compare(a.pkg.Licenses, b.pkg.Licenses); c != 0 {
		return c
	}
	if c := strings.Compare(a.pkg.PURL, b.pkg.PURL); c != 0 {
		return c
	}
	return strings.Compare(a.pkg.Name, b.pkg.Name)
}

// Diff compares two SBOMs package by package and reports what changed.
//
// Packages are matched by identity (Package.Key: the purl without version,
// qualifiers and subpath, normalised per ecosystem). Several copies of one
// package are matched as a multiset: same version and locations first, then
// same version, then same location, and the rest paired in their
// ecosystem's version order (highest with highest); what is left over is
// added or removed. Versions are ordered per ecosystem (see
// CompareVersions), so upgrades and downgrades are told apart. Licenses are
// compared as normalised expressions, and a change is reported only when
// both sides declare one.
//
// The result is deterministic: the same inputs give the same report,
// whatever the order of packages in the documents. Diff runs in
// O(n log n) for n packages.
func Diff(old, new *Document, opts ...DiffOption) *Report {
	var o diffOptions
	for _, opt := range opts {
		opt(&o)
	}
	r := &Report{
		ignoreLicenses: o.ignoreLicenses,
		SchemaVersion:  ReportSchemaVersion,
		Old:            infoOf(old),
		New:            infoOf(new),
		Changes:        []Change{},
		Warnings:       comparabilityWarnings(old, new),
	}
	a, b := entriesOf(old), entriesOf(new)
	for i, j := 0, 0; i < len(a) || j < len(b); {
		switch {
		case j == len(b) || i < len(a) && a[i].key < b[j].key:
			r.add(Change{Kind: Removed}, &a[i], nil)
			i++
		case i == len(a) || b[j].key < a[i].key:
			r.add(Change{Kind: Added}, nil, &b[j])
			j++
		default:
			key := a[i].key
			ei, ej := i, j
			for ei < len(a) && a[ei].key == key {
				ei++
			}
			for ej < len(b) && b[ej].key == key {
				ej++
			}
			r.matchGroup(a[i:ei], b[j:ej])
			i, j = ei, ej
		}
	}
	return r
}

func infoOf(d *Document) DocumentInfo {
	if d == nil {
		return DocumentInfo{}
	}
	return DocumentInfo{
		Format: d.Format, FormatVersion: d.FormatVersion,
		Tool: d.Tool, ToolVersion: d.ToolVersion,
		SourceKind: d.SourceKind, SourceName: d.SourceName,
		Distro: d.Distro, Packages: len(d.Packages),
	}
}

// matchGroup matches the copies of one package on both sides. Both slices
// are sorted by compareEntries.
func (r *Report) matchGroup(old, new []entry) {
	usedOld := make([]bool, len(old))
	usedNew := make([]bool, len(new))
	pair := func(i, j int) {
		usedOld[i], usedNew[j] = true, true
		r.pair(&old[i], &new[j])
	}
	// 1. Same version and locations; 2. same version. Both sides are
	// sorted by (version, locations), so each pass is a merge.
	for pass := 0; pass < 2; pass++ {
		for i, j := 0, 0; i < len(old) && j < len(new); {
			if usedOld[i] {
				i++
				continue
			}
			if usedNew[j] {
				j++
				continue
			}
			c := strings.Compare(old[i].pkg.Version, new[j].pkg.Version)
			if c == 0 && pass == 0 {
				c = strings.Compare(old[i].locs, new[j].locs)
			}
			switch {
			case c < 0:
				i++
			case c > 0:
				j++
			default:
				pair(i, j)
				i++
				j++
			}
		}
	}
	// 3. The same location, where it names one copy on each side.
	leftOld, leftNew := unused(usedOld), unused(usedNew)
	if len(leftOld) > 0 && len(leftNew) > 0 {
		byLoc := func(es []entry, idx []int) map[string]int {
			m := map[string]int{}
			for _, i := range idx {
				if es[i].locs == "" {
					continue
				}
				if _, dup := m[es[i].locs]; dup {
					m[es[i].locs] = -1
				} else {
					m[es[i].locs] = i
				}
			}
			return m
		}
		lo, ln := byLoc(old, leftOld), byLoc(new, leftNew)
		for _, i := range leftOld {
			if k := lo[old[i].locs]; k >= 0 && old[i].locs != "" {
				if j, ok := ln[old[i].locs]; ok && j >= 0 {
					pair(i, j)
				}
			}
		}
		leftOld, leftNew = unused(usedOld), unused(usedNew)
	}
	// 4. The rest in version order, highest with highest.
	eco := ecosystemOfGroup(old, new)
	byVersion := func(es []entry) func(x, y int) int {
		return func(x, y int) int {
			return cmp.Or(-CompareVersions(eco, es[x].pkg.Version, es[y].pkg.Version), strings.Compare(es[x].pkg.Version, es[y].pkg.Version), x-y)
		}
	}
	slices.SortFunc(leftOld, byVersion(old))
	slices.SortFunc(leftNew, byVersion(new))
	n := min(len(leftOld), len(leftNew))
	for k := 0; k < n; k++ {
		pair(leftOld[k], leftNew[k])
	}
	// Report extras in the group's sorted order, for determinism.
	for i := range old {
		if !usedOld[i] {
			r.add(Change{Kind: Removed}, &old[i], nil)
		}
	}
	for j := range new {
		if !usedNew[j] {
			r.add(Change{Kind: Added}, nil, &new[j])
		}
	}
}

func unused(used []bool) []int {
	var idx []int
	for i, u := range used {
		if !u {
			idx = append(idx, i)
		}
	}
	return idx
}

func ecosystemOfGroup(old, new []entry) string {
	for _, es := range [][]entry{new, old} {
		for _, e := range es {
			if e.pkg.Ecosystem != "" {
				return e.pkg.Ecosystem
			}
		}
	}
	return ""
}

// pair records the comparison of two matched copies.
func (r *Report) pair(o, n *entry) {
	licChanged := !r.ignoreLicenses && o.pkg.Licenses != "" && n.pkg.Licenses != "" && o.pkg.Licenses != n.pkg.Licenses
	if o.pkg.Version == n.pkg.Version {
		if !licChanged {
			r.Summary.Unchanged++
			return
		}
		r.add(Change{Kind: Relicensed, LicenseChanged: true}, o, n)
		return
	}
	eco := n.pkg.Ecosystem
	if eco == "" {
		eco = o.pkg.Ecosystem
	}
	c := Change{Kind: Modified, LicenseChanged: licChanged}
	switch CompareVersions(eco, o.pkg.Version, n.pkg.Version) {
	case -1:
		c.Kind = Upgraded
	case 1:
		c.Kind = Downgraded
	}
	r.add(c, o, n)
}

func (r *Report) add(c Change, o, n *entry) {
	side := n
	if side == nil {
		side = o
	}
	p := side.pkg
	c.Name, c.Key, c.Ecosystem, c.PURL = displayName(*p), side.key, p.Ecosystem, p.PURL
	if len(p.Locations) > 0 {
		c.Locations = slices.Clone(p.Locations)
	}
	if o != nil {
		c.OldVersion, c.OldLicenses = o.pkg.Version, o.pkg.Licenses
	}
	if n != nil {
		c.NewVersion, c.NewLicenses = n.pkg.Version, n.pkg.Licenses
	}
	switch c.Kind {
	case Added:
		r.Summary.Added++
	case Removed:
		r.Summary.Removed++
	case Upgraded:
		r.Summary.Upgraded++
	case Downgraded:
		r.Summary.Downgraded++
	case Modified:
		r.Summary.Modified++
	case Relicensed:
		r.Summary.Relicensed++
	}
	if c.LicenseChanged {
		r.Summary.LicenseChanged++
	}
	r.Changes = append(r.Changes, c)
}

// comparabilityWarnings says when two SBOMs were not made the same way, so
// differences may come from the tool rather than the software.
func comparabilityWarnings(old, new *Document) []string {
	w := []string{}
	if old == nil || new == nil {
		return w
	}
	name := func(d *Document) string {
		if d.Tool == "" {
			return "an unnamed tool"
		}
		return strings.TrimSpace(d.Tool + " " + d.ToolVersion)
	}
	switch {
	case !strings.EqualFold(old.Tool, new.Tool):
		w = append(w, fmt.Sprintf("the SBOMs were made by different tools (old: %s, new: %s): package naming and license detection differ between tools, so some changes may be artefacts", name(old), name(new)))
	case old.ToolVersion != new.ToolVersion:
		w = append(w, fmt.Sprintf("the SBOMs were made by different versions of %s (old: %s, new: %s): catalogers change between versions, so some changes may be artefacts", old.Tool, cmp.Or(old.ToolVersion, "unknown"), cmp.Or(new.ToolVersion, "unknown")))
	}
	if !comparableKinds(old.SourceKind, new.SourceKind) {
		w = append(w, fmt.Sprintf("the SBOMs describe different kinds of source (old: %s, new: %s): an image scan lists installed packages, a directory scan lists lockfile entries", old.SourceKind, new.SourceKind))
	}
	if old.Format != "" && new.Format != "" && old.Format != new.Format {
		w = append(w, fmt.Sprintf("the SBOMs are in different formats (old: %s, new: %s), which record different details (locations, license form)", old.Format, new.Format))
	}
	for _, s := range []struct {
		side string
		d    *Document
	}{{"old", old}, {"new", new}} {
		if len(s.d.Packages) == 0 {
			w = append(w, fmt.Sprintf("the %s SBOM lists no packages: check that its scan succeeded", s.side))
		}
	}
	return w
}

func comparableKinds(a, b SourceKind) bool {
	fs := func(k SourceKind) bool { return k == SourceDirectory || k == SourceFile }
	return a == b || a == SourceUnknown || b == SourceUnknown || fs(a) && fs(b)
}
