package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// errorBody is the seed's error shape: {"statusCode", "message", "error"}; message is a string,
// or an array of strings for validation errors.
type errorBody struct {
	StatusCode int    `json:"statusCode"`
	Message    any    `json:"message"`
	Error      string `json:"error,omitempty"`
}

// httpError is an error with a status and a client-facing message.
type httpError struct {
	status  int
	message any
}

func (e *httpError) Error() string { return fmt.Sprint(e.message) }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, message: fmt.Sprintf(format, args...)}
}

// statusOf is the one place that maps errors to HTTP statuses and messages. notFound is the
// message for ErrNotFound on this route.
func statusOf(err error, notFound string) (int, any) {
	var he *httpError
	var ve *workflow.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.message
	case errors.As(err, &ve):
		return http.StatusBadRequest, ve.Messages()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than the limit of %d bytes", mbe.Limit)
	case errors.Is(err, workflow.ErrNotFound):
		return http.StatusNotFound, notFound
	case errors.Is(err, workflow.ErrIdempotencyMismatch):
		return http.StatusUnprocessableEntity, "The idempotency key was already used with a different request"
	case errors.Is(err, workflow.ErrRunsInFlight):
		return http.StatusConflict, "The workflow has runs queued or running"
	case errors.Is(err, workflow.ErrConflict):
		return http.StatusConflict, "The request conflicts with the current state"
	case errors.Is(err, workflow.ErrInvalidData):
		return http.StatusBadRequest, "The request holds a value that cannot be stored: " + shorten(dataReason(err))
	case errors.Is(err, workflow.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, err.Error()
	case errors.Is(err, workflow.ErrUnavailable):
		return http.StatusServiceUnavailable, "The database is unavailable; retry shortly"
	}
	return http.StatusInternalServerError, "Internal server error"
}

// dataReason is the database's reason for refusing a value: the text after the ErrInvalidData
// sentinel in the error chain ("invalid data: <reason>").
func dataReason(err error) string {
	msg := err.Error()
	if _, reason, ok := strings.Cut(msg, workflow.ErrInvalidData.Error()+": "); ok {
		return reason
	}
	return "invalid data"
}

// statusClientClosed is the status recorded (in metrics and the log) for a request whose
// client went away before its answer: nginx's 499 "client closed request". The client never
// reads it; it is not a server error.
const statusClientClosed = 499

// clientGone reports whether r's client went away: the server cancels a request's context
// when its connection closes (the process's own shutdown does not cancel it).
func clientGone(r *http.Request) bool { return errors.Is(r.Context().Err(), context.Canceled) }

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error, notFound string) {
	if clientGone(r) {
		a.Log.DebugContext(r.Context(), "client closed the request before its answer", "method", r.Method, "path", r.URL.Path, "error", err)
		writeJSON(w, statusClientClosed, errorBody{StatusCode: statusClientClosed, Message: "Client closed the request", Error: "Client Closed Request"})
		return
	}
	status, msg := statusOf(err, notFound)
	switch status {
	case http.StatusInternalServerError:
		a.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	case http.StatusServiceUnavailable:
		a.Log.WarnContext(r.Context(), "request refused: a dependency is unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{StatusCode: status, Message: msg, Error: http.StatusText(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "error", err)
	}
}

// isoTime is a timestamp encoded as an ISO-8601 string with milliseconds and Z.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

func isoPtr(t *time.Time) *isoTime {
	if t == nil {
		return nil
	}
	v := isoTime(*t)
	return &v
}

func millis(t time.Time) int64 { return t.UnixMilli() }
