package sbom

import (
	"encoding/json"
	"fmt"
	"strings"
)

// keyClass says what an array under a given object key holds, for limits.
type keyClass uint8

const (
	classNone     keyClass = iota
	classPackages          // packages (SPDX), components (CycloneDX), artifacts (syft)
	classElements          // smaller per-package or per-document lists that Decode keeps
)

// classOfKey classifies an object key the way encoding/json matches struct
// fields: case-insensitively (with Unicode simple folding).
func classOfKey(k string) keyClass {
	for _, p := range [...]string{"packages", "components", "artifacts"} {
		if strings.EqualFold(k, p) {
			return classPackages
		}
	}
	for _, e := range [...]string{"relationships", "licenses", "properties", "locations", "externalRefs", "documentDescribes", "creators", "occurrences", "tools", "services"} {
		if strings.EqualFold(k, e) {
			return classElements
		}
	}
	return classNone
}

// prescan walks a JSON document once, without allocating per value, and
// enforces the limits on nesting depth and on the number of entries in the
// arrays Decode will materialise, before encoding/json allocates anything
// for them. Its job is limits, not validation: encoding/json validates
// afterwards; prescan only must not crash or loop on malformed input.
func prescan(data []byte, lim decodeOptions) error {
	type frame struct {
		array  bool
		class  keyClass // array: what it holds
		member keyClass // object: class of the current member's key
		key    bool     // object: next string is a key
		empty  bool     // array: no value started yet
	}
	stack := make([]frame, 0, 32)
	packages, elements := 0, 0
	countValue := func() error {
		if len(stack) == 0 {
			return nil
		}
		top := &stack[len(stack)-1]
		if !top.array {
			return nil
		}
		top.empty = false
		switch top.class {
		case classPackages:
			packages++
			if packages > lim.maxPackages {
				return &DecodeError{Msg: fmt.Sprintf("more than %d packages; the limit protects memory (raise it with WithMaxPackages if the document is trusted)", lim.maxPackages), Err: ErrLimit}
			}
		case classElements:
			elements++
			if elements > lim.maxElements {
				return &DecodeError{Msg: fmt.Sprintf("more than %d license, location, property and relationship entries in total; the limit protects memory", lim.maxElements), Err: ErrLimit}
			}
		}
		return nil
	}
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case ' ', '\t', '\n', '\r', ',', ':':
			if c == ',' && len(stack) > 0 && !stack[len(stack)-1].array {
				stack[len(stack)-1].key = true
			}
		case '{', '[':
			if err := countValue(); err != nil {
				return err
			}
			if len(stack) >= lim.maxDepth {
				return &DecodeError{Msg: fmt.Sprintf("JSON nested deeper than %d levels", lim.maxDepth), Err: ErrLimit}
			}
			f := frame{array: c == '[', key: c == '{', empty: true}
			if f.array && len(stack) > 0 && !stack[len(stack)-1].array {
				f.class = stack[len(stack)-1].member
			}
			stack = append(stack, f)
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case '"':
			start := i + 1
			escaped := false
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					escaped = true
					i++
				}
			}
			if len(stack) == 0 {
				continue
			}
			top := &stack[len(stack)-1]
			if !top.array && top.key {
				end := min(i, len(data))
				k := string(data[start:end])
				if escaped {
					var s string
					if json.Unmarshal(data[start-1:min(end+1, len(data))], &s) == nil {
						k = s
					}
				}
				top.member = classOfKey(k)
				top.key = false
				continue
			}
			if err := countValue(); err != nil {
				return err
			}
		default:
			// A number, true, false or null: skip to its end.
			if err := countValue(); err != nil {
				return err
			}
			for i+1 < len(data) && !isJSONDelim(data[i+1]) {
				i++
			}
		}
	}
	return nil
}

func isJSONDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ':', '{', '}', '[', ']', '"':
		return true
	}
	return false
}
