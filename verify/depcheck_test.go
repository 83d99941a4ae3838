package verify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Library packages must stay pleasant to import: no CLI framework, no cmd/
// code, and dependencies that flow one way (registry ← attest, sbom ← verify ← cmd).
// syft (a very large dependency) is linked only by sbom/generate: a verifier
// or an admission webhook that imports verify never carries it.
func TestLibraryDependencies(t *testing.T) {
	forbidden := map[string][]string{
		"registry/...": {"github.com/urfave/cli", "/cmd/", "github.com/vouchdev/vouch/attest", "github.com/vouchdev/vouch/sbom", "github.com/vouchdev/vouch/verify", "github.com/anchore/syft", "github.com/sigstore/sigstore-go"},
		"attest/...":   {"github.com/urfave/cli", "/cmd/", "github.com/vouchdev/vouch/verify", "github.com/vouchdev/vouch/sbom"},
		"sbom/...":     {"github.com/urfave/cli", "/cmd/", "github.com/vouchdev/vouch/verify", "github.com/vouchdev/vouch/attest"},
		"sbom":         {"github.com/anchore/syft"},
		"verify/...":   {"github.com/urfave/cli", "/cmd/", "github.com/anchore/syft", "github.com/vouchdev/vouch/sbom/generate"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", "github.com/vouchdev/vouch/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if strings.Contains(dep, b) {
					t.Errorf("package %s depends on %s", pkg, dep)
				}
			}
		}
	}
}
