package registry_test

import (
	"context"
	"testing"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// go test ./registry -run '^$' -bench . -benchmem
//
// Discovery of an image with five attachments (three legacy tags, two
// bundle referrers) on the in-process registry, and the requests it costs.
func BenchmarkDiscover(b *testing.B) {
	reg := registrytest.New(b)
	d := reg.PushRandomImage(b, "app:v1")
	subject := mustRef(b, reg.Ref("app@"+d))
	attachAll(b, newClient(b), subject)
	ctx := context.Background()

	run := func(b *testing.B, client func() *registry.Client) {
		reg.Reset()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			atts, err := client().Discover(ctx, subject)
			if err != nil || len(atts.Items) != 5 {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(len(reg.Requests()))/float64(b.N), "requests/op")
	}
	b.Run("cold client", func(b *testing.B) {
		run(b, func() *registry.Client { return newClient(b) })
	})
	b.Run("warm client, tags expired", func(b *testing.B) {
		c := newClient(b, registry.WithTagTTL(0))
		c.Discover(ctx, subject)
		run(b, func() *registry.Client { return c })
	})
	b.Run("warm client, within tag TTL", func(b *testing.B) {
		c := newClient(b)
		c.Discover(ctx, subject)
		run(b, func() *registry.Client { return c })
	})
}

func BenchmarkAllowlistCheck(b *testing.B) {
	a, err := registry.NewAllowlist([]string{"ghcr.io/acme/**", "docker.io/library/*", "my-registry.io"}, []string{"ghcr.io/acme/experimental/**"})
	if err != nil {
		b.Fatal(err)
	}
	r := mustRef(b, "ghcr.io/acme/team/app:v1")
	b.ReportAllocs()
	for range b.N {
		if !a.Check(r).Allowed {
			b.Fatal("denied")
		}
	}
}
