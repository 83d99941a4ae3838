package registry

import (
	"bytes"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// manifestDoc is an image manifest or an index, as read from a registry
// or layout, decoded with its limits checked.
type manifestDoc struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType,omitempty"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *v1.Descriptor    `json:"config,omitempty"`
	Layers        []v1.Descriptor   `json:"layers,omitempty"`
	Manifests     []v1.Descriptor   `json:"manifests,omitempty"`
	Subject       *v1.Descriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func (m *manifestDoc) isIndex() bool {
	if m.MediaType != "" {
		return m.MediaType.IsIndex()
	}
	return m.Manifests != nil && m.Config == nil
}

// decodeManifest parses a manifest or index and checks what a parser must
// not trust: schema version 2, at most MaxLayers descriptors, well-formed
// digests and sizes, and a shape that matches the media type.
func decodeManifest(raw []byte) (*manifestDoc, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformed)
	}
	var m manifestDoc
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%w: schemaVersion %d, want 2", ErrMalformed, m.SchemaVersion)
	}
	if m.MediaType != "" && !m.MediaType.IsImage() && !m.MediaType.IsIndex() {
		return nil, fmt.Errorf("%w: media type %q is neither an image manifest nor an index", ErrMalformed, m.MediaType)
	}
	if n := len(m.Layers) + len(m.Manifests); n > MaxLayers {
		return nil, fmt.Errorf("%w: %d descriptors, over MaxLayers (%d)", ErrTooMany, n, MaxLayers)
	}
	if m.isIndex() {
		if m.Config != nil || len(m.Layers) > 0 {
			return nil, fmt.Errorf("%w: an index with a config or layers", ErrMalformed)
		}
	} else if len(m.Manifests) > 0 {
		return nil, fmt.Errorf("%w: an image manifest with manifests", ErrMalformed)
	}
	check := func(what string, d *v1.Descriptor) error {
		if d.Digest.Algorithm == "" || d.Digest.Hex == "" {
			return fmt.Errorf("%w: %s has no digest", ErrMalformed, what)
		}
		if d.Size < 0 {
			return fmt.Errorf("%w: %s has a negative size", ErrMalformed, what)
		}
		return nil
	}
	if m.Config != nil {
		if err := check("config", m.Config); err != nil {
			return nil, err
		}
	}
	if m.Subject != nil {
		if err := check("subject", m.Subject); err != nil {
			return nil, err
		}
	}
	for i := range m.Layers {
		if err := check(fmt.Sprintf("layer %d", i), &m.Layers[i]); err != nil {
			return nil, err
		}
	}
	for i := range m.Manifests {
		if err := check(fmt.Sprintf("manifest %d", i), &m.Manifests[i]); err != nil {
			return nil, err
		}
	}
	return &m, nil
}
