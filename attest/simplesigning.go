package attest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Cosign's legacy image signature format (.sig layers).
const (
	// SimpleSigningMediaType is the media type of a .sig layer.
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// CosignSignatureType is the critical.type cosign writes.
	CosignSignatureType = "cosign container image signature"
)

// ErrMalformedSimpleSigning is wrapped by errors about simple-signing payloads
// that cannot be read.
var ErrMalformedSimpleSigning = errors.New("malformed simple-signing payload")

// SimpleSigning is cosign's simple-signing payload:
//
//	{"critical":{"identity":{"docker-reference":R},"image":{"docker-manifest-digest":D},
//	 "type":"cosign container image signature"},"optional":{…}|null}
//
// Only critical.image.docker-manifest-digest binds the signature to an image;
// cosign ignores docker-reference and does not check type.
type SimpleSigning struct {
	Critical struct {
		Identity struct {
			DockerReference string `json:"docker-reference"`
		} `json:"identity"`
		Image struct {
			DockerManifestDigest string `json:"docker-manifest-digest"`
		} `json:"image"`
		Type string `json:"type"`
	} `json:"critical"`
	Optional map[string]any `json:"optional"`
}

// SimpleSigningPayload returns the payload cosign v2 signs for an image
// (sigstore's payload.Cosign), byte for byte: dockerReference is the image's
// repository as cosign names it (e.g. "registry.example.com/team/app"),
// digest is "sha256:<hex>", and annotations (cosign's -a k=v) become
// "optional", which is null when there are none.
func SimpleSigningPayload(dockerReference, digest string, annotations map[string]string) ([]byte, error) {
	if dockerReference == "" {
		return nil, errors.New("simple-signing payload needs a docker reference")
	}
	if err := checkImageDigest(digest); err != nil {
		return nil, err
	}
	var p SimpleSigning
	p.Critical.Identity.DockerReference = dockerReference
	p.Critical.Image.DockerManifestDigest = digest
	p.Critical.Type = CosignSignatureType
	if annotations != nil {
		p.Optional = make(map[string]any, len(annotations))
		for k, v := range annotations {
			p.Optional[k] = v
		}
	}
	return json.Marshal(p)
}

// ParseSimpleSigningPayload parses a simple-signing payload. It checks the
// shape and that the digest is well formed; comparing the digest with the
// image is the caller's binding check.
func ParseSimpleSigningPayload(b []byte) (*SimpleSigning, error) {
	if len(b) > MaxSimpleSigningSize {
		return nil, fmt.Errorf("%w: %d bytes is over the %d byte limit", ErrMalformedSimpleSigning, len(b), MaxSimpleSigningSize)
	}
	if _, err := objectFields(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedSimpleSigning, err)
	}
	var p SimpleSigning
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedSimpleSigning, err)
	}
	if err := checkImageDigest(p.Critical.Image.DockerManifestDigest); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedSimpleSigning, err)
	}
	return &p, nil
}

// checkImageDigest accepts "sha256:<64 hex>" and "sha512:<128 hex>", lowercase,
// as OCI digests are written.
func checkImageDigest(digest string) error {
	alg, hexPart, ok := strings.Cut(digest, ":")
	want := map[string]int{"sha256": 64, "sha512": 128}[alg]
	if !ok || want == 0 || len(hexPart) != want || strings.ToLower(hexPart) != hexPart {
		return fmt.Errorf("image digest %q: want sha256:<64 lowercase hex>", digest)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return fmt.Errorf("image digest %q is not hex", digest)
	}
	return nil
}
