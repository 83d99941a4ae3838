package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/urfave/cli/v2"
)

func init() { register(versionCommand) }

func versionCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version of vouch and of the libraries that decide trust",
		Description: `Prints vouch's version and the versions of sigstore-go, go-containerregistry,
syft and in-toto it was built with.

Example:
   vouch version -o json`,
		Flags: []cli.Flag{outputFlag()},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			info := versionInfo()
			if format == "json" {
				return writeJSON(e.stdout, info)
			}
			fmt.Fprintf(e.stdout, "vouch %s (%s)\n", info.Version, info.Go)
			for _, d := range info.Dependencies {
				fmt.Fprintf(e.stdout, "  %s %s\n", d.Path, d.Version)
			}
			return nil
		},
	}
}

type dependency struct {
	Path    string `json:"path"`
	Version string `json:"version"`
}

type versionReport struct {
	SchemaVersion int          `json:"schemaVersion"`
	Version       string       `json:"version"`
	Go            string       `json:"go"`
	Dependencies  []dependency `json:"dependencies"`
}

func versionInfo() versionReport {
	r := versionReport{SchemaVersion: schemaVersion, Version: version, Go: runtime.Version(), Dependencies: []dependency{}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return r
	}
	if version == "devel" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		r.Version = bi.Main.Version
	}
	for _, d := range bi.Deps {
		switch d.Path {
		case "github.com/sigstore/sigstore-go", "github.com/google/go-containerregistry",
			"github.com/anchore/syft", "github.com/in-toto/in-toto-golang", "github.com/in-toto/attestation":
			r.Dependencies = append(r.Dependencies, dependency{d.Path, d.Version})
		}
	}
	return r
}

// schemaVersion is the version of every JSON document vouch writes.
const schemaVersion = 1

func writeJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
