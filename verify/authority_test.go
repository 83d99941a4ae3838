package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

func TestRequirementsInvalid(t *testing.T) {
	k := newKey(t)
	key := &KeyAuthority{PublicKey: k.pub()}
	for _, tc := range []struct {
		name string
		req  Requirements
		want string // in the message: the valid choices
	}{
		{"no authorities", Requirements{}, "at least one key or keyless identity"},
		{"negative threshold", Requirements{Threshold: -1, Authorities: []Authority{{Key: key}}}, "between 1 and"},
		{"threshold above the authorities", Requirements{Threshold: 2, Authorities: []Authority{{Key: key}}}, "between 1 and the number of authorities (1)"},
		{"both key and keyless", Requirements{Authorities: []Authority{{Key: key, Keyless: &KeylessAuthority{Identities: []Identity{alice}}}}}, "exactly one of Key"},
		{"neither key nor keyless", Requirements{Authorities: []Authority{{Name: "x"}}}, "exactly one of Key"},
		{"keyless without identities", Requirements{Authorities: []Authority{{Keyless: &KeylessAuthority{}}}}, "at least one identity"},
		{"subject exact and regexp", Requirements{Authorities: []Authority{keylessAuth("a", Identity{Issuer: testIssuer, Subject: aliceID, SubjectRegExp: ".*"})}}, "not both"},
		{"no subject", Requirements{Authorities: []Authority{keylessAuth("a", Identity{Issuer: testIssuer})}}, "no subject: give it exactly or as a regular expression"},
		{"no issuer", Requirements{Authorities: []Authority{keylessAuth("a", Identity{Subject: aliceID})}}, "no issuer"},
		{"issuer exact and regexp", Requirements{Authorities: []Authority{keylessAuth("a", Identity{Issuer: testIssuer, IssuerRegExp: ".*", Subject: aliceID})}}, "not both"},
		{"bad regexp", Requirements{Authorities: []Authority{keylessAuth("a", Identity{Issuer: testIssuer, SubjectRegExp: "("})}}, "regular expression"},
		{"duplicate names", Requirements{Authorities: []Authority{{Name: "a", Key: key}, keylessAuth("a", alice)}}, "used twice"},
		{"one key twice", Requirements{Authorities: []Authority{{Name: "a", Key: key}, {Name: "b", Key: &KeyAuthority{PublicKey: k.pub(), InsecureIgnoreTlog: true}}}}, "same key"},
		{"nil key", Requirements{Authorities: []Authority{{Key: &KeyAuthority{}}}}, "no public key"},
		{"unsupported key", Requirements{Authorities: []Authority{{Key: &KeyAuthority{PublicKey: "not a key"}}}}, "unsupported public key type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.req.compile()
			if err == nil || ReasonOf(err) != ReasonInvalidInput || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want invalid input mentioning %q, got %v", tc.want, err)
			}
		})
	}
}

func TestRequirementsKeyTypes(t *testing.T) {
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	c, err := Requirements{Authorities: []Authority{
		{Key: &KeyAuthority{PublicKey: ec384.Public()}},
		{Key: &KeyAuthority{PublicKey: edPub}},
		{Key: &KeyAuthority{PublicKey: &edPub}},
		{Key: &KeyAuthority{PublicKey: rsaKey.Public()}},
	}}.compile()
	if err == nil || !strings.Contains(err.Error(), "same key") {
		t.Fatalf("an Ed25519 key given by value and by pointer is one key: %v", err)
	}
	c, err = Requirements{Authorities: []Authority{
		{Key: &KeyAuthority{PublicKey: ec384.Public()}},
		{Key: &KeyAuthority{PublicKey: &edPub}},
		{Key: &KeyAuthority{PublicKey: rsaKey.Public()}},
	}}.compile()
	if err != nil {
		t.Fatal(err)
	}
	if c.threshold != 1 || c.auths[0].name != "authority-1" || !c.auths[1].key.ed25519 || c.auths[2].name != "authority-3" {
		t.Errorf("compiled %+v", c)
	}
}

func TestIdentityMatch(t *testing.T) {
	const wf = "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.3"
	sum := &certificate.Summary{SubjectAlternativeName: wf, Extensions: certificate.Extensions{
		Issuer:                   "https://token.actions.githubusercontent.com",
		GithubWorkflowTrigger:    "push",
		GithubWorkflowSHA:        "0123abcd",
		GithubWorkflowName:       "release",
		GithubWorkflowRepository: "acme/app",
		GithubWorkflowRef:        "refs/tags/v1.2.3",
	}}
	gh := "https://token.actions.githubusercontent.com"
	for _, tc := range []struct {
		name string
		id   Identity
		ok   bool
	}{
		{"exact", Identity{Issuer: gh, Subject: wf}, true},
		{"anchored regexp", Identity{Issuer: gh, SubjectRegExp: `https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*`}, true},
		{"prefix regexp does not match the whole value", Identity{Issuer: gh, SubjectRegExp: `https://github\.com/acme/`}, false},
		{"suffix regexp does not match the whole value", Identity{Issuer: gh, SubjectRegExp: `refs/tags/v1\.2\.3`}, false},
		{"alternation is anchored as a whole", Identity{Issuer: gh, SubjectRegExp: `nothing|https://github\.com/acme/`}, false},
		{"issuer regexp", Identity{IssuerRegExp: `https://token\.actions\.githubusercontent\.com`, Subject: wf}, true},
		{"issuer prefix", Identity{IssuerRegExp: `https://token\.actions`, Subject: wf}, false},
		{"exact is exact", Identity{Issuer: gh, Subject: wf + "x"}, false},
		{"github claims", Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowTrigger: "push", WorkflowSHA: "0123abcd", WorkflowName: "release", WorkflowRepository: "acme/app", WorkflowRef: "refs/tags/v1.2.3"}}, true},
		{"wrong trigger", Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowTrigger: "pull_request"}}, false},
		{"wrong sha", Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowSHA: "0123"}}, false},
		{"wrong name", Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowName: "other"}}, false},
		{"wrong repository", Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowRepository: "acme/app2"}}, false},
		{"wrong ref", Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowRef: "refs/heads/main"}}, false},
	} {
		ci, err := compileIdentity(tc.id)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := ci.match(sum); (err == nil) != tc.ok {
			t.Errorf("%s: match error %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	// A certificate without GitHub claims fails a claim requirement.
	ci, _ := compileIdentity(Identity{Issuer: gh, Subject: wf, GitHub: GitHubClaims{WorkflowRepository: "acme/app"}})
	if ci.match(&certificate.Summary{SubjectAlternativeName: wf, Extensions: certificate.Extensions{Issuer: gh}}) == nil {
		t.Error("a missing claim matched")
	}
}

func TestMaxMatching(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nAuth     int
		satisfied [][]int
		want      int
	}{
		{"nothing", 2, nil, 0},
		{"one authority twice", 2, [][]int{{0}, {0}}, 1},
		{"one signature, two authorities", 2, [][]int{{0, 1}}, 1},
		{"two signatures, overlapping", 2, [][]int{{0, 1}, {0}}, 2},
		{"needs augmenting", 3, [][]int{{0, 1}, {0}, {1, 2}}, 3},
		{"failed signatures in between", 2, [][]int{nil, {1}, nil, {1, 0}}, 2},
	} {
		if n, _ := maxMatching(tc.nAuth, tc.satisfied); n != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, n, tc.want)
		}
	}
}
