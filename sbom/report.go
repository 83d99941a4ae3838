package sbom

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
)

// MarkdownMaxBytes is the most WriteMarkdown writes: GitHub refuses
// pull-request comments over 65,536 characters, and the report must leave
// room for text around it.
const MarkdownMaxBytes = 60_000

// SummaryLine is a one-line account of the report:
// "3 added, 1 removed, 2 upgraded, 1 downgraded, 120 unchanged".
func (r *Report) SummaryLine() string {
	s := r.Summary
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{{s.Added, "added"}, {s.Removed, "removed"}, {s.Upgraded, "upgraded"}, {s.Downgraded, "downgraded"}, {s.Modified, "modified"}, {s.Relicensed, "relicensed"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no changes")
	}
	parts = append(parts, fmt.Sprintf("%d unchanged", s.Unchanged))
	return strings.Join(parts, ", ")
}

// WriteText writes the report for a terminal: a summary line, warnings,
// then one aligned line per change. Text from the documents is stripped of
// control characters, so a hostile SBOM cannot drive the terminal.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "SBOM diff: %s\n", r.SummaryLine())
	if r.Old.Distro != r.New.Distro && (r.Old.Distro != "" || r.New.Distro != "") {
		fmt.Fprintf(&b, "distro: %s -> %s\n", printable(orNone(r.Old.Distro)), printable(orNone(r.New.Distro)))
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", printable(wn))
	}
	if len(r.Changes) > 0 {
		b.WriteByte('\n')
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		for _, c := range r.Changes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Kind, printable(c.Name), printable(versionCell(c, " -> ")), printable(licenseCell(c, " -> ")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	// tabwriter pads the last column; trailing blanks are noise in logs.
	out := bytes.ReplaceAll(b.Bytes(), []byte(" \n"), []byte("\n"))
	for bytes.Contains(out, []byte(" \n")) {
		out = bytes.ReplaceAll(out, []byte(" \n"), []byte("\n"))
	}
	_, err := w.Write(out)
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func versionCell(c Change, arrow string) string {
	switch c.Kind {
	case Added, Relicensed:
		return c.NewVersion
	case Removed:
		return c.OldVersion
	}
	return c.OldVersion + arrow + c.NewVersion
}

func licenseCell(c Change, arrow string) string {
	switch {
	case c.Kind == Removed:
		return c.OldLicenses
	case c.LicenseChanged:
		return c.OldLicenses + arrow + c.NewLicenses
	}
	return c.NewLicenses
}

// printable replaces control and invisible formatting characters (escape
// sequences, bidi overrides) with U+FFFD.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) && r != ' ' {
			return '\uFFFD'
		}
		return r
	}, s)
}

// WriteMarkdown writes the report for a pull-request comment: a heading
// with the summary, warnings as a quote, and a table of changes. Document
// text is put in code spans with | and ` neutralised, so package names
// cannot break the table, mention people or inject links. The output stays
// under MarkdownMaxBytes; rows that do not fit are counted in a last line.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### SBOM diff\n\n**%s**\n\n", r.SummaryLine())
	if r.Old.Distro != r.New.Distro && (r.Old.Distro != "" || r.New.Distro != "") {
		fmt.Fprintf(&b, "Distribution: %s → %s\n\n", mdCode(orNone(r.Old.Distro)), mdCode(orNone(r.New.Distro)))
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "> [!WARNING]\n> %s\n\n", mdText(wn))
	}
	if len(r.Changes) > 0 {
		b.WriteString("| Change | Package | Version | License |\n|---|---|---|---|\n")
		const reserve = 200 // for the "not shown" line
		for i, c := range r.Changes {
			row := fmt.Sprintf("| %s | %s | %s | %s |\n", markdownKind(c), mdCode(c.Name), mdCode(versionCell(c, " → ")), mdCode(licenseCell(c, " → ")))
			if b.Len()+len(row) > MarkdownMaxBytes-reserve {
				fmt.Fprintf(&b, "\n%d more changes not shown; run `vouch sbom diff -o json` for all of them.\n", len(r.Changes)-i)
				break
			}
			b.WriteString(row)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func markdownKind(c Change) string {
	k := map[ChangeKind]string{
		Added: "➕ added", Removed: "➖ removed", Upgraded: "⬆️ upgraded", Downgraded: "⬇️ **downgraded**",
		Modified: "🔄 modified", Relicensed: "⚖️ relicensed",
	}[c.Kind]
	if c.LicenseChanged && c.Kind != Relicensed {
		k += ", ⚖️ license"
	}
	return k
}

// mdCode renders document text as a code span that is safe in a table.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	s = printable(s)
	s = strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return "`" + s + "`"
}

// mdText escapes our own sentences, which quote document text.
func mdText(s string) string {
	s = printable(s)
	return strings.NewReplacer("\n", " ", "<", "&lt;", ">", "&gt;", "@", "@\u200b", "[", "\\[", "]", "\\]", "|", "\\|", "`", "'", "*", "\\*", "_", "\\_").Replace(s)
}
