package store

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Page sizes of the paginated lists: a page asked for without a limit has the default size,
// and no page is larger than the maximum.
const (
	DefaultRunPage = 100
	MaxRunPage     = 1000
	DefaultLogPage = 200
	MaxLogPage     = 1000
)

// Bounds of the values a status response carries inline. Larger values are cut (messages,
// errors) or left out with a flag (data, outputs); the full task output stays in its row and
// has its own route.
const (
	// PreviewChars is the length of a log message or task error preview, in characters.
	PreviewChars = 1000
	// InlineBytes is the largest log data or task output shown inline, as JSON text.
	InlineBytes = 2048
)

// cursor is a keyset position: a timestamp and a tie-breaker (a run id or a log sequence
// number), encoded opaquely so clients cannot depend on its form.
type cursor struct {
	at  time.Time
	key string
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.at.UnixMicro(), 10) + "." + c.key))
}

// parseCursor decodes a cursor; valid checks its tie-breaker.
func parseCursor(s string, valid func(string) bool) (cursor, error) {
	bad := workflow.Invalid("cursor", "is not a cursor this list returned")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, bad
	}
	at, key, ok := strings.Cut(string(raw), ".")
	micros, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || !valid(key) {
		return cursor{}, bad
	}
	return cursor{at: time.UnixMicro(micros), key: key}, nil
}

func isSeq(s string) bool {
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n > 0
}

// pageLimit is the page's limit within [1, max], def when unset; a limit out of range is an
// error naming the parameter.
func pageLimit(p workflow.Page, def, max int) (int, error) {
	switch {
	case p.Limit == 0:
		return def, nil
	case p.Limit < 0 || p.Limit > max:
		return 0, workflow.Invalid("limit", "must be between 1 and %d", max)
	}
	return p.Limit, nil
}

// canonicalID reports whether s is a UUID in its canonical form (8-4-4-4-12 hex digits, any
// case). Other spellings uuid.Parse accepts (urn:uuid:, braces, no hyphens) name nothing.
func canonicalID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// lookupID returns the id to query with, or ErrNotFound for an id no stored object can have.
func lookupID(what, id string) (string, error) {
	if !canonicalID(id) {
		return "", fmt.Errorf("%s %.80q: %w", what, id, workflow.ErrNotFound)
	}
	return strings.ToLower(id), nil
}
