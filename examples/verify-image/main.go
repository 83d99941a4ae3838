package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/verify"
)

func main() {
	keyFile := flag.String("key", "examples/keys/example-only-do-not-use.pub", "public key")
	image := flag.String("image", "oci-dir:examples/sample-image", "image to verify")
	flag.Parse()
	os.Exit(run(*keyFile, *image))
}

func run(keyFile, image string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return fail(err)
	}
	pub, err := attest.ParsePublicKey(pem)
	if err != nil {
		return fail(err)
	}
	// One registry client and one Verifier per process: they keep
	// connections, tokens and caches for every later call.
	client, err := registry.New()
	if err != nil {
		return fail(err)
	}
	v, err := verify.New(verify.WithRegistry(client))
	if err != nil {
		return fail(err)
	}
	ref, err := registry.ParseRef(image)
	if err != nil {
		return fail(err)
	}
	// The sample was signed without a transparency log: the opt-out says so
	// in its name, and the result reports "tlog skipped".
	res, err := v.Image(ctx, ref, verify.ImagePolicy{Signatures: &verify.Requirements{
		Authorities: []verify.Authority{{Name: "example", Key: &verify.KeyAuthority{PublicKey: pub, InsecureIgnoreTlog: true}}},
	}})
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(out))

	var verr *verify.Error
	switch {
	case err == nil:
		return 0
	case errors.As(err, &verr) && verr.Denied():
		return 1 // a check ran and failed
	default:
		return 2 // could not decide: registry, network, input
	}
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "error:", err)
	return 2
}
