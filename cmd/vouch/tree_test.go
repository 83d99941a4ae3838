package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

func TestTreeCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		reg  func(t *testing.T) *registrytest.Registry
		path string
	}{
		{"in-process with referrers API", func(t *testing.T) *registrytest.Registry { return registrytest.New(t) }, "referrers"},
		{"distribution (fallback tag)", func(t *testing.T) *registrytest.Registry { return registrytest.Distribution(t) }, "fallback-tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := tc.reg(t)
			image := pushAttachedImage(t, reg, "team/app")

			stdout, stderr, code := run(t, "", "tree", reg.Ref("team/app:v1"))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, want := range []string{image, "signatures (2)", "attestations (2)", "SBOMs (1)", ".sig", ".att", ".sbom", "https://slsa.dev/provenance/v1", "text/spdx+json"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("tree lacks %q:\n%s", want, stdout)
				}
			}
			stdout, stderr, code = run(t, "", "tree", "-o", "json", image)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			var rep treeReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.SchemaVersion != 1 || rep.Ref != image || !rep.Complete || len(rep.Attachments) != 5 || len(rep.Failures) != 0 {
				t.Fatalf("JSON: %s", stdout)
			}
			seen := map[string]int{}
			for _, a := range rep.Attachments {
				seen[string(a.Kind)+"/"+string(a.Format)+"/"+string(a.Path)+"/"+a.PredicateType]++
				if a.Digest == "" || a.MediaType == "" || a.Manifest.Digest == "" || a.Repository != reg.Ref("team/app") {
					t.Errorf("incomplete %+v", a)
				}
			}
			for _, want := range []string{
				"signature/legacy/legacy-tag/", "attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1", "sbom/raw/legacy-tag/",
				"signature/bundle/" + tc.path + "/" + registry.PredicateTypeCosignSign, "attestation/bundle/" + tc.path + "/https://slsa.dev/provenance/v1",
			} {
				if seen[want] != 1 {
					t.Errorf("%s found %d times: %v", want, seen[want], seen)
				}
			}
		})
	}
}

// A path that fails: the tree shows what was found, stderr says it may be
// incomplete, exit 2, and the JSON lists the failure with a reason.
func TestTreeIncomplete(t *testing.T) {
	reg := registrytest.New(t)
	image := pushAttachedImage(t, reg, "app")
	reg.On(registrytest.Hook{Path: "/referrers/", Status: http.StatusTooManyRequests})
	stdout, stderr, code := run(t, "", "tree", image)
	if code != exitUndecided || !strings.Contains(stderr, "may be incomplete") || !strings.Contains(stderr, "referrers") || !strings.Contains(stdout, "signatures (1)") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	stdout, _, code = run(t, "", "tree", "-o", "json", image)
	var rep treeReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitUndecided || rep.Complete || len(rep.Failures) != 1 || rep.Failures[0].Reason != "registry_unavailable" {
		t.Fatalf("exit %d, %v: %s", code, err, stdout)
	}
}

func TestTreeNothingAttached(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	stdout, stderr, code := run(t, "", "tree", reg.Ref("app:v1"))
	if code != 0 || !strings.Contains(stdout, "nothing attached") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := run(t, "", "tree", reg.Ref("app:nope")); code != exitUndecided || !strings.Contains(stderr, "not found") {
		t.Fatalf("missing image: exit %d, %s", code, stderr)
	}
	if _, _, code := run(t, "", "tree", "a", "b"); code != exitUndecided {
		t.Fatal("two images accepted")
	}
}

// --signature-repository, and COSIGN_REPOSITORY as its default.
func TestTreeSignatureRepository(t *testing.T) {
	reg := registrytest.New(t)
	image := pushAttachedImage(t, reg, "app", registry.WithSignatureRepository(reg.Ref("sigs")))
	stdout, _, _ := run(t, "", "tree", image)
	if !strings.Contains(stdout, "nothing attached") {
		t.Fatalf("found attachments in the image repository:\n%s", stdout)
	}
	stdout, stderr, code := run(t, "", "tree", "--signature-repository", reg.Ref("sigs"), image)
	if code != 0 || !strings.Contains(stdout, "signatures (2)") {
		t.Fatalf("--signature-repository: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = runEnv(t, map[string]string{"COSIGN_REPOSITORY": reg.Ref("sigs")}, "tree", image)
	if code != 0 || !strings.Contains(stdout, "signatures (2)") {
		t.Fatalf("COSIGN_REPOSITORY: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestTreeTimeout(t *testing.T) {
	reg := registrytest.New(t)
	image := pushAttachedImage(t, reg, "app")
	reg.On(registrytest.Hook{Path: "/manifests/", Delay: 10 * time.Second})
	start := time.Now()
	_, stderr, code := run(t, "", "tree", "--timeout", "300ms", image)
	if code != exitUndecided || time.Since(start) > 5*time.Second || !strings.Contains(stderr, "--timeout") {
		t.Fatalf("exit %d after %v: %s", code, time.Since(start), stderr)
	}
}

// What cosign v2.6.5 wrote (testdata/cosign-v2.6.5), replayed into the real
// registry: `vouch tree` shows every artifact, each exactly once.
func TestTreeCosignArtifacts(t *testing.T) {
	reg := registrytest.Distribution(t)
	reg.PushLayout(t, "../../testdata/cosign-v2.6.5/layout", "demo")
	for tag, want := range map[string][]string{
		"app": {
			"signature/legacy/legacy-tag/", "attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1", "sbom/raw/legacy-tag/",
			"signature/bundle/fallback-tag/" + registry.PredicateTypeCosignSign, "attestation/bundle/fallback-tag/https://slsa.dev/provenance/v1",
		},
		"other": {"signature/legacy/fallback-tag/"},
	} {
		stdout, stderr, code := run(t, "", "tree", "-o", "json", reg.Ref("demo:"+tag))
		var rep treeReport
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
			t.Fatalf("%s: exit %d, %v\n%s", tag, code, err, stderr)
		}
		got := map[string]int{}
		for _, a := range rep.Attachments {
			got[string(a.Kind)+"/"+string(a.Format)+"/"+string(a.Path)+"/"+a.PredicateType]++
		}
		if len(got) != len(want) || len(rep.Attachments) != len(want) {
			t.Errorf("%s: %v, want %v", tag, got, want)
		}
		for _, w := range want {
			if got[w] != 1 {
				t.Errorf("%s: %s found %d times", tag, w, got[w])
			}
		}
	}
}

// Every hostile answer gives exit 2 and says the tree may be incomplete,
// never a clean "nothing attached".
func TestTreeHostileRegistry(t *testing.T) {
	for name, hook := range map[string]registrytest.Hook{
		"500":                 {Status: http.StatusInternalServerError},
		"429":                 {Status: http.StatusTooManyRequests},
		"403":                 {Status: http.StatusForbidden},
		"body is not digest":  {Body: []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`)},
		"over-size manifest":  {Oversize: registry.MaxManifestSize + 1},
		"slow past --timeout": {Delay: 10 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			reg := registrytest.New(t)
			image := pushAttachedImage(t, reg, "app")
			hook.Path = `/manifests/sha256-[0-9a-f]{64}\.sig$`
			reg.On(hook)
			stdout, stderr, code := run(t, "", "tree", "--timeout", "2s", image)
			if code != exitUndecided || !strings.Contains(stderr, "may be incomplete") || strings.Contains(stdout, "nothing attached") {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
			}
		})
	}
}

// --registry-cacert trusts a private CA.
func TestTreeRegistryCACert(t *testing.T) {
	srv := httptest.NewUnstartedServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	img, _ := random.Image(64, 1)
	n, _ := name.ParseReference(host + "/app:v1")
	if err := remote.Write(n, img, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)
	if _, _, code := run(t, "", "tree", host+"/app:v1"); code != exitUndecided {
		t.Fatalf("unknown CA accepted: exit %d", code)
	}
	if stdout, stderr, code := run(t, "", "tree", "--registry-cacert", ca, host+"/app:v1"); code != 0 || !strings.Contains(stdout, "nothing attached") {
		t.Fatalf("--registry-cacert: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := run(t, "", "tree", "--registry-cacert", "/nonexistent.pem", host+"/app:v1"); code != exitUndecided || !strings.Contains(stderr, "registry-cacert") {
		t.Fatalf("missing CA file: exit %d, %s", code, stderr)
	}
}
