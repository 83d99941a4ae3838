package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/registry"
)

func init() { register(registryCommand) }

func registryCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "registry",
		Usage: "registry allowlists",
		Subcommands: []*cli.Command{
			registryCheckCommand(e),
		},
	}
}

func registryCheckCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "check image references against registry allow and deny patterns, offline",
		ArgsUsage: "IMAGE...",
		Description: `Decides from the references alone, with no network call, whether each image
comes from an allowed place.

Patterns: the registry host matches exactly, port included (docker.io and
index.docker.io are one host); in the repository path "*" is exactly one
segment and "**" any number, zero included. A pattern that is only a host
("my-registry.io") allows everything on it; a pattern without a host is a
Docker Hub repository ("nginx" is docker.io/library/nginx). A trailing :tag or
@sha256:… restricts the pattern to that tag or digest. Patterns never match by
string prefix: my-registry.io does not allow my-registry.io.evil.com/app.

Deny patterns beat allow patterns. Without --allow, everything not denied is
allowed. Exit 0 when every image is allowed, 1 when any is denied, 2 for a bad
pattern or reference (denied outranks bad input).

Example:
   vouch registry check --allow 'ghcr.io/acme/**' --allow docker.io/library/* \
       --deny 'ghcr.io/acme/experimental/**' ghcr.io/acme/app:v1 nginx
   vouch registry check -o json --allow my-registry.io my-registry.io.evil.com/app`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "allow", Usage: "allow images matching `PATTERN` (repeatable)"},
			&cli.StringSliceFlag{Name: "deny", Usage: "deny images matching `PATTERN` (repeatable; beats --allow)"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				return usagef("give at least one image: vouch registry check [--allow P]... [--deny P]... IMAGE...")
			}
			list, err := registry.NewAllowlist(c.StringSlice("allow"), c.StringSlice("deny"))
			if err != nil {
				return usageError{err.Error()}
			}
			report := checkReport{SchemaVersion: schemaVersion, Images: []checkedImage{}}
			denied, bad := 0, 0
			for _, image := range c.Args().Slice() {
				ci := checkedImage{Image: image}
				ref, err := registry.ParseRef(image)
				if err != nil {
					bad++
					ci.Error = &jsonError{Reason: "invalid_input", Message: err.Error()}
					fmt.Fprintf(e.stderr, "Error: %v\n", err)
					report.Images = append(report.Images, ci)
					continue
				}
				d := list.Check(ref)
				ci.Ref, ci.Allowed, ci.Pattern, ci.Reason = ref.String(), d.Allowed, d.Pattern, d.Reason
				if d.Allowed {
					fmt.Fprintf(e.stderr, "allowed: %s (%s)\n", image, d.Reason)
				} else {
					denied++
					ci.ReasonCode = "policy_denied"
					fmt.Fprintf(e.stderr, "denied: %s: %s\n", image, d.Reason)
				}
				report.Images = append(report.Images, ci)
			}
			report.Allowed = denied == 0 && bad == 0
			if format == "json" {
				if err := writeJSON(e.stdout, report); err != nil {
					return err
				}
			}
			return batchError(denied, bad)
		},
	}
}

type checkReport struct {
	SchemaVersion int            `json:"schemaVersion"`
	Allowed       bool           `json:"allowed"`
	Images        []checkedImage `json:"images"`
}

type checkedImage struct {
	Image      string     `json:"image"`
	Ref        string     `json:"ref,omitempty"`
	Allowed    bool       `json:"allowed"`
	Pattern    string     `json:"pattern,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	ReasonCode string     `json:"reasonCode,omitempty"`
	Error      *jsonError `json:"error,omitempty"`
}
