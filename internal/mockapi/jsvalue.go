package mockapi

import (
	"bytes"
	"encoding/json"
	"strings"
)

// jsValue is one JSON value as the client sent it; nil is JavaScript's
// undefined (the field was not sent). Echoed into a response with
// `json:",omitempty"`, an undefined value is left out of the JSON exactly as
// JSON.stringify leaves out undefined properties, while a sent null stays null.
type jsValue []byte

// MarshalJSON writes the value as received.
func (v jsValue) MarshalJSON() ([]byte, error) {
	if v == nil {
		return []byte("null"), nil
	}
	return v, nil
}

// body is the top level of a request body: field name to raw value.
type body map[string]jsValue

// get is `body.key`: undefined when absent.
func (b body) get(key string) jsValue { return b[key] }

// or is `body.key || def`: def replaces any falsy value.
func (b body) or(key, def string) jsValue {
	if v := b[key]; v.truthy() {
		return v
	}
	return jsString(def)
}

// orDefault is the destructuring default `{ key = def } = body`: def replaces
// only an undefined value (a sent null stays null).
func (b body) orDefault(key string, def jsValue) jsValue {
	if v, ok := b[key]; ok {
		return v
	}
	return def
}

// jsString is a JSON string value.
func jsString(s string) jsValue {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return jsValue(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// kind is the JSON type of the value, by its first byte.
func (v jsValue) kind() byte {
	t := bytes.TrimLeft(v, " \t\r\n")
	switch {
	case len(t) == 0:
		return 'u' // undefined
	case t[0] == '"', t[0] == '{', t[0] == '[', t[0] == 'n':
		return t[0]
	case t[0] == 't', t[0] == 'f':
		return 'b'
	default:
		return '0' // number
	}
}

func (v jsValue) defined() bool { return v.kind() != 'u' }

// isString reports whether v is a JSON string equal to s (JS `v === s`).
func (v jsValue) isString(s string) bool {
	str, ok := v.stringValue()
	return ok && str == s
}

func (v jsValue) stringValue() (string, bool) {
	if v.kind() != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
}

// truthy is JavaScript truthiness.
func (v jsValue) truthy() bool {
	switch v.kind() {
	case 'u', 'n':
		return false
	case 'b':
		return bytes.Equal(bytes.TrimSpace(v), []byte("true"))
	case '"':
		s, _ := v.stringValue()
		return s != ""
	case '0':
		f := v.number()
		return f == f && f != 0 // NaN and ±0 are falsy
	default: // objects and arrays
		return true
	}
}

// String is JavaScript's String(v), i.e. what a template literal prints.
func (v jsValue) String() string {
	switch v.kind() {
	case 'u':
		return "undefined"
	case 'n':
		return "null"
	case 'b':
		return string(bytes.TrimSpace(v))
	case '"':
		s, _ := v.stringValue()
		return s
	case '0':
		return formatJSNumber(v.number())
	case '{':
		return "[object Object]"
	default: // array: elements joined by ",", null and undefined print empty
		var elems []jsValue
		_ = json.Unmarshal(v, &elems)
		parts := make([]string, len(elems))
		for i, e := range elems {
			if k := e.kind(); k != 'n' && k != 'u' {
				parts[i] = e.String()
			}
		}
		return strings.Join(parts, ",")
	}
}

// UnmarshalJSON keeps the raw bytes, so arrays of jsValue decode element-wise.
func (v *jsValue) UnmarshalJSON(b []byte) error {
	*v = append(jsValue(nil), b...)
	return nil
}

// toNumber is JavaScript's ToNumber, used by relational comparisons such as
// `temperature > 35`.
func (v jsValue) toNumber() float64 {
	switch v.kind() {
	case 'n':
		return 0
	case 'b':
		if v.truthy() {
			return 1
		}
		return 0
	case '0':
		return v.number()
	case '"':
		s, _ := v.stringValue()
		return stringToNumber(s)
	case '[':
		return stringToNumber(v.String())
	default: // undefined, objects
		return nan()
	}
}

// number parses a JSON number the way JSON.parse does (overflow is ±Infinity).
func (v jsValue) number() float64 { return parseJSONNumber(string(bytes.TrimSpace(v))) }

// lower is String(v).toLowerCase(). Where the seed would throw a TypeError
// calling toLowerCase on a non-string (answering 500), the value is converted
// first instead.
func (v jsValue) lower() string { return strings.ToLower(v.String()) }
