package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Results of a trigger request, the values of sequenceflow_webhook_requests_total's result
// label: a fixed set, whatever the requests hold.
const (
	ResultAccepted           = "accepted"            // a run was started
	ResultDuplicate          = "duplicate"           // the dedup key named a run already started
	ResultNotFound           = "not_found"           // no such hook
	ResultSignatureMissing   = "signature_missing"   // no signature header
	ResultSignatureMalformed = "signature_malformed" // not sha256=<64 hex digits>
	ResultSignatureInvalid   = "signature_invalid"   // the HMAC does not match
	ResultTimestampInvalid   = "timestamp_invalid"   // timestamp header missing or not unix seconds
	ResultTimestampExpired   = "timestamp_expired"   // timestamp outside the tolerance: a replay or a skewed clock
	ResultRejected           = "rejected"            // the request is invalid otherwise (size, dedup value, idempotency mismatch)
	ResultUnavailable        = "unavailable"         // the queue or the database refused; retry
	ResultError              = "error"               // an internal error (the hook's secret reference is not configured, ...)
)

// Results lists every result value.
var Results = []string{ResultAccepted, ResultDuplicate, ResultNotFound, ResultSignatureMissing, ResultSignatureMalformed,
	ResultSignatureInvalid, ResultTimestampInvalid, ResultTimestampExpired, ResultRejected, ResultUnavailable, ResultError}

// SignatureError is why a request's signature was refused: Result is its metric result, and
// the message names the header the caller must fix.
type SignatureError struct {
	Result  string
	Message string
}

func (e *SignatureError) Error() string { return e.Message }

// signaturePrefix starts a signature value: sha256=<hex HMAC>.
const signaturePrefix = "sha256="

// Sign returns the signature value of body at timestamp: sha256=<hex HMAC-SHA256(secret,
// timestamp "." body)>, what a caller sends in the signature header.
func Sign(secret []byte, timestamp string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request's signature against secret: the timestamp header must hold unix
// seconds within the tolerance of now (so a captured request cannot be replayed later), and
// the signature header sha256=<hex> must be the HMAC of timestamp "." body, compared in
// constant time. The timestamp is checked first but only the MAC proves anything.
func (s Signature) Verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	sigValues := h.Values(s.Header)
	if len(sigValues) == 0 || strings.TrimSpace(sigValues[0]) == "" {
		return &SignatureError{ResultSignatureMissing, fmt.Sprintf("missing signature: send the %s header (sha256=<hex HMAC-SHA256 of timestamp \".\" body>)", s.Header)}
	}
	if len(sigValues) > 1 {
		return &SignatureError{ResultSignatureMalformed, fmt.Sprintf("%s header sent more than once: send one signature", s.Header)}
	}
	got, ok := parseSignature(sigValues[0])
	if !ok {
		return &SignatureError{ResultSignatureMalformed, fmt.Sprintf("%s header is malformed: want sha256=<64 hex digits>", s.Header)}
	}
	timestamp := strings.TrimSpace(h.Get(s.TimestampHeader))
	if timestamp == "" {
		return &SignatureError{ResultTimestampInvalid, fmt.Sprintf("missing timestamp: send the %s header (unix seconds, signed with the body)", s.TimestampHeader)}
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || len(timestamp) > 12 {
		return &SignatureError{ResultTimestampInvalid, fmt.Sprintf("%s header is not a unix time in decimal seconds", s.TimestampHeader)}
	}
	if skew := now.Sub(time.Unix(secs, 0)); skew > s.Tolerance || skew < -s.Tolerance {
		return &SignatureError{ResultTimestampExpired, fmt.Sprintf("%s header is %s from the server's clock, more than the hook's tolerance of %s: the request is refused as a replay (sign it again with the current time)",
			s.TimestampHeader, skew.Abs().Truncate(time.Second), s.Tolerance)}
	}
	if !hmac.Equal(got, mac(secret, timestamp, body)) {
		return &SignatureError{ResultSignatureInvalid, fmt.Sprintf("%s header does not match the body: sign timestamp \".\" raw body with the hook's secret", s.Header)}
	}
	return nil
}

// parseSignature decodes sha256=<64 hex digits> (prefix and hex in any case).
func parseSignature(v string) ([]byte, bool) {
	v = strings.TrimSpace(v)
	if len(v) != len(signaturePrefix)+2*sha256.Size || !strings.EqualFold(v[:len(signaturePrefix)], signaturePrefix) {
		return nil, false
	}
	b, err := hex.DecodeString(v[len(signaturePrefix):])
	return b, err == nil
}
