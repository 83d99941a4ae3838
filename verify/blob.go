package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"hash"
	"io"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// MaxBlobInMemory caps how much of a blob read from an [ArtifactReader] is
// held in memory. Only pure Ed25519 message signatures need that (they sign
// the whole blob, not a digest); every other blob is hashed while streaming.
const MaxBlobInMemory = 256 << 20

// Artifact is the blob a bundle is verified against: its bytes, a reader,
// or only its digest.
type Artifact struct {
	data   []byte
	r      io.Reader
	digest *digest
}

// ArtifactBytes is a blob held in memory.
func ArtifactBytes(b []byte) Artifact { return Artifact{data: b} }

// ArtifactReader is a blob read once, hashed while streaming.
func ArtifactReader(r io.Reader) Artifact { return Artifact{r: r} }

// ArtifactDigest is a blob known only by its digest, "sha256:<hex>" (or
// sha384:, sha512:). A bundle whose Ed25519 message signature covers the
// whole blob cannot be verified from a digest.
func ArtifactDigest(s string) (Artifact, error) {
	d, err := parseDigest(s)
	if err != nil {
		return Artifact{}, errorf(ReasonInvalidInput, "artifact %w", err)
	}
	return Artifact{digest: &d}, nil
}

// BlobResult is the verdict on a blob and its bundle.
type BlobResult struct {
	// Digest is the artifact digest the signature was bound to.
	Digest    string          `json:"digest"`
	Verified  bool            `json:"verified"`
	Signature SignatureResult `json:"signature"`
}

// Blob verifies that bundle b signs the artifact and satisfies req: a
// message signature over the artifact's digest, or a DSSE in-toto statement
// with the artifact as a subject. One bundle carries one signature, so it
// satisfies one authority: req.Threshold above 1 is an error.
//
// Denials return the result too, with the failure in Signature.Failure.
func (v *Verifier) Blob(ctx context.Context, b *sgbundle.Bundle, artifact Artifact, req Requirements) (*BlobResult, error) {
	c, err := req.compile()
	if err != nil {
		return nil, err
	}
	if c.threshold > 1 {
		return nil, invalidRequirements("threshold %d: one bundle holds one signature, so it satisfies one authority", c.threshold)
	}
	if b == nil || b.Bundle == nil {
		return nil, errorf(ReasonInvalidInput, "no bundle")
	}
	s, err := newSigned(FormatBundle, "", newEntity(b))
	if err != nil {
		return &BlobResult{Signature: SignatureResult{Format: FormatBundle, Failure: failure(asError(err))}}, err
	}
	d, err := bindBlob(s, artifact, c)
	res := &BlobResult{Signature: SignatureResult{Format: FormatBundle, PredicateType: s.predicateType}}
	if d != nil {
		res.Digest = d.String()
	}
	if err != nil {
		e := asError(err)
		if !e.Denied() {
			return nil, e
		}
		res.Signature.Failure = failure(e)
		return res, e
	}
	out := v.check(ctx, s, c)
	if out.undecided != nil {
		return nil, out.undecided
	}
	res.Signature = out.result
	if len(out.satisfied) == 0 {
		return res, &Error{Reason: out.result.Failure.Reason, Msg: out.result.Failure.Message}
	}
	res.Verified = true
	return res, nil
}

// hashNames maps sigstore's hash algorithm names to ours.
var hashNames = map[protocommon.HashAlgorithm]string{
	protocommon.HashAlgorithm_SHA2_256: "sha256",
	protocommon.HashAlgorithm_SHA2_384: "sha384",
	protocommon.HashAlgorithm_SHA2_512: "sha512",
}

// bindBlob checks that the bundle names the artifact, and sets how
// sigstore-go binds the signature to it. It reads the artifact once.
func bindBlob(s *signed, a Artifact, c *compiled) (*digest, error) {
	if env := s.b.GetDsseEnvelope(); env != nil {
		st, err := parseStatement(env.GetPayloadType(), env.GetPayload())
		if err != nil {
			return nil, errorf(ReasonMalformed, "bundle: %w", err)
		}
		s.predicateType, s.payload = st.PredicateType, env.GetPayload()
		var algs []string
		for _, alg := range []string{"sha256", "sha512", "sha384"} {
			for _, sub := range st.Subject {
				if _, ok := sub.Digest[alg]; ok {
					algs = append(algs, alg)
					break
				}
			}
		}
		if len(algs) == 0 {
			return nil, errorf(ReasonMalformed, "the bundle's statement has no sha256, sha384 or sha512 subject digest")
		}
		ds, err := a.digests(algs, false)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if st.names(d) {
				s.artifact = digestPolicy(d)
				return &d, nil
			}
		}
		return &ds[0], errorf(ReasonDigestMismatch, "the bundle's statement is about %s, not the artifact %s", orNone(st.subjectDigests()), ds[0])
	}

	ms := s.b.GetMessageSignature()
	alg, ok := hashNames[ms.GetMessageDigest().GetAlgorithm()]
	if !ok {
		return nil, errorf(ReasonMalformed, "the bundle's message digest algorithm %s is not supported (want SHA2_256, SHA2_384 or SHA2_512)", ms.GetMessageDigest().GetAlgorithm())
	}
	// Pure Ed25519 signs the whole message, so sigstore-go needs the bytes.
	needBytes := s.cert != nil && s.cert.PublicKeyAlgorithm == x509.Ed25519
	if s.keySigned {
		for _, a := range c.auths {
			if a.key != nil && a.key.ed25519 {
				needBytes = true
			}
		}
	}
	ds, err := a.digests([]string{alg}, needBytes)
	if err != nil {
		return nil, err
	}
	d := ds[0]
	if !bytes.Equal(d.raw, ms.GetMessageDigest().GetDigest()) {
		return &d, errorf(ReasonDigestMismatch, "the bundle signs %s:%x, not the artifact %s", alg, ms.GetMessageDigest().GetDigest(), d)
	}
	if data := a.data; data != nil && needBytes {
		s.raw = data
		s.artifact = func() sgverify.ArtifactPolicyOption { return sgverify.WithArtifact(bytes.NewReader(data)) }
	} else {
		s.artifact = digestPolicy(d)
	}
	return &d, nil
}

// digests returns the artifact's digest for each algorithm. With needBytes,
// a reader is read into memory (capped) so the bytes stay available.
func (a *Artifact) digests(algs []string, needBytes bool) ([]digest, error) {
	if a.digest != nil {
		for _, alg := range algs {
			if alg == a.digest.alg {
				if needBytes {
					return nil, errorf(ReasonInvalidInput, "the bundle's Ed25519 signature covers the whole artifact: give the file, not its digest")
				}
				return []digest{*a.digest}, nil
			}
		}
		return nil, errorf(ReasonDigestMismatch, "the bundle names %s digests, the artifact was given as %s: give the file, or its %s digest", algs[0], a.digest.alg, algs[0])
	}
	if a.r != nil && needBytes {
		b, err := io.ReadAll(io.LimitReader(a.r, MaxBlobInMemory+1))
		if err != nil {
			return nil, errorf(ReasonInvalidInput, "reading the artifact: %w", err)
		}
		if len(b) > MaxBlobInMemory {
			return nil, errorf(ReasonInvalidInput, "the bundle's Ed25519 signature covers the whole artifact, and it is larger than %d bytes", MaxBlobInMemory)
		}
		a.data, a.r = b, nil
	}
	hs := make([]hash.Hash, len(algs))
	ws := make([]io.Writer, len(algs))
	for i, alg := range algs {
		hs[i] = digestAlgs[alg].New()
		ws[i] = hs[i]
	}
	w := io.MultiWriter(ws...)
	switch {
	case a.data != nil:
		w.Write(a.data)
	case a.r != nil:
		if _, err := io.Copy(w, a.r); err != nil {
			return nil, errorf(ReasonInvalidInput, "reading the artifact: %w", err)
		}
		a.r = nil
	default:
		// An empty artifact.
	}
	out := make([]digest, len(algs))
	for i, alg := range algs {
		raw := hs[i].Sum(nil)
		out[i] = digest{alg: alg, hash: digestAlgs[alg], hex: hex.EncodeToString(raw), raw: raw}
	}
	return out, nil
}
