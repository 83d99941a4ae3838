package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/verify"
)

func init() { register(verifyBlobAttestationCommand) }

func verifyBlobAttestationCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify-blob-attestation",
		Usage:     "verify in-toto attestations of a file (GitHub artifact attestations, npm provenance, SLSA provenance) from Sigstore bundles",
		ArgsUsage: "FILE|sha256:HEX|sha512:HEX",
		Description: `Checks that a bundle in --bundle is an in-toto attestation of predicate type --type about
FILE (or the file with that digest), signed by the given key or keyless identity, and that
its predicate meets the provenance flags.

--bundle holds one Sigstore bundle (v0.1 to v0.3), several as JSON lines (gh attestation
download, slsa-github-generator's .intoto.jsonl) or npm's attestations document
({"attestations":[{"predicateType","bundle"}]}). Any one bundle that passes every check is
enough; vouch says why each other one did not count.

A file is hashed with the algorithm the statement's subject uses (npm attestations name
sha512 digests); a digest argument names its algorithm and must match the statement's.

The provenance flags (--builder-id, --source-uri, --source-ref, --source-versioned-tag,
--build-type) check SLSA provenance v0.2 and v1. For a keyless attestation they are checked
against the signing certificate's own extensions, which the signer cannot choose, and the
predicate's claims must agree with the certificate: a predicate that claims a builder or
repository other than the one that signed it is denied, whatever identity regexp is given.

--type is a predicate type URI or one of cosign's names: ` + strings.Join(attest.PredicateTypeNames(), ", ") + `.

Prints "Verified OK" on stderr and each verified statement (JSON, one per line) on stdout;
-o json writes a report with every bundle's result on stdout instead.

Example:
   vouch verify-blob-attestation --bundle sigstore-2.3.1.tgz.json --type slsaprovenance1 \
     --certificate-identity https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main \
     --certificate-oidc-issuer https://token.actions.githubusercontent.com sigstore-2.3.1.tgz
   vouch verify-blob-attestation --bundle binary-linux-amd64.intoto.jsonl --type slsaprovenance02 \
     --certificate-identity-regexp '^https://github.com/slsa-framework/slsa-github-generator/.*' \
     --certificate-oidc-issuer https://token.actions.githubusercontent.com \
     --source-uri github.com/slsa-framework/example-package --source-versioned-tag v14 binary-linux-amd64`,
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "bundle", Usage: "`FILE` of Sigstore bundles: one bundle, JSON lines of bundles, or npm's attestations document", Required: true},
			&cli.StringFlag{Name: "type", Usage: "predicate type the attestation must have: a URI or " + strings.Join(attest.PredicateTypeNames(), "|"), Required: true},
			outputFlag(),
			timeoutFlag(),
		}, trustFlags()...), provenanceFlags()...),
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("verify-blob-attestation takes one FILE, sha256:HEX or sha512:HEX, got %d arguments", c.NArg())
			}
			target, bundlePath := c.Args().First(), c.String("bundle")
			att, err := attestationRequirementFromFlags(c)
			if err != nil {
				return err
			}
			res, err := func() (*verify.BlobAttestationResult, error) {
				req, err := requirementsFromFlags(c)
				if err != nil {
					return nil, err
				}
				v, err := verifierFromFlags(c, e, false)
				if err != nil {
					return nil, err
				}
				ctx, cancel := withTimeout(c)
				defer cancel()
				warnInsecureFlags(c, e, "attestations")
				return verifyBlobAttestation(ctx, v, bundlePath, target, att, req)
			}()
			var usage usageError
			if errors.As(err, &usage) {
				return err
			}
			if format == "json" {
				if err := writeJSON(e.stdout, blobAttestationReport(target, bundlePath, att.PredicateType, res, err)); err != nil {
					return err
				}
			}
			if res != nil && (err != nil || format != "json") && len(res.Attestations) > 1 {
				// Why each other bundle did not count.
				for _, a := range res.Attestations {
					if a.Failure != nil {
						fmt.Fprintf(e.stderr, "%s: did not count: %s: %s\n", a.Source, a.Failure.Reason, a.Failure.Message)
					}
				}
			}
			if err != nil {
				return err
			}
			for _, a := range res.Attestations {
				if !a.Verified {
					continue
				}
				if a.Tlog != nil && a.Tlog.Status == verify.TlogSkipped {
					fmt.Fprintf(e.stderr, "%s: tlog skipped: the transparency log was not checked\n", a.Source)
				}
				if format != "json" {
					if _, err := fmt.Fprintf(e.stdout, "%s\n", a.Payload); err != nil {
						return err
					}
				}
			}
			fmt.Fprintln(e.stderr, "Verified OK")
			return nil
		},
	}
}

// verifyBlobAttestation reads the bundle file and the artifact (a file, or
// a digest) and verifies them.
func verifyBlobAttestation(ctx context.Context, v *verify.Verifier, bundlePath, target string, att verify.AttestationRequirement, req verify.Requirements) (*verify.BlobAttestationResult, error) {
	f, err := os.Open(bundlePath)
	if err != nil {
		return nil, fmt.Errorf("reading --bundle: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, verify.MaxBundleFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading --bundle: %w", err)
	}
	bundles, err := verify.SplitBundles(data)
	if err != nil {
		return nil, err
	}
	artifact, done, err := artifactArg(target)
	if err != nil {
		return nil, err
	}
	defer done()
	return v.BlobAttestation(ctx, bundles, artifact, att, req)
}

// blobAttestationReportJSON is verify-blob-attestation's -o json document.
type blobAttestationReportJSON struct {
	SchemaVersion int    `json:"schemaVersion"`
	Artifact      string `json:"artifact"`
	Bundle        string `json:"bundle"`
	PredicateType string `json:"predicateType"`
	Digest        string `json:"digest,omitempty"`
	Verified      bool   `json:"verified"`
	Threshold     int    `json:"threshold,omitempty"`
	// Satisfied names the authorities that verified attestations satisfied.
	Satisfied    []string          `json:"satisfied,omitempty"`
	Attestations []attestationJSON `json:"attestations"`
	Failure      *verify.Failure   `json:"failure,omitempty"`
}

// attestationJSON is one bundle's result, with the statement when it verified.
type attestationJSON struct {
	verify.SignatureResult
	Statement json.RawMessage `json:"statement,omitempty"`
}

func blobAttestationReport(artifact, bundlePath, predicateType string, res *verify.BlobAttestationResult, err error) blobAttestationReportJSON {
	r := blobAttestationReportJSON{SchemaVersion: schemaVersion, Artifact: artifact, Bundle: bundlePath, PredicateType: predicateType, Attestations: []attestationJSON{}}
	if res != nil {
		r.Digest, r.Verified, r.Threshold, r.Satisfied = res.Digest, res.Verified, res.Threshold, res.Satisfied
		for _, a := range res.Attestations {
			j := attestationJSON{SignatureResult: a}
			if a.Verified && json.Valid(a.Payload) {
				j.Statement = a.Payload
			}
			r.Attestations = append(r.Attestations, j)
		}
	}
	if err != nil {
		r.Failure = &verify.Failure{Reason: verify.ReasonOf(err), Message: err.Error()}
	}
	return r
}
