package attest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore/pkg/signature/payload"

	"github.com/vouchdev/vouch/attest"
)

// Byte for byte what cosign v2 signs: sigstore's payload.Cosign, which cosign
// sign uses for .sig layers.
func TestSimpleSigningPayloadMatchesCosign(t *testing.T) {
	digest := "sha256:" + sha256Hex
	ref, err := name.NewDigest("registry.example.com/team/app@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	for _, ann := range []map[string]string{nil, {"env": "prod", "commit": "abc"}} {
		var anyAnn map[string]any
		if ann != nil {
			anyAnn = map[string]any{}
			for k, v := range ann {
				anyAnn[k] = v
			}
		}
		want, err := payload.Cosign{Image: ref, Annotations: anyAnn}.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := attest.SimpleSigningPayload(ref.Repository.Name(), digest, ann)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("payload differs from cosign's\ncosign %s\nvouch  %s", want, got)
		}
		p, err := attest.ParseSimpleSigningPayload(got)
		if err != nil || p.Critical.Image.DockerManifestDigest != digest || p.Critical.Type != attest.CosignSignatureType {
			t.Fatalf("parse: %+v %v", p, err)
		}
	}
}

func TestSimpleSigningHostile(t *testing.T) {
	for _, d := range []string{"", "sha256:abc", "sha256:" + strings.ToUpper(sha256Hex), "md5:" + sha256Hex[:32], sha256Hex, "sha256:" + strings.Repeat("z", 64)} {
		if _, err := attest.SimpleSigningPayload("r/x", d, nil); err == nil {
			t.Errorf("digest %q accepted", d)
		}
	}
	if _, err := attest.SimpleSigningPayload("", "sha256:"+sha256Hex, nil); err == nil {
		t.Error("empty docker reference accepted")
	}
	for _, p := range []string{
		``, `[]`, `{"critical":{}}`,
		`{"critical":{"image":{"docker-manifest-digest":"sha256:` + sha256Hex + `"}},"critical":{"image":{"docker-manifest-digest":"sha256:` + strings.Repeat("1", 64) + `"}}}`,
		`{"critical":{"image":{"docker-manifest-digest":"sha256:` + sha256Hex + `"}}}` + strings.Repeat(" ", attest.MaxSimpleSigningSize),
	} {
		if _, err := attest.ParseSimpleSigningPayload([]byte(p)); !errors.Is(err, attest.ErrMalformedSimpleSigning) {
			t.Errorf("%.60q: want ErrMalformedSimpleSigning, got %v", p, err)
		}
	}
}
