package verify

import (
	"context"
	"syscall"
	"testing"
	"time"
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
