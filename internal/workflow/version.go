package workflow

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Version is one immutable version of a workflow: the definition a run of it executes.
type Version struct {
	WorkflowID string
	Version    int
	VersionID  string
	Current    bool
	Definition Definition
	CreatedAt  time.Time
}

// CanonicalDefinition is a definition as canonical JSON: object keys sorted at every depth,
// no insignificant space, numbers as written, nodes and edges in their stored order. Two
// versions have the same canonical form exactly when their definitions are equal as JSON, and
// pretty-printing it (jq -S) gives a stable text to diff.
func CanonicalDefinition(def Definition) ([]byte, error) {
	raw, err := json.Marshal(def)
	if err != nil {
		return nil, err
	}
	return CanonicalJSON(raw)
}

// CanonicalJSON is a JSON text in canonical form: object keys sorted at every depth, no
// insignificant space, numbers as written. Equal JSON values have equal canonical forms.
func CanonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// DefinitionHash is "sha256:" and the hex SHA-256 of a definition's canonical form: equal for
// equal definitions whatever their key order or spacing, different when anything changed,
// including a node's position in the builder.
func DefinitionHash(def Definition) (string, error) {
	canonical, err := CanonicalDefinition(def)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canonical)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
