package expr

import (
	"encoding/json"
	"strings"
)

// RenderJSON interpolates a JSON body template so that the body stays valid JSON, which the
// seed did not do (defect D13):
//
//   - a placeholder inside a JSON string literal ("name": "{{name}}") is replaced by Render's
//     text for the value, JSON-escaped (quotes, backslashes, control characters);
//   - a placeholder outside string literals ("userId": {{userId}}) is replaced by the value
//     as a JSON value: numbers, booleans and null as literals, undefined as null, strings
//     quoted, arrays and objects encoded (object keys sorted).
//
// A template counts as JSON when, with every placeholder replaced by null, it is valid JSON or
// starts with '{', '[' or '"'; malformed JSON templates are still interpolated by these rules,
// tracking string literals as well as their quotes allow. Any other template (form data,
// plain text) is rendered by Render, unescaped, as the seed rendered every body. A backslash
// written just before a placeholder inside a string is doubled, so it cannot swallow the
// first character of the inserted text.
//
// RenderJSON has no budget, like Render; an execution renders with RenderJSONBounded.
func RenderJSON(tmpl string, s Scope) string {
	out, _ := RenderJSONBounded(tmpl, s, unlimited())
	return out
}

// RenderJSONBounded is RenderJSON charging m for every placeholder and what it inserts; once
// the budget is used up it stops with an error wrapping ErrBudgetExceeded.
func RenderJSONBounded(tmpl string, s Scope, m *Meter) (string, error) {
	phs := placeholders(tmpl)
	if len(phs) == 0 {
		return tmpl, nil
	}
	if !looksLikeJSON(tmpl, phs) {
		return RenderBounded(tmpl, s, m)
	}
	if err := m.alloc(2 * len(tmpl)); err != nil {
		return "", err
	}
	b := make([]byte, 0, len(tmpl)+16*len(phs))
	var lex stringTracker
	last := 0
	for _, p := range phs {
		literal := tmpl[last:p.start]
		b = append(b, literal...)
		lex.feed(literal)
		v, found, err := s.resolve(p.path, m)
		if err != nil {
			return "", err
		}
		if err := m.step(1); err != nil {
			return "", err
		}
		if err := m.alloc(2 * jsonSize(v, m.room()/2+1)); err != nil {
			return "", err
		}
		switch {
		case lex.inString:
			if lex.escaped {
				b = append(b, '\\')
				lex.escaped = false
			}
			b = appendEscaped(b, renderText(v, found))
		case found:
			b = appendJSON(b, toJS(v))
		default:
			b = append(b, "null"...)
		}
		last = p.end
	}
	b = append(b, tmpl[last:]...)
	return string(b), nil
}

// looksLikeJSON decides whether RenderJSON treats tmpl as JSON (see RenderJSON).
func looksLikeJSON(tmpl string, phs []placeholder) bool {
	var skeleton strings.Builder
	last := 0
	for _, p := range phs {
		skeleton.WriteString(tmpl[last:p.start])
		skeleton.WriteString("null")
		last = p.end
	}
	skeleton.WriteString(tmpl[last:])
	sk := skeleton.String()
	trimmed := strings.TrimLeft(sk, " \t\r\n")
	if trimmed == "" {
		return false
	}
	switch trimmed[0] {
	case '{', '[', '"':
		return true
	}
	return json.Valid([]byte(sk))
}

// stringTracker follows whether a position in JSON text is inside a string literal.
type stringTracker struct {
	inString bool
	escaped  bool // the previous character was a backslash inside a string
}

func (t *stringTracker) feed(text string) {
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case !t.inString:
			t.inString = c == '"'
		case t.escaped:
			t.escaped = false
		case c == '\\':
			t.escaped = true
		case c == '"':
			t.inString = false
		}
	}
}
