package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/sbom"
	"github.com/vouchdev/vouch/sbom/generate"
)

func init() { registerSbomSubcommand(sbomAttestCommand) }

// sbomPredicates maps the SBOM formats sbom attest writes to cosign's --type
// name for them, which gives the in-toto predicate type.
var sbomPredicates = map[sbom.Format]string{
	sbom.FormatSPDXJSON:      "spdxjson",  // https://spdx.dev/Document
	sbom.FormatCycloneDXJSON: "cyclonedx", // https://cyclonedx.org/bom
}

func sbomAttestCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "attest",
		Usage:     "generate each image's SBOM and attach it as a signed in-toto attestation, as cosign attest --type spdxjson|cyclonedx does",
		ArgsUsage: "IMAGE...",
		Description: `Resolves each image to its digest once, generates the SBOM of exactly that digest with
syft (SPDX 2.3 JSON by default, CycloneDX 1.6 JSON with --sbom-format cyclonedx-json), makes it
the predicate of an in-toto statement about the image (predicate type https://spdx.dev/Document
or https://cyclonedx.org/bom, the document itself as the predicate, as cosign does for
--type spdxjson / cyclonedx), signs it with --key and attaches it as vouch attest does: a
Sigstore bundle referrer (--format bundle, the default) or a layer of cosign v2's
sha256-<hex>.att tag (--format legacy).

IMAGE is a registry reference or an OCI layout (oci-dir:PATH[:TAG|@sha256:…]). For a
multi-platform index the SBOM describes one platform's image (--platform, default the host's)
and is attached to the index: attest each platform's digest for one SBOM per platform.
Nothing is uploaded to a transparency log: verify with --insecure-ignore-tlog.

Verify it, with SBOM rules from a policy, with vouch verify-attestation --type spdxjson, or
cosign verify-attestation --key cosign.pub --type spdxjson --insecure-ignore-tlog.

Example:
   VOUCH_PASSWORD=... vouch sbom attest --key cosign.key ghcr.io/acme/app:v1.2.3
   vouch sbom attest --key cosign.key --sbom-format cyclonedx-json --format legacy oci-dir:./app-layout`,
		Flags: append(signFlags(),
			&cli.StringFlag{Name: "sbom-format", Value: string(sbom.FormatSPDXJSON), Usage: "SBOM format of the predicate: spdx-json or cyclonedx-json"},
			&cli.StringFlag{Name: "platform", Usage: "in a multi-platform image, the platform whose image the SBOM describes (os/arch[/variant])"},
		),
		Action: func(c *cli.Context) error {
			f, err := sbom.ParseFormat(c.String("sbom-format"))
			if err != nil {
				return usageError{err.Error()}
			}
			name, ok := sbomPredicates[f]
			if !ok {
				return usagef("--sbom-format %s has no in-toto predicate type: use spdx-json or cyclonedx-json", f)
			}
			var genOpts []generate.GenerateOption
			if p := c.String("platform"); p != "" {
				genOpts = append(genOpts, generate.WithPlatform(p))
			}
			// The license scanner takes seconds to build: only once, and
			// only when an image is there to scan.
			generator := sync.OnceValues(func() (*generate.Generator, error) {
				return generate.NewGenerator(c.Context, sbomGeneratorOptions(c, e)...)
			})
			var mu sync.Mutex // e.stderr, from concurrent attachments
			return runSign(c, e, "attest", func(ctx context.Context, s *attest.Signer, client *registry.Client, pinned registry.Ref, format string) (string, error) {
				g, err := generator()
				if err != nil {
					return "", err
				}
				predType, pred, n, err := sbomPredicate(ctx, g, client, pinned, f, name, genOpts)
				if err != nil {
					return "", err
				}
				mu.Lock()
				fmt.Fprintf(e.stderr, "%s@%s: %s SBOM of %d packages\n", pinned.Name(), pinned.Digest(), f, n)
				mu.Unlock()
				return attestImage(ctx, s, client, pinned, format, predType, pred)
			})
		},
	}
}

// sbomGeneratorOptions hands the registry flags and the user's credentials
// to the SBOM generator, as newRegistryClient does to the registry client.
func sbomGeneratorOptions(c *cli.Context, e *env) []generate.Option {
	opts := []generate.Option{
		generate.WithTool("vouch", versionInfo().Version),
		generate.WithKeychain(&anonymousFallback{inner: authn.DefaultKeychain, warn: e.stderr}),
	}
	if ca := c.String("registry-cacert"); ca != "" {
		opts = append(opts, generate.WithRegistryCA(ca))
	}
	if c.Bool("allow-insecure-registry") {
		opts = append(opts, generate.WithInsecureRegistryHTTP())
	}
	if e.stderrIsTerminal {
		opts = append(opts, generate.WithProgress(func(stage string) { fmt.Fprintf(e.stderr, "vouch: %s\n", stage) }))
	}
	return opts
}

// sbomPredicate generates the SBOM of the image pinned names, in format f,
// and returns it as the predicate cosign attest --type name builds, with its
// predicate type and the number of packages.
func sbomPredicate(ctx context.Context, g *generate.Generator, client *registry.Client, pinned registry.Ref, f sbom.Format, name string, opts []generate.GenerateOption) (string, []byte, int, error) {
	src, cleanup, err := sbomSource(ctx, client, pinned)
	if err != nil {
		return "", nil, 0, err
	}
	defer cleanup()
	doc, err := g.Generate(ctx, src, opts...)
	if err != nil {
		return "", nil, 0, err
	}
	var buf bytes.Buffer
	if err := doc.Encode(&buf, f); err != nil {
		return "", nil, 0, err
	}
	// The statement around it must stay under what verifiers read.
	if buf.Len() > attest.MaxStatementSize-64<<10 {
		return "", nil, 0, fmt.Errorf("the %s SBOM is %d bytes: too large for an attestation (at most %d bytes are read back)", f, buf.Len(), attest.MaxStatementSize)
	}
	predType, pred, err := attest.CosignPredicate(name, buf.Bytes(), time.Now())
	if err != nil {
		return "", nil, 0, err
	}
	return predType, pred, len(doc.Packages), nil
}

// sbomSource names, for the SBOM generator, exactly the image pinned names.
// A registry image is scanned by digest. An OCI layout may hold other images
// and what is attached to them (signatures, attestations: images too, to
// syft); syft scans a layout only when it holds one image (or an index for
// the platform), so the pinned manifest is put alone into a temporary layout
// that shares the original's blobs.
func sbomSource(ctx context.Context, client *registry.Client, pinned registry.Ref) (string, func(), error) {
	if !pinned.IsLayout() {
		return "registry:" + pinned.Name() + "@" + pinned.Digest(), func() {}, nil
	}
	res, err := client.Resolve(ctx, pinned)
	if err != nil {
		return "", nil, err
	}
	blobs, err := filepath.Abs(filepath.Join(pinned.LayoutPath(), "blobs"))
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "vouch-sbom-layout-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	desc := res.Descriptor
	desc.Annotations, desc.Platform = nil, nil
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.index.v1+json",
		"manifests":     []any{desc},
	})
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "index.json"), index, 0o600)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o600)
	}
	if err == nil {
		err = os.Symlink(blobs, filepath.Join(dir, "blobs"))
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("preparing %s for the SBOM generator: %w", strings.TrimPrefix(pinned.String(), registry.LayoutPrefix), err)
	}
	return "oci-dir:" + dir, cleanup, nil
}
