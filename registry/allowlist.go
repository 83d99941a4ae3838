package registry

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Allowlist decides from a reference alone, with no network call, whether
// an image may come from where it comes from. Patterns (DESIGN.md):
//
//   - The registry host matches exactly, port included; docker.io and
//     index.docker.io are the same host. A host cannot hold wildcards.
//   - In the repository path, "*" is exactly one path segment and "**" any
//     number of segments, zero included. Other segments match literally;
//     "app-*" is an error, not a prefix glob.
//   - A pattern that is only a host ("my-registry.io", "localhost:5000")
//     allows every repository on it. A pattern with no host is a Docker Hub
//     repository: "nginx" is docker.io/library/nginx, "acme/app" is
//     docker.io/acme/app, "docker.io/*" is docker.io/library/*.
//   - A pattern may end in ":tag" or "@sha256:…": then only that tag or
//     digest of the repository matches. Without, any tag or digest matches.
//   - A pattern never matches by string prefix: "my-registry.io" does not
//     match my-registry.io.evil.com/x or my-registry.iox/y.
//
// Deny patterns beat allow patterns. With no allow patterns, everything
// not denied is allowed; with some, an image must match one of them.
type Allowlist struct {
	allow, deny []pattern
}

// Decision is the verdict on one reference.
type Decision struct {
	// Allowed is the verdict.
	Allowed bool `json:"allowed"`
	// Pattern is the pattern that decided, as written; "" when none did.
	Pattern string `json:"pattern,omitempty"`
	// Reason says why, in words.
	Reason string `json:"reason"`
}

// ErrInvalidPattern is wrapped by every pattern error.
var ErrInvalidPattern = errors.New("invalid registry pattern")

// NewAllowlist parses allow and deny patterns. The error names every bad
// pattern.
func NewAllowlist(allow, deny []string) (*Allowlist, error) {
	a := &Allowlist{}
	var errs []error
	for _, s := range allow {
		p, err := parsePattern(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.allow = append(a.allow, p)
	}
	for _, s := range deny {
		p, err := parsePattern(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.deny = append(a.deny, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

// Check decides on r. It makes no network call.
func (a *Allowlist) Check(r Ref) Decision {
	if r.IsZero() {
		return Decision{Reason: "no image reference"}
	}
	for _, p := range a.deny {
		if p.match(r) {
			return Decision{Pattern: p.orig, Reason: fmt.Sprintf("%s is denied by pattern %q", r.String(), p.orig)}
		}
	}
	if len(a.allow) == 0 {
		return Decision{Allowed: true, Reason: "no allow patterns: everything not denied is allowed"}
	}
	for _, p := range a.allow {
		if p.match(r) {
			return Decision{Allowed: true, Pattern: p.orig, Reason: fmt.Sprintf("allowed by pattern %q", p.orig)}
		}
	}
	if r.IsLayout() {
		return Decision{Reason: fmt.Sprintf("%s is a local OCI layout; allow patterns name registries", r.String())}
	}
	return Decision{Reason: fmt.Sprintf("%s matches no allow pattern", r.String())}
}

// pattern is one parsed allow or deny pattern.
type pattern struct {
	orig   string
	host   string   // lower case, docker.io normalised to index.docker.io
	path   []string // literal segments, "*" or "**"
	tag    string
	digest string
}

var repoSegmentRE = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

func parsePattern(orig string) (pattern, error) {
	bad := func(format string, args ...any) (pattern, error) {
		return pattern{}, fmt.Errorf("%w %q: %s", ErrInvalidPattern, orig, fmt.Sprintf(format, args...))
	}
	s := orig
	switch {
	case s == "":
		return bad("empty")
	case strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n\x00"):
		return bad("contains whitespace")
	case strings.Contains(s, "://"):
		return bad("write host/path, without a URL scheme")
	}
	p := pattern{orig: orig}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		h, err := v1.NewHash(s[i+1:])
		if err != nil {
			return bad("bad digest: %v", err)
		}
		p.digest, s = h.String(), s[:i]
	}
	segs := strings.Split(s, "/")
	// The host: the first segment, when it looks like one (a dot, a port,
	// or localhost), as Docker decides. A single segment is a host when it
	// has a dot or is localhost ("my-registry.io"), otherwise a Docker Hub
	// official image ("nginx", "nginx:1.25").
	first := segs[0]
	isHost := strings.ContainsAny(first, ".:") || first == "localhost"
	if len(segs) == 1 {
		hostPart, _, _ := strings.Cut(first, ":")
		isHost = strings.Contains(hostPart, ".") || hostPart == "localhost" || strings.HasPrefix(first, "[")
	}
	if isHost {
		if strings.Contains(first, "*") {
			return bad("the registry host must be named exactly, without wildcards")
		}
		if _, err := name.NewRegistry(first, name.StrictValidation); err != nil || first != strings.TrimSuffix(first, ":") {
			return bad("bad registry host %q", first)
		}
		p.host = strings.ToLower(first)
		segs = segs[1:]
		if len(segs) == 0 {
			if p.digest != "" {
				return bad("a digest needs a repository")
			}
			p.path = []string{"**"}
		}
	} else {
		p.host = name.DefaultRegistry
	}
	if p.host == "docker.io" {
		p.host = name.DefaultRegistry
	}
	if len(segs) > 0 {
		last := segs[len(segs)-1]
		if i := strings.LastIndex(last, ":"); i >= 0 {
			tag := last[i+1:]
			if !tagRE.MatchString(tag) {
				return bad("bad tag %q", tag)
			}
			if p.digest != "" {
				return bad("give a tag or a digest, not both")
			}
			p.tag, segs[len(segs)-1] = tag, last[:i]
		}
		for _, seg := range segs {
			switch {
			case seg == "":
				return bad("empty path segment (double or trailing slash)")
			case seg == "*" || seg == "**":
			case strings.Contains(seg, "*"):
				return bad("%q: '*' and '**' must be whole path segments", seg)
			case !repoSegmentRE.MatchString(seg):
				return bad("%q is not a valid repository path segment (lower case letters, digits, '.', '_', '-')", seg)
			}
		}
		// "**/**" is "**": collapsing keeps matching linear in practice.
		for i := 0; i < len(segs); i++ {
			if segs[i] == "**" && i+1 < len(segs) && segs[i+1] == "**" {
				segs = append(segs[:i], segs[i+1:]...)
				i--
			}
		}
		p.path = segs
		// Docker Hub official images live under library/.
		if p.host == name.DefaultRegistry && len(segs) == 1 && segs[0] != "**" {
			p.path = []string{"library", segs[0]}
		}
	}
	if (p.tag != "" || p.digest != "") && p.path[len(p.path)-1] == "**" {
		return bad("a tag or digest needs a repository, not **")
	}
	return p, nil
}

func (p pattern) match(r Ref) bool {
	if r.IsLayout() || r.IsZero() {
		return false
	}
	if strings.ToLower(r.Registry()) != p.host {
		return false
	}
	if p.tag != "" && r.Tag() != p.tag {
		return false
	}
	if p.digest != "" && r.Digest() != p.digest {
		return false
	}
	return matchSegments(p.path, strings.Split(r.Repository(), "/"))
}

// matchSegments matches path segments against pattern segments, where "*"
// is one segment and "**" zero or more.
func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case "**":
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(segs) == 0 {
				return false
			}
		default:
			if len(segs) == 0 || segs[0] != pat[0] {
				return false
			}
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}
