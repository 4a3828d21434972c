package outbound

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a secret value wherever one is scrubbed.
const Redacted = "[redacted]"

// minDecodedSecret is the shortest part of a decoded secret (the password of Basic
// credentials) that is scrubbed on its own; shorter parts would mask ordinary text.
const minDecodedSecret = 4

// Secrets is the set of secret values one request sends, with the forms a target is likely to
// reflect them in: as sent, URL-encoded (query and path), JSON- and HTML-escaped, base64
// (standard and URL alphabets, padded or not), and, for a value that is itself base64 such as
// Basic credentials, its decoded text and the password after the colon. A nil *Secrets scrubs
// nothing.
type Secrets struct {
	forms    []string // longest first, so a longer form is replaced before a shorter one inside it
	replacer *strings.Replacer
}

// NewSecrets returns the set of the given values; empty values are ignored, and with no value
// left it returns nil.
func NewSecrets(values ...string) *Secrets {
	var forms []string
	for _, v := range values {
		if v != "" {
			forms = append(forms, formsOf(v)...)
		}
	}
	if len(forms) == 0 {
		return nil
	}
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Redacted)
	}
	return &Secrets{forms: forms, replacer: strings.NewReplacer(pairs...)}
}

func formsOf(v string) []string {
	forms := []string{v, url.QueryEscape(v), url.PathEscape(v), html.EscapeString(v), jsonEscape(v, true), jsonEscape(v, false)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		forms = append(forms, enc.EncodeToString([]byte(v)))
		if raw, err := enc.DecodeString(v); err == nil && printable(raw) && len(raw) >= minDecodedSecret {
			forms = append(forms, string(raw))
			if _, password, ok := strings.Cut(string(raw), ":"); ok && len(password) >= minDecodedSecret {
				forms = append(forms, password)
			}
		}
	}
	return slices.DeleteFunc(forms, func(f string) bool { return f == "" })
}

// jsonEscape is v as it appears inside a JSON string, with or without HTML escaping.
func jsonEscape(v string, escapeHTML bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(v)
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(b.String(), `"`), "\n"), `"`)
}

func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// Scrub replaces every form of every secret in text with Redacted.
func (s *Secrets) Scrub(text string) string {
	if s == nil {
		return text
	}
	return s.replacer.Replace(text)
}

// Contains reports whether text holds any form of any secret.
func (s *Secrets) Contains(text string) bool {
	if s == nil {
		return false
	}
	for _, f := range s.forms {
		if strings.Contains(text, f) {
			return true
		}
	}
	return false
}

// ScrubError returns err with its message scrubbed; errors.Is and errors.As still see the
// original chain. It returns err itself when there is nothing to scrub.
func (s *Secrets) ScrubError(err error) error {
	if err == nil || !s.Contains(err.Error()) {
		return err
	}
	return &scrubbedError{msg: s.Scrub(err.Error()), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

type secretsKey struct{}

// WithSecrets returns a context whose requests treat s as their secret values: a redirect whose
// location carries one is refused, and the client spans of those requests are scrubbed of them.
func WithSecrets(ctx context.Context, s *Secrets) context.Context {
	if s == nil {
		return ctx
	}
	return context.WithValue(ctx, secretsKey{}, s)
}

func secretsFrom(ctx context.Context) *Secrets {
	s, _ := ctx.Value(secretsKey{}).(*Secrets)
	return s
}
