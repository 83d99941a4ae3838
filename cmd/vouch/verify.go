package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/verify"
)

func init() {
	register(verifyCommand)
	register(verifyAttestationCommand)
}

// imageVerifyFlags are the flags verify and verify-attestation share.
func imageVerifyFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "platform", Usage: "also verify the manifest for this platform, `os/arch[/variant]`, of a multi-platform image: the index and the platform manifest must each verify"},
		&cli.IntFlag{Name: "max-workers", Value: verify.DefaultMaxWorkers, Usage: "verify at most this many images at once"},
		outputFlag(),
		timeoutFlag(),
	}
	flags = append(flags, trustFlags()...)
	return append(flags, registryFlags()...)
}

func verifyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "verify the signatures of container images",
		ArgsUsage: "IMAGE...",
		Description: `Checks that each image is signed by the given key or keyless identity: cosign's legacy
signatures (the sha256-<hex>.sig tag) and Sigstore bundles attached as OCI 1.1 referrers (or
through the referrers fallback tag), in the image's repository or --signature-repository
($COSIGN_REPOSITORY). A tag is resolved once and everything is bound to that digest; the
report names it, so pin it. Many images are verified concurrently (--max-workers) over shared
connections.

Every signature must name the image's digest: a signature copied from another image does
not count. Keyless signatures need a Fulcio certificate chaining to the trusted root, an
embedded SCT and a transparency-log entry; keyed ones need a log entry unless
--insecure-ignore-tlog. Identity regular expressions must match the whole value: vouch
anchors them (cosign does not). -a key=value requires a signed annotation.

A multi-platform image is verified at its index digest, which is what cosign signs. With
--platform, the platform's manifest must be signed too (cosign sign -r signs both), and the
report lists both digests.

When a place that may hold signatures cannot be read (a registry error, rate limit or
timeout), an image without a valid signature is "could not decide" (exit 2), never
"unsigned"; an image with one passes with a warning naming that place.

Human-readable text goes to stderr; -o json writes {"schemaVersion":1,"images":[…]} on stdout,
with a stable reason code on every failure. Exit 0: all verified; 1: any denied; 2: could not
decide (denied outranks could-not-decide).

Example:
   vouch verify --key cosign.pub ghcr.io/acme/app:v1.2.3
   vouch verify --certificate-identity-regexp 'https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*' \
     --certificate-oidc-issuer https://token.actions.githubusercontent.com -o json \
     ghcr.io/acme/app@sha256:3f1c... ghcr.io/acme/worker:v1.2.3
   vouch verify --key cosign.pub --insecure-ignore-tlog --platform linux/arm64 oci-dir:./layout:v1`,
		Flags: append(imageVerifyFlags(),
			&cli.StringSliceFlag{Name: "annotations", Aliases: []string{"a"}, Usage: "require the signed annotation `key=value` (repeatable)"},
		),
		Action: func(c *cli.Context) error {
			annotations, err := parseAnnotations(c.StringSlice("annotations"))
			if err != nil {
				return err
			}
			return runImageVerify(c, e, false, func(req verify.Requirements) (verify.ImagePolicy, error) {
				return verify.ImagePolicy{Signatures: &req, Annotations: annotations}, nil
			})
		},
	}
}

func verifyAttestationCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify-attestation",
		Usage:     "verify the attestations (SLSA provenance, SBOMs, …) of container images",
		ArgsUsage: "IMAGE...",
		Description: `Checks that each image carries at least one attestation of --type signed by the given key or
keyless identity: cosign's legacy attestations (the sha256-<hex>.att tag) and Sigstore bundles
attached as referrers. The statement's subject must be the image's digest and its predicate
type must be --type; none that verifies is a denial (exit 1), never a pass. BuildKit's
unsigned attestation manifests never count.

--type is a predicate type URI or one of cosign's names: ` + strings.Join(attest.PredicateTypeNames(), ", ") + `
(default custom, as cosign). --builder-id, --source-uri, --source-ref, --source-versioned-tag
and --build-type check SLSA provenance; for keyless attestations they are checked against
the signing certificate, which the builder cannot choose, and the predicate must agree.

Prints each verified in-toto statement as one line of JSON on stdout (like cosign), the checks
on stderr; -o json writes the report instead, statements included. Exit codes as verify.

Example:
   vouch verify-attestation --type slsaprovenance1 \
     --certificate-identity-regexp '^https://github\.com/slsa-framework/slsa-github-generator/.*' \
     --certificate-oidc-issuer https://token.actions.githubusercontent.com \
     --source-uri github.com/acme/app --source-ref 'refs/tags/v*' ghcr.io/acme/app:v1.2.3
   vouch verify-attestation --type spdxjson --key cosign.pub ghcr.io/acme/app:v1.2.3 | jq .predicate`,
		Flags: append(append(imageVerifyFlags(),
			&cli.StringFlag{Name: "type", Value: "custom", Usage: "predicate type: a URI or " + strings.Join(attest.PredicateTypeNames(), "|")},
		), provenanceFlags()...),
		Action: func(c *cli.Context) error {
			ar, err := attestationRequirementFromFlags(c)
			if err != nil {
				return err
			}
			return runImageVerify(c, e, true, func(req verify.Requirements) (verify.ImagePolicy, error) {
				return verify.ImagePolicy{Attestations: []verify.ImageAttestation{{AttestationRequirement: ar, Requirements: req}}}, nil
			})
		},
	}
}

// runImageVerify is verify and verify-attestation: flags to a policy and a
// Verifier once, every image verified, each reported, one exit code.
func runImageVerify(c *cli.Context, e *env, attestations bool, policyFor func(verify.Requirements) (verify.ImagePolicy, error)) error {
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	if c.NArg() == 0 {
		return usagef("%s needs at least one IMAGE", c.Command.Name)
	}
	refs := make([]registry.Ref, c.NArg())
	for i, a := range c.Args().Slice() {
		if refs[i], err = registry.ParseRef(a); err != nil {
			return usageError{err.Error()}
		}
	}
	req, err := requirementsFromFlags(c)
	if err != nil {
		return err
	}
	policy, err := policyFor(req)
	if err != nil {
		return err
	}
	if p := c.String("platform"); p != "" {
		pl, err := v1.ParsePlatform(p)
		if err != nil || pl.OS == "" || pl.Architecture == "" {
			return usagef("--platform %q: use os/arch or os/arch/variant, e.g. linux/arm64", p)
		}
		policy.Platform = pl
	}
	workers := c.Int("max-workers")
	if workers < 1 {
		return usagef("--max-workers must be at least 1")
	}
	client, err := newRegistryClient(c, e)
	if err != nil {
		return err
	}
	v, err := verifierFromFlags(c, e, false, verify.WithRegistry(client), verify.WithMaxWorkers(workers))
	if err != nil {
		return err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	warnInsecureFlags(c, e, "signatures")

	results := v.Images(ctx, refs, policy)

	denied, undecided := 0, 0
	for _, r := range results {
		printImageResult(e.stderr, r, req, attestations)
		if r.Verified {
			continue
		}
		if r.Failure != nil && r.Failure.Reason.Denied() {
			denied++
		} else {
			undecided++
		}
	}
	switch {
	case format == "json":
		rep := imagesReport{SchemaVersion: schemaVersion, Images: make([]imageReport, len(results))}
		for i, r := range results {
			rep.Images[i] = imageReport{Result: r}
			if attestations {
				rep.Images[i].Statements = statementsOf(r)
			}
		}
		if err := writeJSON(e.stdout, rep); err != nil {
			return err
		}
	case attestations:
		for _, r := range results {
			for _, st := range statementsOf(r) {
				fmt.Fprintf(e.stdout, "%s\n", st)
			}
		}
	}
	return batchError(denied, undecided)
}

// imagesReport is verify's and verify-attestation's -o json document.
type imagesReport struct {
	SchemaVersion int           `json:"schemaVersion"`
	Images        []imageReport `json:"images"`
}

type imageReport struct {
	*verify.Result
	// Statements are the verified in-toto statements (verify-attestation).
	Statements []json.RawMessage `json:"statements,omitempty"`
}

// statementsOf returns the verified attestations' statements, compact, each
// once, in the order of the result.
func statementsOf(r *verify.Result) []json.RawMessage {
	var out []json.RawMessage
	seen := map[string]bool{}
	for _, d := range r.Digests {
		for _, a := range d.Attestations {
			for _, s := range a.Signatures {
				if !s.Verified || len(s.Payload) == 0 || seen[string(s.Payload)] {
					continue
				}
				seen[string(s.Payload)] = true
				var b bytes.Buffer
				if err := json.Compact(&b, s.Payload); err != nil {
					continue // verified statements are JSON; never print a broken line
				}
				out = append(out, b.Bytes())
			}
		}
	}
	return out
}

// printImageResult writes one image's verdict for people, as cosign does:
// the checks performed, then each digest's signatures, or the failure with
// what to do about it.
func printImageResult(w io.Writer, r *verify.Result, req verify.Requirements, attestations bool) {
	what := "signatures"
	if attestations {
		what = "attestations"
	}
	name := r.Ref
	if r.Digest != "" && !strings.Contains(name, "@") {
		name += " (" + r.Digest + ")"
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(w, "Warning: %s: %s\n", r.Ref, wn.Message)
	}
	if !r.Verified {
		kind := "could not decide"
		if r.Failure != nil && r.Failure.Reason.Denied() {
			kind = "denied"
		}
		reason, msg := verify.ReasonInvalidInput, "not verified"
		if r.Failure != nil {
			reason, msg = r.Failure.Reason, r.Failure.Message
		}
		fmt.Fprintf(w, "Error: %s: %s [%s]: %s\n", name, kind, reason, msg)
		for _, d := range r.Digests {
			for _, ir := range append([]*verify.ImageResult{d.Signatures}, d.Attestations...) {
				if ir == nil {
					continue
				}
				for _, s := range ir.Signatures {
					if s.Failure != nil {
						fmt.Fprintf(w, "  %s %s (%s): %s [%s]: %s\n", d.Digest, s.Format, s.Source, "not counted", s.Failure.Reason, s.Failure.Message)
					}
				}
			}
		}
		if h := hintFor(reason, attestations); h != "" {
			fmt.Fprintf(w, "  What to do: %s\n", h)
		}
		return
	}
	fmt.Fprintf(w, "\nVerification for %s --\nThe following checks were performed on each of these %s:\n", name, what)
	for _, check := range checksPerformed(r, req, attestations) {
		fmt.Fprintf(w, "  - %s\n", check)
	}
	for _, d := range r.Digests {
		label := d.Digest
		if d.Platform != "" {
			label += " (platform " + d.Platform + ")"
		}
		fmt.Fprintf(w, "Verified %s:\n", label)
		for _, ir := range append([]*verify.ImageResult{d.Signatures}, d.Attestations...) {
			if ir == nil {
				continue
			}
			for _, s := range ir.Signatures {
				if s.Verified {
					fmt.Fprintf(w, "  %s\n", describeSignature(s))
				}
			}
		}
	}
}

// checksPerformed lists, in cosign's words where cosign has them, what was
// established for the verified signatures.
func checksPerformed(r *verify.Result, req verify.Requirements, attestations bool) []string {
	var keyed, keyless, tlog, skipped bool
	for _, d := range r.Digests {
		for _, ir := range append([]*verify.ImageResult{d.Signatures}, d.Attestations...) {
			if ir == nil {
				continue
			}
			for _, s := range ir.Signatures {
				if !s.Verified {
					continue
				}
				if s.Identity != nil {
					keyless = true
				} else {
					keyed = true
				}
				if s.Tlog != nil && s.Tlog.Status == verify.TlogSkipped {
					skipped = true
				} else {
					tlog = true
				}
			}
		}
	}
	claims := "The cosign claims were validated: the signed payload names this image's digest"
	if attestations {
		claims = "The attestation's subject is this image's digest and its predicate type is the one required"
	}
	checks := []string{claims}
	if tlog {
		checks = append(checks, "Existence of the claims in the transparency log was verified offline")
	}
	if skipped {
		checks = append(checks, "The transparency log was NOT checked (--insecure-ignore-tlog)")
	}
	if keyed {
		checks = append(checks, "The signatures were verified against the specified public key")
	}
	if keyless {
		checks = append(checks, "The code-signing certificate was verified using trusted certificate authority certificates",
			"The certificate identity matched the required issuer and subject (regular expressions anchored)")
	}
	return checks
}

// describeSignature is one verified signature, for people.
func describeSignature(s verify.SignatureResult) string {
	var b strings.Builder
	b.WriteString(string(s.Format))
	if s.PredicateType != "" && s.PredicateType != verify.PredicateCosignSign {
		b.WriteString(" " + s.PredicateType)
	}
	fmt.Fprintf(&b, ", authority %q", s.Authority)
	if s.Identity != nil {
		fmt.Fprintf(&b, ", identity %s (issuer %s)", s.Identity.Subject, s.Identity.Issuer)
	}
	switch {
	case s.Tlog == nil:
		b.WriteString(", no tlog")
	case s.Tlog.Status == verify.TlogSkipped:
		b.WriteString(", tlog skipped")
	case s.Tlog.LogIndex != nil:
		fmt.Fprintf(&b, ", tlog index %d", *s.Tlog.LogIndex)
		if s.Tlog.IntegratedTime != nil {
			fmt.Fprintf(&b, " at %s", s.Tlog.IntegratedTime.UTC().Format(time.RFC3339))
		}
	default:
		b.WriteString(", tlog verified")
	}
	if s.Source != "" {
		fmt.Fprintf(&b, " [%s]", s.Source)
	}
	return b.String()
}

// hintFor says what to do about a failure, beyond its message.
func hintFor(r verify.Reason, attestations bool) string {
	switch r {
	case verify.ReasonNoSignatures:
		return "nothing signed this digest: sign it (vouch sign --key …, cosign sign), or, if its signatures live in another repository, say where with --signature-repository (or COSIGN_REPOSITORY)"
	case verify.ReasonNoAttestations:
		return "attest it (vouch attest, cosign attest --type …), or check --type against the predicate types found"
	case verify.ReasonNoMatchingSignatures, verify.ReasonKeyMismatch, verify.ReasonIdentityMismatch, verify.ReasonThresholdNotMet:
		if attestations {
			return "the attestations present were signed by someone else: check --key or --certificate-identity/--certificate-oidc-issuer"
		}
		return "the signatures present were made by someone else: check --key or --certificate-identity/--certificate-oidc-issuer"
	case verify.ReasonDigestMismatch:
		return "the signatures present name another image: they were copied here, or the tag was pushed again after signing; verify the digest that was signed, or sign this one"
	case verify.ReasonRegistryUnavailable:
		return "check the registry, your network and your credentials (docker login), then try again"
	case verify.ReasonTimeout:
		return "allow more time with --timeout, or try again"
	case verify.ReasonNotFound:
		return "check the image name and tag"
	case verify.ReasonTrustRootUnavailable:
		return "give --trusted-root FILE, or allow vouch to fetch the Sigstore root (without --offline)"
	}
	return ""
}
