package registry_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

var update = flag.Bool("update", false, "regenerate ../testdata/cosign-v2.6.5 by running cosign ($COSIGN, default /tmp/cosign/cosign) against docker-registry")

// cosignFixture holds what cosign v2.6.5 wrote to a distribution registry,
// recorded as an OCI layout (see testdata/README.md): image "app" signed
// with a key in the legacy and bundle formats, attested (SLSA v1) in both,
// with an SBOM attached; image "other" signed in cosign's experimental
// OCI 1.1 mode only.
const cosignFixture = "../testdata/cosign-v2.6.5"

// What vouch must find, whatever the source, each exactly once.
var cosignExpect = map[string][]string{
	"app": {
		"signature/legacy/legacy-tag/",
		"attestation/legacy/legacy-tag/https://slsa.dev/provenance/v1",
		"sbom/raw/legacy-tag/",
		"signature/bundle/REFS/" + registry.PredicateTypeCosignSign,
		"attestation/bundle/REFS/https://slsa.dev/provenance/v1",
	},
	"other": {"signature/legacy/REFS/"},
}

func expectFor(tag string, refs registry.Path) []string {
	var out []string
	for _, s := range cosignExpect[tag] {
		out = append(out, strings.Replace(s, "REFS", string(refs), 1))
	}
	return out
}

func TestCosignFixture(t *testing.T) {
	if *update {
		generateCosignFixture(t)
	}
	layoutDir := filepath.Join(cosignFixture, "layout")
	if _, err := os.Stat(filepath.Join(layoutDir, "index.json")); err != nil {
		t.Fatalf("fixture missing (regenerate with go test ./registry -run TestCosignFixture -update): %v", err)
	}
	check := func(t *testing.T, c *registry.Client, image func(tag string) string, refs registry.Path) {
		for tag := range cosignExpect {
			res, err := c.Resolve(ctxT(t), mustRef(t, image(tag)))
			if err != nil {
				t.Fatal(err)
			}
			atts, err := c.Discover(ctxT(t), res.Ref)
			if err != nil || !atts.Complete() {
				t.Fatalf("%s: %v, %v", tag, err, atts.Failures)
			}
			if got, want := summary(atts.Items), expectFor(tag, refs); !sameSet(got, want) {
				t.Errorf("%s: found\n  %s\nwant\n  %s", tag, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			for _, a := range atts.Items {
				if _, err := c.Content(ctxT(t), a); err != nil {
					t.Errorf("%s: Content: %v", tag, err)
				}
			}
		}
	}
	t.Run("layout", func(t *testing.T) {
		check(t, newClient(t), func(tag string) string { return "oci-dir:" + layoutDir + ":" + tag }, registry.PathReferrers)
	})
	t.Run("registry with referrers API", func(t *testing.T) {
		reg := registrytest.New(t)
		reg.PushLayout(t, layoutDir, "demo")
		check(t, newClient(t), func(tag string) string { return reg.Ref("demo:" + tag) }, registry.PathReferrers)
	})
	t.Run("registry without referrers API", func(t *testing.T) {
		reg := registrytest.New(t, registrytest.WithoutReferrers())
		reg.PushLayout(t, layoutDir, "demo")
		check(t, newClient(t), func(tag string) string { return reg.Ref("demo:" + tag) }, registry.PathFallbackTag)
	})
	t.Run("distribution", func(t *testing.T) {
		reg := registrytest.Distribution(t)
		reg.PushLayout(t, layoutDir, "demo")
		check(t, newClient(t), func(tag string) string { return reg.Ref("demo:" + tag) }, registry.PathFallbackTag)
	})
}

// generateCosignFixture runs cosign v2.6.5 against docker-registry and
// records the repository as an OCI layout.
func generateCosignFixture(t *testing.T) {
	cosign := os.Getenv("COSIGN")
	if cosign == "" {
		cosign = "/tmp/cosign/cosign"
	}
	out, err := exec.Command(cosign, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "v2.6.5") {
		t.Fatalf("-update needs cosign v2.6.5 at %s ($COSIGN): %v\n%s", cosign, err, out)
	}
	reg := registrytest.Distribution(t)
	app := reg.Ref("demo@" + reg.PushRandomImage(t, "demo:app"))
	other := reg.Ref("demo@" + reg.PushRandomImage(t, "demo:other"))
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "predicate.json"), []byte(`{"buildDefinition":{"buildType":"https://example.com/build/v1","externalParameters":{}},"runDetails":{"builder":{"id":"https://example.com/builder"}}}`), 0o644)
	os.WriteFile(filepath.Join(work, "sbom.spdx.json"), []byte(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"demo"}`), 0o644)
	run := func(extraEnv []string, args ...string) {
		t.Helper()
		cmd := exec.Command(cosign, args...)
		cmd.Dir = work
		cmd.Env = append(os.Environ(), append([]string{"COSIGN_PASSWORD="}, extraEnv...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cosign %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	common := []string{"--key", "cosign.key", "--tlog-upload=false", "--allow-http-registry", "--yes"}
	run(nil, "generate-key-pair")
	run(nil, append(append([]string{"sign"}, common...), app)...)
	run(nil, append(append([]string{"sign", "--new-bundle-format"}, common...), app)...)
	run(nil, append(append([]string{"attest", "--type", "slsaprovenance1", "--predicate", "predicate.json"}, common...), app)...)
	run(nil, append(append([]string{"attest", "--new-bundle-format", "--type", "slsaprovenance1", "--predicate", "predicate.json"}, common...), app)...)
	run(nil, "attach", "sbom", "--sbom", "sbom.spdx.json", "--type", "spdx", "--allow-http-registry", app)
	run([]string{"COSIGN_EXPERIMENTAL=1"}, append(append([]string{"sign", "--registry-referrers-mode=oci-1-1"}, common...), other)...)

	if err := os.RemoveAll(cosignFixture); err != nil {
		t.Fatal(err)
	}
	exportRepository(t, reg, "demo", filepath.Join(cosignFixture, "layout"))
	pub, _ := os.ReadFile(filepath.Join(work, "cosign.pub"))
	if err := os.WriteFile(filepath.Join(cosignFixture, "cosign.pub"), pub, 0o644); err != nil {
		t.Fatal(err)
	}
}

// exportRepository records every tag of repo, and every manifest a tagged
// index names, with their blobs, as an OCI layout; tags become ref names.
func exportRepository(t *testing.T, reg *registrytest.Registry, repo, dir string) {
	get := func(path, accept string) ([]byte, string) {
		req, _ := http.NewRequest(http.MethodGet, reg.URL+"/v2/"+repo+path, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %v %v", path, err, resp)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b, resp.Header.Get("Content-Type")
	}
	writeBlob := func(b []byte) v1.Hash {
		h := sha256Hex(b)
		p := filepath.Join(dir, "blobs", h.Algorithm, h.Hex)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return h
	}
	accept := "application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json"
	var entries []v1.Descriptor
	seen := map[v1.Hash]bool{}
	var record func(b []byte, mt, tag string)
	record = func(b []byte, mt, tag string) {
		h := writeBlob(b)
		var m struct {
			Config    *v1.Descriptor
			Layers    []v1.Descriptor
			Manifests []v1.Descriptor
		}
		json.Unmarshal(b, &m)
		if m.Config != nil {
			blob, _ := get("/blobs/"+m.Config.Digest.String(), "")
			writeBlob(blob)
		}
		for _, l := range m.Layers {
			blob, _ := get("/blobs/"+l.Digest.String(), "")
			writeBlob(blob)
		}
		d := v1.Descriptor{MediaType: typesMediaType(mt), Digest: h, Size: int64(len(b))}
		if tag != "" {
			d.Annotations = map[string]string{"org.opencontainers.image.ref.name": tag}
		} else if seen[h] {
			return
		}
		seen[h] = true
		entries = append(entries, d)
		for _, child := range m.Manifests {
			if !seen[child.Digest] {
				cb, cmt := get("/manifests/"+child.Digest.String(), accept)
				record(cb, cmt, "")
			}
		}
	}
	tagsRaw, _ := get("/tags/list", "")
	var tags struct{ Tags []string }
	json.Unmarshal(tagsRaw, &tags)
	for _, tag := range tags.Tags {
		b, mt := get("/manifests/"+tag, accept)
		record(b, mt, tag)
	}
	idx, _ := json.MarshalIndent(v1.IndexManifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.index.v1+json", Manifests: entries}, "", "  ")
	os.WriteFile(filepath.Join(dir, "index.json"), append(idx, '\n'), 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d entries\n", len(entries))
	t.Log(b.String())
}
