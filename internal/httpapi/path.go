package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// canonicalPath routes every request on one spelling of its path, so that the route that
// decides about a request (public or not) is the route that serves it. Spellings that mean
// the same path (RFC 3986 §6.2.2) are rewritten: percent-encoded unreserved characters are
// decoded, other percent-encodings get upper-case hex, bytes that may not appear raw in a
// path are encoded and a trailing slash is dropped. Spellings that could mean two paths, to a
// proxy, a decoder or a path cleaner in front of or behind this service, are refused with 400
// before anything is routed: an encoded '/' or '\' (or a raw '\') inside a segment, an empty
// segment ("//"), a "." or ".." segment (plain or encoded) and a malformed percent-encoding.
//
// The request's URL is rewritten in place, as chi's StripSlashes does, so that handlers, logs
// and the route metrics around the router all see the spelling that was routed.
func canonicalPath(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := r.URL.RawPath
		if raw == "" {
			raw = r.URL.EscapedPath()
		}
		canonical, err := canonicalize(raw)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorBody{StatusCode: http.StatusBadRequest,
				Message: "path: " + err.Error() + ": send '/' only between segments, and no \".\" or \"..\" segments", Error: "Bad Request"})
			return
		}
		if canonical != raw {
			decoded, err := url.PathUnescape(canonical)
			if err != nil { // cannot happen: canonicalize checked every escape
				decoded = canonical
			}
			r.URL.Path, r.URL.RawPath = decoded, ""
			if r.URL.EscapedPath() != canonical {
				r.URL.RawPath = canonical
			}
		}
		next.ServeHTTP(w, r)
	})
}

// canonicalize returns the canonical spelling of an escaped path, or why it is ambiguous.
// Paths that do not start with '/' (the "*" of OPTIONS *) are left alone: no route matches
// them.
func canonicalize(escaped string) (string, error) {
	if !strings.HasPrefix(escaped, "/") {
		return escaped, nil
	}
	segments := strings.Split(escaped[1:], "/")
	var b strings.Builder
	b.Grow(len(escaped))
	for i, seg := range segments {
		if seg == "" {
			if i == len(segments)-1 { // the root, or a trailing slash
				break
			}
			return "", errors.New(`an empty segment ("//") is ambiguous`)
		}
		b.WriteByte('/')
		start := b.Len()
		if err := writeSegment(&b, seg); err != nil {
			return "", err
		}
		if s := b.String()[start:]; s == "." || s == ".." {
			return "", errors.New(`a "." or ".." segment is ambiguous`)
		}
	}
	if b.Len() == 0 {
		return "/", nil
	}
	return b.String(), nil
}

// writeSegment writes the canonical spelling of one escaped segment.
func writeSegment(b *strings.Builder, seg string) error {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c == '%' {
			if i+2 >= len(seg) || unhex(seg[i+1]) < 0 || unhex(seg[i+2]) < 0 {
				return errors.New("malformed percent-encoding")
			}
			c = byte(unhex(seg[i+1])<<4 | unhex(seg[i+2]))
			i += 2
			switch {
			case c == '/':
				return errors.New(`an encoded "/" (%2F) inside a segment is ambiguous`)
			case unreserved(c):
				b.WriteByte(c)
				continue
			}
		} else if pathChar(c) {
			b.WriteByte(c)
			continue
		}
		if c == '\\' {
			return errors.New(`a "\" (or %5C) inside a segment is ambiguous`)
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return nil
}

// unreserved reports whether c is an RFC 3986 unreserved character, the same encoded or not.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

// pathChar reports whether c may appear unencoded in a path segment (RFC 3986 pchar).
func pathChar(c byte) bool {
	return unreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
