package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// requireAPIKey refuses requests without one of the configured keys (the router chains it onto
// every endpoint but the public ones; without keys it lets everything through), sent as
// "Authorization: Bearer <key>" or "X-API-Key: <key>". Keys are compared in constant time
// (as SHA-256 digests, so their lengths do not leak either).
func requireAPIKey(keys []string) func(http.Handler) http.Handler {
	if len(keys) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	digests := make([][32]byte, len(keys))
	for i, k := range keys {
		digests[i] = sha256.Sum256([]byte(k))
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if presented := apiKey(r); presented != "" {
				d := sha256.Sum256([]byte(presented))
				match := 0
				for i := range digests {
					match |= subtle.ConstantTimeCompare(d[:], digests[i][:])
				}
				if match == 1 {
					next.ServeHTTP(w, r)
					return
				}
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="sequenceflow"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{StatusCode: http.StatusUnauthorized,
				Message: "missing or invalid API key: send Authorization: Bearer <key> or X-API-Key: <key>", Error: "Unauthorized"})
		})
	}
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
