package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/registry"
)

func TestAllowlist(t *testing.T) {
	type check struct {
		image   string
		allowed bool
		pattern string // the pattern that decided; "" for none
	}
	for _, tc := range []struct {
		name        string
		allow, deny []string
		checks      []check
	}{{
		name:  "host pattern is exact, never a string prefix",
		allow: []string{"my-org-registry.io"},
		checks: []check{
			{"my-org-registry.io/app:v1", true, "my-org-registry.io"},
			{"my-org-registry.io/team/deep/app@" + dgst, true, "my-org-registry.io"},
			{"my-org-registry.io.evil.com/app", false, ""},
			{"my-org-registry.iox/app", false, ""},
			{"evil.com/my-org-registry.io/app", false, ""},
			{"my-org-registry.io:443/app", false, ""}, // the port is part of the host
		},
	}, {
		name:  "* is exactly one segment",
		allow: []string{"public.ecr.aws/team/*"},
		checks: []check{
			{"public.ecr.aws/team/app", true, "public.ecr.aws/team/*"},
			{"public.ecr.aws/team/sub/app", false, ""},
			{"public.ecr.aws/teamx/app", false, ""},
			{"public.ecr.aws/team", false, ""},
		},
	}, {
		name:  "** is any number of segments, zero included",
		allow: []string{"ghcr.io/acme/**"},
		checks: []check{
			{"ghcr.io/acme/app", true, "ghcr.io/acme/**"},
			{"ghcr.io/acme/a/b/c", true, "ghcr.io/acme/**"},
			{"ghcr.io/acme", true, "ghcr.io/acme/**"},
			{"ghcr.io/acmex/app", false, ""},
			{"ghcr.io/evil/acme/app", false, ""},
		},
	}, {
		name:  "a bare name is a Docker Hub official image",
		allow: []string{"nginx"},
		checks: []check{
			{"nginx", true, "nginx"},
			{"docker.io/library/nginx:1.25", true, "nginx"},
			{"index.docker.io/library/nginx@" + dgst, true, "nginx"},
			{"nginx-evil", false, ""},
			{"evil/nginx", false, ""},
			{"ghcr.io/library/nginx", false, ""},
		},
	}, {
		name:  "docker.io and index.docker.io are one host",
		allow: []string{"index.docker.io/library/*", "docker.io/acme/*"},
		checks: []check{
			{"redis", true, "index.docker.io/library/*"},
			{"docker.io/acme/app", true, "docker.io/acme/*"},
			{"index.docker.io/acme/app", true, "docker.io/acme/*"},
			{"acme/app", true, "docker.io/acme/*"},
			{"other/app", false, ""},
		},
	}, {
		name:  "tag and digest forms pin the pattern",
		allow: []string{"ghcr.io/acme/app:v1", "ghcr.io/acme/tool@" + dgst},
		checks: []check{
			{"ghcr.io/acme/app:v1", true, "ghcr.io/acme/app:v1"},
			{"ghcr.io/acme/app:v1@" + dgst, true, "ghcr.io/acme/app:v1"},
			{"ghcr.io/acme/app:v2", false, ""},
			{"ghcr.io/acme/app@" + dgst, false, ""}, // no tag to compare
			{"ghcr.io/acme/tool@" + dgst, true, "ghcr.io/acme/tool@" + dgst},
			{"ghcr.io/acme/tool:latest", false, ""},
		},
	}, {
		name:  "deny beats allow",
		allow: []string{"ghcr.io/acme/**"},
		deny:  []string{"ghcr.io/acme/experimental/**", "ghcr.io/acme/app:debug"},
		checks: []check{
			{"ghcr.io/acme/app:v1", true, "ghcr.io/acme/**"},
			{"ghcr.io/acme/experimental/x", false, "ghcr.io/acme/experimental/**"},
			{"ghcr.io/acme/app:debug", false, "ghcr.io/acme/app:debug"},
		},
	}, {
		name: "no allow patterns: everything not denied",
		deny: []string{"docker.io"},
		checks: []check{
			{"ghcr.io/acme/app", true, ""},
			{"nginx", false, "docker.io"},
			{"oci-dir:/tmp/img", true, ""},
		},
	}, {
		name:  "ports and loopback hosts",
		allow: []string{"localhost:5000", "registry.example.com:8443/team/*"},
		checks: []check{
			{"localhost:5000/app", true, "localhost:5000"},
			{"localhost:5001/app", false, ""},
			{"localhost/app", false, ""},
			{"registry.example.com:8443/team/app", true, "registry.example.com:8443/team/*"},
			{"registry.example.com/team/app", false, ""},
		},
	}, {
		name:  "a layout is not a registry",
		allow: []string{"ghcr.io/**"},
		checks: []check{
			{"oci-dir:/tmp/ghcr.io/x", false, ""},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := registry.NewAllowlist(tc.allow, tc.deny)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.checks {
				r, err := registry.ParseRef(c.image)
				if err != nil {
					t.Fatal(err)
				}
				d := a.Check(r)
				if d.Allowed != c.allowed || d.Pattern != c.pattern {
					t.Errorf("Check(%s) = %+v, want allowed=%v pattern=%q", c.image, d, c.allowed, c.pattern)
				}
				if d.Reason == "" {
					t.Errorf("Check(%s): no reason", c.image)
				}
			}
		})
	}
}

func TestAllowlistRejectsBadPatterns(t *testing.T) {
	for _, p := range []string{
		"",
		" ghcr.io",
		"https://ghcr.io/acme",
		"*.example.com/app",         // wildcard host
		"ghcr.io/acme/app-*",        // partial wildcard
		"ghcr.io/acme//app",         // empty segment
		"ghcr.io/acme/",             // trailing slash
		"ghcr.io/Acme/app",          // upper case
		"ghcr.io/acme/app:",         // empty tag
		"ghcr.io@" + dgst,           // digest without repository
		"ghcr.io/acme/**:v1",        // tag on **
		"ghcr.io/acme/a@sha256:123", // short digest
	} {
		if _, err := registry.NewAllowlist([]string{p}, nil); err == nil {
			t.Errorf("pattern %q accepted", p)
		} else if !errors.Is(err, registry.ErrInvalidPattern) {
			t.Errorf("pattern %q: error %v does not wrap ErrInvalidPattern", p, err)
		}
	}
	// Every bad pattern is named, allow and deny alike.
	_, err := registry.NewAllowlist([]string{"a//b"}, []string{"*.x.io"})
	if err == nil || !strings.Contains(err.Error(), "a//b") || !strings.Contains(err.Error(), "*.x.io") {
		t.Errorf("error does not name both bad patterns: %v", err)
	}
}
