package generate

import (
	"os"
	"strconv"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/vouchdev/vouch/sbom"
)

// Source schemes Generate accepts, and the syft source provider each one
// names. Naming exactly one provider is what keeps a typo local: syft's
// auto-detection would otherwise try the Docker, Podman and containerd
// daemons, a registry pull and the Snap store for a path that does not
// exist.
var sourceSchemes = []struct {
	scheme, provider string
	kind             sbom.SourceKind
}{
	{"oci-dir:", "oci-dir", sbom.SourceImage},
	{"oci-archive:", "oci-archive", sbom.SourceImage},
	{"docker-archive:", "docker-archive", sbom.SourceImage},
	{"dir:", "local-directory", sbom.SourceDirectory},
	{"file:", "local-file", sbom.SourceFile},
	{"registry:", "oci-registry", sbom.SourceImage},
}

// sourceSpec is a parsed Generate source.
type sourceSpec struct {
	provider string // syft source provider name
	input    string // what the provider is given
	kind     sbom.SourceKind
}

// parseSource maps "scheme:rest" or a registry reference to exactly one
// syft provider. A bare argument must be a valid registry reference and
// must not name a local path, so "./app" or a directory called "app" is
// refused with a hint instead of being pulled from Docker Hub.
func parseSource(s string) (sourceSpec, error) {
	if s == "" {
		return sourceSpec{}, &sbom.UsageError{Msg: "no source given: use oci-dir:PATH, oci-archive:FILE, docker-archive:FILE, dir:PATH, file:PATH or an image reference"}
	}
	for _, sc := range sourceSchemes {
		if rest, ok := strings.CutPrefix(s, sc.scheme); ok {
			if rest == "" {
				return sourceSpec{}, &sbom.UsageError{Msg: strconv.Quote(s) + " names no path or reference after " + sc.scheme}
			}
			if sc.provider == "oci-registry" {
				if _, err := name.ParseReference(rest); err != nil {
					return sourceSpec{}, &sbom.UsageError{Msg: strconv.Quote(rest) + " is not an image reference: " + err.Error()}
				}
			}
			return sourceSpec{provider: sc.provider, input: rest, kind: sc.kind}, nil
		}
	}
	if strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") {
		return sourceSpec{}, &sbom.UsageError{Msg: strconv.Quote(s) + " looks like a local path: prefix it with dir:, file:, oci-dir:, oci-archive: or docker-archive:"}
	}
	if _, err := os.Lstat(s); err == nil {
		return sourceSpec{}, &sbom.UsageError{Msg: strconv.Quote(s) + " exists as a local path and is also a valid image reference: prefix it with dir:, file:, oci-dir:, oci-archive: or docker-archive: for the local one, or registry: for the image"}
	}
	if _, err := name.ParseReference(s); err != nil {
		return sourceSpec{}, &sbom.UsageError{Msg: strconv.Quote(s) + " is neither a known source scheme (oci-dir:, oci-archive:, docker-archive:, dir:, file:, registry:) nor an image reference: " + err.Error()}
	}
	return sourceSpec{provider: "oci-registry", input: s, kind: sbom.SourceImage}, nil
}
