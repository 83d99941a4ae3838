package registry_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vouchdev/vouch/registry"
)

func ExampleParseRef() {
	for _, s := range []string{"nginx", "ghcr.io/acme/app:v1", "oci-dir:./image:v1"} {
		r, err := registry.ParseRef(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(r)
	}
	// Output:
	// index.docker.io/library/nginx:latest
	// ghcr.io/acme/app:v1
	// oci-dir:image:v1
}

func ExampleAllowlist_Check() {
	allow, err := registry.NewAllowlist(
		[]string{"ghcr.io/acme/**", "my-registry.io"},
		[]string{"ghcr.io/acme/experimental/**"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []string{"ghcr.io/acme/app:v1", "ghcr.io/acme/experimental/x", "my-registry.io.evil.com/app"} {
		r, _ := registry.ParseRef(s)
		d := allow.Check(r) // no network call
		fmt.Printf("%v: %s\n", d.Allowed, d.Reason)
	}
	// Output:
	// true: allowed by pattern "ghcr.io/acme/**"
	// false: ghcr.io/acme/experimental/x:latest is denied by pattern "ghcr.io/acme/experimental/**"
	// false: my-registry.io.evil.com/app:latest matches no allow pattern
}

func ExampleClient_Discover() {
	// An in-process registry holding one image, for the example.
	srv := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	image := strings.TrimPrefix(srv.URL, "http://") + "/acme/app:v1"
	img, _ := random.Image(64, 1)
	if n, err := name.ParseReference(image); err == nil {
		remote.Write(n, img)
	}

	ctx := context.Background()
	c, err := registry.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, _ := registry.ParseRef(image)
	res, err := c.Resolve(ctx, ref) // pin the tag to a digest first
	if err != nil {
		fmt.Println(err)
		return
	}
	// Attach a (fake) cosign signature, as `cosign sign` would.
	err = c.AttachLegacy(ctx, res.Ref, registry.KindSignature, registry.Layer{
		Content:     []byte(`{"critical":{}}`),
		MediaType:   registry.MediaTypeSimpleSigning,
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": "MEUC…"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	atts, err := c.Discover(ctx, res.Ref)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range atts.Items {
		fmt.Println(a.Kind, a.Format, a.Path)
	}
	fmt.Println("complete:", atts.Complete())
	// Output:
	// signature legacy legacy-tag
	// complete: true
}
