package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/registry"
)

func init() { register(treeCommand) }

func treeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "tree",
		Usage:     "show the signatures, attestations and SBOMs attached to an image",
		ArgsUsage: "IMAGE",
		Description: `Lists everything attached to an image, from the three places cosign and OCI 1.1
tools write to, all read: cosign's sha256-<digest>.sig/.att/.sbom tags, the OCI
referrers API and the referrers fallback tag sha256-<digest>. Each attachment is
shown once, with its kind (signature, attestation and its claimed predicate type,
SBOM), format (legacy cosign, Sigstore bundle, raw), where it was found, and its
digests. Nothing here is verified: use vouch verify for that.

If a place could not be read (access denied, rate limited, a server error, a
timeout, content that does not match its digest), the tree is printed with what
was found, stderr says it may be incomplete, and the exit code is 2.

Example:
   vouch tree ghcr.io/acme/app:v1.2.0
   vouch tree -o json ghcr.io/acme/app@sha256:…
   COSIGN_REPOSITORY=ghcr.io/acme/signatures vouch tree ghcr.io/acme/app:v1`,
		Flags: append(registryFlags(), outputFlag(), timeoutFlag()),
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("give one image: vouch tree IMAGE")
			}
			ref, err := registry.ParseRef(c.Args().First())
			if err != nil {
				return usageError{err.Error()}
			}
			client, err := newRegistryClient(c, e)
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(c)
			defer cancel()
			res, err := client.Resolve(ctx, ref)
			if err != nil {
				return withHint(err)
			}
			atts, err := client.Discover(ctx, res.Ref)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := writeJSON(e.stdout, newTreeReport(c.Args().First(), atts)); err != nil {
					return err
				}
			} else {
				printTree(e.stdout, atts)
			}
			if len(atts.Failures) == 0 {
				return nil
			}
			for _, f := range atts.Failures {
				fmt.Fprintf(e.stderr, "Warning: could not read %s: %s\n", f.Location, errorMessage(f.Err))
			}
			return silentErrorf(e.stderr, "the tree may be incomplete: %d of the places attachments live could not be read", len(atts.Failures))
		},
	}
}

// silentErrorf reports an error on w and returns it already reported.
func silentErrorf(w io.Writer, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	fmt.Fprintf(w, "Error: %v\n", err)
	return silentError{err}
}

type treeReport struct {
	SchemaVersion int              `json:"schemaVersion"`
	Image         string           `json:"image"`
	Ref           string           `json:"ref"`
	Digest        string           `json:"digest"`
	Complete      bool             `json:"complete"`
	Attachments   []treeAttachment `json:"attachments"`
	Failures      []treeFailure    `json:"failures"`
}

type treeAttachment struct {
	Kind          registry.Kind     `json:"kind"`
	Format        registry.Format   `json:"format"`
	Path          registry.Path     `json:"path"`
	PredicateType string            `json:"predicateType,omitempty"`
	Repository    string            `json:"repository"`
	Tag           string            `json:"tag,omitempty"`
	MediaType     string            `json:"mediaType"`
	Digest        string            `json:"digest"`
	Size          int64             `json:"size"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	Manifest      treeManifest      `json:"manifest"`
	Note          string            `json:"note,omitempty"`
}

type treeManifest struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType,omitempty"`
	Digest       string `json:"digest"`
}

type treeFailure struct {
	Path     registry.Path `json:"path"`
	Location string        `json:"location"`
	Reason   string        `json:"reason"`
	Message  string        `json:"message"`
}

func newTreeReport(image string, atts *registry.Attachments) treeReport {
	r := treeReport{
		SchemaVersion: schemaVersion,
		Image:         image,
		Ref:           atts.Subject.String(),
		Digest:        atts.Subject.Digest(),
		Complete:      atts.Complete(),
		Attachments:   []treeAttachment{},
		Failures:      []treeFailure{},
	}
	for _, a := range atts.Items {
		r.Attachments = append(r.Attachments, treeAttachment{
			Kind: a.Kind, Format: a.Format, Path: a.Path, PredicateType: a.PredicateType,
			Repository: a.Repository, Tag: a.Tag,
			MediaType: string(a.Layer.MediaType), Digest: a.Layer.Digest.String(), Size: a.Layer.Size,
			Annotations: a.Layer.Annotations,
			Manifest:    treeManifest{MediaType: string(a.Manifest.MediaType), ArtifactType: a.Manifest.ArtifactType, Digest: a.Manifest.Digest.String()},
			Note:        a.Note,
		})
	}
	for _, f := range atts.Failures {
		r.Failures = append(r.Failures, treeFailure{Path: f.Path, Location: f.Location, Reason: registryReason(f.Err), Message: errorMessage(f.Err)})
	}
	return r
}

// printTree draws the attachments grouped by kind, like `cosign tree`:
//
//	ghcr.io/acme/app@sha256:…
//	├── signatures (2)
//	│   ├── sha256:… legacy, tag sha256-….sig
//	│   └── sha256:… bundle, referrer sha256:…
//	└── attestations (1)
//	    └── sha256:… bundle, referrer sha256:…, https://slsa.dev/provenance/v1
func printTree(w io.Writer, atts *registry.Attachments) {
	fmt.Fprintln(w, atts.Subject.String())
	groups := []struct {
		kind  registry.Kind
		title string
	}{
		{registry.KindSignature, "signatures"},
		{registry.KindAttestation, "attestations"},
		{registry.KindSBOM, "SBOMs"},
		{registry.KindUnknown, "other attachments (not verifiable as such)"},
	}
	var shown []int
	for i, g := range groups {
		if len(atts.Of(g.kind)) > 0 {
			shown = append(shown, i)
		}
	}
	if len(shown) == 0 {
		if atts.Complete() {
			fmt.Fprintln(w, "└── nothing attached")
		} else {
			fmt.Fprintln(w, "└── nothing found (some places could not be read)")
		}
		return
	}
	for n, gi := range shown {
		g := groups[gi]
		items := atts.Of(g.kind)
		branch, indent := "├── ", "│   "
		if n == len(shown)-1 {
			branch, indent = "└── ", "    "
		}
		fmt.Fprintf(w, "%s%s (%d)\n", branch, g.title, len(items))
		for i, a := range items {
			leaf := "├── "
			if i == len(items)-1 {
				leaf = "└── "
			}
			fmt.Fprintf(w, "%s%s%s\n", indent, leaf, treeLine(a))
		}
	}
}

func treeLine(a registry.Attachment) string {
	parts := []string{a.Layer.Digest.String() + " " + string(a.Format)}
	switch a.Path {
	case registry.PathLegacyTag:
		parts = append(parts, "tag "+a.Tag)
	case registry.PathReferrers:
		parts = append(parts, "referrer "+a.Manifest.Digest.String())
	case registry.PathFallbackTag:
		parts = append(parts, "referrer "+a.Manifest.Digest.String()+" via tag "+a.Tag)
	}
	if a.Kind == registry.KindSBOM || a.Kind == registry.KindUnknown {
		parts = append(parts, string(a.Layer.MediaType))
	}
	if a.PredicateType != "" {
		parts = append(parts, a.PredicateType)
	}
	line := strings.Join(parts, ", ")
	if a.Note != "" {
		line += " (" + a.Note + ")"
	}
	return line
}
