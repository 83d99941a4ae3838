package main

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
	"github.com/vouchdev/vouch/verify"
)

const (
	keylessSubject = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.0.0"
	keylessIssuer  = "https://token.actions.githubusercontent.com"
)

// virtualSigstore is sigstore-go's fake Fulcio, Rekor and TSA, with its
// trust material written as a trusted_root.json for --trusted-root.
func virtualSigstore(t *testing.T) (*ca.VirtualSigstore, string) {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	// VirtualSigstore's logs carry their hex id as bytes; a trusted root
	// file carries the raw key id.
	rawIDs := func(logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
		out := map[string]*root.TransparencyLog{}
		for id, l := range logs {
			c := *l
			if raw, err := hex.DecodeString(id); err == nil {
				c.ID = raw
			}
			out[id] = &c
		}
		return out
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), rawIDs(vs.CTLogs()), vs.TimestampingAuthorities(), rawIDs(vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return vs, p
}

// keylessLegacySignature attaches what `cosign sign` (keyless, legacy
// format) attaches for digest, signed as identity by vs: the simple-signing
// payload with the signature, certificate and Rekor SET annotations.
func keylessLegacySignature(t *testing.T, vs *ca.VirtualSigstore, image, identity string) {
	t.Helper()
	subject, err := registry.ParseRef(image)
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"critical":{"identity":{"docker-reference":"` + subject.Name() + `"},"image":{"docker-manifest-digest":"` +
		subject.Digest() + `"},"type":"cosign container image signature"},"optional":null}`)
	// Logged a little after now: the virtual log's validity starts at its
	// creation, with sub-second precision; integrated times are seconds.
	te, err := vs.SignAtTime(identity, keylessIssuer, payload, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	vc, _ := te.VerificationContent()
	sc, _ := te.SignatureContent()
	entries, _ := te.TlogEntries()
	e := entries[0]
	body := e.TransparencyLogEntry().CanonicalizedBody
	logID, _ := vs.RekorLogID()
	set, err := vs.RekorSignPayload(tlog.RekorPayload{
		Body: base64.StdEncoding.EncodeToString(body), IntegratedTime: e.IntegratedTime().Unix(), LogIndex: e.LogIndex(), LogID: logID,
	})
	if err != nil {
		t.Fatal(err)
	}
	setJSON, _ := json.Marshal(map[string]any{
		"SignedEntryTimestamp": set,
		"Payload": map[string]any{
			"body": base64.StdEncoding.EncodeToString(body), "integratedTime": e.IntegratedTime().Unix(), "logIndex": e.LogIndex(), "logID": logID,
		},
	})
	c, _ := registry.New()
	if err := c.AttachLegacy(testCtx(t), subject, registry.KindSignature, registry.Layer{
		Content: payload, MediaType: registry.MediaTypeSimpleSigning,
		Annotations: map[string]string{
			verify.AnnotationSignature:   base64.StdEncoding.EncodeToString(sc.Signature()),
			verify.AnnotationCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: vc.Certificate().Raw})),
			verify.AnnotationBundle:      string(setJSON),
		},
	}); err != nil {
		t.Fatal(err)
	}
}

// Keyless verification through the CLI: identity flags (exact and anchored
// regular expressions), the trusted root from a file, the identity and the
// transparency-log entry in the report.
func TestVerifyKeyless(t *testing.T) {
	vs, trustedRoot := virtualSigstore(t)
	reg := registrytest.New(t)
	img := reg.Ref("app@" + reg.PushRandomImage(t, "app:v1"))
	keylessLegacySignature(t, vs, img, keylessSubject)
	base := []string{"verify", "--trusted-root", trustedRoot, "--insecure-ignore-sct", "--certificate-oidc-issuer", keylessIssuer}

	rep, stderr, code := runVerifyJSON(t, append(base, "--certificate-identity", keylessSubject, img)...)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	s := rep.Images[0].Digests[0].Signatures.Signatures[0]
	if s.Identity == nil || s.Identity.Subject != keylessSubject || s.Identity.Issuer != keylessIssuer ||
		s.Tlog == nil || s.Tlog.Status != verify.TlogVerified || s.Tlog.LogIndex == nil || s.Tlog.IntegratedTime == nil ||
		time.Since(*s.Tlog.IntegratedTime) > time.Hour {
		t.Fatalf("signature: %+v (tlog %+v)", s, s.Tlog)
	}
	_, stderr, _ = run(t, "", append(base, "--certificate-identity", keylessSubject, img)...)
	for _, want := range []string{"The code-signing certificate was verified", "identity " + keylessSubject, "tlog index"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		reason verify.Reason
	}{
		{"anchored regexp that matches", []string{"--certificate-identity-regexp", `https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*`}, exitOK, ""},
		{"a regexp that only matches unanchored", []string{"--certificate-identity-regexp", `https://github\.com/acme/`}, exitDenied, verify.ReasonIdentityMismatch},
		{"another identity", []string{"--certificate-identity", "https://github.com/evil/app/.github/workflows/release.yml@refs/tags/v1.0.0"}, exitDenied, verify.ReasonIdentityMismatch},
		{"a key where keyless signed", []string{"--key", testPub}, exitUndecided, ""}, // usage: --key with issuer flags
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string(nil), base...), tc.args...)
			if tc.code == exitUndecided {
				_, _, code := run(t, "", append(args, img)...)
				if code != exitUndecided {
					t.Fatalf("exit %d", code)
				}
				return
			}
			rep, stderr, code := runVerifyJSON(t, append(args, img)...)
			got := verify.Reason("")
			if f := rep.Images[0].Failure; f != nil {
				got = f.Reason
			}
			if code != tc.code || got != tc.reason {
				t.Fatalf("exit %d (%s), want %d (%s)\n%s", code, got, tc.code, tc.reason, stderr)
			}
		})
	}
	// Keyless needs the trusted root: offline with an empty TUF cache and no
	// --trusted-root, it cannot decide.
	rep, _, code = runVerifyJSON(t, "verify", "--offline", "--certificate-oidc-issuer", keylessIssuer, "--certificate-identity", keylessSubject, img)
	if code != exitUndecided || rep.Images[0].Failure.Reason != verify.ReasonTrustRootUnavailable {
		t.Fatalf("exit %d: %+v", code, rep.Images[0].Failure)
	}
}
