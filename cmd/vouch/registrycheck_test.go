package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRegistryCheckCommand(t *testing.T) {
	allow := []string{"--allow", "ghcr.io/acme/**", "--allow", "my-registry.io", "--deny", "ghcr.io/acme/experimental/**"}
	for _, tc := range []struct {
		name   string
		images []string
		code   int
	}{
		{"all allowed", []string{"ghcr.io/acme/app:v1", "my-registry.io/x/y@" + strings.Replace("sha256:"+strings.Repeat("ab", 32), " ", "", -1)}, exitOK},
		{"prefix is not a match", []string{"my-registry.io.evil.com/app"}, exitDenied},
		{"deny beats allow", []string{"ghcr.io/acme/app", "ghcr.io/acme/experimental/x"}, exitDenied},
		{"bad reference", []string{"ghcr.io/Acme/app"}, exitUndecided},
		{"denied outranks bad input", []string{"nginx", "Bad Ref"}, exitDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, "", append(append([]string{"registry", "check"}, allow...), tc.images...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, stderr)
			}
		})
	}
	stdout, _, code := run(t, "", "registry", "check", "-o", "json", "--allow", "nginx", "nginx:1.27", "redis")
	var rep checkReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitDenied || rep.Allowed || len(rep.Images) != 2 {
		t.Fatalf("exit %d, %v: %s", code, err, stdout)
	}
	if a := rep.Images[0]; !a.Allowed || a.Pattern != "nginx" || a.Ref != "index.docker.io/library/nginx:1.27" {
		t.Errorf("allowed image %+v", a)
	}
	if d := rep.Images[1]; d.Allowed || d.ReasonCode != "policy_denied" || !strings.Contains(d.Reason, "no allow pattern") {
		t.Errorf("denied image %+v", d)
	}
	// A bad pattern is bad usage.
	if _, stderr, code := run(t, "", "registry", "check", "--allow", "*.evil.com", "nginx"); code != exitUndecided || !strings.Contains(stderr, "wildcards") {
		t.Fatalf("bad pattern: exit %d, %s", code, stderr)
	}
}
