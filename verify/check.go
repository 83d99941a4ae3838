package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// signed is one signature, ready for sigstore-go: the entity and how it is
// bound to what is being verified. Our own bindings (the digest claim of the
// signed content) are checked before it is built, on exactly the bytes
// sigstore-go then verifies.
type signed struct {
	format        Format
	source        string
	predicateType string
	b             *entity
	// artifact returns a fresh sigstore-go artifact policy (a reader is
	// consumed by each verification).
	artifact func() sgverify.ArtifactPolicyOption
	// raw is the signed message for message signatures when we have it
	// (legacy payloads, blobs in memory), for diagnosing failures.
	raw []byte
	// payload is the signed content reported on success.
	payload []byte
	// keySigned: the verification material is a public key, not a certificate.
	keySigned bool
	cert      *x509.Certificate
	// droppedTlog explains a legacy tlog entry sigstore-go cannot verify and
	// that was left out of the bundle.
	droppedTlog string
}

// outcome is the verdict on one signature.
type outcome struct {
	result    SignatureResult
	satisfied []int // indexes of the authorities satisfied
	// undecided is set when the signature could not be checked (trusted
	// root unavailable, deadline): it counts as neither pass nor denial.
	undecided error
}

// entity is a bundle that parses its transparency-log entries once.
// sigstore-go's Bundle parses them on every call, and parsing a Rekor entry
// verifies the signature inside it: the most expensive step of a keyed
// verification, repeated for every authority tried.
type entity struct {
	*sgbundle.Bundle
	once    sync.Once
	entries []*tlog.Entry
	err     error
}

var _ sgverify.SignedEntity = (*entity)(nil)

func newEntity(b *sgbundle.Bundle) *entity { return &entity{Bundle: b} }

func (e *entity) TlogEntries() ([]*tlog.Entry, error) {
	e.once.Do(func() { e.entries, e.err = e.Bundle.TlogEntries() })
	return e.entries, e.err
}

// newSigned fills what every signature needs from its bundle.
func newSigned(format Format, source string, b *entity) (*signed, error) {
	vc, err := b.VerificationContent()
	if err != nil {
		return nil, errorf(ReasonMalformed, "the bundle's verification material is not usable: %w", err)
	}
	s := &signed{format: format, source: source, b: b}
	if c := vc.Certificate(); c != nil {
		s.cert = c
	} else if vc.PublicKey() != nil {
		s.keySigned = true
	} else {
		return nil, errorf(ReasonMalformed, "the bundle has neither a certificate nor a public key hint")
	}
	return s, nil
}

// check verifies one signature against every authority that could apply.
func (v *Verifier) check(ctx context.Context, s *signed, c *compiled) outcome {
	out := outcome{result: SignatureResult{Format: s.format, Source: s.source, PredicateType: s.predicateType}}
	if err := ctx.Err(); err != nil {
		out.undecided = errorf(ReasonTimeout, "verification stopped: %w", err)
		return out
	}
	var fail *Error
	var cert *certificate.Summary // the verified signing certificate, keyless only
	note := func(e *Error) {
		// Keep the most telling failure: one from the authority whose key
		// or identity applies beats "not this key/identity".
		if fail == nil || (isMismatch(fail.Reason) && !isMismatch(e.Reason)) {
			fail = e
		}
	}
	if s.keySigned {
		if !c.hasKey {
			note(errorf(ReasonIdentityMismatch, "signed with a public key, not a Fulcio certificate, so no keyless identity can match: verify with the signer's public key"))
		}
		for i, a := range c.auths {
			if a.key == nil {
				continue
			}
			mode := modeKey
			if a.key.ignoreTlog {
				mode = modeKeyNoTlog
			} else if len(s.b.GetVerificationMaterial().GetTlogEntries()) == 0 {
				// A required log entry that is absent is a denial whatever
				// the trusted root says: decide it without loading one, so
				// an offline verifier denies instead of giving up.
				note(v.noTlog(s, a.key, a.name))
				continue
			}
			sv, err := v.sigstoreVerifier(ctx, mode, a.key)
			if err != nil {
				// Another key authority may still decide this signature.
				if out.undecided == nil {
					out.undecided = err
				}
				continue
			}
			res, err := sv.Verify(s.b, sgverify.NewPolicy(s.artifact(), sgverify.WithKey()))
			if err != nil {
				note(v.classify(err, s, a.key, a.name))
				continue
			}
			if !out.result.Verified {
				v.fill(&out.result, s, res, a.name, a.key.ignoreTlog)
			}
			out.satisfied = append(out.satisfied, i)
		}
	} else {
		if !c.hasKeyless {
			note(errorf(ReasonKeyMismatch, "signed with a Fulcio certificate (keyless, for %s), not with a key: verify with --certificate-identity and --certificate-oidc-issuer", certSubject(s.cert)))
		} else {
			sv, err := v.sigstoreVerifier(ctx, modeKeyless, nil)
			if err != nil {
				out.undecided = err
				return out
			}
			res, err := sv.Verify(s.b, sgverify.NewPolicy(s.artifact(), sgverify.WithoutIdentitiesUnsafe()))
			switch {
			case err != nil:
				note(v.classify(err, s, nil, ""))
			case res.Signature == nil || res.Signature.Certificate == nil:
				note(errorf(ReasonCertificateInvalid, "sigstore-go verified the signature but returned no certificate"))
			default:
				sum := res.Signature.Certificate
				cert = sum
				var idErr error
				for i, a := range c.auths {
					for _, id := range a.identities {
						if err := id.match(sum); err != nil {
							if idErr == nil {
								idErr = err
							}
							continue
						}
						if !out.result.Verified {
							v.fill(&out.result, s, res, a.name, false)
						}
						out.satisfied = append(out.satisfied, i)
						break
					}
				}
				if len(out.satisfied) == 0 {
					out.result.Identity = identityOf(sum)
					note(errorf(ReasonIdentityMismatch, "the certificate identity matches no keyless authority: %v", idErr))
				}
			}
		}
	}
	if len(out.satisfied) > 0 && c.statement != nil {
		if err := c.statement(s.payload, cert); err != nil {
			out.satisfied = nil
			out.result.Verified = false
			out.result.Authority = ""
			note(err)
			fail = err
		}
	}
	if len(out.satisfied) > 0 && c.claims != nil {
		if err := c.claims(s); err != nil {
			out.satisfied = nil
			out.result.Verified = false
			out.result.Authority = ""
			fail = err
		}
	}
	if len(out.satisfied) == 0 {
		if out.undecided != nil {
			fail = asError(out.undecided)
		}
		if fail == nil {
			fail = errorf(ReasonNoMatchingSignatures, "no authority applies to this signature")
		}
		out.result.Failure = failure(fail)
	}
	return out
}

func isMismatch(r Reason) bool { return r == ReasonKeyMismatch || r == ReasonIdentityMismatch }

// fill records what a successful verification established.
func (v *Verifier) fill(r *SignatureResult, s *signed, res *sgverify.VerificationResult, authority string, tlogSkipped bool) {
	r.Verified = true
	r.Authority = authority
	r.Payload = s.payload
	if res.Signature != nil && res.Signature.Certificate != nil {
		r.Identity = identityOf(res.Signature.Certificate)
	}
	for _, ts := range res.VerifiedTimestamps {
		kind := "tsa"
		if ts.Type == "Tlog" {
			kind = "tlog"
		}
		r.Timestamps = append(r.Timestamps, Timestamp{Kind: kind, URI: ts.URI, Time: ts.Timestamp.UTC()})
	}
	if tlogSkipped {
		r.Tlog = &TlogResult{Status: TlogSkipped}
		return
	}
	r.Tlog = &TlogResult{Status: TlogVerified}
	logs := v.rekorLogs()
	for _, e := range s.b.GetVerificationMaterial().GetTlogEntries() {
		id := hex.EncodeToString(e.GetLogId().GetKeyId())
		if _, ok := logs[id]; !ok {
			continue
		}
		idx := e.GetLogIndex()
		r.Tlog.LogIndex = &idx
		r.Tlog.LogID = id
		if t := e.GetIntegratedTime(); t > 0 {
			it := time.Unix(t, 0).UTC()
			r.Tlog.IntegratedTime = &it
		}
		break
	}
}

func identityOf(s *certificate.Summary) *SignerIdentity {
	id := &SignerIdentity{Issuer: s.Issuer, Subject: s.SubjectAlternativeName}
	gh := GitHubClaims{
		WorkflowTrigger:    s.GithubWorkflowTrigger,
		WorkflowSHA:        s.GithubWorkflowSHA,
		WorkflowName:       s.GithubWorkflowName,
		WorkflowRepository: s.GithubWorkflowRepository,
		WorkflowRef:        s.GithubWorkflowRef,
	}
	if !gh.empty() {
		id.GitHub = &gh
	}
	return id
}

func certSubject(c *x509.Certificate) string {
	if s, err := certificate.SummarizeCertificate(c); err == nil && s.SubjectAlternativeName != "" {
		return s.SubjectAlternativeName
	}
	return "an unknown subject"
}

// sigstore-go v1.3.0 wraps each stage of (*verify.Verifier).Verify with one
// of these prefixes; most of its errors are not typed. The tests run real
// failures through classify, so a change in sigstore-go shows up there.
const (
	stageTlog       = "failed to verify log inclusion: "
	stageTimestamps = "failed to verify timestamps: "
	stageLeaf       = "failed to verify leaf certificate: "
	stageSCT        = "failed to verify signed certificate timestamp: "
	stageSignature  = "failed to verify signature: "
	stageVerifier   = "failed to get signature verifier: "
)

// noTlog is the denial for a key-signed signature that has no
// transparency-log entry while the authority requires one: key_mismatch when
// the signature is not the key's anyway, else tlog_missing.
func (v *Verifier) noTlog(s *signed, k *compiledKey, name string) *Error {
	if !v.signatureVerifies(s, k) {
		return errorf(ReasonKeyMismatch, "the signature does not verify with the key of authority %q: it was made with another key, or altered", name)
	}
	if s.droppedTlog != "" {
		return &Error{Reason: ReasonTlogInvalid, Msg: s.droppedTlog}
	}
	return &Error{Reason: ReasonTlogMissing, Msg: "no transparency-log entry: one is required (sign with the transparency log, or, if you accept signatures that were never logged, opt out with --insecure-ignore-tlog)"}
}

// classify maps a sigstore-go verification error to a reason. k is the key
// authority tried, nil for keyless.
func (v *Verifier) classify(err error, s *signed, k *compiledKey, name string) *Error {
	msg := err.Error()
	who := "the certificate's key"
	if k != nil {
		who = fmt.Sprintf("the key of authority %q", name)
	}
	sigFailed := func() *Error {
		if k != nil {
			return &Error{Reason: ReasonKeyMismatch, Msg: fmt.Sprintf("the signature does not verify with %s: it was made with another key, or altered (%s)", who, msg), Err: err}
		}
		return &Error{Reason: ReasonSignatureInvalid, Msg: "the signature does not verify with the certificate's key: " + msg, Err: err}
	}
	wrap := func(r Reason, what string) *Error {
		return &Error{Reason: r, Msg: what + ": " + msg, Err: err}
	}
	switch {
	case errors.Is(err, sgbundle.ErrValidation), errors.Is(err, sgverify.ErrDSSEInvalidSignatureCount):
		return wrap(ReasonMalformed, "the bundle is malformed")
	case strings.HasPrefix(msg, stageTlog):
		if !v.signatureVerifies(s, k) {
			return sigFailed()
		}
		n := len(s.b.GetVerificationMaterial().GetTlogEntries())
		switch {
		case strings.Contains(msg, "not enough verified log entries") && n == 0 && s.droppedTlog != "":
			return &Error{Reason: ReasonTlogInvalid, Msg: s.droppedTlog, Err: err}
		case strings.Contains(msg, "not enough verified log entries") && n == 0:
			hint := ""
			if k != nil {
				hint = " (sign with the transparency log, or, if you accept signatures that were never logged, opt out with --insecure-ignore-tlog)"
			}
			return &Error{Reason: ReasonTlogMissing, Msg: "no transparency-log entry: one is required" + hint, Err: err}
		case strings.Contains(msg, "not enough verified log entries"):
			return wrap(ReasonTlogInvalid, "no transparency-log entry verifies against a trusted log (an unknown log, or a bad signed entry timestamp or inclusion proof)")
		case strings.Contains(msg, "integrated time outside certificate validity"):
			return wrap(ReasonCertificateInvalid, "the certificate was not valid when the transparency log recorded the signature")
		case k != nil && strings.Contains(msg, "transparency log certificate does not match"):
			return wrap(ReasonTlogInvalid, "the transparency-log entry was made for another key")
		}
		return wrap(ReasonTlogInvalid, "the transparency-log entry does not verify or does not cover this signature")
	case strings.HasPrefix(msg, stageTimestamps):
		return wrap(ReasonTimestampInvalid, "no trusted time for the signature")
	case strings.HasPrefix(msg, stageLeaf):
		return wrap(ReasonCertificateInvalid, "the certificate does not chain to a trusted Fulcio CA at the time of signing")
	case strings.HasPrefix(msg, stageSCT):
		return wrap(ReasonCertificateInvalid, "the certificate has no valid Signed Certificate Timestamp from a trusted CT log")
	case strings.Contains(msg, "must provide timestamp to verify certificate"):
		return wrap(ReasonCertificateInvalid, "a certificate needs a trusted time")
	case strings.Contains(msg, "signature time outside of public key validity window"):
		return wrap(ReasonTimestampInvalid, "signed outside the key's validity window")
	case strings.HasPrefix(msg, stageSignature):
		for _, d := range []string{"does not match any digest in statement", "does not match digests in statement",
			"do not match digests in statement", "artifact does not match digest", "artifact digest does not match message digest",
			"no matching artifact hash algorithm"} {
			if strings.Contains(msg, d) {
				return wrap(ReasonDigestMismatch, "the signed content names another digest")
			}
		}
		if k != nil && !k.ignoreTlog {
			// The log entry already bound this key to this signature.
			return wrap(ReasonSignatureInvalid, "the signature does not verify")
		}
		return sigFailed()
	case strings.HasPrefix(msg, stageVerifier):
		return sigFailed()
	}
	return wrap(ReasonSignatureInvalid, "verification failed")
}

// signatureVerifies reports whether the signature itself verifies over the
// signed content, with the authority's key or the certificate's key and no
// other check. It only runs after a failure, to tell a bad signature from a
// bad log entry. When it cannot tell, it says true.
func (v *Verifier) signatureVerifies(s *signed, k *compiledKey) bool {
	sc, err := s.b.SignatureContent()
	if err != nil {
		return false
	}
	vc, err := s.b.VerificationContent()
	if err != nil {
		return false
	}
	var tm root.TrustedMaterial = &root.BaseTrustedMaterial{}
	if k != nil {
		km, err := keyMaterial(k)
		if err != nil {
			return true
		}
		tm = km
	}
	if sc.EnvelopeContent() != nil {
		return sgverify.VerifySignature(sc, vc, tm) == nil
	}
	msg := sc.MessageSignatureContent()
	if msg == nil {
		return false
	}
	if s.raw != nil {
		return sgverify.VerifySignatureWithArtifacts(sc, vc, tm, []io.Reader{bytes.NewReader(s.raw)}) == nil
	}
	if (k != nil && k.ed25519) || (s.cert != nil && s.cert.PublicKeyAlgorithm == x509.Ed25519) {
		return true // pure Ed25519 needs the whole message
	}
	return sgverify.VerifySignatureWithArtifactDigests(sc, vc, tm,
		[]sgverify.ArtifactDigest{{Algorithm: "sha256", Digest: msg.Digest()}}) == nil
}
