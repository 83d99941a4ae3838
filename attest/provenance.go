package attest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	provv1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	slsa02 "github.com/in-toto/in-toto-golang/in_toto/slsa_provenance/v0.2"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrNotProvenance means a statement's predicate type is not SLSA provenance
// v0.2 or v1.
var ErrNotProvenance = errors.New("not SLSA provenance")

// ErrMalformedProvenance is wrapped by errors about provenance predicates that
// cannot be read.
var ErrMalformedProvenance = errors.New("malformed SLSA provenance")

// Provenance is what a SLSA provenance predicate (v0.2 or v1) claims about a
// build. Every field is the signer's claim: Expectations.Check binds them to
// the signer's certificate.
type Provenance struct {
	// PredicateType is PredicateSLSAProvenanceV02 or PredicateSLSAProvenanceV1.
	PredicateType string
	// BuilderID is builder.id (v0.2) or runDetails.builder.id (v1).
	BuilderID string
	// BuildType is buildType (v0.2) or buildDefinition.buildType (v1).
	BuildType string
	// SourceRepository is the normalised repository (NormalizeSource) of the
	// first entry of Sources, SourceRef and SourceDigest the first ref and git
	// commit any of them gives.
	SourceRepository string
	SourceRef        string
	SourceDigest     string
	// ConfigPath is the build configuration's path: invocation.configSource.
	// entryPoint (v0.2) or externalParameters.workflow.path (v1).
	ConfigPath string
	// InvocationID identifies the build run: metadata.buildInvocationID (v0.2)
	// or runDetails.metadata.invocationId (v1).
	InvocationID string
	// Sources lists every place the predicate names the source it was built
	// from, in the order above: for v0.2 invocation.configSource and
	// materials[0]; for v1 externalParameters.workflow (GitHub's build types),
	// externalParameters.source (container-based builds) and
	// resolvedDependencies[0]. Materials and dependencies count only when they
	// are git URIs.
	Sources []Source
}

// Source is one claim of a predicate about its source.
type Source struct {
	// Field names where the claim is, e.g. "resolvedDependencies[0]".
	Field string
	// URI is the claim as written.
	URI string
	// Repository is URI normalised (NormalizeSource); Ref and Digest are the
	// git ref and commit, when the claim gives them.
	Repository, Ref, Digest string
}

// ParseProvenance reads the SLSA provenance predicate (v0.2 or v1) of s, as
// slsa-github-generator (generic, go, container, container-based, BYOB
// delegators), GitHub's actions/attest-build-provenance and npm write it.
func ParseProvenance(s *Statement) (*Provenance, error) {
	if len(s.Predicate()) == 0 || s.Predicate()[0] != '{' {
		if s.PredicateType() == PredicateSLSAProvenanceV02 || s.PredicateType() == PredicateSLSAProvenanceV1 {
			return nil, fmt.Errorf("%w: the predicate is not a JSON object", ErrMalformedProvenance)
		}
	}
	var p *Provenance
	var err error
	switch s.PredicateType() {
	case PredicateSLSAProvenanceV02:
		p, err = parseProvenanceV02(s.Predicate())
	case PredicateSLSAProvenanceV1:
		p, err = parseProvenanceV1(s.Predicate())
	default:
		return nil, fmt.Errorf("%w: predicate type %q (want %s or %s)", ErrNotProvenance, s.PredicateType(), PredicateSLSAProvenanceV1, PredicateSLSAProvenanceV02)
	}
	if err != nil {
		return nil, err
	}
	p.PredicateType = s.PredicateType()
	for _, src := range p.Sources {
		if p.SourceRepository == "" {
			p.SourceRepository = src.Repository
		}
		if p.SourceRef == "" {
			p.SourceRef = src.Ref
		}
		if p.SourceDigest == "" {
			p.SourceDigest = src.Digest
		}
	}
	return p, nil
}

// provenanceV02 holds the fields of a SLSA v0.2 predicate (in-toto-golang's
// slsa02.ProvenancePredicate) that vouch reads. Decoding only these skips the
// free-form invocation.environment, parameters and buildConfig, which
// slsa-github-generator fills with the whole GitHub event (most of the cost
// of decoding the full type).
type provenanceV02 struct {
	Builder struct {
		ID string `json:"id"`
	} `json:"builder"`
	BuildType  string `json:"buildType"`
	Invocation struct {
		ConfigSource slsa02.ConfigSource `json:"configSource"`
	} `json:"invocation"`
	Metadata *struct {
		BuildInvocationID string `json:"buildInvocationID"`
	} `json:"metadata"`
	Materials []struct {
		URI    string            `json:"uri"`
		Digest map[string]string `json:"digest"`
	} `json:"materials"`
}

func parseProvenanceV02(raw []byte) (*Provenance, error) {
	var pred provenanceV02
	if err := json.Unmarshal(raw, &pred); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedProvenance, err)
	}
	p := &Provenance{
		BuilderID:  pred.Builder.ID,
		BuildType:  pred.BuildType,
		ConfigPath: pred.Invocation.ConfigSource.EntryPoint,
	}
	if pred.Metadata != nil {
		p.InvocationID = pred.Metadata.BuildInvocationID
	}
	if cs := pred.Invocation.ConfigSource; cs.URI != "" {
		if err := p.addSource("invocation.configSource", cs.URI, gitDigest(cs.Digest)); err != nil {
			return nil, err
		}
	}
	if len(pred.Materials) > 0 && strings.HasPrefix(pred.Materials[0].URI, "git+") {
		m := pred.Materials[0]
		if err := p.addSource("materials[0]", m.URI, gitDigest(m.Digest)); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parseProvenanceV1(raw []byte) (*Provenance, error) {
	var pred provv1.Provenance
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &pred); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedProvenance, err)
	}
	bd, rd := pred.GetBuildDefinition(), pred.GetRunDetails()
	p := &Provenance{
		BuilderID:    rd.GetBuilder().GetId(),
		BuildType:    bd.GetBuildType(),
		InvocationID: rd.GetMetadata().GetInvocationId(),
	}
	ext := bd.GetExternalParameters().GetFields()
	if wf := ext["workflow"].GetStructValue().GetFields(); wf != nil {
		p.ConfigPath = wf["path"].GetStringValue()
		if repo := wf["repository"].GetStringValue(); repo != "" {
			if err := p.addSource("externalParameters.workflow", repo, ""); err != nil {
				return nil, err
			}
			if ref := wf["ref"].GetStringValue(); ref != "" {
				last := &p.Sources[len(p.Sources)-1]
				if last.Ref != "" && last.Ref != ref {
					return nil, fmt.Errorf("%w: externalParameters.workflow names ref %q in its repository and %q in its ref", ErrMalformedProvenance, last.Ref, ref)
				}
				last.Ref = ref
			}
		}
	}
	if src := ext["source"]; src != nil {
		uri, digest := src.GetStringValue(), ""
		if f := src.GetStructValue().GetFields(); f != nil {
			uri = f["uri"].GetStringValue()
			digest = gitDigest(structDigest(f["digest"]))
		}
		if uri != "" {
			if err := p.addSource("externalParameters.source", uri, digest); err != nil {
				return nil, err
			}
		}
	}
	if deps := bd.GetResolvedDependencies(); len(deps) > 0 && strings.HasPrefix(deps[0].GetUri(), "git+") {
		if err := p.addSource("resolvedDependencies[0]", deps[0].GetUri(), gitDigest(deps[0].GetDigest())); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *Provenance) addSource(field, uri, digest string) error {
	repo, ref, err := NormalizeSource(uri)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrMalformedProvenance, field, err)
	}
	p.Sources = append(p.Sources, Source{Field: field, URI: uri, Repository: repo, Ref: ref, Digest: digest})
	return nil
}

// gitDigest returns the git commit of a digest set: gitCommit, or sha1 as
// SLSA v0.2 writes it.
func gitDigest(d map[string]string) string {
	for _, alg := range []string{"gitCommit", "sha1"} {
		if v := d[alg]; v != "" {
			return strings.ToLower(v)
		}
	}
	return ""
}

func structDigest(v *structpb.Value) map[string]string {
	out := map[string]string{}
	for k, val := range v.GetStructValue().GetFields() {
		if s := val.GetStringValue(); s != "" {
			out[k] = s
		}
	}
	return out
}
