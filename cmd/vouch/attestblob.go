package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
)

func init() { register(attestBlobCommand) }

func attestBlobCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "attest-blob",
		Usage:     "attest to a file with a key: an in-toto statement signed into a Sigstore bundle",
		ArgsUsage: "FILE|-",
		Description: `Builds the in-toto statement cosign attest-blob builds (subject: FILE's name and sha256;
predicate: --predicate, shaped by --type exactly as cosign shapes it), signs it as DSSE with
--key and writes a Sigstore bundle v0.3 to --bundle, with the public key's hint and no
transparency log entry (cosign's --new-bundle-format --tlog-upload=false).

--type is a predicate type URI or one of cosign's names: ` + strings.Join(attest.PredicateTypeNames(), ", ") + `.
The default, custom, wraps the predicate file as {"Data": text, "Timestamp": now}.

Example:
   vouch attest-blob --key cosign.key --predicate provenance.json --type slsaprovenance1 \
     --bundle app.tar.gz.intoto.sigstore.json app.tar.gz`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "key", Usage: "private key file (cosign's encrypted format, PKCS#8, SEC1 or PKCS#1)"},
			&cli.StringFlag{Name: "predicate", Usage: "the predicate file"},
			&cli.StringFlag{Name: "type", Value: "custom", Usage: "predicate type: a URI or " + strings.Join(attest.PredicateTypeNames(), "|")},
			&cli.StringFlag{Name: "bundle", Usage: "write the Sigstore bundle to this file"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("attest-blob takes one FILE (or - for stdin), got %d arguments", c.NArg())
			}
			if c.String("predicate") == "" || c.String("bundle") == "" {
				return usagef("attest-blob needs --predicate FILE and --bundle OUT")
			}
			if _, err := attest.PredicateTypeFor(c.String("type")); err != nil {
				return usageError{err.Error()}
			}
			predicate, err := readLimited(c.String("predicate"), attest.MaxStatementSize)
			if err != nil {
				return err
			}
			predType, pred, err := attest.CosignPredicate(c.String("type"), predicate, time.Now())
			if err != nil {
				return usageError{err.Error()}
			}
			signer, err := loadSigner(e, c.String("key"))
			if err != nil {
				return err
			}
			path := c.Args().First()
			artifact, closeArtifact, err := openArtifact(e, path)
			if err != nil {
				return err
			}
			defer closeArtifact()
			h := sha256.New()
			if _, err := io.Copy(h, artifact); err != nil {
				return err
			}
			subject := attest.Subject{Name: filepath.Base(path), Digest: map[string]string{"sha256": hex.EncodeToString(h.Sum(nil))}}
			st, err := attest.NewStatement(predType, pred, []attest.Subject{subject}, attest.WithStatementType(attest.StatementTypeV01))
			if err != nil {
				return err
			}
			payload, _ := st.MarshalJSON()
			b, err := signer.BundleStatement(c.Context, payload)
			if err != nil {
				return err
			}
			if err := writeBundle(c.String("bundle"), b); err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(e.stdout, struct {
					SchemaVersion int            `json:"schemaVersion"`
					Bundle        string         `json:"bundle"`
					PredicateType string         `json:"predicateType"`
					Subject       attest.Subject `json:"subject"`
				}{schemaVersion, c.String("bundle"), predType, subject})
			}
			fmt.Fprintf(e.stderr, "Wrote attestation bundle to %s (predicate type %s, subject %s sha256:%s)\n",
				c.String("bundle"), predType, subject.Name, subject.Digest["sha256"])
			return nil
		},
	}
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
