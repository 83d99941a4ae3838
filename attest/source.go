package attest

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/mod/semver"
)

// ErrMalformedSource is wrapped by errors about source URIs that cannot be
// normalised.
var ErrMalformedSource = errors.New("malformed source URI")

// NormalizeSource returns the repository a source URI names, as host/path
// ("github.com/org/repo"), and the ref written after an "@", if any. It
// accepts the forms builders and users write:
//
//	git+https://github.com/org/repo@refs/tags/v1   (SLSA materials, configSource)
//	https://github.com/org/repo                    (Fulcio certificate extensions)
//	https://github.com/org/repo.git/               (clone URLs)
//	github.com/org/repo                            (slsa-verifier's --source-uri)
//	git@github.com:org/repo.git, ssh://git@github.com/org/repo
//
// The scheme, a "git+" prefix, user information, a ".git" suffix and trailing
// slashes are dropped; the host is lowercased, and so is the path on
// github.com, whose names are case-insensitive. Normalised repositories are
// compared exactly (or by an explicit glob), never by prefix.
func NormalizeSource(uri string) (repository, ref string, err error) {
	fail := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("%w %q: %s", ErrMalformedSource, uri, why)
	}
	if uri == "" {
		return fail("empty")
	}
	if len(uri) > 4096 {
		return fail("longer than 4096 bytes")
	}
	for _, r := range uri {
		if r <= ' ' || r == 0x7f {
			return fail("contains whitespace or control characters")
		}
	}
	s := strings.TrimPrefix(uri, "git+")
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		switch strings.ToLower(scheme) {
		case "https", "http", "ssh", "git":
		default:
			return fail("scheme " + scheme + " is not https, http, ssh or git")
		}
		s = rest
	} else if m := scpLike.FindStringSubmatch(s); m != nil {
		s = m[1] + "/" + m[2] // git@github.com:org/repo → github.com/org/repo
	}
	// User information: an "@" before the first "/".
	if at := strings.Index(s, "@"); at >= 0 {
		if slash := strings.Index(s, "/"); slash < 0 || at < slash {
			s = s[at+1:]
		}
	}
	if before, after, ok := strings.Cut(s, "@"); ok {
		if after == "" {
			return fail("empty ref after @")
		}
		s, ref = before, after
	}
	if strings.ContainsAny(s, "?#") {
		return fail("has a query or fragment")
	}
	for trimmed := ""; trimmed != s; {
		trimmed = s
		s = strings.TrimSuffix(strings.TrimRight(s, "/"), ".git")
	}
	host, path, ok := strings.Cut(s, "/")
	if !ok || host == "" || path == "" {
		return fail("no host/repository path")
	}
	host = strings.ToLower(host)
	if !hostPattern.MatchString(host) {
		return fail("host " + host + " is not a host name")
	}
	if host == "www.github.com" {
		host = "github.com"
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fail("empty, '.' or '..' path segment")
		}
	}
	if host == "github.com" {
		path = strings.ToLower(path)
	}
	return host + "/" + path, ref, nil
}

var (
	scpLike     = regexp.MustCompile(`^[A-Za-z0-9._-]+@([^/:]+):(.+)$`)
	hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$`)
)

// hasGlob reports whether a pattern uses glob syntax.
func hasGlob(p string) bool { return strings.ContainsAny(p, "*?") }

// globMatch matches s against pattern: "*" matches any run of characters
// except "/", "**" any run including "/", "?" one character except "/". The
// whole of s must match.
func globMatch(pattern, s string) bool {
	var re strings.Builder
	re.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			re.WriteString(".*")
			i++
		case pattern[i] == '*':
			re.WriteString("[^/]*")
		case pattern[i] == '?':
			re.WriteString("[^/]")
		default:
			re.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	re.WriteString("$")
	ok, err := regexp.MatchString(re.String(), s)
	return err == nil && ok
}

// matchRef matches a git ref against an expected ref: a full ref
// ("refs/tags/v1", "refs/heads/*") or a short name ("v1", "main"), which
// matches the tag or the branch of that name. Globs as in globMatch.
func matchRef(pattern, ref string) bool {
	if strings.HasPrefix(pattern, "refs/") {
		return globMatch(pattern, ref)
	}
	for _, prefix := range []string{"refs/tags/", "refs/heads/"} {
		if name, ok := strings.CutPrefix(ref, prefix); ok && globMatch(pattern, name) {
			return true
		}
	}
	return false
}

// matchBuilderID matches a builder id against an expected one: a glob (see
// globMatch) matches the whole id; otherwise, as slsa-verifier's --builder-id,
// the part before "@" must be equal and, when the expectation has a version
// after "@", the versions must be equal, "v1.2.3" standing for
// "refs/tags/v1.2.3".
func matchBuilderID(pattern, id string) bool {
	if hasGlob(pattern) {
		return globMatch(pattern, id)
	}
	wantName, wantVersion, _ := strings.Cut(pattern, "@")
	name, version, _ := strings.Cut(id, "@")
	if wantName != name {
		return false
	}
	return wantVersion == "" || wantVersion == version || "refs/tags/"+wantVersion == version
}

// matchVersionedTag reports whether ref is a tag whose semantic version
// matches expected, as slsa-verifier's --source-versioned-tag: the major
// version must be equal, and the minor and patch versions too when expected
// gives them ("v14" matches "v14.0.0" and "v14.2.1"; "v14.0" does not match
// "v14.1.0"). A pre-release must be equal; build metadata is ignored.
func matchVersionedTag(expected, ref string) (bool, error) {
	if !semver.IsValid(expected) {
		return false, fmt.Errorf("versioned tag %q is not a semantic version (vMAJOR[.MINOR[.PATCH]])", expected)
	}
	tag, ok := strings.CutPrefix(ref, "refs/tags/")
	if !ok {
		return false, nil
	}
	canonical := semver.Canonical(tag)
	if canonical == "" {
		return false, nil
	}
	core := func(v string) []string {
		v = strings.TrimSuffix(v, semver.Build(v))
		v = strings.TrimSuffix(v, semver.Prerelease(v))
		return strings.Split(v, ".")
	}
	want, got := core(expected), core(canonical)
	for i := range want {
		if i >= len(got) || want[i] != got[i] {
			return false, nil
		}
	}
	if len(want) == 3 && semver.Prerelease(expected) != semver.Prerelease(canonical) {
		return false, nil
	}
	return true, nil
}
