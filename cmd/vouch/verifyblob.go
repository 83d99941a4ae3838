package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/verify"
)

func init() { register(verifyBlobCommand) }

// digestArg is how a digest is given in place of a file (the
// sigstore-conformance FILE_OR_DIGEST argument).
var digestArg = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$`)

func verifyBlobCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "verify-blob",
		Aliases:   []string{"verify-bundle"},
		Usage:     "verify a file, or its digest, against a Sigstore bundle",
		ArgsUsage: "FILE|sha256:HEX",
		Description: `Checks that the Sigstore bundle (v0.1 to v0.3, as written by cosign sign-blob --bundle,
sigstore-python, sigstore-js or GitHub attestations) signs FILE, or the file with that digest,
and was signed by the given key or keyless identity.

Keyless signatures need a Fulcio certificate that chains to the trusted root, an embedded
Signed Certificate Timestamp and a transparency-log entry; keyed signatures need a
transparency-log entry unless --insecure-ignore-tlog. Identity regular expressions must match
the whole value: vouch anchors them (cosign does not).

Prints "Verified OK" on stderr; -o json writes the result on stdout. verify-bundle is an alias
that follows the sigstore-conformance CLI protocol (--staging uses the Sigstore staging TUF
root when no --trusted-root is given).

Example:
   vouch verify-blob --bundle release.tar.gz.sigstore.json \
     --certificate-identity https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3 \
     --certificate-oidc-issuer https://token.actions.githubusercontent.com release.tar.gz
   vouch verify-blob --bundle artifact.sigstore.json --key cosign.pub --trusted-root trusted_root.json \
     sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "bundle", Usage: "the Sigstore bundle (JSON) to verify", Required: true},
			&cli.BoolFlag{Name: "staging", Usage: "without --trusted-root, trust the Sigstore staging instance instead of public-good"},
			outputFlag(),
			timeoutFlag(),
		}, trustFlags()...),
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("verify-blob takes one FILE or sha256:HEX, got %d arguments", c.NArg())
			}
			target, bundlePath := c.Args().First(), c.String("bundle")
			res, err := func() (*verify.BlobResult, error) {
				req, err := requirementsFromFlags(c)
				if err != nil {
					return nil, err
				}
				v, err := verifierFromFlags(c, e, c.Bool("staging"))
				if err != nil {
					return nil, err
				}
				ctx, cancel := withTimeout(c)
				defer cancel()
				warnInsecureFlags(c, e, "signatures")
				return verifyBlob(ctx, v, bundlePath, target, req)
			}()
			var usage usageError
			if format == "json" && !errors.As(err, &usage) {
				if err := writeJSON(e.stdout, blobReport(target, bundlePath, res, err)); err != nil {
					return err
				}
			}
			if err != nil {
				return err
			}
			if res.Signature.Tlog != nil && res.Signature.Tlog.Status == verify.TlogSkipped {
				fmt.Fprintln(e.stderr, "tlog skipped: the transparency log was not checked")
			}
			fmt.Fprintln(e.stderr, "Verified OK")
			return nil
		},
	}
}

// verifyBlob reads the bundle and the artifact (a file, or a digest) and
// verifies them.
func verifyBlob(ctx context.Context, v *verify.Verifier, bundlePath, target string, req verify.Requirements) (*verify.BlobResult, error) {
	b, err := readBundle(bundlePath)
	if err != nil {
		return nil, err
	}
	artifact, done, err := artifactArg(target)
	if err != nil {
		return nil, err
	}
	defer done()
	return v.Blob(ctx, b, artifact, req)
}

// artifactArg is the FILE|sha256:HEX argument of the blob commands: a
// digest given in place of a file, or the file, read while it is verified.
func artifactArg(target string) (verify.Artifact, func(), error) {
	if digestArg.MatchString(target) {
		a, err := verify.ArtifactDigest(target)
		return a, func() {}, err
	}
	f, err := os.Open(target)
	if err != nil {
		return verify.Artifact{}, nil, fmt.Errorf("reading the artifact: %w", err)
	}
	return verify.ArtifactReader(f), func() { f.Close() }, nil
}

// readBundle reads and parses a bundle file. An unreadable file cannot be
// decided (exit 2); a malformed bundle is a denial (exit 1).
func readBundle(path string) (*bundle.Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading --bundle: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, verify.MaxContentSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading --bundle: %w", err)
	}
	return verify.ParseBundle(b)
}

// blobReportJSON is verify-blob's -o json document.
type blobReportJSON struct {
	SchemaVersion int    `json:"schemaVersion"`
	Artifact      string `json:"artifact"`
	Bundle        string `json:"bundle"`
	*verify.BlobResult
	Failure *verify.Failure `json:"failure,omitempty"`
}

func blobReport(artifact, bundlePath string, res *verify.BlobResult, err error) blobReportJSON {
	r := blobReportJSON{SchemaVersion: schemaVersion, Artifact: artifact, Bundle: bundlePath, BlobResult: res}
	if r.BlobResult == nil {
		r.BlobResult = &verify.BlobResult{}
	}
	if err != nil {
		r.Failure = &verify.Failure{Reason: verify.ReasonOf(err), Message: err.Error()}
	}
	return r
}
