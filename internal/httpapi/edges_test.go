package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// statusOf is the one map from errors to statuses: every domain error, however wrapped, has
// its 4xx or 503, and only an unknown error is a 500.
func TestStatusOfDomainErrors(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("get run x: %w", fmt.Errorf("layer: %w", err)) }
	tests := []struct {
		err  error
		want int
	}{
		{wrap(workflow.ErrNotFound), 404},
		{wrap(workflow.ErrConflict), 409},
		{wrap(fmt.Errorf("%w: 2 runs: %w", workflow.ErrRunsInFlight, workflow.ErrConflict)), 409},
		{wrap(workflow.ErrIdempotencyMismatch), 422},
		{wrap(fmt.Errorf("%w: unsupported Unicode escape sequence", workflow.ErrInvalidData)), 400},
		{wrap(workflow.ErrTooLarge), 413},
		{wrap(fmt.Errorf("%w: canceling statement due to statement timeout", workflow.ErrUnavailable)), 503},
		{wrap(workflow.Invalid("input", "bad")), 400},
		{wrap(&http.MaxBytesError{Limit: 10}), 413},
		{errorf(418, "teapot"), 418},
		{wrap(errors.New("something unexpected")), 500},
		{context.Canceled, 500},
	}
	for _, tc := range tests {
		if got, _ := statusOf(tc.err, "x"); got != tc.want {
			t.Errorf("statusOf(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	// The database's reason for refusing a value is named, bounded.
	_, msg := statusOf(wrap(fmt.Errorf("%w: %s", workflow.ErrInvalidData, strings.Repeat("r", 1000))), "x")
	if s, _ := msg.(string); !strings.Contains(s, "cannot be stored: rrr") || len(s) > 300 {
		t.Errorf("invalid data message = %q, want the reason, bounded", s)
	}
}

// A 503 says when to retry.
func TestFailUnavailableSetsRetryAfter(t *testing.T) {
	t.Parallel()
	a := &API{Deps: Deps{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}}
	w := httptest.NewRecorder()
	a.fail(w, httptest.NewRequest("GET", "/workflows", nil), fmt.Errorf("x: %w", workflow.ErrUnavailable), "")
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
}

// Bodies PostgreSQL could not store are refused where they enter, naming the field.
func TestCheckText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body string
		want string // the field named; "" means accepted
	}{
		{`{"name":"ok","input":{"a":"fine \\u0000 escaped backslash"}}`, ""},
		{`{"name":"a\u0000b"}`, "name"},
		{`{"input":{"a":{"b":[1,2,{"c":"\u0000"}]}}}`, "input.a.b[2].c"},
		{`{"workflow":{"nodes":[{"base":{"name":"x\u0000"}}]}}`, "workflow.nodes[0].base.name"},
		{`{"input":{"k\u0000":1}}`, "input"},
		{`["\u0000"]`, "[0]"},
		{`"\u0000"`, "body"},
		{`{"a":"\u0000`, ""}, // malformed: left to the decoder
		{"{\"name\":\"caf\xe9\"}", "body"},
		{"{\"name\":\"\xed\xa0\x80\"}", "body"}, // an encoded surrogate is not UTF-8
	}
	for _, tc := range tests {
		err := checkText([]byte(tc.body), "")
		var ve *workflow.ValidationError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("checkText(%q) = %v, want accepted", tc.body, err)
		case tc.want != "" && (!errors.As(err, &ve) || ve.Problems[0].Field != tc.want):
			t.Errorf("checkText(%q) = %v, want a problem at %q", tc.body, err, tc.want)
		}
	}
	deep := strings.Repeat(`[`, 20000) + `"\u0000"` + strings.Repeat(`]`, 20000)
	if err := checkText([]byte(deep), ""); err != nil {
		t.Errorf("deeply nested body: %v, want it left to the decoder", err)
	}
}

// FuzzCheckText: no body panics it, and a body it accepts is one PostgreSQL takes as text.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"\u0000"}`, `{"a":["\u0000"]}`, "\xff", `{"\u0000":1}`, `[[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkText(body, "")
		if err == nil {
			if !utf8.Valid(body) {
				t.Fatalf("accepted invalid UTF-8: %q", body)
			}
			if path, found := nulPath(body, ""); found {
				t.Fatalf("accepted NUL at %q", path)
			}
			return
		}
		if status, _ := statusOf(err, ""); status != 400 {
			t.Fatalf("refused with %d: %v", status, err)
		}
	})
}

// Query strings are parsed strictly: what net/url would silently drop is a 400 naming the
// parameter.
func TestQueryValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query string
		want  string // the field named; "" means accepted
	}{
		{"provider=apollo&category=crm", ""},
		{"provider=a%20b&x", ""},
		{"provider=%zz", "provider"},
		{"provider=%", "provider"},
		{"pro%zzvider=1", "query"},
		{"provider=%00", "provider"},
		{"provider=%ff", "provider"},
		{"limit=1;cursor=2", ""}, // ";" is no separator here: one odd parameter, not an error
	}
	for _, tc := range tests {
		r := httptest.NewRequest("GET", "/x", nil)
		r.URL.RawQuery = tc.query
		_, err := queryValues(r)
		var ve *workflow.ValidationError
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("queryValues(%q) = %v, want accepted", tc.query, err)
		case tc.want != "" && (!errors.As(err, &ve) || ve.Problems[0].Field != tc.want):
			t.Errorf("queryValues(%q) = %v, want a problem at %q", tc.query, err, tc.want)
		}
	}
}

// Only canonical UUIDs address stored objects; uuid.Parse's other spellings do not.
func TestPathIDCanonicalOnly(t *testing.T) {
	t.Parallel()
	const id = "6f1c2f9e-8a57-4f7e-9c61-2a0d3b1f0c11"
	for value, want := range map[string]string{
		id:                              id,
		strings.ToUpper(id):             id,
		"urn:uuid:" + id:                "",
		"{" + id + "}":                  "",
		strings.ReplaceAll(id, "-", ""): "",
		"abc":                           "",
		"":                              "",
	} {
		rctx := chi.NewRouteContext()
		rctx.URLParams.Add("id", value)
		r := httptest.NewRequest("GET", "/", nil).WithContext(context.WithValue(context.Background(), chi.RouteCtxKey, rctx))
		got, ok := pathID(r, "id")
		if got != want || ok != (want != "") {
			t.Errorf("pathID(%q) = %q, %v; want %q", value, got, ok, want)
		}
	}
}
