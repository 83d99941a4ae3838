package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
)

func init() { register(generateKeyPairCommand) }

func generateKeyPairCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "generate-key-pair",
		Usage:     "generate a signing key pair in cosign's format (cosign.key, cosign.pub)",
		ArgsUsage: " ",
		Description: `Generates an ECDSA P-256 key pair, as cosign generate-key-pair does. The private key
is encrypted with a password in cosign's format ("ENCRYPTED SIGSTORE PRIVATE KEY"), so cosign
and vouch can use each other's keys. The private key file is written with mode 0600.

The password comes from VOUCH_PASSWORD or COSIGN_PASSWORD when either is set (set but empty
means no password); otherwise vouch prompts twice, only when stdin is a terminal.
Existing files are not overwritten unless --force is given.

Example:
   vouch generate-key-pair
   VOUCH_PASSWORD=... vouch generate-key-pair --output-key-prefix release`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output-key-prefix", Value: "cosign", Usage: "write PREFIX.key and PREFIX.pub"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "overwrite existing key files"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			format, err := outputFormat(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usagef("generate-key-pair takes no arguments (got %q); use --output-key-prefix", c.Args().First())
			}
			prefix := c.String("output-key-prefix")
			if prefix == "" {
				return usagef("--output-key-prefix must not be empty")
			}
			keyPath, pubPath := prefix+".key", prefix+".pub"
			if !c.Bool("force") {
				for _, p := range []string{keyPath, pubPath} {
					if _, err := os.Lstat(p); err == nil {
						return usagef("%s already exists: use --force to overwrite it, or --output-key-prefix to write elsewhere", p)
					}
				}
			}
			password, _, err := keyPassword(e, true)
			if err != nil {
				return err
			}
			priv, pub, err := attest.GenerateKeyPair(password)
			if err != nil {
				return err
			}
			if err := writeKeyFile(keyPath, priv, 0o600, c.Bool("force")); err != nil {
				return err
			}
			if err := writeKeyFile(pubPath, pub, 0o644, c.Bool("force")); err != nil {
				return err
			}
			if format == "json" {
				return writeJSON(e.stdout, struct {
					SchemaVersion int    `json:"schemaVersion"`
					PrivateKey    string `json:"privateKey"`
					PublicKey     string `json:"publicKey"`
				}{schemaVersion, keyPath, pubPath})
			}
			fmt.Fprintf(e.stderr, "Private key written to %s\nPublic key written to %s\n", keyPath, pubPath)
			return nil
		},
	}
}

// writeKeyFile writes a key file with mode perm. Without force it never
// replaces an existing file (O_EXCL, no race with the existence check); with
// force the mode is reset, so an overwritten private key is 0600 again.
func writeKeyFile(path string, data []byte, perm fs.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, fs.ErrExist) {
		return usagef("%s already exists: use --force to overwrite it", path)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
