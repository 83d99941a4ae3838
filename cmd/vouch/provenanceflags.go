package main

import (
	"github.com/urfave/cli/v2"

	"github.com/vouchdev/vouch/attest"
	"github.com/vouchdev/vouch/verify"
)

// The provenance flags are shared by verify-attestation and
// verify-blob-attestation. Names follow slsa-verifier's where it has the
// concept; translated into attest.Expectations here and nowhere else.
func provenanceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "builder-id", Usage: "SLSA provenance: the builder id, exact (a version after @ must match too) or a glob (* within a path segment, ** across)"},
		&cli.StringFlag{Name: "source-uri", Usage: "SLSA provenance: the source repository, e.g. github.com/org/repo (also https://…, git+https://….git); exact or glob, never a prefix"},
		&cli.StringFlag{Name: "source-ref", Usage: "SLSA provenance: the git ref built, e.g. refs/tags/v1.2.3, refs/heads/main, v1.* (glob)"},
		&cli.StringFlag{Name: "source-versioned-tag", Usage: "SLSA provenance: a semantic-version tag prefix: v14 accepts v14.x.y, v14.2 accepts v14.2.x"},
		&cli.StringFlag{Name: "build-type", Usage: "SLSA provenance: the build type URI, exact or glob"},
	}
}

// attestationRequirementFromFlags reads --type and the provenance flags.
// For a Fulcio-signed attestation, expectations are checked against the
// certificate's own extensions and the predicate's claims must agree.
func attestationRequirementFromFlags(c *cli.Context) (verify.AttestationRequirement, error) {
	var r verify.AttestationRequirement
	t, err := attest.PredicateTypeFor(c.String("type"))
	if err != nil {
		return r, usageError{err.Error()}
	}
	r.PredicateType = t
	exp := attest.Expectations{
		BuilderID:          c.String("builder-id"),
		SourceRepository:   c.String("source-uri"),
		SourceRef:          c.String("source-ref"),
		SourceVersionedTag: c.String("source-versioned-tag"),
		BuildType:          c.String("build-type"),
	}
	if exp.IsZero() {
		return r, nil
	}
	if err := exp.Validate(); err != nil {
		return r, usageError{err.Error()}
	}
	r.Provenance = &exp
	return r, nil
}
