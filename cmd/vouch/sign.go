package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
)

func init() {
	register(signCommand)
	register(attestCommand)
}

// Formats an image signature or attestation can be written in.
const (
	formatBundle = "bundle" // a Sigstore bundle attached as an OCI 1.1 referrer (cosign v3's default)
	formatLegacy = "legacy" // a layer in cosign's sha256-<hex>.sig / .att tag (cosign v2's default)
)

// Annotations cosign writes on the layers and referrer manifests it attaches.
const (
	annotationSignature     = "dev.cosignproject.cosign/signature"
	annotationPredicateType = "predicateType"
	annotationBundleContent = "dev.sigstore.bundle.content"
	annotationCreated       = "org.opencontainers.image.created"
	mediaTypeDSSE           = "application/vnd.dsse.envelope.v1+json"
)

func signFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "key", Usage: "private key `FILE` (cosign's encrypted format, PKCS#8, SEC1 or PKCS#1); the password comes from $VOUCH_PASSWORD or $COSIGN_PASSWORD, else a prompt"},
		&cli.StringFlag{Name: "format", Value: formatBundle, Usage: "bundle: a Sigstore bundle attached as an OCI 1.1 referrer (cosign v3); legacy: cosign v2's sha256-<hex>.sig/.att tag"},
		timeoutFlag(),
		outputFlag(),
	}
	return append(flags, registryFlags()...)
}

func signCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign images with a key, as cosign does",
		ArgsUsage: "IMAGE...",
		Description: `Signs each image's digest with --key and attaches the signature next to it, in the
registry or in an OCI layout (oci-dir:PATH). A tag is resolved once and its digest is what
gets signed; the output names that digest.

--format bundle (the default, as cosign v3) signs an in-toto statement with predicate type
https://sigstore.dev/cosign/sign/v1 into a Sigstore bundle and attaches it as an OCI 1.1
referrer (through the referrers fallback tag on registries without the referrers API).
--format legacy writes cosign v2's simple-signing payload into the sha256-<hex>.sig tag.
Both are what cosign v2.6 writes, so cosign verifies them:
   cosign verify --key cosign.pub --insecure-ignore-tlog IMAGE                      (legacy)
   cosign verify --new-bundle-format --key cosign.pub --trusted-root ROOT \
     --insecure-ignore-tlog IMAGE                                                   (bundle)
Nothing is uploaded to a transparency log: verify with --insecure-ignore-tlog (vouch and
cosign alike).

-a/--annotations key=value adds signed annotations (the payload's "optional" section, or
the statement subject's annotations).

Example:
   VOUCH_PASSWORD=... vouch sign --key cosign.key ghcr.io/acme/app:v1.2.3
   vouch sign --key cosign.key --format legacy oci-dir:./image-layout`,
		Flags: append(signFlags(), &cli.StringSliceFlag{Name: "annotations", Aliases: []string{"a"}, Usage: "signed annotation `key=value` (repeatable)"}),
		Action: func(c *cli.Context) error {
			annotations, err := parseAnnotations(c.StringSlice("annotations"))
			if err != nil {
				return err
			}
			return runSign(c, e, "sign", func(ctx context.Context, s *attest.Signer, client *registry.Client, r registry.Ref, format string) (string, error) {
				return signImage(ctx, s, client, r, format, annotations)
			})
		},
	}
}

func attestCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "attest",
		Usage:     "attest to images with a key: an in-toto statement about the image, signed and attached",
		ArgsUsage: "IMAGE...",
		Description: `Builds the in-toto statement cosign attest builds (subject: the image's repository and
digest; predicate: --predicate, shaped by --type exactly as cosign shapes it), signs it as
DSSE with --key and attaches it to each image: as a Sigstore bundle referrer (--format
bundle, the default) or as a layer of cosign v2's sha256-<hex>.att tag (--format legacy).
cosign verify-attestation --key cosign.pub --type T --insecure-ignore-tlog accepts both
(add --new-bundle-format --trusted-root ROOT for bundles).

--type is a predicate type URI or one of cosign's names: ` + strings.Join(attest.PredicateTypeNames(), ", ") + `.

Example:
   vouch attest --key cosign.key --type slsaprovenance1 --predicate provenance.json \
     ghcr.io/acme/app@sha256:3f1c...`,
		Flags: append(signFlags(),
			&cli.StringFlag{Name: "predicate", Usage: "the predicate `FILE`"},
			&cli.StringFlag{Name: "type", Value: "custom", Usage: "predicate type: a URI or " + strings.Join(attest.PredicateTypeNames(), "|")},
		),
		Action: func(c *cli.Context) error {
			if c.String("predicate") == "" {
				return usagef("attest needs --predicate FILE")
			}
			raw, err := readLimited(c.String("predicate"), attest.MaxStatementSize)
			if err != nil {
				return usagef("--predicate: %v", err)
			}
			predType, pred, err := attest.CosignPredicate(c.String("type"), raw, time.Now())
			if err != nil {
				return usageError{err.Error()}
			}
			return runSign(c, e, "attest", func(ctx context.Context, s *attest.Signer, client *registry.Client, r registry.Ref, format string) (string, error) {
				return attestImage(ctx, s, client, r, format, predType, pred)
			})
		},
	}
}

// signedImage is one line of sign/attest's report.
type signedImage struct {
	Image  string     `json:"image"`
	Digest string     `json:"digest,omitempty"`
	Format string     `json:"format"`
	Where  string     `json:"attachedAt,omitempty"`
	Error  *jsonError `json:"error,omitempty"`
	tag    bool       // the image was named by tag
}

type attachFunc func(ctx context.Context, s *attest.Signer, client *registry.Client, pinned registry.Ref, format string) (where string, err error)

// runSign does what sign and attest share: flags to a signer and a registry
// client, then each image resolved once and handed to attach.
func runSign(c *cli.Context, e *env, verb string, attach attachFunc) error {
	out, err := outputFormat(c)
	if err != nil {
		return err
	}
	format := c.String("format")
	if format != formatBundle && format != formatLegacy {
		return usagef("unknown --format %q: use %s or %s", format, formatBundle, formatLegacy)
	}
	if c.NArg() == 0 {
		return usagef("%s needs at least one IMAGE", verb)
	}
	refs := make([]registry.Ref, c.NArg())
	for i, a := range c.Args().Slice() {
		if refs[i], err = registry.ParseRef(a); err != nil {
			return usageError{err.Error()}
		}
	}
	signer, err := loadSigner(e, c.String("key"))
	if err != nil {
		return err
	}
	client, err := newRegistryClient(c, e)
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()

	results := make([]signedImage, len(refs))
	forEach(len(refs), 8, func(i int) {
		r := signedImage{Image: refs[i].String(), Format: format, tag: refs[i].Digest() == "" && refs[i].Tag() != ""}
		res, err := client.Resolve(ctx, refs[i])
		if err == nil {
			r.Digest = res.Ref.Digest()
			r.Where, err = attach(ctx, signer, client, res.Ref, format)
		}
		r.Error = newJSONError(err)
		results[i] = r
	})

	failed := 0
	for _, r := range results {
		if r.Error != nil {
			failed++
			fmt.Fprintf(e.stderr, "Error: %s %s: %s\n", verb, r.Image, r.Error.Message)
			continue
		}
		if r.tag {
			fmt.Fprintf(e.stderr, "%s: signed %s, the digest the tag names now\n", r.Image, r.Digest)
		}
		fmt.Fprintf(e.stderr, "Attached %s %s to %s@%s (%s)\n", r.Format, map[string]string{"sign": "signature", "attest": "attestation"}[verb], nameOf(r.Image), r.Digest, r.Where)
	}
	if out == "json" {
		if err := writeJSON(e.stdout, struct {
			SchemaVersion int           `json:"schemaVersion"`
			Results       []signedImage `json:"results"`
		}{schemaVersion, results}); err != nil {
			return err
		}
	}
	return batchError(0, failed)
}

// nameOf is an image reference without its tag or digest.
func nameOf(image string) string {
	if i := strings.Index(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		image = image[:i]
	}
	return image
}

// signImage writes one signature over pinned's digest.
func signImage(ctx context.Context, s *attest.Signer, client *registry.Client, pinned registry.Ref, format string, annotations map[string]string) (string, error) {
	digest := pinned.Digest()
	if format == formatLegacy {
		payload, err := attest.SimpleSigningPayload(pinned.Name(), digest, annotations)
		if err != nil {
			return "", err
		}
		sig, err := s.Sign(payload)
		if err != nil {
			return "", err
		}
		layer := registry.Layer{
			Content:     payload,
			MediaType:   registry.MediaTypeSimpleSigning,
			Annotations: map[string]string{annotationSignature: base64.StdEncoding.EncodeToString(sig)},
		}
		return legacyTag(digest, "sig"), client.AttachLegacy(ctx, pinned, registry.KindSignature, layer)
	}
	st, err := attest.CosignSignStatement(digest, annotations)
	if err != nil {
		return "", err
	}
	return attachBundle(ctx, s, client, pinned, st)
}

// attestImage writes one attestation about pinned's digest.
func attestImage(ctx context.Context, s *attest.Signer, client *registry.Client, pinned registry.Ref, format, predType string, pred []byte) (string, error) {
	digest := pinned.Digest()
	alg, hex, _ := strings.Cut(digest, ":")
	subject := attest.Subject{Name: pinned.Name(), Digest: map[string]string{alg: hex}}
	st, err := attest.NewStatement(predType, pred, []attest.Subject{subject}, attest.WithStatementType(attest.StatementTypeV01))
	if err != nil {
		return "", err
	}
	if format == formatBundle {
		return attachBundle(ctx, s, client, pinned, st)
	}
	payload, err := st.MarshalJSON()
	if err != nil {
		return "", err
	}
	env, err := s.SignEnvelope(attest.PayloadTypeInToto, payload)
	if err != nil {
		return "", err
	}
	content, err := json.Marshal(env)
	if err != nil {
		return "", err
	}
	layer := registry.Layer{
		Content:     content,
		MediaType:   mediaTypeDSSE,
		Annotations: map[string]string{annotationSignature: "", annotationPredicateType: predType},
	}
	return legacyTag(digest, "att"), client.AttachLegacy(ctx, pinned, registry.KindAttestation, layer)
}

// attachBundle signs st into a Sigstore bundle and attaches it as a referrer,
// with the manifest annotations cosign writes.
func attachBundle(ctx context.Context, s *attest.Signer, client *registry.Client, pinned registry.Ref, st *attest.Statement) (string, error) {
	payload, err := st.MarshalJSON()
	if err != nil {
		return "", err
	}
	b, err := s.BundleStatement(ctx, payload)
	if err != nil {
		return "", err
	}
	content, err := b.MarshalJSON()
	if err != nil {
		return "", err
	}
	layer := registry.Layer{Content: content, MediaType: registry.MediaTypeBundle}
	desc, err := client.AttachReferrer(ctx, pinned, registry.MediaTypeBundle, layer, map[string]string{
		annotationBundleContent:                "dsse-envelope",
		registry.AnnotationBundlePredicateType: st.PredicateType(),
		annotationCreated:                      time.Now().UTC().Format(time.RFC3339),
	})
	if err != nil {
		return "", err
	}
	return "referrer " + desc.Digest.String(), nil
}

func legacyTag(digest, suffix string) string {
	return "tag " + strings.Replace(digest, ":", "-", 1) + "." + suffix
}

// parseAnnotations reads -a key=value flags.
func parseAnnotations(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("annotation %q: use key=value", kv)
		}
		m[k] = v
	}
	return m, nil
}
