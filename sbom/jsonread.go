package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// jsonReader is a pull reader over a document that json.Valid accepted.
// Decode uses it instead of encoding/json's reflection because SBOMs reach
// 10^5 packages: it reads only the fields Decode keeps, allocates only
// their strings, and counts array entries against the limits before it
// stores them. Keys match exactly; a key that differs from a known one only
// in case is refused, because encoding/json-based consumers would read it
// as the known one (a parser differential an attacker could use).
type jsonReader struct {
	data   []byte
	pos    int
	format Format // for error messages

	maxPackages, maxElements int
	packages, elements       int
}

func (r *jsonReader) errorf(format string, args ...any) error {
	line, col := position(r.data, int64(min(r.pos, len(r.data))))
	return &DecodeError{Format: r.format, Msg: fmt.Sprintf(format, args...) + fmt.Sprintf(" at line %d, column %d", line, col)}
}

func (r *jsonReader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *jsonReader) peek() byte {
	r.ws()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

func kindOf(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	return "a number"
}

func (r *jsonReader) typeError(what, want string) error {
	return r.errorf("%s is %s; expected %s", what, kindOf(r.peek()), want)
}

// null consumes a null and reports whether there was one.
func (r *jsonReader) null() bool {
	if r.peek() == 'n' && bytes.HasPrefix(r.data[r.pos:], []byte("null")) {
		r.pos += 4
		return true
	}
	return false
}

// object calls fn for each member of an object (null counts as an empty
// object); fn must consume the value. known lists the keys the caller
// reads, to refuse case variants of them.
func (r *jsonReader) object(what string, known []string, fn func(key []byte) error) error {
	if r.null() {
		return nil
	}
	if r.peek() != '{' {
		return r.typeError(what, "an object")
	}
	r.pos++
	if r.peek() == '}' {
		r.pos++
		return nil
	}
	for {
		if r.peek() != '"' {
			return r.errorf("malformed object in %s", what)
		}
		key, err := r.rawString()
		if err != nil {
			return err
		}
		if r.peek() != ':' {
			return r.errorf("malformed object in %s", what)
		}
		r.pos++
		if k := foldMatch(key, known); k != "" {
			return r.errorf("%s has the key %q, which differs from %q only in case; refusing an ambiguous document", what, key, k)
		}
		if err := fn(key); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case '}':
			r.pos++
			return nil
		default:
			return r.errorf("malformed object in %s", what)
		}
	}
}

// array calls fn for each entry of an array (null counts as empty),
// counting entries against the limit of their class first.
func (r *jsonReader) array(what string, class keyClass, fn func() error) error {
	if r.null() {
		return nil
	}
	if r.peek() != '[' {
		return r.typeError(what, "an array")
	}
	r.pos++
	if r.peek() == ']' {
		r.pos++
		return nil
	}
	for {
		switch class {
		case classPackages:
			r.packages++
			if r.packages > r.maxPackages {
				return &DecodeError{Format: r.format, Msg: fmt.Sprintf("more than %d packages; the limit protects memory (raise it with WithMaxPackages if the document is trusted)", r.maxPackages), Err: ErrLimit}
			}
		case classElements:
			r.elements++
			if r.elements > r.maxElements {
				return &DecodeError{Format: r.format, Msg: fmt.Sprintf("more than %d license, location, property and relationship entries in total; the limit protects memory", r.maxElements), Err: ErrLimit}
			}
		}
		if err := fn(); err != nil {
			return err
		}
		switch r.peek() {
		case ',':
			r.pos++
		case ']':
			r.pos++
			return nil
		default:
			return r.errorf("malformed array in %s", what)
		}
	}
}

// precount counts the entries of the array at the reader's position
// without consuming it, and refuses it at once if its entries would exceed
// the package limit: a document with 10^6 components is refused before
// one is parsed. The count also sizes the caller's slice.
func (r *jsonReader) precount() (int, error) {
	if r.peek() != '[' {
		return 0, nil // null, or a type error array() reports
	}
	save := r.pos
	defer func() { r.pos = save }()
	r.pos++
	if r.peek() == ']' {
		return 0, nil
	}
	n := 0
	for {
		n++
		if r.packages+n > r.maxPackages {
			return 0, &DecodeError{Format: r.format, Msg: fmt.Sprintf("more than %d packages; the limit protects memory (raise it with WithMaxPackages if the document is trusted)", r.maxPackages), Err: ErrLimit}
		}
		if err := r.skip(); err != nil {
			return 0, err
		}
		if r.peek() != ',' {
			return n, nil
		}
		r.pos++
	}
}

// str reads a string (null reads as "").
func (r *jsonReader) str(what string) (string, error) {
	if r.null() {
		return "", nil
	}
	if r.peek() != '"' {
		return "", r.typeError(what, "a string")
	}
	b, err := r.rawString()
	return string(b), err
}

// rawString reads a string token at r.pos and returns its unescaped bytes;
// without escapes they alias the document.
func (r *jsonReader) rawString() ([]byte, error) {
	start := r.pos + 1
	escaped := false
	i := start
	for ; i < len(r.data) && r.data[i] != '"'; i++ {
		if r.data[i] == '\\' {
			escaped = true
			i++
		}
	}
	if i >= len(r.data) {
		return nil, r.errorf("unterminated string")
	}
	r.pos = i + 1
	if !escaped {
		return r.data[start:i], nil
	}
	var s string
	if err := json.Unmarshal(r.data[start-1:i+1], &s); err != nil {
		return nil, r.errorf("bad string")
	}
	return []byte(s), nil
}

// skip consumes one value of any kind, iteratively, refusing nesting
// deeper than MaxDepth.
func (r *jsonReader) skip() error {
	depth := 0
	for {
		switch c := r.peek(); c {
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return &DecodeError{Format: r.format, Msg: fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth), Err: ErrLimit}
			}
			r.pos++
			continue
		case '}', ']':
			depth--
			r.pos++
		case '"':
			if _, err := r.rawStringSkip(); err != nil {
				return err
			}
		case ',', ':':
			r.pos++
			continue
		case 0:
			return r.errorf("unexpected end")
		default:
			for r.pos < len(r.data) && !isJSONDelim(r.data[r.pos]) {
				r.pos++
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func (r *jsonReader) rawStringSkip() (int, error) {
	i := r.pos + 1
	for ; i < len(r.data) && r.data[i] != '"'; i++ {
		if r.data[i] == '\\' {
			i++
		}
	}
	if i >= len(r.data) {
		return 0, r.errorf("unterminated string")
	}
	r.pos = i + 1
	return i, nil
}

func isJSONDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}

// foldMatch returns the known key that key equals under case folding but
// not exactly, or "".
func foldMatch(key []byte, known []string) string {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for _, k := range known {
		if ascii && len(k) != len(key) {
			continue
		}
		if string(key) != k && strings.EqualFold(string(key), k) {
			return k
		}
	}
	return ""
}

// keyClass says which limit the entries of an array count against.
type keyClass uint8

const (
	classNone     keyClass = iota
	classPackages          // packages (SPDX), components (CycloneDX), artifacts (syft)
	classElements          // smaller per-package or per-document lists that Decode keeps
)
