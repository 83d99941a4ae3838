package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vouchdev/vouch/registry/registrytest"
)

func TestResolveCommand(t *testing.T) {
	reg := registrytest.New(t)
	d := reg.PushRandomImage(t, "app:v1")
	idx := reg.PushRandomIndex(t, "multi:v1", 2)

	stdout, stderr, code := run(t, "", "resolve", reg.Ref("app:v1"), reg.Ref("multi:v1"))
	want := reg.Ref("app@"+d) + "\n" + reg.Ref("multi@"+idx) + "\n"
	if code != 0 || stdout != want {
		t.Fatalf("exit %d\nstdout %q\nwant   %q\nstderr %s", code, stdout, want, stderr)
	}

	// --platform picks the platform's manifest; JSON says both.
	stdout, stderr, code = run(t, "", "resolve", "--platform", "linux/arm64", "-o", "json", reg.Ref("multi:v1"))
	var rep struct {
		SchemaVersion int
		Images        []struct {
			Image, Ref, Digest string
			Index              *struct{ Ref, Digest string }
			Platform           *struct{ OS, Architecture string }
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 0 {
		t.Fatalf("exit %d, %v\n%s\n%s", code, err, stdout, stderr)
	}
	img := rep.Images[0]
	if rep.SchemaVersion != 1 || img.Index == nil || img.Index.Digest != idx || img.Digest == idx || img.Platform.Architecture != "arm64" || img.Ref != reg.Ref("multi@"+img.Digest) {
		t.Fatalf("JSON %s", stdout)
	}

	// A missing image and a bad reference: the rest still resolves, exit 2.
	stdout, stderr, code = run(t, "", "resolve", reg.Ref("app:v1"), reg.Ref("app:nope"), "Bad Ref")
	if code != exitUndecided || stdout != reg.Ref("app@"+d)+"\n" || !strings.Contains(stderr, "app:nope") || !strings.Contains(stderr, "Bad Ref") {
		t.Fatalf("exit %d\nstdout %q\nstderr %s", code, stdout, stderr)
	}
	stdout, _, _ = run(t, "", "resolve", "-o", "json", reg.Ref("app:nope"))
	if !strings.Contains(stdout, `"reason": "not_found"`) {
		t.Fatalf("JSON for a missing image: %s", stdout)
	}
	if _, _, code := run(t, "", "resolve", "--platform", "linux/amd64/v1/extra", reg.Ref("app:v1")); code != exitUndecided {
		t.Fatal("bad --platform accepted")
	}
	if _, _, code := run(t, "", "resolve"); code != exitUndecided {
		t.Fatal("no image accepted")
	}
}
