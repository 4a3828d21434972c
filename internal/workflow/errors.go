package workflow

import (
	"errors"
	"fmt"
	"strings"
)

// Domain errors. The store translates driver errors into these at its boundary, and the HTTP
// layer maps them to status codes in one place.
var (
	// ErrNotFound means the addressed workflow, run or template does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request conflicts with the current state (e.g. cancelling a
	// finished run).
	ErrConflict = errors.New("conflict")
	// ErrTooLarge means a request exceeded a size limit.
	ErrTooLarge = errors.New("too large")
	// ErrUnavailable means the database could not be reached or dropped the connection; the
	// request may succeed when retried.
	ErrUnavailable = errors.New("database unavailable")
	// ErrInvalidData means the database refused a value (text it cannot store, a malformed
	// value for a column's type); the request must change before it can succeed.
	ErrInvalidData = errors.New("invalid data")
	// ErrIdempotencyMismatch means an idempotency key already started a run with a different
	// request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrRunsInFlight means a workflow still has runs queued or running.
	ErrRunsInFlight = errors.New("workflow has runs in flight")
)

// Problem is one validation failure at a field path such as "nodes[2].base.config.url".
type Problem struct {
	Field   string
	Message string
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// ValidationError lists every problem found in a request or definition.
type ValidationError struct {
	Problems []Problem
}

// Invalid returns a ValidationError with a single problem.
func Invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Problems: []Problem{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// Add records a problem.
func (e *ValidationError) Add(field, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Messages returns one line per problem.
func (e *ValidationError) Messages() []string {
	out := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		out[i] = p.String()
	}
	return out
}

func (e *ValidationError) Error() string {
	return "invalid: " + strings.Join(e.Messages(), "; ")
}

// OrNil returns nil when no problem was recorded, so callers can return it directly.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Problems) == 0 {
		return nil
	}
	return e
}
