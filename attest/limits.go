package attest

// Limits on input that a signer, a registry or a file controls. Every parser
// in this package checks them before it allocates in proportion to the input.
const (
	// MaxStatementSize caps an in-toto statement (a DSSE payload): 16 MiB,
	// the size of the largest attestation layer vouch reads.
	MaxStatementSize = 16 << 20

	// MaxEnvelopeSize caps a serialised DSSE envelope: 16 MiB, as the
	// attestation layer that carries it.
	MaxEnvelopeSize = 16 << 20

	// MaxEnvelopeSignatures caps the signatures on one DSSE envelope. A DSSE
	// envelope inside a Sigstore bundle must carry exactly one.
	MaxEnvelopeSignatures = 16

	// MaxSubjects caps the subjects of one statement (sigstore-go uses the same
	// figure). Release statements with dozens of assets are normal.
	MaxSubjects = 1024

	// MaxSubjectDigests caps the digests of one subject.
	MaxSubjectDigests = 32

	// MaxKeySize caps a PEM file holding one key.
	MaxKeySize = 64 << 10

	// MinRSABits and MaxRSABits bound an RSA key. Sigstore signs and verifies
	// RSA keys of 2048, 3072 and 4096 bits only; a larger modulus would also be
	// a cheap denial of service for verifiers.
	MinRSABits = 2048
	MaxRSABits = 4096

	// MaxSimpleSigningSize caps a cosign simple-signing payload.
	MaxSimpleSigningSize = 1 << 20
)
