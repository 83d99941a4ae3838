package registry_test

import (
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

// A registry with a certificate from a private CA: refused until the CA is
// given with WithCACerts (--registry-cacert), never downgraded to HTTP.
func TestCustomCA(t *testing.T) {
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
	ref := mustRef(t, host+"/app:v1")
	if _, err := newClient(t, registry.WithRetries(0)).Resolve(ctxT(t), ref); err == nil {
		t.Fatal("a certificate from an unknown CA was accepted")
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	res, err := newClient(t, registry.WithCACerts(caPEM)).Resolve(ctxT(t), ref)
	if err != nil {
		t.Fatalf("with the CA: %v", err)
	}
	d, _ := img.Digest()
	if res.Ref.Digest() != d.String() {
		t.Fatalf("digest %s", res.Ref.Digest())
	}
}

// WithProxy sends every request through the proxy the caller chose (the
// CLI passes http.ProxyFromEnvironment).
func TestProxy(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.Method+" "+r.URL.String())
		mu.Unlock()
		r.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	pu, _ := url.Parse(proxy.URL)
	c := newClient(t, registry.WithProxy(http.ProxyURL(pu)))
	if _, err := c.Resolve(ctxT(t), mustRef(t, reg.Ref("app:v1"))); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(proxied) == 0 || !strings.Contains(strings.Join(proxied, " "), reg.Host+"/v2/app/manifests/v1") {
		t.Fatalf("requests through the proxy: %v", proxied)
	}
}

// Errors name the operation and the image, wrap a sentinel, and say what
// to do next.
func TestErrorMessages(t *testing.T) {
	reg := registrytest.New(t)
	reg.PushRandomImage(t, "app:v1")
	reg.On(registrytest.Hook{Path: "/manifests/v1$", Status: http.StatusTooManyRequests})
	_, _, err := newClient(t, registry.WithRetries(0)).Manifest(ctxT(t), mustRef(t, reg.Ref("app:v1")))
	var e *registry.Error
	if !errors.As(err, &e) || e.StatusCode != 429 || e.Code != "TOOMANYREQUESTS" || !e.Temporary() {
		t.Fatalf("%#v", err)
	}
	for _, want := range []string{"fetch manifest", reg.Ref("app:v1"), "429", "retry later"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}
