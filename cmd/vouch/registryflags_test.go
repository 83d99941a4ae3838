package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// runEnv is run with environment variables.
func runEnv(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{
		stdin:    strings.NewReader(""),
		stdout:   &out,
		stderr:   &errb,
		getenv:   func(k string) string { return vars[k] },
		cacheDir: t.TempDir(),
	}
	err := newApp(e).RunContext(context.Background(), append([]string{"vouch"}, args...))
	code = report(&errb, err)
	return out.String(), errb.String(), code
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pushAttachedImage pushes an image with one attachment in each scheme (legacy
// .sig/.att/.sbom, a bundle signature and a bundle attestation as
// referrers) and returns its pinned reference.
func pushAttachedImage(t *testing.T, reg *registrytest.Registry, repo string, opts ...registry.Option) string {
	t.Helper()
	d := reg.PushRandomImage(t, repo+":v1")
	c, err := registry.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := registry.ParseRef(reg.Ref(repo + "@" + d))
	ctx := testCtx(t)
	for _, a := range []struct {
		kind registry.Kind
		l    registry.Layer
	}{
		{registry.KindSignature, registry.Layer{Content: []byte(`{"critical":{}}`), MediaType: registry.MediaTypeSimpleSigning,
			Annotations: map[string]string{"dev.cosignproject.cosign/signature": "MEUC"}}},
		{registry.KindAttestation, registry.Layer{Content: []byte(`{"payloadType":"application/vnd.in-toto+json"}`), MediaType: registry.MediaTypeDSSE,
			Annotations: map[string]string{"predicateType": "https://slsa.dev/provenance/v1"}}},
		{registry.KindSBOM, registry.Layer{Content: []byte(`{"spdxVersion":"SPDX-2.3"}`), MediaType: "text/spdx+json"}},
	} {
		if err := c.AttachLegacy(ctx, subject, a.kind, a.l); err != nil {
			t.Fatal(err)
		}
	}
	for pt, body := range map[string]string{registry.PredicateTypeCosignSign: `{"s":1}`, "https://slsa.dev/provenance/v1": `{"a":1}`} {
		if _, err := c.AttachReferrer(ctx, subject, registry.MediaTypeBundle, registry.Layer{Content: []byte(body), MediaType: registry.MediaTypeBundle},
			map[string]string{registry.AnnotationBundlePredicateType: pt}); err != nil {
			t.Fatal(err)
		}
	}
	return reg.Ref(repo + "@" + d)
}

// Credentials come from the Docker config (as docker and cosign read it);
// a config that cannot be read is a warning, and the registry's own
// answer decides.
func TestRegistryCredentialsFromDockerConfig(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithBasicAuth("alice", "s3cret"))
	reg.PushRandomImage(t, "app:v1")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, ".docker"))
	os.MkdirAll(filepath.Join(home, ".docker"), 0o700)
	cfg := filepath.Join(home, ".docker", "config.json")

	os.WriteFile(cfg, []byte(`{"auths":{"`+reg.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte("alice:s3cret"))+`"}}}`), 0o600)
	if stdout, stderr, code := run(t, "", "resolve", reg.Ref("app:v1")); code != 0 || !strings.Contains(stdout, "@sha256:") {
		t.Fatalf("with credentials: exit %d\n%s\n%s", code, stdout, stderr)
	}

	os.WriteFile(cfg, []byte(`{not json`), 0o600)
	_, stderr, code := run(t, "", "resolve", reg.Ref("app:v1"))
	if code != exitUndecided || !strings.Contains(stderr, "could not read credentials") || !strings.Contains(stderr, "access denied") {
		t.Fatalf("broken config: exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "s3cret") {
		t.Fatal("the password leaked into the output")
	}
}

// A second vouch run against a registry that needs no authentication skips
// the ping: the first run remembered it in the cache directory.
func TestSecondRunSkipsThePing(t *testing.T) {
	reg := registrytest.New(t)
	img := reg.PushRandomImage(t, "app:v1")
	cache := t.TempDir()
	resolve := func() string {
		var out, errb bytes.Buffer
		e := env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }, cacheDir: cache}
		err := newApp(e).RunContext(context.Background(), []string{"vouch", "resolve", reg.Ref("app:v1")})
		if code := report(&errb, err); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		return out.String()
	}
	reg.Reset()
	if out := resolve(); !strings.Contains(out, img) {
		t.Fatalf("first run: %q", out)
	}
	if n := reg.Count("GET", "^/v2/$"); n != 1 {
		t.Fatalf("first run: %d pings, want 1", n)
	}
	reg.Reset()
	if out := resolve(); !strings.Contains(out, img) {
		t.Fatalf("second run: %q", out)
	}
	if n := reg.Count("GET", "^/v2/$"); n != 0 {
		t.Fatalf("second run pinged %d times: %v", n, reg.Requests())
	}
}
