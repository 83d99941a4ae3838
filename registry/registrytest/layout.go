package registrytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// PushLayout replays the OCI image layout at dir into repo, byte for byte:
// every blob, every manifest (by digest; the manifests an index names
// before the index), and a tag for each index.json entry annotated
// org.opencontainers.image.ref.name. Fixtures recorded from real tools
// (cosign's .sig/.att/.sbom tags, referrers and fallback indexes) become a
// registry again, with no side effects of a client library.
func (r *Registry) PushLayout(t testing.TB, dir, repo string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx v1.IndexManifest
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatalf("%s/index.json: %v", dir, err)
	}
	blob := func(h v1.Hash) []byte {
		b, err := os.ReadFile(filepath.Join(dir, "blobs", h.Algorithm, h.Hex))
		if err != nil {
			t.Fatalf("layout %s: %v", dir, err)
		}
		return b
	}
	pushed := map[v1.Hash]bool{}
	var pushManifest func(d v1.Descriptor)
	pushManifest = func(d v1.Descriptor) {
		if pushed[d.Digest] {
			return
		}
		pushed[d.Digest] = true
		b := blob(d.Digest)
		var m struct {
			MediaType string          `json:"mediaType"`
			Config    *v1.Descriptor  `json:"config"`
			Layers    []v1.Descriptor `json:"layers"`
			Manifests []v1.Descriptor `json:"manifests"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("manifest %s: %v", d.Digest, err)
		}
		for _, child := range m.Manifests {
			if _, err := os.Stat(filepath.Join(dir, "blobs", child.Digest.Algorithm, child.Digest.Hex)); err == nil {
				pushManifest(child)
			}
		}
		if m.Config != nil {
			r.putBlob(t, repo, m.Config.Digest, blob(m.Config.Digest))
		}
		for _, l := range m.Layers {
			r.putBlob(t, repo, l.Digest, blob(l.Digest))
		}
		mt := string(d.MediaType)
		if mt == "" {
			mt = m.MediaType
		}
		r.putManifest(t, repo, d.Digest.String(), mt, b)
	}
	// Untagged entries first (referrers the tagged indexes name), then tags.
	for _, d := range idx.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] == "" {
			pushManifest(d)
		}
	}
	for _, d := range idx.Manifests {
		tag := d.Annotations["org.opencontainers.image.ref.name"]
		if tag == "" {
			continue
		}
		pushManifest(d)
		if i := strings.LastIndex(tag, ":"); i >= 0 && !strings.Contains(tag[i:], "/") {
			tag = tag[i+1:]
		}
		mt := string(d.MediaType)
		r.putManifest(t, repo, tag, mt, blob(d.Digest))
	}
}

func (r *Registry) putBlob(t testing.TB, repo string, h v1.Hash, b []byte) {
	t.Helper()
	resp, err := http.Head(fmt.Sprintf("%s/v2/%s/blobs/%s", r.URL, repo, h))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
	}
	resp, err = http.Post(fmt.Sprintf("%s/v2/%s/blobs/uploads/", r.URL, repo), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload of %s: %d %v", h, resp.StatusCode, err)
	}
	q := loc.Query()
	q.Set("digest", h.String())
	loc.RawQuery = q.Encode()
	req, _ := http.NewRequest(http.MethodPut, loc.String(), bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("upload %s: %d", h, resp.StatusCode)
	}
}

func (r *Registry) putManifest(t testing.TB, repo, ref, mediaType string, b []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s/v2/%s/manifests/%s", r.URL, repo, ref), bytes.NewReader(b))
	req.Header.Set("Content-Type", mediaType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("put manifest %s:%s: %d %s", repo, ref, resp.StatusCode, body.String())
	}
}
