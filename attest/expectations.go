package attest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"golang.org/x/mod/semver"
)

// SignerClaims is what a Fulcio signing certificate says about its signer:
// the subject alternative name and the certificate's extensions (issuer,
// source repository URI, ref and digest, build signer URI, build config URI,
// runner environment, …). It is sigstore-go's certificate summary, which
// sigstore-go's verifier returns for a verified bundle
// (VerificationResult.Signature.Certificate) and
// certificate.SummarizeCertificate builds from a certificate. The signer
// cannot choose these values: Fulcio copies them from the OIDC token.
type SignerClaims = certificate.Summary

// Expectations are what a policy requires of SLSA provenance. Empty fields
// are not checked.
type Expectations struct {
	// BuilderID is the builder that must have built the artifact: a glob
	// ("*" within a path segment, "**" across segments, "?" one character)
	// matched against the whole id, or, without glob characters, an id
	// matched as slsa-verifier's --builder-id does: the part before "@" must
	// be equal and a version after "@" must be equal too ("v1.2.3" stands for
	// "refs/tags/v1.2.3").
	BuilderID string
	// SourceRepository is the repository the artifact must be built from, in
	// any form NormalizeSource accepts ("github.com/org/repo",
	// "https://github.com/org/repo", "git+https://github.com/org/repo.git"),
	// compared after normalisation exactly or, with glob characters, by glob
	// ("github.com/org/*"); never by prefix. An "@ref" suffix is split off and
	// checked as SourceRef.
	SourceRepository string
	// SourceRef is the git ref the artifact must be built from: a full ref
	// ("refs/tags/v1.2.3", "refs/heads/main", "refs/tags/v*") or a short name
	// that matches the tag or branch of that name ("v1.2.3", "main"). Globs as
	// in BuilderID.
	SourceRef string
	// SourceVersionedTag requires the source ref to be a tag whose semantic
	// version matches, as slsa-verifier's --source-versioned-tag: "v14"
	// accepts v14.0.0 and v14.2.1, "v14.2" accepts v14.2.x only.
	SourceVersionedTag string
	// BuildType is the build type the provenance must have, exact or glob.
	BuildType string
}

// ErrInvalidExpectations is wrapped by errors about expectations that cannot
// be checked (a malformed source URI, contradictory refs). It is a usage
// error, not a denial.
var ErrInvalidExpectations = errors.New("invalid provenance expectations")

// ErrProvenanceMismatch matches (errors.Is) every *MismatchError.
var ErrProvenanceMismatch = errors.New("provenance does not match")

// MismatchError is a provenance check that failed: a claim that does not meet
// an expectation, or a predicate claim that contradicts the signing
// certificate. It is a denial.
type MismatchError struct {
	// Field is what was compared: "builder id", "source repository",
	// "source ref", "source digest" or "build type".
	Field string
	// Expected is what was required; Actual what was found.
	Expected, Actual string
	// Against is where Expected comes from: "expectation" (the policy),
	// "certificate" (the predicate contradicts the signing certificate) or
	// "predicate" (two claims of the predicate contradict each other).
	Against string
	// Detail says more, e.g. which predicate field held Actual.
	Detail string
}

func (e *MismatchError) Error() string {
	var msg string
	switch e.Against {
	case "certificate":
		msg = fmt.Sprintf("provenance %s: the predicate claims %q but the signing certificate says %q", e.Field, e.Actual, e.Expected)
	case "predicate":
		msg = fmt.Sprintf("provenance %s: the predicate contradicts itself: %q and %q", e.Field, e.Expected, e.Actual)
	default:
		msg = fmt.Sprintf("provenance %s: expected %q, got %q", e.Field, e.Expected, e.Actual)
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return msg
}

// Denied reports true: provenance that does not match is a denial.
func (e *MismatchError) Denied() bool { return true }

// Is makes errors.Is(err, ErrProvenanceMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrProvenanceMismatch }

// IsZero reports whether e checks nothing.
func (e Expectations) IsZero() bool { return e == Expectations{} }

// Validate checks that the expectations can be evaluated.
func (e Expectations) Validate() error {
	_, err := e.normalize()
	return err
}

// normalized expectations: the repository in NormalizeSource form and the
// ref taken from an @ref suffix.
type normalized struct {
	Expectations
	repository string
}

func (e Expectations) normalize() (normalized, error) {
	n := normalized{Expectations: e}
	if e.SourceRepository != "" {
		repo, ref, err := NormalizeSource(e.SourceRepository)
		if err != nil {
			return n, fmt.Errorf("%w: source repository: %v", ErrInvalidExpectations, err)
		}
		n.repository = repo
		if ref != "" {
			if e.SourceRef != "" && e.SourceRef != ref {
				return n, fmt.Errorf("%w: source repository %q names ref %q but the source ref is %q", ErrInvalidExpectations, e.SourceRepository, ref, e.SourceRef)
			}
			n.SourceRef = ref
		}
	}
	if e.SourceVersionedTag != "" && !semver.IsValid(e.SourceVersionedTag) {
		return n, fmt.Errorf("%w: versioned tag %q is not a semantic version (vMAJOR[.MINOR[.PATCH]])", ErrInvalidExpectations, e.SourceVersionedTag)
	}
	return n, nil
}

// Check checks provenance p against the expectations. It returns nil, an
// error wrapping ErrInvalidExpectations (the expectations cannot be
// evaluated), or one or more *MismatchError joined (a denial).
//
// signer is the verified Fulcio certificate of the statement's signer; nil
// means the statement was signed with a key, whose holder is trusted to write
// true claims, so the expectations are checked against the predicate alone.
//
// With a certificate, the predicate is bound to the signer first:
//   - builder id: it must be the certificate's build signer URI (what
//     slsa-github-generator and actions/attest write: the signing workflow,
//     e.g. …/generator_generic_slsa3.yml@refs/tags/v2.1.0);
//     "https://github.com/actions/runner/<env>" with the certificate's runner
//     environment <env> (older actions/attest-build-provenance);
//     "https://github.com/actions/runner" on a GitHub Actions certificate (npm's
//     v0.2 provenance); or, when the certificate's signer is one of
//     slsa-github-generator's BYOB delegator workflows at a release tag, the
//     tagged reusable workflow the delegator attests (the TRW). Any other
//     builder id on a certificate that names a CI signer is a mismatch.
//   - source repository, ref and git commit: every claim of the predicate
//     must equal the certificate's source repository URI, ref and digest.
//
// Then the expectations are checked against the certificate's values (source
// repository and ref), which the signer cannot choose; the builder id against
// the predicate's, now bound; the build type against the predicate's. An
// expectation the certificate cannot back (a certificate with no source
// repository extension, or none naming a builder) is a mismatch.
func (e Expectations) Check(p *Provenance, signer *SignerClaims) error {
	exp, err := e.normalize()
	if err != nil {
		return err
	}
	if p == nil {
		return errors.New("no provenance to check")
	}
	var errs []error
	add := func(m *MismatchError) {
		if m != nil {
			errs = append(errs, m)
		}
	}
	for _, m := range p.contradictions() {
		add(m)
	}

	builderBound := signer == nil
	repo, ref := p.SourceRepository, p.SourceRef
	if signer != nil {
		var via string
		builderBound, via = bindBuilder(p.BuilderID, signer)
		if !builderBound && ciSigner(signer) != "" {
			add(&MismatchError{Field: "builder id", Expected: ciSigner(signer), Actual: p.BuilderID, Against: "certificate",
				Detail: "the predicate names a builder that did not sign it"})
		}
		for _, m := range bindSource(p, signer, via == "delegator") {
			add(m)
		}
		repo, ref = "", signer.SourceRepositoryRef
		if signer.SourceRepositoryURI != "" {
			if r, _, err := NormalizeSource(signer.SourceRepositoryURI); err == nil {
				repo = r
			}
		}
	}

	if exp.BuilderID != "" {
		switch {
		case !builderBound:
			add(&MismatchError{Field: "builder id", Expected: exp.BuilderID, Actual: p.BuilderID, Against: "expectation",
				Detail: "the signing certificate does not identify this builder, so the claim cannot be trusted"})
		case !matchBuilderID(exp.BuilderID, p.BuilderID):
			add(&MismatchError{Field: "builder id", Expected: exp.BuilderID, Actual: p.BuilderID, Against: "expectation"})
		}
	}
	if exp.repository != "" {
		detail := ""
		if signer != nil {
			detail = "from the signing certificate"
			if repo == "" {
				detail = "the signing certificate has no source repository extension"
			}
		}
		if !matchExact(exp.repository, repo) {
			add(&MismatchError{Field: "source repository", Expected: exp.repository, Actual: repo, Against: "expectation", Detail: detail})
		}
	}
	if exp.SourceRef != "" || exp.SourceVersionedTag != "" {
		detail := ""
		if signer != nil {
			detail = "from the signing certificate"
			if ref == "" {
				detail = "the signing certificate has no source ref extension"
			}
		}
		if exp.SourceRef != "" && !matchRef(exp.SourceRef, ref) {
			add(&MismatchError{Field: "source ref", Expected: exp.SourceRef, Actual: ref, Against: "expectation", Detail: detail})
		}
		if exp.SourceVersionedTag != "" {
			if ok, _ := matchVersionedTag(exp.SourceVersionedTag, ref); !ok {
				add(&MismatchError{Field: "source ref", Expected: "a tag matching " + exp.SourceVersionedTag, Actual: ref, Against: "expectation", Detail: detail})
			}
		}
	}
	if exp.BuildType != "" && !matchExact(exp.BuildType, p.BuildType) {
		add(&MismatchError{Field: "build type", Expected: exp.BuildType, Actual: p.BuildType, Against: "expectation"})
	}
	return errors.Join(errs...)
}

// matchExact compares exactly, or by glob when pattern has glob characters.
func matchExact(pattern, s string) bool {
	if s == "" {
		return false
	}
	if hasGlob(pattern) {
		return globMatch(pattern, s)
	}
	return pattern == s
}

// contradictions reports predicate source claims that disagree with each
// other (slsa-verifier requires the trigger and the source material to name
// the same repository and ref).
func (p *Provenance) contradictions() []*MismatchError {
	var out []*MismatchError
	conflicts := func(field string, value func(Source) string) {
		var first *Source
		for i := range p.Sources {
			s := &p.Sources[i]
			switch {
			case value(*s) == "":
			case first == nil:
				first = s
			case value(*first) != value(*s):
				out = append(out, &MismatchError{Field: field, Expected: value(*first), Actual: value(*s), Against: "predicate", Detail: first.Field + " and " + s.Field})
			}
		}
	}
	conflicts("source repository", func(s Source) string { return s.Repository })
	conflicts("source ref", func(s Source) string { return s.Ref })
	conflicts("source digest", func(s Source) string { return s.Digest })
	return out
}

// ciSigner returns the URI of the CI workflow a certificate names as its
// signer: the build signer URI extension or, on certificates issued before
// Fulcio had it, a URI subject alternative name.
func ciSigner(c *SignerClaims) string {
	if c.BuildSignerURI != "" {
		return c.BuildSignerURI
	}
	if strings.HasPrefix(c.SubjectAlternativeName, "https://") {
		return c.SubjectAlternativeName
	}
	return ""
}

// githubRunnerBuilder is the builder id GitHub's attestation actions and npm
// write for GitHub Actions runners.
const githubRunnerBuilder = "https://github.com/actions/runner"

// byobDelegators are slsa-github-generator's BYOB delegator workflows: they
// sign provenance whose builder id is the tagged reusable workflow (TRW) that
// called them.
var byobDelegators = map[string]bool{
	"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_generic_slsa3.yml":          true,
	"https://github.com/slsa-framework/slsa-github-generator/.github/workflows/delegator_lowperms-generic_slsa3.yml": true,
}

// releaseRef is a release tag vX.Y.Z (no pre-release, no build metadata), the
// only refs slsa-verifier accepts for trusted builders.
const releaseRef = `refs/tags/v[0-9]+\.[0-9]+\.[0-9]+`

var (
	releaseRefRE = regexp.MustCompile(`^` + releaseRef + `$`)
	// taggedWorkflow matches a GitHub reusable workflow at a release tag.
	taggedWorkflow = regexp.MustCompile(`^https://github\.com/[^/]+/[^/]+/\.github/workflows/[^/@]+\.ya?ml@` + releaseRef + `$`)
)

// bindBuilder reports whether builderID is bound to the certificate's signer,
// and by which rule ("signer", "runner", "delegator").
func bindBuilder(builderID string, c *SignerClaims) (bool, string) {
	if builderID == "" {
		return false, ""
	}
	signer := ciSigner(c)
	githubActions := c.RunnerEnvironment != "" || strings.HasPrefix(c.Issuer, "https://token.actions.githubusercontent.com")
	switch {
	case signer != "" && builderID == signer:
		return true, "signer"
	case c.RunnerEnvironment != "" && builderID == githubRunnerBuilder+"/"+c.RunnerEnvironment:
		return true, "runner"
	case githubActions && builderID == githubRunnerBuilder:
		return true, "runner"
	}
	name, ref, _ := strings.Cut(signer, "@")
	if byobDelegators[name] && releaseRefRE.MatchString(ref) && taggedWorkflow.MatchString(builderID) {
		return true, "delegator"
	}
	return false, ""
}

// bindSource reports predicate source claims that contradict the
// certificate. BYOB builders may build a commit the reusable workflow made,
// so their digests are not compared.
func bindSource(p *Provenance, c *SignerClaims, byob bool) []*MismatchError {
	var out []*MismatchError
	certRepo := ""
	if c.SourceRepositoryURI != "" {
		r, _, err := NormalizeSource(c.SourceRepositoryURI)
		if err != nil {
			return []*MismatchError{{Field: "source repository", Expected: c.SourceRepositoryURI, Actual: p.SourceRepository, Against: "certificate", Detail: "the certificate's source repository URI cannot be read"}}
		}
		certRepo = r
	}
	for _, s := range p.Sources {
		if certRepo != "" && s.Repository != certRepo {
			out = append(out, &MismatchError{Field: "source repository", Expected: certRepo, Actual: s.Repository, Against: "certificate", Detail: s.Field})
		}
		if c.SourceRepositoryRef != "" && s.Ref != "" && s.Ref != c.SourceRepositoryRef {
			out = append(out, &MismatchError{Field: "source ref", Expected: c.SourceRepositoryRef, Actual: s.Ref, Against: "certificate", Detail: s.Field})
		}
		if !byob && c.SourceRepositoryDigest != "" && s.Digest != "" && !strings.EqualFold(s.Digest, c.SourceRepositoryDigest) {
			out = append(out, &MismatchError{Field: "source digest", Expected: c.SourceRepositoryDigest, Actual: s.Digest, Against: "certificate", Detail: s.Field})
		}
	}
	return out
}
