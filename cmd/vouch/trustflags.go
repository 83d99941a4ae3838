package main

import (
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/verify"
)

// The trust flags are shared by verify, verify-attestation, verify-blob and
// verify-blob-attestation: names as in cosign, translated into verify options
// and requirements here and nowhere else.

const maxKeyFileSize = 64 << 10

// trustFlags returns the flags that say what to trust.
func trustFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "key", Usage: "verify with this PEM public key (ECDSA, Ed25519 or RSA) instead of a keyless identity"},
		&cli.StringFlag{Name: "certificate-identity", Usage: "keyless: the signer's identity (certificate subject: email, URI), exactly"},
		&cli.StringFlag{Name: "certificate-identity-regexp", Usage: "keyless: the signer's identity as a regular expression that must match the WHOLE value (vouch anchors it; cosign does not)"},
		&cli.StringFlag{Name: "certificate-oidc-issuer", Usage: "keyless: the OIDC issuer of the signer's identity, exactly (e.g. https://token.actions.githubusercontent.com)"},
		&cli.StringFlag{Name: "certificate-oidc-issuer-regexp", Usage: "keyless: the OIDC issuer as a regular expression that must match the WHOLE value (anchored)"},
		&cli.StringFlag{Name: "certificate-github-workflow-trigger", Usage: "keyless: require this GitHub Actions event (certificate extension), e.g. push"},
		&cli.StringFlag{Name: "certificate-github-workflow-sha", Usage: "keyless: require this commit SHA (certificate extension)"},
		&cli.StringFlag{Name: "certificate-github-workflow-name", Usage: "keyless: require this GitHub Actions workflow name (certificate extension)"},
		&cli.StringFlag{Name: "certificate-github-workflow-repository", Usage: "keyless: require this repository, owner/name (certificate extension)"},
		&cli.StringFlag{Name: "certificate-github-workflow-ref", Usage: "keyless: require this git ref, e.g. refs/tags/v1.2.3 (certificate extension)"},
		&cli.StringFlag{Name: "trusted-root", Usage: "Sigstore trusted_root.json to trust; no network is used for trust material (default: the Sigstore public-good root through TUF, cached)"},
		&cli.BoolFlag{Name: "offline", Usage: "use only the cached TUF trusted root; never the network"},
		&cli.BoolFlag{Name: "insecure-ignore-tlog", Usage: "with --key: accept signatures that have no transparency-log entry (reported as \"tlog skipped\")"},
		&cli.BoolFlag{Name: "insecure-ignore-sct", Usage: "keyless: do not require a Signed Certificate Timestamp in the certificate (private Fulcio without CT)"},
	}
}

// verifierFromFlags builds the Verifier the trust flags ask for, plus extra
// options (a registry client). staging selects the Sigstore staging TUF
// repository (sigstore-conformance's --staging) when no --trusted-root is given.
func verifierFromFlags(c *cli.Context, e *env, staging bool, extra ...verify.Option) (*verify.Verifier, error) {
	opts := append([]verify.Option(nil), extra...)
	if p := c.String("trusted-root"); p != "" {
		opts = append(opts, verify.WithTrustedRootFile(p))
	} else {
		opts = append(opts, verify.WithTUF(filepath.Join(e.cacheDir, "tuf")))
		if staging {
			opts = append(opts, verify.WithTUFRepository(tuf.StagingMirror, tuf.StagingRoot()))
		}
	}
	if c.Bool("offline") {
		opts = append(opts, verify.WithOffline())
	}
	if c.Bool("insecure-ignore-sct") {
		opts = append(opts, verify.WithInsecureIgnoreSCT())
	}
	return verify.New(opts...)
}

// requirementsFromFlags turns --key or the keyless identity flags into one
// authority. Invalid combinations are usage errors that list the choices.
func requirementsFromFlags(c *cli.Context) (verify.Requirements, error) {
	id := verify.Identity{
		Subject:       c.String("certificate-identity"),
		SubjectRegExp: c.String("certificate-identity-regexp"),
		Issuer:        c.String("certificate-oidc-issuer"),
		IssuerRegExp:  c.String("certificate-oidc-issuer-regexp"),
		GitHub: verify.GitHubClaims{
			WorkflowTrigger:    c.String("certificate-github-workflow-trigger"),
			WorkflowSHA:        c.String("certificate-github-workflow-sha"),
			WorkflowName:       c.String("certificate-github-workflow-name"),
			WorkflowRepository: c.String("certificate-github-workflow-repository"),
			WorkflowRef:        c.String("certificate-github-workflow-ref"),
		},
	}
	keyless := id.Subject != "" || id.SubjectRegExp != "" || id.Issuer != "" || id.IssuerRegExp != "" || id.GitHub != (verify.GitHubClaims{})
	const choices = "use --key FILE, or --certificate-identity (or --certificate-identity-regexp) with --certificate-oidc-issuer (or --certificate-oidc-issuer-regexp)"
	keyPath := c.String("key")
	switch {
	case keyPath != "" && keyless:
		return verify.Requirements{}, usagef("--key and the --certificate-* identity flags exclude each other: %s", choices)
	case keyPath != "":
		pub, err := readPublicKey(keyPath)
		if err != nil {
			return verify.Requirements{}, err
		}
		return verify.Requirements{Authorities: []verify.Authority{{
			Name: "key " + keyPath,
			Key:  &verify.KeyAuthority{PublicKey: pub, InsecureIgnoreTlog: c.Bool("insecure-ignore-tlog")},
		}}}, nil
	case !keyless:
		return verify.Requirements{}, usagef("say who must have signed: %s", choices)
	case c.Bool("insecure-ignore-tlog"):
		return verify.Requirements{}, usagef("--insecure-ignore-tlog applies to --key only: keyless signatures always need the transparency log")
	case id.Subject != "" && id.SubjectRegExp != "":
		return verify.Requirements{}, usagef("give --certificate-identity or --certificate-identity-regexp, not both")
	case id.Subject == "" && id.SubjectRegExp == "":
		return verify.Requirements{}, usagef("keyless verification needs the signer: --certificate-identity or --certificate-identity-regexp")
	case id.Issuer != "" && id.IssuerRegExp != "":
		return verify.Requirements{}, usagef("give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both")
	case id.Issuer == "" && id.IssuerRegExp == "":
		return verify.Requirements{}, usagef("keyless verification needs the issuer: --certificate-oidc-issuer or --certificate-oidc-issuer-regexp")
	}
	return verify.Requirements{Authorities: []verify.Authority{{
		Name:    "keyless",
		Keyless: &verify.KeylessAuthority{Identities: []verify.Identity{id}},
	}}}, nil
}

// readPublicKey reads a PEM public key file, as cosign.pub is written.
func readPublicKey(path string) (crypto.PublicKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading --key: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading --key: %w", err)
	}
	if len(b) > maxKeyFileSize {
		return nil, fmt.Errorf("--key %s: larger than %d bytes, not a public key", path, maxKeyFileSize)
	}
	pub, err := attest.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("--key %s: want a PEM public key (ECDSA P-256/P-384/P-521, Ed25519 or RSA 2048-4096; KMS URIs are not supported): %w", path, err)
	}
	return pub, nil
}

// warnInsecureFlags says on stderr which safety checks the flags switched
// off, once per command, before anything is verified.
func warnInsecureFlags(c *cli.Context, e *env, what string) {
	if c.Bool("insecure-ignore-tlog") {
		fmt.Fprintf(e.stderr, "WARNING: --insecure-ignore-tlog: %s without a transparency-log entry are accepted\n", what)
	}
	if c.Bool("insecure-ignore-sct") {
		fmt.Fprintf(e.stderr, "WARNING: --insecure-ignore-sct: certificates without a Signed Certificate Timestamp are accepted\n")
	}
}
