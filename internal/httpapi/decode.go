package httpapi

import (
	"bytes"
	"cmp"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// readBody reads a request body up to the API's limit.
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "cannot read request body: %v", err)
	}
	return body, nil
}

// decodeStrict decodes JSON into v, refusing unknown fields. Every problem names its field
// path (see locateProblems); malformed JSON also gives the byte offset.
func decodeStrict(body []byte, v any, what string) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return workflow.Invalid(what, "request body is empty; a JSON object is required")
		}
		return locateProblems(body, err, reflect.TypeOf(v), what)
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		// Unmarshal names the offset and the first byte after the value.
		var se *json.SyntaxError
		if errors.As(json.Unmarshal(body, new(json.RawMessage)), &se) {
			return workflow.Invalid(what, "malformed JSON at byte %d: %v", se.Offset, se)
		}
		return workflow.Invalid(what, "unexpected data after the JSON value")
	}
	return nil
}

// jsonProblem turns a decoding error into a validation error. Without the body it can only
// name the field encoding/json reports, which is exact for flat bodies; decodeStrict names
// nested paths with array indices.
func jsonProblem(err error, what string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return workflow.Invalid(what, "request body is empty; a JSON object is required")
	case errors.As(err, &se):
		return workflow.Invalid(what, "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = what
		}
		return workflow.Invalid(field, "%s", wrongType(te))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return workflow.Invalid(what, "property %s should not exist", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	var ve *workflow.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return workflow.Invalid(what, "%v", err)
}

func wrongType(te *json.UnmarshalTypeError) string {
	got := te.Value
	if got == "bool" {
		got = "boolean"
	}
	return fmt.Sprintf("must be %s, got JSON %s", jsonKind(te.Type.Kind()), got)
}

// jsonKind names the JSON value a Go kind accepts.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return k.String()
}

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

// nodeIn, baseIn, edgeIn and positionIn are the wire shapes of a definition, decoded strictly
// (an unknown property anywhere is refused, as the seed's validation pipe did).
type nodeIn struct {
	ID       *string    `json:"id"`
	Position positionIn `json:"position"`
	Base     *baseIn    `json:"base"`
}

type baseIn struct {
	ID              *string         `json:"id"`
	Type            *string         `json:"type"`
	Name            *string         `json:"name"`
	InputSchema     json.RawMessage `json:"inputSchema"`
	OutputSchema    json.RawMessage `json:"outputSchema"`
	Config          json.RawMessage `json:"config"`
	ValidationLogic json.RawMessage `json:"validationLogic"`
	Connections     json.RawMessage `json:"connections"`
}

// positionIn accepts numbers and numeric strings, as the seed converted them.
type positionIn struct {
	X flexNumber `json:"x"`
	Y flexNumber `json:"y"`
}

type flexNumber float64

func (f *flexNumber) UnmarshalJSON(b []byte) error {
	var n float64
	if err := json.Unmarshal(b, &n); err == nil {
		*f = flexNumber(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a number or a numeric string, got JSON %s", jsonValueKind(b))
	}
	// NaN and infinities parse but are no JSON numbers, so they could not be stored or shown.
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		if len(s) > 40 {
			return errors.New("must be a number or a numeric string, got a long string")
		}
		return fmt.Errorf("must be a number or a numeric string, got %q", s)
	}
	*f = flexNumber(n)
	return nil
}

// jsonValueKind names the kind of a JSON value from its first byte.
func jsonValueKind(raw []byte) string {
	switch rawKind(raw) {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

type edgeIn struct {
	ID             *string `json:"id"`
	SourceID       *string `json:"sourceId"`
	TargetID       *string `json:"targetId"`
	SourceHandleID *string `json:"sourceHandleId"`
	TargetHandleID *string `json:"targetHandleId"`
}

type graphIn struct {
	Nodes *[]nodeIn `json:"nodes"`
	Edges *[]edgeIn `json:"edges"`
}

// toDefinition checks required fields and JSON types and builds a definition.
func (g graphIn) toDefinition() (workflow.Definition, error) {
	v := &workflow.ValidationError{}
	var def workflow.Definition
	if g.Nodes == nil {
		v.Add("nodes", "must be an array")
	}
	if g.Edges == nil {
		v.Add("edges", "must be an array")
	}
	if g.Nodes == nil || g.Edges == nil {
		return def, v
	}
	for i, n := range *g.Nodes {
		at := fmt.Sprintf("nodes[%d]", i)
		node := workflow.Node{ID: str(n.ID), Position: workflow.Position{X: float64(n.Position.X), Y: float64(n.Position.Y)}}
		requireString(v, at+".id", n.ID)
		if n.Base == nil {
			v.Add(at+".base", "must be an object")
			def.Nodes = append(def.Nodes, node)
			continue
		}
		b := n.Base
		requireString(v, at+".base.id", b.ID)
		requireString(v, at+".base.type", b.Type)
		requireString(v, at+".base.name", b.Name)
		node.Base = workflow.Base{
			ID: str(b.ID), Type: str(b.Type), Name: str(b.Name),
			InputSchema:     objectOr(v, at+".base.inputSchema", b.InputSchema, "{}"),
			OutputSchema:    objectOr(v, at+".base.outputSchema", b.OutputSchema, "{}"),
			Config:          objectOr(v, at+".base.config", b.Config, ""),
			ValidationLogic: optionalObject(v, at+".base.validationLogic", b.ValidationLogic),
			Connections:     arrayOr(v, at+".base.connections", b.Connections),
		}
		def.Nodes = append(def.Nodes, node)
	}
	for i, e := range *g.Edges {
		at := fmt.Sprintf("edges[%d]", i)
		requireString(v, at+".id", e.ID)
		requireString(v, at+".sourceId", e.SourceID)
		requireString(v, at+".targetId", e.TargetID)
		def.Edges = append(def.Edges, workflow.Edge{ID: str(e.ID), SourceID: str(e.SourceID), TargetID: str(e.TargetID),
			SourceHandleID: e.SourceHandleID, TargetHandleID: e.TargetHandleID})
	}
	return def, v.OrNil()
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func requireString(v *workflow.ValidationError, field string, p *string) {
	if p == nil {
		v.Add(field, "must be a string")
	}
}

func rawKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// objectOr requires an object; a missing value takes fallback ("" means required).
func objectOr(v *workflow.ValidationError, field string, raw json.RawMessage, fallback string) json.RawMessage {
	switch rawKind(raw) {
	case '{':
		return raw
	case 0, 'n':
		if fallback != "" {
			return json.RawMessage(fallback)
		}
	}
	v.Add(field, "must be an object")
	return nil
}

func optionalObject(v *workflow.ValidationError, field string, raw json.RawMessage) json.RawMessage {
	switch rawKind(raw) {
	case 0, 'n':
		return nil
	case '{':
		return raw
	}
	v.Add(field, "must be an object")
	return nil
}

func arrayOr(v *workflow.ValidationError, field string, raw json.RawMessage) json.RawMessage {
	switch rawKind(raw) {
	case 0, 'n':
		return json.RawMessage(`[]`)
	case '[':
		return raw
	}
	v.Add(field, "must be an array")
	return nil
}
