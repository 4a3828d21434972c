package webhook

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// credentialHeaders never reach a run's input: they authenticate the caller, not the event.
var credentialHeaders = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "api-key": true, "x-auth-token": true, "x-access-token": true, "x-csrf-token": true, "x-xsrf-token": true,
	"x-amz-security-token": true, "x-goog-iap-jwt-assertion": true,
}

// credentialWords mark other header names as credentials (X-Hub-Signature, X-Gitlab-Token,
// X-Shopify-Hmac-Sha256, X-Client-Secret, ...).
var credentialWords = []string{"signature", "token", "secret", "password", "hmac", "api-key", "apikey", "session", "credential"}

// isCredential reports whether a lower-cased header name carries a credential, or is the
// hook's own signature header.
func (h Hook) isCredential(name string) bool {
	if credentialHeaders[name] {
		return true
	}
	if h.Signature != nil {
		switch name {
		case strings.ToLower(h.Signature.Header):
			return true
		case strings.ToLower(h.Signature.TimestampHeader):
			return false // what the signature covers, not a credential
		}
	}
	for _, w := range credentialWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// Input is the run input a request becomes: {"body": the JSON body (or its text as a string
// when it is not JSON; null when empty), "headers": {lower-cased name: value, repeated values
// joined with ", ", credentials left out}, "query": {name: value, or [values] when repeated}}.
func (h Hook) Input(body []byte, header http.Header, query url.Values) (json.RawMessage, error) {
	in := struct {
		Body    json.RawMessage   `json:"body"`
		Headers map[string]string `json:"headers"`
		Query   map[string]any    `json:"query"`
	}{Body: bodyValue(body), Headers: map[string]string{}, Query: map[string]any{}}
	for name, values := range header {
		lower := strings.ToLower(name)
		if h.isCredential(lower) {
			continue
		}
		in.Headers[lower] = strings.Join(values, ", ")
	}
	for name, values := range query {
		if len(values) == 1 {
			in.Query[name] = values[0]
		} else {
			in.Query[name] = values
		}
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("webhook input: %w", err)
	}
	return raw, nil
}

// bodyValue is the body as a JSON value: itself when it is JSON, else its text as a string.
func bodyValue(body []byte) json.RawMessage {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(trimmed) {
		return trimmed
	}
	text, _ := json.Marshal(string(body)) // invalid UTF-8 becomes U+FFFD
	return text
}

// DedupValue is the request's dedup key: the dedup header's value, else the body field's
// (a string or a number) when the body is a JSON object that has it; "" when there is none.
// A value longer than MaxDedupValue bytes or not valid UTF-8 is an error naming its source.
func (h Hook) DedupValue(header http.Header, body []byte) (value, source string, err error) {
	if h.Dedup.Header != "" {
		if v := strings.TrimSpace(header.Get(h.Dedup.Header)); v != "" {
			value, source = v, h.Dedup.Header+" header"
		}
	}
	if value == "" && h.Dedup.BodyField != "" {
		if v, ok := bodyField(body, h.Dedup.BodyField); ok {
			value, source = v, "body field "+h.Dedup.BodyField
		}
	}
	if len(value) > MaxDedupValue {
		return "", source, fmt.Errorf("%s is %d bytes, longer than the limit of %d", source, len(value), MaxDedupValue)
	}
	if !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
		return "", source, fmt.Errorf("%s is not valid text", source)
	}
	return value, source, nil
}

// IdempotencyKey namespaces a dedup value by its hook, so that two hooks of a workflow never
// share a run.
func (h Hook) IdempotencyKey(dedup string) string { return "hook:" + h.ID + ":" + dedup }

// bodyField reads a dotted path of string keys from a JSON object body; the value must be a
// string or a number (its text as written).
func bodyField(body []byte, path string) (string, bool) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return "", false
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = obj[key]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, x != ""
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// ValidBodyField checks a dedup body path: dot-separated keys, each non-empty.
func ValidBodyField(path string) error {
	if path == "" || len(path) > 200 {
		return fmt.Errorf("must be a dotted path of 1 to 200 characters, such as event.id")
	}
	for _, key := range strings.Split(path, ".") {
		if key == "" {
			return fmt.Errorf("has an empty key: write keys separated by single dots, such as event.id")
		}
	}
	return nil
}
