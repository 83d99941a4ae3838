package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"regexp"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// Requirements say who must have signed, for one call. They are cheap to
// build per call; the [Verifier] keeps what is expensive.
type Requirements struct {
	// Authorities that may sign. At least one.
	Authorities []Authority
	// Threshold is how many distinct authorities must be satisfied, each by a
	// different signature. Zero means 1.
	Threshold int
}

// Authority is one party whose signature counts: exactly one of Key and
// Keyless is set.
type Authority struct {
	// Name identifies the authority in results and errors. Empty names
	// become "authority-1", "authority-2", … by position. Names are unique.
	Name    string
	Key     *KeyAuthority
	Keyless *KeylessAuthority
}

// KeyAuthority trusts signatures made with one public key (ECDSA P-256,
// P-384 or P-521, Ed25519 or RSA).
type KeyAuthority struct {
	PublicKey crypto.PublicKey
	// InsecureIgnoreTlog accepts signatures that have no transparency-log
	// entry. Any entry present is then not checked at all, and results say
	// "tlog skipped". The default requires a verified entry.
	InsecureIgnoreTlog bool
}

// KeylessAuthority trusts Fulcio certificates (through the Verifier's
// trusted root) whose identity matches any one of Identities. A keyless
// signature always needs a verified transparency-log entry.
type KeylessAuthority struct {
	Identities []Identity
}

// Identity is a certificate identity: the OIDC issuer and the subject (the
// certificate's Subject Alternative Name), each matched exactly (Issuer,
// Subject) or with a regular expression (IssuerRegExp, SubjectRegExp) — one
// of each pair. Regular expressions are RE2 and must match the whole value:
// vouch anchors them as ^(?:re)$. (cosign does not anchor, so a cosign
// pattern like "https://github.com/acme/" also matched
// "https://github.com/acme/../evil"; here it matches nothing.)
type Identity struct {
	Issuer        string
	IssuerRegExp  string
	Subject       string
	SubjectRegExp string
	// GitHub, when any field is set, also requires these exact values in the
	// certificate's GitHub Actions extensions.
	GitHub GitHubClaims
}

// GitHubClaims are the Fulcio certificate extensions GitHub Actions tokens
// carry (OIDs 1.3.6.1.4.1.57264.1.2 to .6). Empty fields are not checked;
// set fields must match exactly.
type GitHubClaims struct {
	WorkflowTrigger    string `json:"workflowTrigger,omitempty"`
	WorkflowSHA        string `json:"workflowSha,omitempty"`
	WorkflowName       string `json:"workflowName,omitempty"`
	WorkflowRepository string `json:"workflowRepository,omitempty"`
	WorkflowRef        string `json:"workflowRef,omitempty"`
}

func (g GitHubClaims) empty() bool { return g == GitHubClaims{} }

// compiled is Requirements checked and ready to match.
type compiled struct {
	threshold  int
	auths      []compiledAuthority
	hasKey     bool
	hasKeyless bool
	// statement, when set, must also accept a verified signature's payload
	// for the signature to count (attestation requirements).
	statement statementCheck
	// annotations, when not empty, must be carried by every signature that
	// counts (image policies, cosign verify -a).
	annotations map[string]string
	// claims is set per image from annotations: it checks a verified
	// signature's signed claims.
	claims func(s *signed) *Error
}

type compiledAuthority struct {
	name       string
	key        *compiledKey
	identities []compiledIdentity
}

type compiledKey struct {
	pub        crypto.PublicKey
	der        string // PKIX DER: the cache key
	ignoreTlog bool
	ed25519    bool
}

type compiledIdentity struct {
	issuer, subject     string
	issuerRE, subjectRE *regexp.Regexp
	github              GitHubClaims
}

func invalidRequirements(format string, args ...any) *Error {
	return errorf(ReasonInvalidInput, "invalid requirements: "+format, args...)
}

func (r Requirements) compile() (*compiled, error) {
	if len(r.Authorities) == 0 {
		return nil, invalidRequirements("no authorities: give at least one key or keyless identity")
	}
	c := &compiled{threshold: r.Threshold}
	switch {
	case c.threshold == 0:
		c.threshold = 1
	case c.threshold < 0 || c.threshold > len(r.Authorities):
		return nil, invalidRequirements("threshold %d: choose between 1 and the number of authorities (%d)", r.Threshold, len(r.Authorities))
	}
	names := map[string]bool{}
	keys := map[string]string{}
	for i, a := range r.Authorities {
		ca := compiledAuthority{name: a.Name}
		if ca.name == "" {
			ca.name = fmt.Sprintf("authority-%d", i+1)
		}
		if names[ca.name] {
			return nil, invalidRequirements("authority name %q is used twice: names must be unique", ca.name)
		}
		names[ca.name] = true
		switch {
		case a.Key != nil && a.Keyless != nil, a.Key == nil && a.Keyless == nil:
			return nil, invalidRequirements("authority %q: set exactly one of Key (a public key) or Keyless (certificate identities)", ca.name)
		case a.Key != nil:
			k, err := compileKey(a.Key)
			if err != nil {
				return nil, invalidRequirements("authority %q: %v", ca.name, err)
			}
			if other, dup := keys[k.der]; dup {
				return nil, invalidRequirements("authorities %q and %q have the same key: one key is one authority", other, ca.name)
			}
			keys[k.der] = ca.name
			ca.key = k
			c.hasKey = true
		default:
			if len(a.Keyless.Identities) == 0 {
				return nil, invalidRequirements("authority %q: a keyless authority needs at least one identity (issuer and subject)", ca.name)
			}
			for j, id := range a.Keyless.Identities {
				ci, err := compileIdentity(id)
				if err != nil {
					return nil, invalidRequirements("authority %q identity %d: %v", ca.name, j+1, err)
				}
				ca.identities = append(ca.identities, ci)
			}
			c.hasKeyless = true
		}
		c.auths = append(c.auths, ca)
	}
	return c, nil
}

func compileKey(k *KeyAuthority) (*compiledKey, error) {
	ck := &compiledKey{pub: k.PublicKey, ignoreTlog: k.InsecureIgnoreTlog}
	switch pub := k.PublicKey.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
	case ed25519.PublicKey:
		ck.ed25519 = true
	case *ed25519.PublicKey:
		if pub == nil {
			return nil, fmt.Errorf("nil public key")
		}
		ck.pub = *pub
		ck.ed25519 = true
	case nil:
		return nil, fmt.Errorf("no public key")
	default:
		return nil, fmt.Errorf("unsupported public key type %T: use ECDSA, Ed25519 or RSA", pub)
	}
	der, err := x509.MarshalPKIXPublicKey(ck.pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	ck.der = string(der)
	return ck, nil
}

func compileIdentity(id Identity) (compiledIdentity, error) {
	ci := compiledIdentity{issuer: id.Issuer, subject: id.Subject, github: id.GitHub}
	var err error
	if ci.issuerRE, err = exactOrRegexp("issuer", id.Issuer, id.IssuerRegExp); err != nil {
		return ci, err
	}
	if ci.subjectRE, err = exactOrRegexp("subject", id.Subject, id.SubjectRegExp); err != nil {
		return ci, err
	}
	return ci, nil
}

func exactOrRegexp(what, exact, re string) (*regexp.Regexp, error) {
	switch {
	case exact != "" && re != "":
		return nil, fmt.Errorf("give the %s exactly or as a regular expression, not both", what)
	case exact == "" && re == "":
		return nil, fmt.Errorf("no %s: give it exactly or as a regular expression", what)
	case re == "":
		return nil, nil
	}
	r, err := regexp.Compile("^(?:" + re + ")$")
	if err != nil {
		return nil, fmt.Errorf("%s regular expression %q: %w", what, re, err)
	}
	return r, nil
}

// match reports whether the certificate summary satisfies the identity, and
// if not, why.
func (ci compiledIdentity) match(s *certificate.Summary) error {
	if err := matchValue("issuer", ci.issuer, ci.issuerRE, s.Issuer); err != nil {
		return err
	}
	if err := matchValue("subject", ci.subject, ci.subjectRE, s.SubjectAlternativeName); err != nil {
		return err
	}
	for _, c := range []struct{ name, want, got string }{
		{"GitHub workflow trigger", ci.github.WorkflowTrigger, s.GithubWorkflowTrigger},
		{"GitHub workflow SHA", ci.github.WorkflowSHA, s.GithubWorkflowSHA},
		{"GitHub workflow name", ci.github.WorkflowName, s.GithubWorkflowName},
		{"GitHub workflow repository", ci.github.WorkflowRepository, s.GithubWorkflowRepository},
		{"GitHub workflow ref", ci.github.WorkflowRef, s.GithubWorkflowRef},
	} {
		if c.want != "" && c.want != c.got {
			return fmt.Errorf("%s: want %q, certificate has %q", c.name, c.want, c.got)
		}
	}
	return nil
}

func matchValue(what, exact string, re *regexp.Regexp, got string) error {
	if re != nil {
		if !re.MatchString(got) {
			return fmt.Errorf("%s %q does not match %s (anchored: the whole value must match)", what, got, strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$"))
		}
		return nil
	}
	if got != exact {
		return fmt.Errorf("%s: want %q, certificate has %q", what, exact, got)
	}
	return nil
}

// maxMatching returns the largest set of (authority, signature) pairs in
// which every authority and every signature appears at most once, given
// which authorities each signature satisfies. matchOf[a] is the signature
// counted for authority a, or -1.
func maxMatching(nAuth int, satisfied [][]int) (n int, matchOf []int) {
	matchOf = make([]int, nAuth)
	for i := range matchOf {
		matchOf[i] = -1
	}
	var try func(sig int, seen []bool) bool
	try = func(sig int, seen []bool) bool {
		for _, a := range satisfied[sig] {
			if seen[a] {
				continue
			}
			seen[a] = true
			if matchOf[a] < 0 || try(matchOf[a], seen) {
				matchOf[a] = sig
				return true
			}
		}
		return false
	}
	for sig := range satisfied {
		if len(satisfied[sig]) > 0 && try(sig, make([]bool, nAuth)) {
			n++
		}
	}
	return n, matchOf
}
