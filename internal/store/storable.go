package store

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// PostgreSQL refuses NUL in text (SQLSTATE 22021) and in jsonb strings, even escaped as
// \u0000 (22P05), and refuses invalid UTF-8 in both. Values written by transitions come from
// outside (response bodies, error messages of remote systems), so the store makes them storable
// at this boundary: NUL and invalid UTF-8 become U+FFFD, the Unicode replacement character, as
// encoding/json already does for invalid UTF-8. Anything PostgreSQL still refuses is reported
// as engine.ErrUnstorable (see guardError).

// storableText returns s with NUL and invalid UTF-8 replaced by U+FFFD.
func storableText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nul is the JSON escape of NUL.
var nul = []byte(`\u0000`)

// storableJSON returns the JSON document b with NUL (escaped) and invalid UTF-8 in its strings
// and keys replaced by U+FFFD; numbers are kept exactly. A document that is not JSON is
// returned unchanged, for PostgreSQL to refuse.
func storableJSON(b []byte) []byte {
	if len(b) == 0 || (!bytes.Contains(b, nul) && utf8.Valid(b)) {
		return b
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return b
	}
	out, err := json.Marshal(scrubNUL(v))
	if err != nil {
		return b
	}
	return out
}

// scrubNUL replaces NUL in every string and key of a decoded JSON value.
func scrubNUL(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ReplaceAll(v, "\x00", "\uFFFD")
	case []any:
		for i := range v {
			v[i] = scrubNUL(v[i])
		}
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[strings.ReplaceAll(k, "\x00", "\uFFFD")] = scrubNUL(x)
		}
		return out
	}
	return v
}
