package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/sbom"
	"github.com/vouchdev/vouch/sbom/generate"
)

func init() { register(sbomCommand) }

// sbomSubcommands are the `vouch sbom …` commands. Files that add one
// (sbom attest) register it with registerSbomSubcommand in their init.
var sbomSubcommands = []command{sbomGenerateCommand, sbomDiffCommand}

func registerSbomSubcommand(c command) { sbomSubcommands = append(sbomSubcommands, c) }

func sbomCommand(e *env) *cli.Command {
	cmd := &cli.Command{
		Name:  "sbom",
		Usage: "generate and compare software bills of materials",
		Description: `SBOMs are generated with syft as a library and compared package by package.

Example:
   vouch sbom generate -o cyclonedx-json --file app.cdx.json oci-dir:./app-layout
   vouch sbom diff --fail-on downgrade --deny-license AGPL-3.0-only old.spdx.json new.spdx.json`,
	}
	for _, sub := range sbomSubcommands {
		cmd.Subcommands = append(cmd.Subcommands, sub(e))
	}
	return cmd
}

var sbomFormats = []string{"spdx-json", "cyclonedx-json", "syft-json"}

func sbomGenerateCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "scan an image, archive or directory and write its SBOM",
		ArgsUsage: "SOURCE",
		Description: `Writes the SBOM of SOURCE on stdout (or to --file): SPDX 2.3 JSON by default,
CycloneDX 1.6 JSON or syft JSON with -o. SOURCE is one of

   oci-dir:PATH          an OCI image layout directory
   oci-archive:FILE      a tar of an OCI image layout
   docker-archive:FILE   a "docker save" tar
   dir:PATH              a project directory (lockfiles, go.mod, requirements.txt, pom.xml, …)
   file:PATH             a single file
   registry:REF or REF   an image in a registry

Local sources make no network call; a path that does not exist fails instead of being looked
up in a Docker daemon or a registry. The Go cataloger never runs the go toolchain. Registry
credentials come from the Docker config (~/.docker/config.json and credential helpers).

Example:
   vouch sbom generate -o cyclonedx-json --file app.cdx.json oci-archive:app.tar
   vouch sbom generate --platform linux/arm64 ghcr.io/acme/app:1.2.3 > app.spdx.json
   vouch sbom generate dir:.`,
		Flags: []cli.Flag{
			outputFlag(sbomFormats...),
			&cli.StringFlag{Name: "file", Aliases: []string{"output-file"}, Usage: "write the SBOM to this file instead of stdout"},
			&cli.StringFlag{Name: "platform", Usage: "image platform to scan in a multi-platform image (os/arch[/variant], e.g. linux/arm64)"},
			&cli.StringFlag{Name: "name", Usage: "name of what is described, instead of the path or reference"},
			&cli.StringSliceFlag{Name: "exclude", Usage: "skip paths matching this glob (repeatable), e.g. './node_modules/**'"},
			&cli.BoolFlag{Name: "allow-insecure-registry", Usage: "allow plain HTTP to any registry (localhost and private addresses may always fall back to HTTP)"},
			&cli.StringFlag{Name: "registry-cacert", Usage: "PEM file (or directory of them) with extra CA certificates for the registry"},
			timeoutFlag(),
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c, sbomFormats...)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("sbom generate takes one SOURCE, got %d arguments (see vouch sbom generate --help)", c.NArg())
			}
			ctx, cancel := withTimeout(c)
			defer cancel()
			// The same registry flags and credentials as sbom attest.
			opts := sbomGeneratorOptions(c, e)
			var genOpts []generate.GenerateOption
			if p := c.String("platform"); p != "" {
				genOpts = append(genOpts, generate.WithPlatform(p))
			}
			if n := c.String("name"); n != "" {
				genOpts = append(genOpts, generate.WithName(n, ""))
			}
			if x := c.StringSlice("exclude"); len(x) > 0 {
				genOpts = append(genOpts, generate.WithExclude(x...))
			}
			g, err := generate.NewGenerator(ctx, opts...)
			if err != nil {
				return err
			}
			doc, err := g.Generate(ctx, c.Args().First(), genOpts...)
			if err != nil {
				return err
			}
			out := c.String("file")
			if out == "" {
				return doc.Encode(e.stdout, sbom.Format(format))
			}
			if err := writeFileAtomic(out, func(w io.Writer) error { return doc.Encode(w, sbom.Format(format)) }); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "Wrote %s SBOM of %d packages to %s\n", format, len(doc.Packages), out)
			return nil
		},
	}
}

// writeFileAtomic writes through a temporary file in the same directory,
// so a failed run never leaves a half-written SBOM behind.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func sbomDiffCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "compare two SBOMs and fail on the changes you name",
		ArgsUsage: "OLD NEW",
		Description: `Compares two SBOMs (SPDX 2.x JSON, CycloneDX JSON or syft JSON, in any combination;
"-" reads one of them from stdin) and lists what changed: packages added and removed,
upgraded and downgraded (ordered per ecosystem: semver, Debian, apk, rpm, PEP 440, Maven),
and license changes. Unchanged packages are counted, not listed. Packages are matched by
package URL without version and qualifiers, so a distro bump does not rename every package.

Gates make it a CI check: --fail-on added,removed,upgrade,downgrade,license-change,any, and
--deny-license ID (repeatable, globs allowed) for licenses the change must not bring in;
"MIT OR GPL-3.0-only" passes --deny-license GPL-3.0-only, "MIT AND GPL-3.0-only" does not.
Exit 1 when a gate trips, 2 when an SBOM cannot be read.

-o markdown writes a table sized for a pull-request comment; -o json a report with a
schemaVersion and the tripped gates under "denied".

Example:
   vouch sbom diff main.spdx.json pr.spdx.json
   vouch sbom diff -o markdown --fail-on downgrade --deny-license 'AGPL-*' main.cdx.json pr.cdx.json > comment.md`,
		Flags: []cli.Flag{
			outputFlag("text", "json", "markdown"),
			&cli.StringSliceFlag{Name: "fail-on", Usage: "fail (exit 1) on these changes: added, removed, upgrade, downgrade, license-change, any (comma-separated or repeated)"},
			&cli.StringSliceFlag{Name: "deny-license", Usage: "fail (exit 1) when the change brings in this SPDX license ID or glob (repeatable)"},
			&cli.BoolFlag{Name: "ignore-licenses", Usage: "compare versions only (for SBOMs from tools that detect licenses differently)"},
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c, "text", "json", "markdown")
			if err != nil {
				return err
			}
			if c.NArg() != 2 {
				return usagef("sbom diff takes OLD and NEW, got %d arguments (see vouch sbom diff --help)", c.NArg())
			}
			if c.Args().Get(0) == "-" && c.Args().Get(1) == "-" {
				return usagef("only one of OLD and NEW can be read from stdin")
			}
			gates := sbom.Gates{FailOn: c.StringSlice("fail-on"), DenyLicenses: c.StringSlice("deny-license")}
			if err := gates.Validate(); err != nil {
				return usagef("%v", err)
			}
			docs, err := decodeSBOMs(c.Context, e, c.Args().Get(0), c.Args().Get(1))
			if err != nil {
				return err
			}
			var diffOpts []sbom.DiffOption
			if c.Bool("ignore-licenses") {
				diffOpts = append(diffOpts, sbom.IgnoreLicenses())
			}
			report := sbom.Diff(docs[0], docs[1], diffOpts...)
			gateErr := report.Gate(gates)
			switch format {
			case "json":
				out := struct {
					*sbom.Report
					Denied []sbom.Trip `json:"denied"`
				}{Report: report, Denied: []sbom.Trip{}}
				if ge, ok := gateErr.(*sbom.GateError); ok {
					out.Denied = ge.Trips
				}
				if err := writeJSON(e.stdout, out); err != nil {
					return err
				}
			case "markdown":
				if err := report.WriteMarkdown(e.stdout); err != nil {
					return err
				}
			default:
				if err := report.WriteText(e.stdout); err != nil {
					return err
				}
			}
			if ge, ok := gateErr.(*sbom.GateError); ok {
				for _, t := range ge.Trips {
					fmt.Fprintf(e.stderr, "denied (%s): %s\n", t.Gate, t.Reason)
				}
				return silentError{gateErr}
			}
			return gateErr
		},
	}
}

// decodeSBOMs reads both documents at once: decoding dominates the cost of
// a diff, and the two are independent.
func decodeSBOMs(ctx context.Context, e *env, paths ...string) ([]*sbom.Document, error) {
	docs := make([]*sbom.Document, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			docs[i], errs[i] = decodeSBOMFile(e, p)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s SBOM %s: %w", []string{"old", "new"}[min(i, 1)], paths[i], err)
		}
	}
	return docs, ctx.Err()
}

func decodeSBOMFile(e *env, path string) (*sbom.Document, error) {
	if path == "-" {
		return sbom.Decode(e.stdin)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return sbom.Decode(f)
}
