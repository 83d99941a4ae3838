package main

import (
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/registry"
)

func init() { register(resolveCommand) }

func resolveCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "resolve",
		Usage:     "pin image references to their digests",
		ArgsUsage: "IMAGE...",
		Description: `Resolves each image reference (a tag, a digest, or an oci-dir: layout) to the
digest it names now, and prints it as REPOSITORY@sha256:… on stdout, one line per
image, in the order given. Use the output instead of the tag so that what you
verify is what runs. With --platform, an image index resolves to that platform's
manifest.

Tags cost one HEAD request each (no pull is counted by Docker Hub); images are
resolved concurrently. Exit 0 when every image resolved, 2 otherwise.

Example:
   vouch resolve ghcr.io/acme/app:v1.2.0 nginx:1.27
   vouch resolve --platform linux/arm64 -o json nginx:1.27
   vouch resolve oci-dir:./image:v1`,
		Flags: append(registryFlags(),
			&cli.StringFlag{Name: "platform", Usage: "for an image index, resolve the manifest of `OS/ARCH[/VARIANT]` (e.g. linux/arm64)"},
			outputFlag(), timeoutFlag()),
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				return usagef("give at least one image: vouch resolve IMAGE...")
			}
			var opts []registry.ResolveOption
			if p := c.String("platform"); p != "" {
				plat, err := v1.ParsePlatform(p)
				if err != nil {
					return usagef("--platform %q: %v (write OS/ARCH[/VARIANT], e.g. linux/arm64)", p, err)
				}
				opts = append(opts, registry.WithPlatform(*plat))
			}
			client, err := newRegistryClient(c, e)
			if err != nil {
				return err
			}
			ctx, cancel := withTimeout(c)
			defer cancel()

			images := c.Args().Slice()
			out := make([]resolvedImage, len(images))
			forEach(len(images), 8, func(i int) {
				out[i] = resolvedImage{Image: images[i]}
				ref, err := registry.ParseRef(images[i])
				if err != nil {
					out[i].err = err
					return
				}
				res, err := client.Resolve(ctx, ref, opts...)
				if err != nil {
					out[i].err = err
					return
				}
				out[i].fill(res)
			})

			failed := 0
			for i := range out {
				if out[i].err != nil {
					failed++
					out[i].Error = newJSONError(out[i].err)
					fmt.Fprintf(e.stderr, "Error: %s: %s\n", out[i].Image, errorMessage(out[i].err))
				} else if format == "text" {
					fmt.Fprintln(e.stdout, out[i].Ref)
				}
			}
			if format == "json" {
				if err := writeJSON(e.stdout, resolveReport{SchemaVersion: schemaVersion, Images: out}); err != nil {
					return err
				}
			}
			return batchError(0, failed)
		},
	}
}

type resolveReport struct {
	SchemaVersion int             `json:"schemaVersion"`
	Images        []resolvedImage `json:"images"`
}

type resolvedImage struct {
	// Image is the reference as given.
	Image string `json:"image"`
	// Ref is the pinned reference to use: the platform's manifest when
	// --platform chose one, else the image's.
	Ref       string       `json:"ref,omitempty"`
	Digest    string       `json:"digest,omitempty"`
	MediaType string       `json:"mediaType,omitempty"`
	Size      int64        `json:"size,omitempty"`
	Index     *resolvedRef `json:"index,omitempty"`
	Platform  *v1.Platform `json:"platform,omitempty"`
	Error     *jsonError   `json:"error,omitempty"`
	err       error
}

type resolvedRef struct {
	Ref    string `json:"ref"`
	Digest string `json:"digest"`
}

func (r *resolvedImage) fill(res *registry.Resolved) {
	d := res.Descriptor
	if res.Platform != nil {
		r.Index = &resolvedRef{Ref: res.Ref.String(), Digest: res.Ref.Digest()}
		d = *res.Platform
		r.Platform = res.Platform.Platform
	}
	pinned := res.Ref.WithDigest(d.Digest.String())
	r.Ref, r.Digest, r.MediaType, r.Size = pinned.String(), d.Digest.String(), string(d.MediaType), d.Size
}
