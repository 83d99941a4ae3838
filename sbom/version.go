package sbom

import (
	"strings"

	"github.com/Masterminds/semver/v3"
	pep440 "github.com/aquasecurity/go-pep440-version"
	apkversion "github.com/knqyf263/go-apk-version"
	debversion "github.com/knqyf263/go-deb-version"
	rpmversion "github.com/knqyf263/go-rpm-version"
	mvnversion "github.com/masahiro331/go-mvn-version"
)

// CompareVersions orders two versions of a package of the given ecosystem
// (a purl type): Debian for deb, apk for apk, rpm for rpm and alpm, PEP 440
// for pypi, Maven for maven, semantic versioning for the rest (npm, golang,
// cargo, …). It returns -1, 0 or +1. When a version does not parse in its
// ecosystem's scheme, it falls back to a natural comparison (digit runs
// compared as numbers). Versions that compare equal but are spelled
// differently return 0.
func CompareVersions(ecosystem, a, b string) (c int) {
	if a == b {
		return 0
	}
	defer func() {
		// The version libraries parse text from documents; none of their
		// panics may take the process down.
		if recover() != nil {
			c = naturalCompare(a, b)
		}
	}()
	switch ecosystem {
	case "deb":
		va, err1 := debversion.NewVersion(a)
		vb, err2 := debversion.NewVersion(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	case "apk":
		va, err1 := apkversion.NewVersion(a)
		vb, err2 := apkversion.NewVersion(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	case "rpm", "alpm":
		return sign(rpmversion.NewVersion(a).Compare(rpmversion.NewVersion(b)))
	case "pypi":
		va, err1 := pep440.Parse(a)
		vb, err2 := pep440.Parse(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	case "maven":
		va, err1 := mvnversion.NewVersion(a)
		vb, err2 := mvnversion.NewVersion(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	default:
		va, err1 := semver.NewVersion(a)
		vb, err2 := semver.NewVersion(b)
		if err1 == nil && err2 == nil {
			return sign(va.Compare(vb))
		}
	}
	return naturalCompare(a, b)
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

// naturalCompare compares strings with digit runs compared as numbers
// ("1.10" > "1.9"); other bytes compare as bytes.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		if isDigit(a[0]) && isDigit(b[0]) {
			da, db := digitRun(a), digitRun(b)
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return sign(len(na) - len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return sign(int(a[0]) - int(b[0]))
		}
		a, b = a[1:], b[1:]
	}
	return sign(len(a) - len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitRun(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}
