package registry_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/vouchdev/vouch/registry"
	"github.com/vouchdev/vouch/registry/registrytest"
)

type staticKeychain struct {
	auth  authn.Authenticator
	calls int
}

func (k *staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	k.calls++
	return k.auth, nil
}

func TestBasicAuth(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithBasicAuth("alice", "s3cret"))
	d := reg.PushRandomImage(t, "app:v1")
	ref := mustRef(t, reg.Ref("app:v1"))

	// Anonymous: access denied, and the error says what to do.
	_, err := newClient(t).Resolve(ctxT(t), ref)
	if !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("anonymous: %v", err)
	}
	kc := &staticKeychain{auth: &authn.Basic{Username: "alice", Password: "s3cret"}}
	c := newClient(t, registry.WithKeychain(kc))
	res, err := c.Resolve(ctxT(t), ref)
	if err != nil || res.Ref.Digest() != d {
		t.Fatalf("with credentials: %v, %v", res, err)
	}
	if err := c.AttachLegacy(ctxT(t), res.Ref, registry.KindSignature, sigLayer); err != nil {
		t.Fatalf("push with credentials: %v", err)
	}
	atts, err := c.Discover(ctxT(t), res.Ref)
	if err != nil || len(atts.Items) != 1 || !atts.Complete() {
		t.Fatalf("Discover: %v, %v, %v", summary(atts.Items), err, atts.Failures)
	}
	// Wrong password: denied, and the password is not in the message.
	bad := newClient(t, registry.WithKeychain(&staticKeychain{auth: &authn.Basic{Username: "alice", Password: "hunter2"}}))
	if _, err := bad.Resolve(ctxT(t), ref); !errors.Is(err, registry.ErrUnauthorized) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("wrong password: %v", err)
	}
}

// Tokens are fetched once per registry and scope, and the registry is
// pinged once, however many calls follow.
func TestTokenAuthReuse(t *testing.T) {
	reg := registrytest.New(t, registrytest.WithTokenAuth("", ""))
	d1 := reg.PushRandomImage(t, "one:v1")
	d2 := reg.PushRandomImage(t, "two:v1")
	c := newClient(t)
	before := reg.TokenRequests()
	reg.Reset()
	for range 3 {
		for _, ref := range []string{"one@" + d1, "two@" + d2} {
			atts, err := c.Discover(ctxT(t), mustRef(t, reg.Ref(ref)))
			if err != nil || !atts.Complete() {
				t.Fatalf("Discover %s: %v, %v", ref, err, atts.Failures)
			}
		}
	}
	after := reg.TokenRequests()
	for _, scope := range []string{"repository:one:pull", "repository:two:pull"} {
		if n := after[scope] - before[scope]; n != 1 {
			t.Errorf("%d token requests for %s, want 1 (%v)", n, scope, after)
		}
	}
	if n := reg.Count(http.MethodGet, "^/v2/$"); n != 1 {
		t.Errorf("%d pings, want 1", n)
	}
	if n := reg.Count("", "") - reg.Count("", "^/token$"); n != 1+2*5 {
		t.Errorf("%d registry requests, want a ping and 5 paths per image: %v", n, reg.Requests())
	}
}
