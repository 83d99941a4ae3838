package attest

import (
	"errors"
	"testing"
)

func TestNormalizeSource(t *testing.T) {
	const repo = "github.com/slsa-framework/example-package"
	for _, tc := range []struct {
		in, repo, ref string
	}{
		{"github.com/slsa-framework/example-package", repo, ""},
		{"https://github.com/slsa-framework/example-package", repo, ""},
		{"git+https://github.com/slsa-framework/example-package@refs/tags/v14", repo, "refs/tags/v14"},
		{"git+https://github.com/slsa-framework/example-package.git@refs/heads/main", repo, "refs/heads/main"},
		{"https://github.com/slsa-framework/example-package.git/", repo, ""},
		{"https://github.com/slsa-framework/example-package/", repo, ""},
		{"HTTPS://GitHub.com/SLSA-Framework/Example-Package", repo, ""},
		{"https://www.github.com/slsa-framework/example-package", repo, ""},
		{"git@github.com:slsa-framework/example-package.git", repo, ""},
		{"ssh://git@github.com/slsa-framework/example-package", repo, ""},
		{"git+ssh://git@github.com/slsa-framework/example-package@refs/tags/v1", repo, "refs/tags/v1"},
		{"https://gitlab.com/Group/Sub/Project", "gitlab.com/Group/Sub/Project", ""}, // case kept off GitHub
		{"https://git.example.com:8443/a/b", "git.example.com:8443/a/b", ""},
		{"github.com/slsa-framework/*", "github.com/slsa-framework/*", ""}, // patterns normalise too
	} {
		repo, ref, err := NormalizeSource(tc.in)
		if err != nil || repo != tc.repo || ref != tc.ref {
			t.Errorf("NormalizeSource(%q) = %q, %q, %v; want %q, %q", tc.in, repo, ref, err, tc.repo, tc.ref)
		}
	}
	for _, bad := range []string{
		"", "github.com", "https://github.com/", "https://github.com//x", "github.com/a/../b", "github.com/a/./b",
		"ftp://github.com/a/b", "file:///etc/passwd", "github.com/a/b@", "github.com/a/b?x=1", "github.com/a/b#frag",
		"github.com/a b/c", "github.com/a/b\n", "\x00",
	} {
		if _, _, err := NormalizeSource(bad); !errors.Is(err, ErrMalformedSource) {
			t.Errorf("NormalizeSource(%q): want ErrMalformedSource, got %v", bad, err)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"github.com/acme/*", "github.com/acme/app", true},
		{"github.com/acme/*", "github.com/acme/app/sub", false},
		{"github.com/acme/**", "github.com/acme/app/sub", true},
		{"github.com/acme/*", "github.com/acme", false},
		{"github.com/acme/*", "github.com/acmeX/app", false},
		{"github.com/acme/ap?", "github.com/acme/app", true},
		{"github.com/acme/ap?", "github.com/acme/ap/", false},
		{"refs/tags/v*", "refs/tags/v1.2.3", true},
		{"refs/tags/v*", "refs/heads/v1", false},
		{"a.b", "axb", false}, // regexp metacharacters are literal
		{"(a|b)", "a", false},
	} {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v", tc.pattern, tc.s, got)
		}
	}
}

func TestMatchRef(t *testing.T) {
	for _, tc := range []struct {
		pattern, ref string
		want         bool
	}{
		{"refs/tags/v1", "refs/tags/v1", true},
		{"refs/tags/v1", "refs/tags/v10", false},
		{"v1", "refs/tags/v1", true},
		{"main", "refs/heads/main", true},
		{"main", "refs/heads/mainline", false},
		{"main", "refs/pull/1/merge", false},
		{"v*", "refs/tags/v2.0.0", true},
		{"refs/heads/release/*", "refs/heads/release/1.0", true},
		{"refs/tags/v1", "", false},
	} {
		if got := matchRef(tc.pattern, tc.ref); got != tc.want {
			t.Errorf("matchRef(%q, %q) = %v", tc.pattern, tc.ref, got)
		}
	}
}

func TestMatchBuilderID(t *testing.T) {
	const id = "https://github.com/o/r/.github/workflows/b.yml@refs/tags/v2.1.0"
	for _, tc := range []struct {
		pattern string
		want    bool
	}{
		{"https://github.com/o/r/.github/workflows/b.yml", true},
		{"https://github.com/o/r/.github/workflows/b.yml@v2.1.0", true},
		{"https://github.com/o/r/.github/workflows/b.yml@refs/tags/v2.1.0", true},
		{"https://github.com/o/r/.github/workflows/b.yml@v2.1", false},
		{"https://github.com/o/r/.github/workflows/b.ym", false}, // never a prefix
		{"https://github.com/o/r/.github/workflows/*@refs/tags/v2.*", true},
		{"https://github.com/o/*", false},
		{"https://github.com/o/**", true},
	} {
		if got := matchBuilderID(tc.pattern, id); got != tc.want {
			t.Errorf("matchBuilderID(%q) = %v", tc.pattern, got)
		}
	}
}

func TestMatchVersionedTagPrerelease(t *testing.T) {
	for _, tc := range []struct {
		want, ref string
		ok        bool
	}{
		{"v1.2.3-alpha", "refs/tags/v1.2.3-alpha", true},
		{"v1.2.3-alpha", "refs/tags/v1.2.3", false},
		{"v1.2.3", "refs/tags/v1.2.3-alpha", false},
		{"v1.2.3", "refs/tags/v1.2.3+build.5", true},
		{"v1", "refs/tags/v1.9.0-rc1", true},
		{"v1", "refs/heads/v1", false},
		{"v1", "refs/tags/not-semver", false},
	} {
		if got, err := matchVersionedTag(tc.want, tc.ref); got != tc.ok || err != nil {
			t.Errorf("matchVersionedTag(%q, %q) = %v, %v", tc.want, tc.ref, got, err)
		}
	}
	if _, err := matchVersionedTag("14", "refs/tags/v14"); err == nil {
		t.Error("a non-semver expectation must be an error")
	}
}

func TestExpectationsValidate(t *testing.T) {
	for _, e := range []Expectations{
		{SourceRepository: "ftp://x/y"},
		{SourceRepository: "github.com/a/b@refs/tags/v1", SourceRef: "refs/tags/v2"},
		{SourceVersionedTag: "fourteen"},
	} {
		if err := e.Validate(); !errors.Is(err, ErrInvalidExpectations) {
			t.Errorf("%+v: want ErrInvalidExpectations, got %v", e, err)
		}
		if err := e.Check(&Provenance{}, nil); !errors.Is(err, ErrInvalidExpectations) || errors.Is(err, ErrProvenanceMismatch) {
			t.Errorf("%+v: Check must report invalid expectations, not a mismatch: %v", e, err)
		}
	}
	if err := (Expectations{SourceRepository: "github.com/a/b@refs/tags/v1", SourceRef: "refs/tags/v1"}).Validate(); err != nil {
		t.Error(err)
	}
}
