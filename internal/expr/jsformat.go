package expr

import (
	"math"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsString is JavaScript's String(v) for the model: "null", "true"/"false", numbers as
// formatNumber writes them, arrays comma-joined with null elements empty, objects
// "[object Object]".
func jsString(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case bool:
		if t {
			return "true"
		}
		return "false"
	case float64:
		return formatNumber(t)
	case string:
		return t
	case []any:
		return joinArray(t)
	}
	return "[object Object]"
}

// joinArray is Array.prototype.join(","): null elements are empty, nested arrays are joined
// recursively.
func joinArray(a []any) string {
	parts := make([]string, len(a))
	for i, e := range a {
		parts[i] = joinElement(e)
	}
	return strings.Join(parts, ",")
}

// joinElement is how join and cat write one element: null as "", anything else as String().
func joinElement(v any) string {
	if v == nil {
		return ""
	}
	return jsString(v)
}

// renderText is what a template placeholder becomes in text: "" for undefined and null,
// String() of the value otherwise.
func renderText(v any, found bool) string {
	if !found {
		return ""
	}
	return joinElement(toJS(v))
}

// appendJSON appends v as JSON the way JSON.stringify writes it: numbers as JavaScript formats
// them (NaN and ±Infinity as null), strings escaped, object keys sorted because Go maps have
// no order.
func appendJSON(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return append(b, jsString(t)...)
	case string:
		b = append(b, '"')
		b = appendEscaped(b, t)
		return append(b, '"')
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return append(b, "null"...)
		}
		return append(b, formatNumber(t)...)
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSON(b, k)
			b = append(b, ':')
			b = appendJSON(b, t[k])
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// appendEscaped appends s escaped for the inside of a JSON string literal: quotes,
// backslashes and control characters are escaped, U+2028 and U+2029 too (for JavaScript
// consumers), and invalid UTF-8 becomes U+FFFD.
func appendEscaped(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// utf16Units returns the UTF-16 code units of r.
func utf16Units(r rune) []uint16 {
	return utf16.AppendRune(nil, r)
}
