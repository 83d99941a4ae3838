package verify

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// exportTrustedRoot writes the fixture's trust material as a
// trusted_root.json. VirtualSigstore's log IDs are hex strings where the
// trusted root wants the raw key IDs, so they are decoded first.
func exportTrustedRoot(t *testing.T, vs *ca.VirtualSigstore) []byte {
	t.Helper()
	fix := func(logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
		out := map[string]*root.TransparencyLog{}
		for k, l := range logs {
			c := *l
			c.ID = must[[]byte](t)(hex.DecodeString(string(l.ID)))
			out[k] = &c
		}
		return out
	}
	tr := must[*root.TrustedRoot](t)(root.NewTrustedRoot(root.TrustedRootMediaType01,
		vs.FulcioCertificateAuthorities(), fix(vs.CTLogs()), vs.TimestampingAuthorities(), fix(vs.RekorLogs())))
	return must[[]byte](t)(tr.MarshalJSON())
}

// tufRepo is a minimal TUF repository serving one target, trusted_root.json.
type tufRepo struct {
	rootJSON []byte
	files    map[string][]byte
	hits     atomic.Int32
	srv      *httptest.Server
	// onHit, when set, is called for every request (to fail a test that
	// must make none).
	onHit func(path string)
}

func newTUFRepo(t *testing.T, trustedRoot []byte) *tufRepo {
	t.Helper()
	expires := time.Now().Add(24 * time.Hour)
	r := &tufRepo{files: map[string][]byte{}}
	targets := metadata.Targets(expires)
	tf := must[*metadata.TargetFiles](t)(metadata.TargetFile().FromBytes("trusted_root.json", trustedRoot, "sha256"))
	targets.Signed.Targets["trusted_root.json"] = tf
	snapshot := metadata.Snapshot(expires)
	timestamp := metadata.Timestamp(expires)
	rt := metadata.Root(expires)
	signers := map[string]signature.Signer{}
	for _, role := range []string{"root", "targets", "snapshot", "timestamp"} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key := must[*metadata.Key](t)(metadata.KeyFromPublicKey(priv.Public()))
		if err := rt.Signed.AddKey(key, role); err != nil {
			t.Fatal(err)
		}
		signers[role] = must[signature.Signer](t)(signature.LoadSigner(priv, crypto.Hash(0)))
	}
	sign := func(m interface {
		Sign(signature.Signer) (*metadata.Signature, error)
	}, role string) {
		if _, err := m.Sign(signers[role]); err != nil {
			t.Fatal(err)
		}
	}
	sign(targets, "targets")
	r.files["/1.targets.json"] = must[[]byte](t)(targets.ToBytes(false))
	snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(1)
	sign(snapshot, "snapshot")
	r.files["/1.snapshot.json"] = must[[]byte](t)(snapshot.ToBytes(false))
	timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(1)
	sign(timestamp, "timestamp")
	r.files["/timestamp.json"] = must[[]byte](t)(timestamp.ToBytes(false))
	sign(rt, "root")
	r.rootJSON = must[[]byte](t)(rt.ToBytes(false))
	r.files["/1.root.json"] = r.rootJSON
	sum := sha256.Sum256(trustedRoot)
	r.files["/targets/"+hex.EncodeToString(sum[:])+".trusted_root.json"] = trustedRoot

	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits.Add(1)
		if r.onHit != nil {
			r.onHit(req.URL.Path)
		}
		b, ok := r.files[req.URL.Path]
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// A keyed verification that skips the transparency log needs no trusted
// root: it must not load one, nor touch the network.
func TestKeyedWithoutTlogMakesNoNetworkCall(t *testing.T) {
	f := newFixture(t)
	k := newKey(t)
	repo := newTUFRepo(t, exportTrustedRoot(t, f.vs))
	repo.onHit = func(p string) { t.Errorf("network request to the TUF mirror: %s", p) }
	v, err := New(WithTUF(t.TempDir()), WithTUFRepository(repo.srv.URL, repo.rootJSON))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []Attachment{f.keyedSig(k, imageDigest, false), f.keyedBundle(k, imageDigest, PredicateCosignSign, false)} {
		res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{a}, Requirements{Authorities: []Authority{keyAuth("k", k, true)}})
		wantVerified(t, res, err)
	}
	// A keyless signature next to it is not checked against the key
	// authority, so it needs no root either.
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, Requirements{Authorities: []Authority{keyAuth("k", k, true)}})
	wantDenied(t, res, err, ReasonKeyMismatch)
	if n := v.trust.loads.Load(); n != 0 || repo.hits.Load() != 0 {
		t.Errorf("trusted root loads %d, requests %d: want none", n, repo.hits.Load())
	}
}

// The same mirror is used as soon as a check needs the root, and the root
// it serves verifies keyless signatures; afterwards, offline, the cache
// alone is enough.
func TestTUFOnlineThenOffline(t *testing.T) {
	f := newFixture(t)
	repo := newTUFRepo(t, exportTrustedRoot(t, f.vs))
	cache := t.TempDir()
	req := Requirements{Authorities: []Authority{keylessAuth("ci", alice)}}

	v := must[*Verifier](t)(New(WithTUF(cache), WithTUFRepository(repo.srv.URL, repo.rootJSON), WithInsecureIgnoreSCT()))
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, req)
	wantVerified(t, res, err)
	if repo.hits.Load() == 0 {
		t.Fatal("no request to the TUF mirror")
	}
	// Loaded once per Verifier.
	before := repo.hits.Load()
	res, err = v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, req)
	wantVerified(t, res, err)
	if repo.hits.Load() != before || v.trust.loads.Load() != 1 {
		t.Errorf("second check: %d more requests, %d loads", repo.hits.Load()-before, v.trust.loads.Load())
	}

	repo.onHit = func(p string) { t.Errorf("offline, but requested %s", p) }
	off := must[*Verifier](t)(New(WithTUF(cache), WithTUFRepository(repo.srv.URL, repo.rootJSON), WithInsecureIgnoreSCT(), WithOffline()))
	res, err = off.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, req)
	wantVerified(t, res, err)
}

func TestOfflineWithEmptyCache(t *testing.T) {
	f := newFixture(t)
	repo := newTUFRepo(t, exportTrustedRoot(t, f.vs))
	repo.onHit = func(p string) { t.Errorf("offline, but requested %s", p) }
	v := must[*Verifier](t)(New(WithTUF(t.TempDir()), WithTUFRepository(repo.srv.URL, repo.rootJSON), WithOffline()))
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)},
		Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	if res != nil || ReasonOf(err) != ReasonTrustRootUnavailable || !strings.Contains(err.Error(), "offline") || !strings.Contains(err.Error(), "--trusted-root") {
		t.Fatalf("want an undecided trust_root_unavailable error saying what to do, got %v (%+v)", err, res)
	}
	if err.(*Error).Denied() {
		t.Error("an unavailable trusted root must not be a denial")
	}
}

func TestTUFMirrorDown(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer srv.Close()
	k := newKey(t)
	v := must[*Verifier](t)(New(WithTUF(t.TempDir()), WithTUFRepository(srv.URL, newTUFRepo(t, []byte("{}")).rootJSON)))
	ctx := context.Background()
	keyless := f.keylessSig(aliceID, imageDigest)
	keyed := f.keyedSig(k, imageDigest, false)

	// The keyless signature cannot be checked: undecided, not denied.
	_, err := v.ImageSignatures(ctx, imageDigest, []Attachment{keyless}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	if ReasonOf(err) != ReasonTrustRootUnavailable {
		t.Fatalf("want trust_root_unavailable, got %v", err)
	}
	// But when another signature already meets the threshold, the answer
	// does not depend on it.
	both := Requirements{Authorities: []Authority{keylessAuth("ci", alice), keyAuth("k", k, true)}}
	res, err := v.ImageSignatures(ctx, imageDigest, []Attachment{keyless, keyed}, both)
	wantVerified(t, res, err)
	both.Threshold = 2
	if _, err := v.ImageSignatures(ctx, imageDigest, []Attachment{keyless, keyed}, both); ReasonOf(err) != ReasonTrustRootUnavailable {
		t.Fatalf("threshold 2 depends on the keyless signature: want undecided, got %v", err)
	}
}

func TestTrustedRootFile(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "trusted_root.json")
	k := newKey(t)

	// Not read until needed: a keyed check without tlog works before the file exists.
	v := must[*Verifier](t)(New(WithTrustedRootFile(path), WithInsecureIgnoreSCT()))
	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keyedSig(k, imageDigest, false)}, Requirements{Authorities: []Authority{keyAuth("k", k, true)}})
	wantVerified(t, res, err)
	// Missing: undecided.
	_, err = v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	if ReasonOf(err) != ReasonTrustRootUnavailable {
		t.Fatalf("missing trusted root: %v", err)
	}
	// A failed load is retried: once the file is there, it works.
	if err := os.WriteFile(path, exportTrustedRoot(t, f.vs), 0o600); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest), f.keyedSig(k, imageDigest, true)},
				Requirements{Threshold: 2, Authorities: []Authority{keylessAuth("ci", alice), keyAuth("k", k, false)}})
			if err != nil || !res.Verified {
				t.Errorf("concurrent verification: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := v.trust.loads.Load(); n != 2 {
		t.Errorf("%d loads, want 2 (one failed, one shared by all)", n)
	}
	// Garbage: undecided, with the path in the message.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"mediaType": 1}`), 0o600)
	vb := must[*Verifier](t)(New(WithTrustedRootFile(bad)))
	_, err = vb.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	if ReasonOf(err) != ReasonTrustRootUnavailable || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad trusted root: %v", err)
	}
}

func TestNoTrustMaterialConfigured(t *testing.T) {
	f := newFixture(t)
	v := must[*Verifier](t)(New())
	_, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	if ReasonOf(err) != ReasonTrustRootUnavailable || !strings.Contains(err.Error(), "--trusted-root") {
		t.Fatalf("got %v", err)
	}
}

func TestOptionConflicts(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"file and TUF", []Option{WithTrustedRootFile("x"), WithTUF("d")}},
		{"file and material", []Option{WithTrustedRootFile("x"), WithTrustedMaterial(f.vs)}},
		{"repository without TUF", []Option{WithTUFRepository("https://example.com", []byte("{}"))}},
		{"repository not a URL", []Option{WithTUF("d"), WithTUFRepository("example.com", []byte("{}"))}},
		{"empty path", []Option{WithTrustedRootFile("")}},
		{"nil material", []Option{WithTrustedMaterial(nil)}},
	} {
		if _, err := New(tc.opts...); ReasonOf(err) != ReasonInvalidInput {
			t.Errorf("%s: want invalid input, got %v", tc.name, err)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.verifier().ImageSignatures(ctx, imageDigest, []Attachment{f.keylessSig(aliceID, imageDigest)}, Requirements{Authorities: []Authority{keylessAuth("ci", alice)}})
	if ReasonOf(err) != ReasonTimeout {
		t.Fatalf("want timeout, got %v", err)
	}
}

// A keyed signature without a log entry, where the log is required, is a
// denial that needs no trusted root: an offline verifier with nothing cached
// denies it (exit 1) instead of giving up (exit 2), and a signature by
// another key is still told apart.
func TestMissingTlogDeniedWithoutTrustRoot(t *testing.T) {
	f := newFixture(t)
	repo := newTUFRepo(t, exportTrustedRoot(t, f.vs))
	repo.onHit = func(p string) { t.Errorf("offline, but requested %s", p) }
	v := must[*Verifier](t)(New(WithTUF(t.TempDir()), WithTUFRepository(repo.srv.URL, repo.rootJSON), WithOffline()))
	k, other := newKey(t), newKey(t)
	sig := f.keyedSig(k, imageDigest, false)

	res, err := v.ImageSignatures(context.Background(), imageDigest, []Attachment{sig}, Requirements{Authorities: []Authority{keyAuth("k", k, false)}})
	wantDenied(t, res, err, ReasonTlogMissing)
	res, err = v.ImageSignatures(context.Background(), imageDigest, []Attachment{sig}, Requirements{Authorities: []Authority{keyAuth("other", other, false)}})
	wantDenied(t, res, err, ReasonKeyMismatch)
}
