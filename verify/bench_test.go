package verify

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/vouchdev/vouch/registry"
)

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImageSignatures is one in-process verification of a keyed image
// signature on a long-lived Verifier, content already fetched (the registry
// part is the lead's benchmark). Target: at most 1 ms CPU per verification.
func BenchmarkImageSignatures(b *testing.B) {
	f := newFixture(b)
	k := newKey(b)
	for _, bc := range []struct {
		name string
		att  Attachment
		req  Requirements
	}{
		{"keyed-legacy-tlog", f.keyedSig(k, imageDigest, true), Requirements{Authorities: []Authority{keyAuth("k", k, false)}}},
		{"keyed-legacy-notlog", f.keyedSig(k, imageDigest, false), Requirements{Authorities: []Authority{keyAuth("k", k, true)}}},
		{"keyed-bundle-tlog", f.keyedBundle(k, imageDigest, PredicateCosignSign, true), Requirements{Authorities: []Authority{keyAuth("k", k, false)}}},
		{"keyless-legacy", f.keylessSig(aliceID, imageDigest), Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}},
		{"keyless-bundle", f.keylessBundle(aliceID, imageDigest, PredicateCosignSign), Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			v := f.verifier()
			atts := []Attachment{bc.att}
			ctx := context.Background()
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				res, err := v.ImageSignatures(ctx, imageDigest, atts, bc.req)
				if err != nil || !res.Verified {
					b.Fatal(err)
				}
			}
			// CPU time, not wall time: on a loaded machine the two differ.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkImage is one verification of a digest-pinned image signed with a
// key (cosign's legacy .sig, no transparency log) through the in-process
// registry, as Verifier.Image does it: discovery, content (predicted: no
// blob request), verification.
// "cold" builds a new registry client per verification (first contact: a
// ping, every attachment path, the layer, new connections); "uncached"
// reuses one client and its connections but caches nothing, so every
// verification asks every path and fetches the layer again; "warm" reuses
// one, as a long-lived admission verifier does (tags and listings within
// their TTL, content cached by digest). Reports HTTP requests per verification and
// CPU time, which includes the in-process registry's.
func BenchmarkImage(b *testing.B) {
	f := newRemoteFixture(b)
	k := newKey(b)
	img := f.push("app:v1")
	f.attach(img, f.keyedSigPayload(k, cosignPayload(b, img, nil)), "") // what cosign sign writes
	policy := sigPolicy(keyAuth("k", k, true))
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		cold bool
		opts []registry.Option
	}{
		{"cold", true, nil},
		{"uncached", false, []registry.Option{registry.WithTagTTL(0), registry.WithCacheSize(0)}},
		{"warm", false, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			client := must[*registry.Client](b)(registry.New(bc.opts...))
			v := must[*Verifier](b)(New(WithRegistry(client)))
			if !bc.cold {
				if _, err := v.Image(ctx, img, policy); err != nil {
					b.Fatal(err)
				}
			}
			f.reg.Reset()
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if bc.cold {
					v = must[*Verifier](b)(New(WithRegistry(newTestClient(b))))
				}
				res, err := v.Image(ctx, img, policy)
				if err != nil || !res.Verified {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(len(f.reg.Requests()))/float64(b.N), "requests/op")
		})
	}
}
