package httpapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// PostgreSQL stores text and jsonb as UTF-8 without NUL: it refuses invalid UTF-8 (SQLSTATE
// 22021) and the escape \u0000 (22P05). Requests are checked for both where they enter, so the
// answer is a 400 naming the field rather than a database error.

// checkText refuses a body that is not valid UTF-8 or that has a NUL character (\u0000) in
// any string or property name, naming the first such field.
func checkText(body []byte, what string) error {
	if !utf8.Valid(body) {
		return workflow.Invalid(cmp.Or(what, "body"), "is not valid UTF-8 (first bad byte at offset %d)", invalidUTF8At(body))
	}
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil
	}
	if path, found := nulPath(body, what); found {
		return workflow.Invalid(cmp.Or(path, "body"), `must not contain the NUL character (\u0000)`)
	}
	return nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// nulPath walks a JSON document for the first string or property name holding NUL and names
// its path ("input.name", "nodes[2].base.name"); malformed JSON, or JSON nested deeper than
// encoding/json accepts, is left to the decoder.
func nulPath(body []byte, root string) (string, bool) {
	w := nulWalker{dec: json.NewDecoder(bytes.NewReader(body)), segments: []string{root}}
	found, _ := w.value()
	if !found {
		return "", false
	}
	var b strings.Builder
	for _, s := range w.segments {
		if b.Len() > 0 && !strings.HasPrefix(s, "[") {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return shorten(b.String()), true
}

// nulWalker keeps the path to the value being read as segments, joined only on a find.
type nulWalker struct {
	dec      *json.Decoder
	segments []string
}

func (w *nulWalker) value() (found bool, err error) {
	if len(w.segments) > maxWalkDepth {
		return false, errTooDeep
	}
	tok, err := w.dec.Token()
	if err != nil {
		return false, err
	}
	switch tok := tok.(type) {
	case string:
		return strings.ContainsRune(tok, 0), nil
	case json.Delim:
		for i := 0; w.dec.More(); i++ {
			segment := fmt.Sprintf("[%d]", i)
			if tok == '{' {
				key, err := w.dec.Token()
				if err != nil {
					return false, err
				}
				name, _ := key.(string)
				if strings.ContainsRune(name, 0) {
					return true, nil // the object holding the property that cannot be stored
				}
				segment = shorten(name)
			}
			w.segments = append(w.segments, segment)
			if found, err := w.value(); found || err != nil {
				return found, err
			}
			w.segments = w.segments[:len(w.segments)-1]
		}
		_, err := w.dec.Token()
		return false, err
	}
	return false, nil
}

// queryValues parses the query string strictly: a parameter with invalid percent-encoding,
// invalid UTF-8 or NUL is a 400 naming it (net/url's Query silently drops what it cannot
// decode).
func queryValues(r *http.Request) (url.Values, error) {
	values := url.Values{}
	for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, workflow.Invalid("query", "parameter %q has invalid percent-encoding", shorten(rawKey))
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return nil, workflow.Invalid(shorten(key), "has invalid percent-encoding")
		}
		for _, s := range []string{key, value} {
			if !utf8.ValidString(s) {
				return nil, workflow.Invalid(shorten(strings.ToValidUTF8(key, "?")), "is not valid UTF-8")
			}
			if strings.ContainsRune(s, 0) {
				return nil, workflow.Invalid(shorten(strings.ReplaceAll(key, "\x00", `\u0000`)), `must not contain the NUL character`)
			}
		}
		values.Add(key, value)
	}
	return values, nil
}

// pageOf reads the limit and cursor parameters of a paginated list.
func pageOf(r *http.Request) (workflow.Page, error) {
	q, err := queryValues(r)
	if err != nil {
		return workflow.Page{}, err
	}
	page := workflow.Page{Cursor: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return page, workflow.Invalid("limit", "must be a positive integer")
		}
		page.Limit = n
	}
	return page, nil
}

// checkHeaderText refuses a header value PostgreSQL could not store as text.
func checkHeaderText(name, value string) error {
	if !utf8.ValidString(value) {
		return workflow.Invalid(name, "is not valid UTF-8")
	}
	return nil
}
