package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Limits on bundle files (DESIGN.md "Limits").
const (
	// MaxBundles caps the bundles read from one bundle file, and the bundles
	// checked for one blob.
	MaxBundles = 100
	// MaxBundleFileSize caps a file of bundles: JSON lines or an npm
	// attestations document hold several bundles of up to MaxContentSize.
	MaxBundleFileSize = 64 << 20
)

// SplitBundles splits the content of a bundle file into its bundles, as
// attachments of format [FormatBundle] ready for [Verifier.BlobAttestation].
// A file holds one Sigstore bundle (JSON), several as JSON lines (gh
// attestation download, slsa-github-generator's .intoto.jsonl), or npm's
// attestations document ({"attestations":[{"predicateType","bundle"}]}, as
// the npm registry serves it). Each attachment's Source says where in the
// file it was: "bundle", "line N" (from 1) or "attestations[i]".
//
// Bundles are not parsed here: one that is malformed fails on its own when
// it is verified, and the others still count. A file larger than
// [MaxBundleFileSize] or holding more than [MaxBundles] bundles is a
// [ReasonMalformed] denial; an empty one is a [ReasonNoAttestations] denial.
func SplitBundles(data []byte) ([]Attachment, error) {
	if len(data) > MaxBundleFileSize {
		return nil, errorf(ReasonMalformed, "the bundle file is %d bytes, more than %d", len(data), MaxBundleFileSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, errorf(ReasonNoAttestations, "the bundle file is empty")
	}
	var out []Attachment
	add := func(content []byte, source string) error {
		if len(out) == MaxBundles {
			return errorf(ReasonMalformed, "the bundle file holds more than %d bundles: refusing to pick some", MaxBundles)
		}
		out = append(out, Attachment{Format: FormatBundle, Content: content, Source: source})
		return nil
	}
	if json.Valid(trimmed) {
		var doc struct {
			Attestations *[]struct {
				Bundle json.RawMessage `json:"bundle"`
			} `json:"attestations"`
		}
		// A bundle has no "attestations" field; npm's document has nothing else.
		if trimmed[0] == '{' && json.Unmarshal(trimmed, &doc) == nil && doc.Attestations != nil {
			for i, a := range *doc.Attestations {
				if err := add(a.Bundle, fmt.Sprintf("attestations[%d]", i)); err != nil {
					return nil, err
				}
			}
			if len(out) == 0 {
				return nil, errorf(ReasonNoAttestations, "the attestations document lists no attestations")
			}
			return out, nil
		}
		return []Attachment{{Format: FormatBundle, Content: trimmed, Source: "bundle"}}, nil
	}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := add(line, fmt.Sprintf("line %d", i+1)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// BlobAttestationResult is the verdict on the attestations of a blob.
type BlobAttestationResult struct {
	// Digest is the artifact digest the first verified attestation is bound
	// to; without one, the first digest of the artifact that was computed.
	Digest string `json:"digest,omitempty"`
	// Verified is true when Threshold distinct authorities were satisfied,
	// each by a different attestation that met every requirement.
	Verified  bool `json:"verified"`
	Threshold int  `json:"threshold"`
	// Satisfied names the authorities counted towards the threshold.
	Satisfied []string `json:"satisfied,omitempty"`
	// Attestations has one result per bundle, in the order given: verified,
	// or why it does not count (another predicate type, another subject, a
	// bad signature, claims that break the requirements). The statement of
	// a verified attestation is in its Payload.
	Attestations []SignatureResult `json:"attestations"`
	Failure      *Failure          `json:"failure,omitempty"`
}

// BlobAttestation decides whether the blob a is attested as att and req
// require, by the Sigstore bundles in bundles (Format [FormatBundle]; see
// [SplitBundles]): GitHub artifact attestations, npm provenance,
// slsa-github-generator provenance, cosign attest-blob bundles.
//
// An attestation counts when its bundle verifies for an authority of req,
// its DSSE envelope holds an in-toto statement of predicate type
// att.PredicateType (any, when empty) with a subject that names the blob,
// and its statement meets att's rules (provenance expectations bound to the
// signer's certificate, SBOM rules). The blob is hashed once, with every
// algorithm the statements' subjects use (npm uses sha512); a blob given by
// [ArtifactDigest] can only match statements that name that algorithm.
//
// Any one attestation that satisfies every check is enough, and with
// req.Threshold above 1 that many distinct authorities must each be
// satisfied by a different attestation. None of the required type is a
// [ReasonNoAttestations] denial that lists the types found. Every bundle's
// result says why it did not count.
//
// Denials return the result too. When the answer depends on an attestation
// that could not be checked (trusted root unavailable, deadline), the error
// is not a denial and the result is nil.
func (v *Verifier) BlobAttestation(ctx context.Context, bundles []Attachment, a Artifact, att AttestationRequirement, req Requirements) (*BlobAttestationResult, error) {
	check, err := att.compile()
	if err != nil {
		return nil, err
	}
	c, err := req.compile()
	if err != nil {
		return nil, err
	}
	c.statement = check
	if len(bundles) > MaxBundles {
		return nil, errorf(ReasonInvalidInput, "%d bundles, more than the %d vouch checks for one blob: refusing to pick some", len(bundles), MaxBundles)
	}
	for _, b := range bundles {
		if b.Format != FormatBundle {
			return nil, errorf(ReasonInvalidInput, "%s: a blob attestation is a Sigstore bundle (%s), not %s", b.Source, FormatBundle, b.Format)
		}
	}
	res := &BlobAttestationResult{Threshold: c.threshold, Attestations: make([]SignatureResult, len(bundles))}

	// Read every bundle and keep those of the required type.
	type candidate struct {
		i  int
		s  *signed
		st *statement
	}
	var cands []candidate
	var failed []int // bundles that failed before any check, of the required type or of none that could be read
	matching := 0    // bundles whose statement has the required type
	typesSeen := map[string]bool{}
	need := map[string]bool{}
	for i, b := range bundles {
		r := &res.Attestations[i]
		*r = SignatureResult{Format: FormatBundle, Source: b.Source}
		s, st, err := blobAttestationSigned(b)
		if st != nil {
			typesSeen[st.PredicateType] = true
			r.PredicateType = st.PredicateType
		}
		typeOK := st != nil && (att.PredicateType == "" || st.PredicateType == att.PredicateType)
		if typeOK {
			matching++
		}
		switch {
		case err != nil:
			r.Failure = failure(asError(err))
			if st == nil || typeOK {
				failed = append(failed, i)
			}
		case !typeOK:
			r.Failure = failure(errorf(ReasonPredicateTypeMismatch, "an attestation of type %s, not %s", st.PredicateType, att.PredicateType))
		default:
			cands = append(cands, candidate{i, s, st})
			for _, alg := range st.algorithms() {
				need[alg] = true
			}
		}
	}

	// Hash the blob once, with every algorithm a candidate needs.
	digests := map[string]digest{}
	if a.digest != nil {
		digests[a.digest.alg] = *a.digest
		res.Digest = a.digest.String()
	} else if len(need) > 0 {
		var algs []string
		for _, alg := range []string{"sha256", "sha512", "sha384"} {
			if need[alg] {
				algs = append(algs, alg)
			}
		}
		ds, err := a.digests(algs, false)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			digests[d.alg] = d
		}
		res.Digest = ds[0].String()
	}

	var outs []outcome
	var outIdx []int
	for _, f := range failed {
		outs = append(outs, outcome{result: res.Attestations[f]})
		outIdx = append(outIdx, f)
	}
	bound := ""
	for _, cd := range cands {
		d, err := cd.st.bind(digests)
		if err != nil {
			res.Attestations[cd.i].Failure = failure(asError(err))
			outs = append(outs, outcome{result: res.Attestations[cd.i]})
			outIdx = append(outIdx, cd.i)
			continue
		}
		cd.s.artifact = digestPolicy(d)
		o := v.check(ctx, cd.s, c)
		res.Attestations[cd.i] = o.result
		if o.result.Verified && bound == "" {
			bound = d.String()
		}
		outs = append(outs, o)
		outIdx = append(outIdx, cd.i)
	}
	if bound != "" {
		res.Digest = bound
	}

	if matching == 0 && len(typesSeen) > 0 {
		// Only attestations of other types, and perhaps unreadable bundles:
		// say what was found rather than why the unreadable ones failed.
		outs, outIdx = nil, nil
	}
	if err := decideBlob(res, c, outs, outIdx, att.PredicateType, typesSeen, len(bundles)); err != nil {
		if e, ok := err.(*Error); ok && e.Denied() {
			return res, err
		}
		return nil, err
	}
	return res, nil
}

// blobAttestationSigned reads one bundle as an attestation: a Sigstore
// bundle whose DSSE envelope holds an in-toto statement. It returns the
// statement whenever it could be read, so its type can be reported.
func blobAttestationSigned(a Attachment) (*signed, *statement, error) {
	b, err := ParseBundle(a.Content)
	if err != nil {
		return nil, nil, err
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, nil, errorf(ReasonPredicateTypeMismatch, "the bundle holds a signature over a file, not an attestation (verify it with verify-blob)")
	}
	st, err := parseStatement(env.GetPayloadType(), env.GetPayload())
	if err != nil {
		return nil, nil, errorf(ReasonMalformed, "bundle: %w", err)
	}
	s, err := newSigned(FormatBundle, a.Source, newEntity(b))
	if err != nil {
		return nil, st, err
	}
	s.predicateType, s.payload = st.PredicateType, env.GetPayload()
	return s, st, nil
}

// algorithms lists the digest algorithms vouch checks that the statement's
// subjects use, in the order they are tried.
func (st *statement) algorithms() []string {
	var algs []string
	for _, alg := range []string{"sha256", "sha512", "sha384"} {
		for _, sub := range st.Subject {
			if _, ok := sub.Digest[alg]; ok {
				algs = append(algs, alg)
				break
			}
		}
	}
	return algs
}

// bind finds the artifact digest, among ds, that a subject of the statement
// names.
func (st *statement) bind(ds map[string]digest) (digest, error) {
	algs := st.algorithms()
	if len(algs) == 0 {
		return digest{}, errorf(ReasonMalformed, "the statement has no sha256, sha384 or sha512 subject digest")
	}
	var tried []string
	for _, alg := range algs {
		d, ok := ds[alg]
		if !ok {
			continue
		}
		if st.names(d) {
			return d, nil
		}
		tried = append(tried, d.String())
	}
	if len(tried) == 0 {
		var given string
		for alg := range ds {
			given = alg
		}
		return digest{}, errorf(ReasonDigestMismatch, "the statement names %s digests, the artifact was given as %s: give the file, or its %s digest", strings.Join(algs, " and "), given, algs[0])
	}
	return digest{}, errorf(ReasonDigestMismatch, "the statement is about %s, not the artifact %s", orNone(st.subjectDigests()), strings.Join(tried, " / "))
}

// decideBlob applies the threshold to the attestations that were checked
// (outs; outIdx[k] is the bundle of outs[k]).
func decideBlob(res *BlobAttestationResult, c *compiled, outs []outcome, outIdx []int, predicateType string, typesSeen map[string]bool, nBundles int) error {
	satisfied := make([][]int, len(outs))
	var undecided error
	for k, o := range outs {
		satisfied[k] = o.satisfied
		if o.undecided != nil && undecided == nil {
			undecided = o.undecided
		}
	}
	n, matchOf := maxMatching(len(c.auths), satisfied)
	for a, k := range matchOf {
		if k >= 0 {
			res.Satisfied = append(res.Satisfied, c.auths[a].name)
			res.Attestations[outIdx[k]].Authority = c.auths[a].name
		}
	}
	if n >= c.threshold {
		res.Verified = true
		return nil
	}
	if undecided != nil {
		return undecided
	}
	what := "attestations"
	if predicateType != "" {
		what = "attestations of type " + predicateType
	}
	var err *Error
	switch {
	case nBundles == 0:
		err = errorf(ReasonNoAttestations, "no bundles to verify")
	case len(outs) == 0:
		types := make([]string, 0, len(typesSeen))
		for t := range typesSeen {
			types = append(types, t)
		}
		sort.Strings(types)
		found := "none"
		if len(types) > 0 {
			found = strings.Join(types, ", ")
		}
		unreadable := ""
		if n := nBundles - countTyped(res); n > 0 {
			unreadable = fmt.Sprintf("; %d unreadable", n)
		}
		err = errorf(ReasonNoAttestations, "no %s among the %d bundles (predicate types found: %s%s)", what, nBundles, found, unreadable)
	case n == 0:
		first := outs[0].result.Failure
		same := first != nil
		for _, o := range outs {
			if f := o.result.Failure; f == nil || f.Reason != first.Reason {
				same = false
			}
		}
		switch {
		case same && len(outs) == 1:
			err = &Error{Reason: first.Reason, Msg: first.Message}
		case same:
			err = errorf(first.Reason, "none of the %d %s verified: %s", len(outs), what, first.Message)
		default:
			err = errorf(ReasonNoMatchingSignatures, "none of the %d %s verified (see each attestation's failure)", len(outs), what)
		}
	default:
		err = errorf(ReasonThresholdNotMet, "%d of %d required authorities satisfied (%s): each authority counts once, however many of its attestations there are",
			n, c.threshold, strings.Join(res.Satisfied, ", "))
	}
	res.Failure = failure(err)
	return err
}

// countTyped counts the bundles whose statement could be read.
func countTyped(res *BlobAttestationResult) int {
	n := 0
	for _, a := range res.Attestations {
		if a.PredicateType != "" {
			n++
		}
	}
	return n
}
