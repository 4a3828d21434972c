package mockapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxBodyBytes caps a request body (the seed's Express default was 100 kB;
// the contract asks for at least 1 MB).
const maxBodyBytes = 1 << 20

var (
	errMalformedJSON = errors.New("malformed JSON body")
	errBodyTooLarge  = errors.New("request body too large")
)

// errorBody is NestJS's HttpException answer.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Error      string `json:"error,omitempty"`
}

// writeError is the one place that maps the package's errors to statuses.
func writeError(w http.ResponseWriter, err error) {
	httpErrors := []struct {
		err     error
		status  int
		message string
		label   string
	}{
		{errMalformedJSON, http.StatusBadRequest, "Unexpected token in JSON body", "Bad Request"},
		{errBodyTooLarge, http.StatusRequestEntityTooLarge, "request entity too large", "Payload Too Large"},
	}
	for _, e := range httpErrors {
		if errors.Is(err, e.err) {
			writeJSON(w, e.status, errorBody{StatusCode: e.status, Message: e.message, Error: e.label})
			return
		}
	}
	writeJSON(w, http.StatusInternalServerError,
		errorBody{StatusCode: http.StatusInternalServerError, Message: "Internal server error"})
}

// notFound is Nest's answer for a path or method no route serves. Like
// Express's req.originalUrl, the message carries the request target as the
// client sent it, query string included.
func notFound(w http.ResponseWriter, r *http.Request) {
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	writeJSON(w, http.StatusNotFound, errorBody{
		StatusCode: http.StatusNotFound,
		Message:    "Cannot " + r.Method + " " + target,
		Error:      "Not Found",
	})
}

// writeJSON writes v the way Express's res.json does: no HTML escaping.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"statusCode":500,"message":"Internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// readBody parses the request body as Express's JSON body parser does: only
// with an application/json content type, only an object or array at the top
// level; anything else (no body, another content type) is {}. An array has no
// named fields, so it reads as {} too.
func readBody(w http.ResponseWriter, r *http.Request) (body, error) {
	if r.Body == nil || !isJSONContentType(r.Header.Get("Content-Type")) {
		return body{}, nil
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errBodyTooLarge
		}
		return nil, errMalformedJSON
	}
	raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		return body{}, nil
	}
	if trimmed[0] != '{' && trimmed[0] != '[' { // body-parser's strict mode
		return nil, errMalformedJSON
	}
	if !json.Valid(raw) {
		return nil, errMalformedJSON
	}
	if trimmed[0] == '[' {
		return body{}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, errMalformedJSON
	}
	b := make(body, len(fields))
	for k, v := range fields {
		b[k] = jsValue(v)
	}
	return b, nil
}

func isJSONContentType(header string) bool {
	if header == "" {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(header)
	return err == nil && strings.EqualFold(mediaType, "application/json")
}
