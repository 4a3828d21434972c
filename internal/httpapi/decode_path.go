package httpapi

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// maxDecodeProblems bounds how many wrong types and unknown properties one answer lists.
const maxDecodeProblems = 20

var (
	anyType     = reflect.TypeFor[any]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	graphInType = reflect.TypeFor[graphIn]()
	jsonUnmarsh = reflect.TypeFor[json.Unmarshaler]()
	textUnmarsh = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// locateProblems explains decodeErr, the error of decoding body into a value of type t, by
// walking the body again and naming field paths in the validator's scheme: "nodes[2].base.name"
// whether the graph is the body itself or nested in "workflow". Malformed JSON gives one
// problem at the path the parser had reached, with the byte offset; otherwise every wrong
// type and unknown property is listed.
func locateProblems(body []byte, decodeErr error, t reflect.Type, what string) error {
	w := &bodyWalker{dec: json.NewDecoder(bytes.NewReader(body)), reached: what, fields: map[reflect.Type][]jsonField{}}
	walkErr := w.value(t, jsonLoc{name: what})
	var se *json.SyntaxError
	switch {
	case errors.As(decodeErr, &se):
		return workflow.Invalid(w.reached, "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.Is(decodeErr, io.ErrUnexpectedEOF):
		return workflow.Invalid(w.reached, "malformed JSON at byte %d: unexpected end of JSON input", len(body))
	case walkErr == nil && len(w.problems.Problems) > 0:
		if w.dropped > 0 {
			w.problems.Add(what, "%d more problems not listed", w.dropped)
		}
		return &w.problems
	}
	return jsonProblem(decodeErr, what)
}

// jsonLoc is where a value sits: name is the path problems with the value itself are
// reported at, base the prefix of its properties (empty at the root of a graph).
type jsonLoc struct{ name, base string }

func (l jsonLoc) key(k string) jsonLoc {
	if l.base != "" {
		k = l.base + "." + k
	}
	return jsonLoc{name: k, base: k}
}

func (l jsonLoc) index(i int) jsonLoc {
	p := fmt.Sprintf("%s[%d]", l.name, i)
	return jsonLoc{name: p, base: p}
}

// bodyWalker follows the Go type a body decodes into through its JSON tokens, recording what
// encoding/json, refusing unknown fields, would refuse.
type bodyWalker struct {
	dec      *json.Decoder
	problems workflow.ValidationError
	dropped  int
	reached  string // the path where the JSON stopped parsing
	depth    int
	fields   map[reflect.Type][]jsonField
}

// maxWalkDepth is encoding/json's nesting limit: the decoder has refused anything deeper.
const maxWalkDepth = 10000

var errTooDeep = errors.New("JSON nested too deeply")

func (w *bodyWalker) add(field, format string, args ...any) {
	if len(w.problems.Problems) >= maxDecodeProblems {
		w.dropped++
		return
	}
	w.problems.Add(field, format, args...)
}

// stop records where malformed JSON was found and passes its error on.
func (w *bodyWalker) stop(at jsonLoc, err error) error {
	w.reached = shorten(at.name)
	return err
}

// shorten bounds a path or a property name (from deeply nested JSON, or a huge key) before it
// goes into a message.
func shorten(s string) string {
	const maxLen = 200
	if len(s) <= maxLen {
		return s
	}
	return strings.ToValidUTF8(s[:maxLen], "") + "…"
}

// value walks one JSON value that should decode into t.
func (w *bodyWalker) value(t reflect.Type, at jsonLoc) error {
	if w.depth++; w.depth > maxWalkDepth {
		return w.stop(at, errTooDeep)
	}
	defer func() { w.depth-- }()
	goType := t
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == graphInType {
		at.base = ""
	}
	var want json.Delim // 0: any JSON value
	switch k := t.Kind(); {
	case t == rawType || k == reflect.Interface:
		t = anyType
	case reflect.PointerTo(t).Implements(jsonUnmarsh) || reflect.PointerTo(t).Implements(textUnmarsh):
		return w.leaf(goType, at)
	case k == reflect.Slice && t.Elem().Kind() == reflect.Uint8: // base64 text
		return w.leaf(goType, at)
	case k == reflect.Struct || k == reflect.Map:
		want = '{'
	case k == reflect.Slice || k == reflect.Array:
		want = '['
	default:
		return w.leaf(goType, at)
	}
	tok, err := w.dec.Token()
	if err != nil {
		return w.stop(at, err)
	}
	d, isDelim := tok.(json.Delim)
	if !isDelim {
		if want != 0 && tok != nil {
			w.add(at.name, "must be %s, got JSON %s", jsonKind(t.Kind()), tokenKind(tok))
		}
		return nil
	}
	if want != 0 && d != want {
		w.add(at.name, "must be %s, got JSON %s", jsonKind(t.Kind()), tokenKind(tok))
		t = anyType
	}
	if d == '[' {
		elem := anyType
		if k := t.Kind(); k == reflect.Slice || k == reflect.Array {
			elem = t.Elem()
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.value(elem, at.index(i)); err != nil {
				return err
			}
		}
	} else {
		for w.dec.More() {
			tok, err := w.dec.Token()
			if err != nil {
				return w.stop(at, err)
			}
			key, _ := tok.(string)
			ft, known := w.propertyType(t, key)
			if !known {
				w.add(at.name, "property %q should not exist", shorten(key))
			}
			if err := w.value(ft, at.key(key)); err != nil {
				return err
			}
		}
	}
	if _, err := w.dec.Token(); err != nil {
		return w.stop(at, err)
	}
	return nil
}

// leaf decodes a scalar, or a value that decodes itself, on its own to see whether t takes it.
func (w *bodyWalker) leaf(t reflect.Type, at jsonLoc) error {
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return w.stop(at, err)
	}
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			w.add(at.name, "%s", wrongType(te))
		} else {
			w.add(at.name, "%v", err)
		}
	}
	return nil
}

func tokenKind(tok json.Token) string {
	switch tok := tok.(type) {
	case json.Delim:
		if tok == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return "number"
}

// propertyType is the type of property key of an object decoded into t (a struct, a map or
// anything); known is false for a property a struct does not have. Struct properties match
// as encoding/json matches them: exactly, else ignoring case.
func (w *bodyWalker) propertyType(t reflect.Type, key string) (_ reflect.Type, known bool) {
	switch t.Kind() {
	case reflect.Map:
		return t.Elem(), true
	case reflect.Struct:
		fields, ok := w.fields[t]
		if !ok {
			fields = jsonFields(t)
			w.fields[t] = fields
		}
		for _, f := range fields {
			if f.name == key {
				return f.typ, true
			}
		}
		for _, f := range fields {
			if strings.EqualFold(f.name, key) {
				return f.typ, true
			}
		}
		return anyType, false
	}
	return anyType, true
}

type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the JSON properties of a struct, its own before those of embedded structs.
func jsonFields(t reflect.Type) []jsonField {
	var own, embedded []jsonField
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		inner := f.Type
		for inner.Kind() == reflect.Pointer {
			inner = inner.Elem()
		}
		if f.Anonymous && name == "" && inner.Kind() == reflect.Struct {
			embedded = append(embedded, jsonFields(inner)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		own = append(own, jsonField{name: cmp.Or(name, f.Name), typ: f.Type})
	}
	return append(own, embedded...)
}
