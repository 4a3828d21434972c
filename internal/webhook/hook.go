// Package webhook is what a webhook trigger is: a hook's settings and their validation, the
// HMAC-SHA256 signature check with its replay window, the run input a request becomes and the
// dedup key it carries. It does no I/O; the API serves hooks and the store keeps them.
package webhook

import (
	"crypto/rand"
	"encoding/base64"
	"regexp"
	"time"
)

// Defaults and bounds of a hook's settings.
const (
	DefaultSignatureHeader = "X-Signature-256"
	DefaultTimestampHeader = "X-Signature-Timestamp"
	DefaultTolerance       = 300 * time.Second
	MaxTolerance           = time.Hour
	DefaultDedupHeader     = "Idempotency-Key"
	DefaultRespondTimeout  = 10 * time.Second
	MaxRespondTimeout      = 60 * time.Second
	// MaxDedupValue bounds a dedup value (header or body field), in bytes.
	MaxDedupValue = 200
	// MaxSecretBytes bounds an inline secret; MinSecretBytes refuses secrets too short to
	// resist guessing.
	MaxSecretBytes = 512
	MinSecretBytes = 16
	// MaxNameBytes bounds a hook's name.
	MaxNameBytes = 200
)

// Respond modes: answer at once with the run id, or wait for a node's output.
const (
	RespondAccepted = "accepted"
	RespondNode     = "node"
)

// Hook is a webhook trigger of one workflow: POST /hooks/{ID} starts a run of it.
type Hook struct {
	// ID is random (idBytes bytes, base64url): knowing it is what lets a caller reach the hook.
	ID         string
	WorkflowID string
	Name       string
	// Version pins a version number of the workflow; 0 runs the current one.
	Version   int
	Signature *Signature // nil: unsigned
	Dedup     Dedup
	Respond   Respond
	CreatedAt time.Time
}

// Signature is how a hook's requests are signed. Exactly one of Secret (stored with the hook,
// never shown again) and SecretRef (the name of a configured secret, SECRET_<NAME>) is set.
type Signature struct {
	Secret          string `json:"-"`
	SecretRef       string `json:"secretRef,omitempty"`
	Header          string `json:"header"`
	TimestampHeader string `json:"timestampHeader"`
	Tolerance       time.Duration
}

// Dedup names where a request's dedup key is read: a header, else a field of a JSON body.
type Dedup struct {
	Header    string `json:"header"`
	BodyField string `json:"bodyField,omitempty"`
}

// Respond is what the trigger answers: 202 with the run (accepted), or the output of NodeID
// once the run finished, waiting at most Timeout (node).
type Respond struct {
	Mode    string
	NodeID  string
	Timeout time.Duration
}

// idBytes is the randomness of a hook id: 192 bits.
const idBytes = 24

// NewID returns a random, URL-safe hook id.
func NewID() string {
	b := make([]byte, idBytes)
	if _, err := rand.Read(b); err != nil {
		panic("webhook: crypto/rand failed: " + err.Error()) // the runtime guarantees it does not
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`)

// ValidID reports whether s has the shape of a hook id, so that other strings are not looked up.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// URL is the route that triggers the hook.
func (h Hook) URL() string { return "/hooks/" + h.ID }
