package sbom

import (
	"fmt"
	"strings"
)

// Gate names, for Gates.FailOn.
const (
	GateAdded         = "added"
	GateRemoved       = "removed"
	GateUpgrade       = "upgrade"
	GateDowngrade     = "downgrade"
	GateLicenseChange = "license-change"
	GateAny           = "any"
)

// Gates are the conditions under which a diff fails a CI job.
type Gates struct {
	// FailOn lists change kinds that fail: added, removed, upgrade,
	// downgrade, license-change, or any.
	FailOn []string
	// DenyLicenses lists SPDX license IDs (or globs: "GPL-*", "*-only")
	// that the change must not bring in: an added package, or the new side
	// of a changed one, whose license expression cannot be satisfied
	// without one of them. "MIT OR GPL-3.0-only" passes when GPL-3.0-only is
	// denied; "MIT AND GPL-3.0-only" does not. Packages that did not change
	// are not judged here: use Rules for that.
	DenyLicenses []string
}

// Validate reports unknown gate names.
func (g Gates) Validate() error {
	for _, f := range g.FailOn {
		switch f {
		case GateAdded, GateRemoved, GateUpgrade, GateDowngrade, GateLicenseChange, GateAny:
		default:
			return &UsageError{Msg: "unknown --fail-on value " + quote(f) + ": use added, removed, upgrade, downgrade, license-change or any"}
		}
	}
	return nil
}

// Trip is one change that tripped a gate.
type Trip struct {
	Gate   string `json:"gate"`
	Change Change `json:"change"`
	// Reason says what tripped, in words.
	Reason string `json:"reason"`
}

// GateError is returned by Report.Gate when a gate trips. It is a denial:
// the comparison ran and the change is not acceptable.
type GateError struct {
	Trips []Trip
}

// Denied reports true: a tripped gate is a policy denial, not a failure to
// decide (the CLI exits 1).
func (e *GateError) Denied() bool { return true }

func (e *GateError) Error() string {
	const show = 5
	var b strings.Builder
	fmt.Fprintf(&b, "sbom diff: %d change(s) denied by gates: ", len(e.Trips))
	for i, t := range e.Trips {
		if i == show {
			fmt.Fprintf(&b, "; and %d more", len(e.Trips)-show)
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(t.Reason)
	}
	return b.String()
}

// Gate checks the report against g. It returns nil when nothing trips, a
// *GateError listing every change that tripped, or a *UsageError for an
// unknown gate.
func (r *Report) Gate(g Gates) error {
	if err := g.Validate(); err != nil {
		return err
	}
	on := map[string]bool{}
	for _, f := range g.FailOn {
		on[f] = true
	}
	deny := newLicenseMatcher(g.DenyLicenses)
	var trips []Trip
	for _, c := range r.Changes {
		var gate string
		switch {
		case c.Kind == Added && (on[GateAdded] || on[GateAny]):
			gate = GateAdded
		case c.Kind == Removed && (on[GateRemoved] || on[GateAny]):
			gate = GateRemoved
		case c.Kind == Downgraded && (on[GateDowngrade] || on[GateAny]):
			gate = GateDowngrade
		case (c.Kind == Upgraded || c.Kind == Modified) && (on[GateUpgrade] || on[GateAny]):
			gate = GateUpgrade
		case c.LicenseChanged && (on[GateLicenseChange] || on[GateAny]):
			gate = GateLicenseChange
		case on[GateAny]:
			gate = GateAny
		}
		if gate != "" {
			trips = append(trips, Trip{Gate: gate, Change: c, Reason: c.String()})
		}
		if !deny.empty() && c.Kind != Removed && c.NewLicenses != "" {
			if id, bad := deny.deniedLicense(parseLicense(c.NewLicenses)); bad {
				trips = append(trips, Trip{Gate: "deny-license", Change: c, Reason: fmt.Sprintf("%s %s (%s) brings in denied license %s", c.Name, c.NewVersion, c.NewLicenses, id)})
			}
		}
	}
	if len(trips) == 0 {
		return nil
	}
	return &GateError{Trips: trips}
}

// String is a one-line account of the change: "downgrade npm/lodash
// 4.17.21 -> 4.17.20".
func (c Change) String() string {
	switch c.Kind {
	case Added:
		return fmt.Sprintf("added %s %s", c.Name, c.NewVersion)
	case Removed:
		return fmt.Sprintf("removed %s %s", c.Name, c.OldVersion)
	case Relicensed:
		return fmt.Sprintf("license of %s %s changed from %s to %s", c.Name, c.NewVersion, c.OldLicenses, c.NewLicenses)
	}
	verb := map[ChangeKind]string{Upgraded: "upgrade", Downgraded: "downgrade", Modified: "version change"}[c.Kind]
	s := fmt.Sprintf("%s %s %s -> %s", verb, c.Name, c.OldVersion, c.NewVersion)
	if c.LicenseChanged {
		s += fmt.Sprintf(" (license %s -> %s)", c.OldLicenses, c.NewLicenses)
	}
	return s
}
