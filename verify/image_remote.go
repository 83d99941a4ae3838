package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/vouchdev/vouch/registry"
)

// ImagePolicy is what [Verifier.Image] requires of one image: a signature
// requirement, attestation requirements, or both. It is the shape of one rule
// of a policy document; each call may pass another.
type ImagePolicy struct {
	// Signatures, when not nil, requires image signatures: cosign legacy
	// .sig layers and Sigstore bundles whose statement has predicate type
	// [PredicateCosignSign], from these authorities.
	Signatures *Requirements
	// Annotations, when not empty, must be carried by every signature that
	// counts (cosign verify -a key=value): in the simple-signing payload's
	// "optional" section, or in the annotations of the statement subject
	// that names the image. A signature without them does not count; its
	// result says [ReasonAnnotationMismatch]. It needs Signatures.
	Annotations map[string]string
	// Attestations each require attestations of one kind (predicate type,
	// provenance expectations), signed by their own authorities.
	Attestations []ImageAttestation
	// Platform, when set and the reference names an index, also verifies the
	// index's manifest for this platform. Both digests must then meet every
	// requirement, each with its own signatures and attestations: the index
	// digest (what `cosign sign` signs) and the platform manifest's digest
	// (what `cosign sign -r` also signs, and what a node pulls). When the
	// reference names a single image, Platform changes nothing but a
	// warning. The default verifies only the digest the reference names.
	Platform *v1.Platform
}

// ImageAttestation is one attestation requirement of an [ImagePolicy]: which
// attestations count ([AttestationRequirement]) and who must have signed
// them ([Requirements]).
type ImageAttestation struct {
	AttestationRequirement
	Requirements
}

// Result is the verdict on one image reference. Everything in it is bound
// to Digest, the digest the reference named when it was resolved (once):
// callers pin that digest, never the tag.
type Result struct {
	// Ref is the reference as given.
	Ref string `json:"ref"`
	// Digest is what Ref named: the image, or the index of a multi-platform
	// image. Empty when it could not be resolved.
	Digest string `json:"digest,omitempty"`
	// Verified is true when every requirement was met on every digest.
	Verified bool `json:"verified"`
	// Digests has one entry per digest verified: Digest first and, with
	// ImagePolicy.Platform, the platform manifest's.
	Digests []DigestResult `json:"digests,omitempty"`
	// Warnings are what a verified image should still tell: places that
	// could not be read (a requirement was met without them), a platform
	// asked of a single image.
	Warnings []Warning `json:"warnings,omitempty"`
	// Failure says why the image was not verified: a denial (a check ran
	// and failed) or could-not-decide, told apart by Failure.Reason.Denied.
	Failure *Failure `json:"failure,omitempty"`
}

// DigestResult is the verdict on one digest of an image.
type DigestResult struct {
	Digest string `json:"digest"`
	// Platform is the platform of a manifest chosen from an index
	// ("linux/arm64/v8"); empty for the digest the reference names.
	Platform string `json:"platform,omitempty"`
	Verified bool   `json:"verified"`
	// Signatures is the verdict on the image signatures, when required.
	Signatures *ImageResult `json:"signatures,omitempty"`
	// Attestations has one verdict per attestation requirement, in order.
	Attestations []*ImageResult `json:"attestations,omitempty"`
}

// Warning is something a caller should know about a verification that does
// not change its verdict.
type Warning struct {
	// Reason is set when the warning is about a failure (a path that could
	// not be read: registry_unavailable or timeout).
	Reason Reason `json:"reason,omitempty"`
	// Path is the attachment path concerned, if any (legacy-tag, referrers,
	// fallback-tag).
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Err is the result's failure as an *Error (nil when verified), for
// callers that decide with [Error.Denied] or [ReasonOf].
func (r *Result) Err() error {
	switch {
	case r.Verified:
		return nil
	case r.Failure == nil:
		return &Error{Reason: ReasonInvalidInput, Msg: r.Ref + ": not verified"}
	}
	return &Error{Reason: r.Failure.Reason, Msg: r.Failure.Message}
}

// Image decides whether the image ref names meets p. A tag is resolved once;
// everything after is bound to that digest, even if the tag moves meanwhile.
// A reference pinned by digest costs no resolution request (the signatures
// are bound to the digest, whether or not the registry still holds the
// image). Then, for each digest verified:
//
//   - discovery reads, concurrently, every place attachments that may matter
//     live: cosign's .sig tag for signatures and .att tag for attestations,
//     the OCI referrers API and the referrers fallback tag;
//   - only the layers that may matter are fetched, concurrently: a layer
//     whose claimed kind or predicate type cannot satisfy any requirement
//     is skipped, and the verification of the others re-checks the signed
//     truth (a claim never makes anything count);
//   - each requirement is decided from what verifies. A requirement met by
//     verified signatures passes, with a warning naming each place that
//     could not be read. A requirement not met while a place that may hold
//     what is missing could not be read is could-not-decide
//     ([ReasonRegistryUnavailable], or [ReasonTimeout]), never a denial:
//     the registry may be hiding a valid signature. With every place read,
//     no signature is a [ReasonNoSignatures] denial.
//
// BuildKit's attestation manifests (unsigned in-toto statements inside an
// index, or as referrers) are never attestations here.
//
// The result is never nil; err is nil exactly when res.Verified, and is then
// an *Error: Denied tells a denial from could-not-decide. When both occur (a
// denial on one requirement, an unreadable place on another), the image is
// denied: the requirement that failed fails whatever the missing place holds.
func (v *Verifier) Image(ctx context.Context, ref registry.Ref, p ImagePolicy) (*Result, error) {
	ip, err := v.compilePolicy(p)
	if err != nil {
		res := &Result{Ref: ref.String(), Failure: failure(asError(err))}
		return res, err
	}
	res, e := v.image1(ctx, ref, ip)
	if e != nil {
		return res, e
	}
	return res, nil
}

// Images verifies every reference against p, at most WithMaxWorkers images
// at a time, sharing the Verifier's registry connections, tokens and caches.
// Identical references are verified once. Results are in the order of refs;
// each says itself whether it verified (see Result.Err).
func (v *Verifier) Images(ctx context.Context, refs []registry.Ref, p ImagePolicy) []*Result {
	out := make([]*Result, len(refs))
	ip, err := v.compilePolicy(p)
	if err != nil {
		for i, r := range refs {
			out[i] = &Result{Ref: r.String(), Failure: failure(asError(err))}
		}
		return out
	}
	first := make(map[string]int, len(refs))
	sem := make(chan struct{}, v.o.maxWorkers)
	var wg sync.WaitGroup
	for i, r := range refs {
		if _, dup := first[r.String()]; dup {
			continue
		}
		first[r.String()] = i
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i], _ = v.image1(ctx, r, ip)
		})
	}
	wg.Wait()
	for i, r := range refs {
		if j := first[r.String()]; j != i {
			cp := *out[j]
			out[i] = &cp
		}
	}
	return out
}

// imagePolicy is an ImagePolicy checked and compiled once per call, shared
// by every image and digest it verifies (read only).
type imagePolicy struct {
	sigs     *compiled
	atts     []compiledAttestation
	platform *v1.Platform
	// kinds are what discovery needs to look for.
	kinds []registry.Kind
	// annotations are the signed annotations signatures must carry.
	annotations map[string]string
}

type compiledAttestation struct {
	c             *compiled
	predicateType string
}

func (v *Verifier) compilePolicy(p ImagePolicy) (*imagePolicy, error) {
	if v.o.registry == nil {
		return nil, errorf(ReasonInvalidInput, "verify: Image needs a registry client: build the Verifier with WithRegistry")
	}
	if p.Signatures == nil && len(p.Attestations) == 0 {
		return nil, errorf(ReasonInvalidInput, "invalid image policy: it requires nothing; give Signatures, Attestations or both")
	}
	if len(p.Annotations) > 0 && p.Signatures == nil {
		return nil, errorf(ReasonInvalidInput, "invalid image policy: Annotations apply to signatures; give Signatures too")
	}
	ip := &imagePolicy{platform: p.Platform, annotations: p.Annotations}
	if p.Signatures != nil {
		c, err := p.Signatures.compile()
		if err != nil {
			return nil, err
		}
		c.annotations = p.Annotations
		ip.sigs = c
		ip.kinds = append(ip.kinds, registry.KindSignature)
	}
	if len(p.Attestations) > 0 {
		ip.kinds = append(ip.kinds, registry.KindAttestation)
	}
	for i, a := range p.Attestations {
		check, err := a.AttestationRequirement.compile()
		if err != nil {
			return nil, err
		}
		c, err := a.Requirements.compile()
		if err != nil {
			return nil, errorf(ReasonOf(err), "attestation requirement %d: %w", i+1, err)
		}
		c.statement = check
		ip.atts = append(ip.atts, compiledAttestation{c: c, predicateType: a.PredicateType})
	}
	return ip, nil
}

// digestOutcome is the verdict on one digest.
type digestOutcome struct {
	result   DigestResult
	warnings []Warning
	err      *Error
}

// image1 verifies one reference: resolve (unless pinned) and, concurrently,
// each digest.
func (v *Verifier) image1(ctx context.Context, ref registry.Ref, ip *imagePolicy) (*Result, *Error) {
	res := &Result{Ref: ref.String()}
	client := v.o.registry
	pinned := ref.Digest()

	var wg sync.WaitGroup
	var top, plat *digestOutcome
	if pinned != "" {
		// Pinned: discovery starts at once, while the platform manifest,
		// if asked for, is looked up in the index.
		wg.Go(func() { top = v.verifyDigest(ctx, ref, "", ip) })
	}
	if pinned == "" || ip.platform != nil {
		var opts []registry.ResolveOption
		if ip.platform != nil {
			opts = append(opts, registry.WithPlatform(*ip.platform))
		}
		r, err := client.Resolve(ctx, ref, opts...)
		if err != nil {
			wg.Wait()
			res.Digest = pinned
			if top != nil {
				res.Digests = []DigestResult{top.result}
			}
			e := registryError("resolving "+ref.String(), err)
			res.Failure = failure(e)
			return res, e
		}
		if pinned == "" {
			pinned = r.Ref.Digest()
			wg.Go(func() { top = v.verifyDigest(ctx, r.Ref, "", ip) })
		}
		switch {
		case r.Platform != nil:
			child := ref.WithDigest(r.Platform.Digest.String())
			name := ip.platform.String()
			if r.Platform.Platform != nil {
				name = r.Platform.Platform.String()
			}
			wg.Go(func() { plat = v.verifyDigest(ctx, child, name, ip) })
		case ip.platform != nil:
			res.Warnings = append(res.Warnings, Warning{Message: fmt.Sprintf(
				"%s names a single image (%s), not an index: platform %s does not apply; the image itself was verified",
				ref, r.Descriptor.MediaType, ip.platform)})
		}
	}
	wg.Wait()
	res.Digest = pinned

	var denied, undecided *Error
	for _, o := range []*digestOutcome{top, plat} {
		if o == nil {
			continue
		}
		res.Digests = append(res.Digests, o.result)
		res.Warnings = append(res.Warnings, o.warnings...)
		e := o.err
		if e == nil {
			continue
		}
		if o.result.Platform != "" {
			e = &Error{Reason: e.Reason, Msg: fmt.Sprintf("platform %s (%s): %s", o.result.Platform, o.result.Digest, e.Msg), Err: e.Err}
		}
		if e.Denied() && denied == nil {
			denied = e
		} else if !e.Denied() && undecided == nil {
			undecided = e
		}
	}
	e := denied
	if e == nil {
		e = undecided
	}
	if e != nil {
		res.Failure = failure(e)
		return res, e
	}
	res.Verified = true
	return res, nil
}

// fetchConcurrency bounds the layers one digest fetches at once.
const fetchConcurrency = 8

// verifyDigest discovers what is attached to the pinned reference r, fetches
// what may matter and decides every requirement of ip on it.
func (v *Verifier) verifyDigest(ctx context.Context, r registry.Ref, platform string, ip *imagePolicy) *digestOutcome {
	d := r.Digest()
	out := &digestOutcome{result: DigestResult{Digest: d, Platform: platform}}
	client := v.o.registry
	found, err := client.Discover(ctx, r, registry.WithKinds(ip.kinds...))
	if err != nil {
		out.err = registryError("discovering what is attached to "+r.String(), err)
		return out
	}

	// What each requirement may use, by what the attachments claim to be.
	items := found.Items
	forSig := make([]bool, len(items))
	forAtt := make([][]bool, len(ip.atts))
	for j := range ip.atts {
		forAtt[j] = make([]bool, len(items))
	}
	needed := make([]bool, len(items))
	for i, a := range items {
		if ip.sigs != nil && maySign(a) {
			forSig[i], needed[i] = true, true
		}
		for j, ca := range ip.atts {
			if mayAttest(a, ca.predicateType) {
				forAtt[j][i], needed[i] = true, true
			}
		}
	}

	// Fetch them, concurrently; the client fetches each digest once. A
	// cosign simple-signing payload is predictable from the image alone: when
	// the prediction hashes to the layer digest, it is the layer, byte for
	// byte, and costs no request.
	contents := make([][]byte, len(items))
	ferrs := make([]error, len(items))
	sem := make(chan struct{}, fetchConcurrency)
	var wg sync.WaitGroup
	for i := range items {
		if !needed[i] {
			continue
		}
		if p, ok := predictSimpleSigning(items[i], r, ip.annotations); ok {
			contents[i] = p
			continue
		}
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				ferrs[i] = ctx.Err()
				return
			}
			defer func() { <-sem }()
			contents[i], ferrs[i] = client.Content(ctx, items[i])
		})
	}
	wg.Wait()

	// The attachments and the unreadable places each requirement depends on.
	gather := func(use []bool, k kind) ([]Attachment, []registry.PathFailure) {
		var atts []Attachment
		var fails []registry.PathFailure
		for _, f := range found.Failures {
			if mayHold(f, k) {
				fails = append(fails, f)
			}
		}
		for i, a := range items {
			if !use[i] {
				continue
			}
			if ferrs[i] != nil {
				fails = append(fails, registry.PathFailure{Path: a.Path, Location: a.Repository + "@" + a.Layer.Digest.String(), Err: ferrs[i]})
				continue
			}
			atts = append(atts, Attachment{Format: formatOf(a), Content: contents[i], Annotations: a.Layer.Annotations, Source: sourceOf(a)})
		}
		return atts, fails
	}

	warned := map[string]bool{}
	settle := func(ir *ImageResult, err error, fails []registry.PathFailure, c *compiled, predicateType, what string) *ImageResult {
		if ir == nil {
			ir = &ImageResult{Digest: d, PredicateType: predicateType, Threshold: c.threshold, Signatures: []SignatureResult{}}
		}
		if err == nil {
			for _, f := range fails {
				if w := f.Location + "\x00" + f.Err.Error(); !warned[w] {
					warned[w] = true
					out.warnings = append(out.warnings, Warning{Reason: failReason(f.Err), Path: string(f.Path),
						Message: fmt.Sprintf("%s could not be read (%s): %v; the requirement was met without it", f.Location, f.Path, f.Err)})
				}
			}
			return ir
		}
		e := asError(err)
		if len(fails) > 0 && e.Denied() {
			e = undecidedBy(e, fails, what)
		}
		ir.Verified = false
		ir.Failure = failure(e)
		if out.err == nil || (e.Denied() && !out.err.Denied()) {
			out.err = e
		}
		return ir
	}

	if ip.sigs != nil {
		atts, fails := gather(forSig, kindSignature)
		ir, err := v.image(ctx, d, atts, ip.sigs, kindSignature, "")
		out.result.Signatures = settle(ir, err, fails, ip.sigs, "", "signatures")
	}
	for j, ca := range ip.atts {
		atts, fails := gather(forAtt[j], kindAttestation)
		ir, err := v.image(ctx, d, atts, ca.c, kindAttestation, ca.predicateType)
		what := "attestations"
		if ca.predicateType != "" {
			what = "attestations of type " + ca.predicateType
		}
		out.result.Attestations = append(out.result.Attestations, settle(ir, err, fails, ca.c, ca.predicateType, what))
	}
	out.result.Verified = out.err == nil
	return out
}

// predictSimpleSigning returns the content of a simple-signing layer
// without fetching it, when it is what cosign writes for image r: the
// payload naming r's repository and digest, with no optional section or
// with exactly the annotations required (cosign sign -a). The prediction
// counts only if its sha256 is the layer's digest (and its length the
// layer's size): then it is the layer's content, whoever serves it, as a
// fetch checked against the digest would be. Anything else (another
// docker-reference, other annotations, another writer's spelling) is
// fetched.
func predictSimpleSigning(a registry.Attachment, r registry.Ref, annotations map[string]string) ([]byte, bool) {
	if a.Format != registry.FormatLegacy || a.Kind != registry.KindSignature || a.Layer.Digest.Algorithm != "sha256" || r.IsLayout() {
		return nil, false
	}
	optional := []string{"null"}
	if len(annotations) > 0 {
		b, err := json.Marshal(annotations) // keys sorted, as cosign's encoding/json writes them
		if err != nil {
			return nil, false
		}
		optional = append(optional, string(b))
	}
	refs := []string{r.Name()}
	if a.Repository != r.Name() {
		refs = append(refs, a.Repository) // a signature repository
	}
	for _, ref := range refs {
		name, err := json.Marshal(ref)
		if err != nil {
			continue
		}
		for _, opt := range optional {
			p := []byte(`{"critical":{"identity":{"docker-reference":` + string(name) + `},"image":{"docker-manifest-digest":"` + r.Digest() +
				`"},"type":"cosign container image signature"},"optional":` + opt + `}`)
			if int64(len(p)) != a.Layer.Size {
				continue
			}
			if sum := sha256.Sum256(p); hex.EncodeToString(sum[:]) == a.Layer.Digest.Hex {
				return p, true
			}
		}
	}
	return nil, false
}

// maySign reports whether an attachment may be an image signature, by what
// it claims: a simple-signing layer, or a bundle announced as a signature or
// not announced at all.
func maySign(a registry.Attachment) bool {
	switch {
	case a.Kind == registry.KindSignature:
		return true
	case a.Format == registry.FormatBundle && a.PredicateType == "":
		return true
	}
	return false
}

// mayAttest reports whether an attachment may be an attestation of type t
// ("" any type), by what it claims.
func mayAttest(a registry.Attachment, t string) bool {
	if a.Format != registry.FormatLegacy && a.Format != registry.FormatBundle {
		return false // unsigned documents and BuildKit statements never count
	}
	if a.Kind != registry.KindAttestation && !(a.Format == registry.FormatBundle && a.PredicateType == "") {
		return false
	}
	return t == "" || a.PredicateType == "" || a.PredicateType == t
}

// mayHold reports whether a place that could not be read may hold an
// attachment of kind k: cosign's .sig tag holds signatures, .att
// attestations, .sbom neither; referrers may hold anything.
func mayHold(f registry.PathFailure, k kind) bool {
	if f.Path != registry.PathLegacyTag {
		return true
	}
	switch {
	case strings.HasSuffix(f.Location, ".sbom"):
		return false
	case strings.HasSuffix(f.Location, ".sig"):
		return k == kindSignature
	case strings.HasSuffix(f.Location, ".att"):
		return k == kindAttestation
	}
	return true
}

func formatOf(a registry.Attachment) Format {
	switch {
	case a.Format == registry.FormatBundle:
		return FormatBundle
	case a.Kind == registry.KindAttestation:
		return FormatLegacyAttestation
	}
	return FormatLegacySignature
}

// sourceOf says where an attachment was found, for results.
func sourceOf(a registry.Attachment) string {
	if a.Path == registry.PathLegacyTag {
		return fmt.Sprintf("%s %s:%s layer %s", a.Path, a.Repository, a.Tag, a.Layer.Digest)
	}
	return fmt.Sprintf("%s %s@%s", a.Path, a.Repository, a.Manifest.Digest)
}

// undecidedBy turns a requirement not met into could-not-decide, because
// places that may hold what is missing could not be read.
func undecidedBy(e *Error, fails []registry.PathFailure, what string) *Error {
	reason := ReasonRegistryUnavailable
	var places []string
	for _, f := range fails {
		if failReason(f.Err) == ReasonTimeout {
			reason = ReasonTimeout
		}
		places = append(places, fmt.Sprintf("%s (%s): %v", f.Location, f.Path, f.Err))
	}
	hint := "try again, and check the registry and your access to it"
	if reason == ReasonTimeout {
		hint = "allow more time (--timeout) or try again"
	}
	return &Error{Reason: reason, Err: fails[0].Err, Msg: fmt.Sprintf(
		"could not decide: %s, but %d place(s) that may hold %s could not be read: %s; %s",
		e.Msg, len(fails), what, strings.Join(places, "; "), hint)}
}

// failReason is the reason a registry or fetch error stands for.
func failReason(err error) Reason {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return ReasonTimeout
	}
	return ReasonRegistryUnavailable
}

// registryError is an *Error for a registry call that failed outright.
func registryError(what string, err error) *Error {
	reason := failReason(err)
	switch {
	case reason == ReasonTimeout:
	case errors.Is(err, registry.ErrNotFound):
		reason = ReasonNotFound
	case errors.Is(err, registry.ErrInvalidReference):
		reason = ReasonInvalidInput
	}
	msg := fmt.Sprintf("%s: %v", what, err)
	if reason == ReasonTimeout {
		msg += "; allow more time (--timeout)"
	}
	return &Error{Reason: reason, Msg: msg, Err: err}
}
