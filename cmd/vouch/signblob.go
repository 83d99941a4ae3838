package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

func init() { register(signBlobCommand) }

func signBlobCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "sign-blob",
		Usage:     "sign a file with a key and write a Sigstore bundle",
		ArgsUsage: "FILE|-",
		Description: `Signs FILE (or stdin, "-") with the private key --key and prints the base64 signature
on stdout. With --bundle, also writes a Sigstore bundle v0.3 holding the signature and the
public key's hint, what cosign sign-blob --bundle --new-bundle-format --tlog-upload=false
writes. Nothing is uploaded to a transparency log, so verifiers must be told to accept that:

   cosign verify-blob --key cosign.pub --bundle FILE.sigstore.json --new-bundle-format \
     --insecure-ignore-tlog --trusted-root trusted_root.json FILE
   vouch verify-blob --key cosign.pub --bundle FILE.sigstore.json --insecure-ignore-tlog FILE

The key's password is read as for every signing command (VOUCH_PASSWORD or COSIGN_PASSWORD,
else a prompt on a terminal).

Example:
   vouch sign-blob --key cosign.key --bundle release.tar.gz.sigstore.json release.tar.gz`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "private key file (cosign's encrypted format, PKCS#8, SEC1 or PKCS#1)"},
			&cli.StringFlag{Name: "bundle", Usage: "write the Sigstore bundle to this file"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("sign-blob takes one FILE (or - for stdin), got %d arguments", c.NArg())
			}
			signer, err := loadSigner(e, c.String("key"))
			if err != nil {
				return err
			}
			artifact, closeArtifact, err := openArtifact(e, c.Args().First())
			if err != nil {
				return err
			}
			defer closeArtifact()
			b, err := signer.BundleBlob(c.Context, artifact)
			if err != nil {
				return err
			}
			if out := c.String("bundle"); out != "" {
				if err := writeBundle(out, b); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "Wrote bundle to %s\n", out)
			}
			ms := b.GetMessageSignature()
			sig := base64.StdEncoding.EncodeToString(ms.GetSignature())
			if format == "json" {
				return writeJSON(e.stdout, struct {
					SchemaVersion int    `json:"schemaVersion"`
					Digest        string `json:"digest"`
					Signature     string `json:"signature"`
					Bundle        string `json:"bundle,omitempty"`
				}{schemaVersion, digestName(ms.GetMessageDigest().GetAlgorithm().String()) + ":" + hex.EncodeToString(ms.GetMessageDigest().GetDigest()), sig, c.String("bundle")})
			}
			fmt.Fprintln(e.stdout, sig)
			return nil
		},
	}
}

// openArtifact opens FILE, or stdin for "-".
func openArtifact(e *env, path string) (io.Reader, func(), error) {
	if path == "-" {
		return e.stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// writeBundle writes a bundle's JSON (protojson, as cosign writes it).
func writeBundle(path string, b interface{ MarshalJSON() ([]byte, error) }) error {
	j, err := b.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(path, j, 0o644)
}

// digestName turns a bundle hash algorithm (SHA2_256) into a digest prefix (sha256).
func digestName(alg string) string {
	switch alg {
	case "SHA2_256":
		return "sha256"
	case "SHA2_384":
		return "sha384"
	case "SHA2_512":
		return "sha512"
	}
	return strings.ToLower(alg)
}
