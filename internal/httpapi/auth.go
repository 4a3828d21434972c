package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// keyring holds the configured API keys as SHA-256 digests, so that a presented key is
// compared with every one of them in constant time and their lengths do not leak either.
type keyring struct{ digests [][32]byte }

func newKeyring(keys []string) keyring {
	k := keyring{digests: make([][32]byte, len(keys))}
	for i, key := range keys {
		k.digests[i] = sha256.Sum256([]byte(key))
	}
	return k
}

func (k keyring) empty() bool { return len(k.digests) == 0 }

// match returns the index of the key presented, comparing it with every key whatever the
// outcome; ok is false when it is none of them.
func (k keyring) match(presented string) (index int, ok bool) {
	d := sha256.Sum256([]byte(presented))
	index = -1
	for i := range k.digests {
		eq := subtle.ConstantTimeCompare(d[:], k.digests[i][:])
		index = subtle.ConstantTimeSelect(eq, i, index)
	}
	return index, index >= 0
}

// requireAPIKey refuses requests without one of the configured keys (the router chains it onto
// every endpoint but the public ones; without keys it lets everything through), sent as
// "Authorization: Bearer <key>" or "X-API-Key: <key>".
func requireAPIKey(keys keyring) func(http.Handler) http.Handler {
	if keys.empty() {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if presented := apiKey(r); presented != "" {
				if _, ok := keys.match(presented); ok {
					next.ServeHTTP(w, r)
					return
				}
			}
			unauthorized(w)
		})
	}
}

// unauthorized answers 401 to a request without a valid key.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="sequenceflow"`)
	writeJSON(w, http.StatusUnauthorized, errorBody{StatusCode: http.StatusUnauthorized,
		Message: "missing or invalid API key: send Authorization: Bearer <key> or X-API-Key: <key>", Error: "Unauthorized"})
}

// apiKey returns the key a request presents, or "".
func apiKey(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k
	}
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}
