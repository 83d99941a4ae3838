package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/registry"
)

// Registry flags shared by every command that talks to registries (tree,
// resolve, verify, sign…). Names follow cosign's.
func registryFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{
			Name:    "allow-insecure-registry",
			Aliases: []string{"allow-http-registry"},
			Usage:   "allow plain HTTP to registries that are not on loopback (loopback always may); TLS, when used, is still verified",
		},
		&cli.StringFlag{
			Name:      "registry-cacert",
			Usage:     "PEM `FILE` of CA certificates to trust for registry TLS, besides the system's",
			TakesFile: true,
		},
		&cli.StringFlag{
			Name:  "signature-repository",
			Usage: "`REPOSITORY` holding signatures, attestations and SBOMs, instead of the image's own (default: $COSIGN_REPOSITORY)",
		},
	}
}

// newRegistryClient turns the registry flags and the environment into a
// registry.Client: credentials from the Docker config (and the credential
// helpers it names) with an anonymous fallback, the standard proxy
// variables, and COSIGN_REPOSITORY as the default signature repository.
func newRegistryClient(c *cli.Context, e *env) (*registry.Client, error) {
	opts := []registry.Option{
		registry.WithKeychain(&anonymousFallback{inner: authn.DefaultKeychain, warn: e.stderr}),
		registry.WithProxy(http.ProxyFromEnvironment),
		registry.WithInsecureRegistry(c.Bool("allow-insecure-registry")),
		registry.WithUserAgent("vouch/" + version),
	}
	if e.cacheDir != "" {
		// Registries that need no authentication are remembered for an
		// hour, so the next vouch run skips the ping round trip to them.
		opts = append(opts, registry.WithOpenRegistryCache(filepath.Join(e.cacheDir, "registries"), 0))
	}
	if f := c.String("registry-cacert"); f != "" {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, usagef("--registry-cacert: %v", err)
		}
		opts = append(opts, registry.WithCACerts(pem))
	}
	repo := c.String("signature-repository")
	if repo == "" && e.getenv != nil {
		repo = e.getenv("COSIGN_REPOSITORY")
	}
	if repo != "" {
		opts = append(opts, registry.WithSignatureRepository(repo))
	}
	client, err := registry.New(opts...)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	return client, nil
}

// anonymousFallback reads credentials from a keychain and, when that fails
// (a broken config file, a credential helper that errors), warns once per
// registry and goes on anonymously: public images still verify, and a
// private one then fails with the registry's own "access denied".
type anonymousFallback struct {
	inner authn.Keychain
	warn  io.Writer
	mu    sync.Mutex
	told  map[string]bool
}

func (k *anonymousFallback) Resolve(r authn.Resource) (authn.Authenticator, error) {
	a, err := k.inner.Resolve(r)
	if err == nil {
		return a, nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.told == nil {
		k.told = map[string]bool{}
	}
	if !k.told[r.RegistryStr()] && k.warn != nil {
		k.told[r.RegistryStr()] = true
		fmt.Fprintf(k.warn, "Warning: could not read credentials for %s (%v); trying anonymously\n", r.RegistryStr(), err)
	}
	return authn.Anonymous, nil
}

// registryReason is the stable reason code of a registry error, as in
// verify's JSON: not_found, registry_unavailable, timeout, invalid_input.
func registryReason(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	case errors.Is(err, registry.ErrInvalidReference):
		return "invalid_input"
	case errors.Is(err, registry.ErrNotFound):
		return "not_found"
	}
	return "registry_unavailable"
}

// errorMessage is err's text, with a hint when the deadline passed.
func errorMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return err.Error() + "; allow more time with --timeout"
	}
	return err.Error()
}

// withHint adds the --timeout hint to a deadline error, keeping the chain.
func withHint(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w; allow more time with --timeout", err)
	}
	return err
}

// jsonError is how JSON documents report a failure.
type jsonError struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func newJSONError(err error) *jsonError {
	if err == nil {
		return nil
	}
	return &jsonError{Reason: registryReason(err), Message: errorMessage(err)}
}

// forEach runs fn for each index with at most n at a time.
func forEach(count, n int, fn func(i int)) {
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i := range count {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}
