package httpapi

import (
	"bytes"
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

// readBody reads a request body up to the API's limit, refusing text the database cannot
// store (see checkText).
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, errorf(http.StatusBadRequest, "cannot read request body: %v", err)
	}
	return body, checkText(body, "")
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
