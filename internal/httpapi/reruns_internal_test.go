package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// fakeRerunner answers every retry and re-run with err, or a new run, and keeps the request.
type fakeRerunner struct {
	err  error
	last engine.RerunRequest
}

func (f *fakeRerunner) Start(context.Context, engine.StartRequest) (engine.Started, error) {
	return engine.Started{}, nil
}
func (f *fakeRerunner) Cancel(context.Context, string) error { return nil }
func (f *fakeRerunner) Rerun(_ context.Context, req engine.RerunRequest) (engine.Started, error) {
	f.last = req
	return engine.Started{RunID: "5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7", Created: req.IdempotencyKey != "again"}, f.err
}

const someRun = "0d3c1c5e-8f6a-4c39-9a3b-6f0f0b7f6a11"

// The routes' error mapping, without services: the engine's refusals are 409 with their
// reason, an unknown run 404, invalid bodies and engine validation 422 naming the field, a
// reused key with another request 422; a repeat of a keyed request is 200, a new run 201.
func TestRerunRoutesMapErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path, body, key string
		err                   error
		status                int
		says                  string
	}{
		{"created", "/retry", "", "", nil, http.StatusCreated, `"rerunKind":"retry"`},
		{"repeat", "/retry", "", "again", nil, http.StatusOK, `"parentRunId":"` + someRun + `"`},
		{"rerun", "/rerun", `{"fromNodeId":"b"}`, "", nil, http.StatusCreated, `"rerunFromNodeId":"b"`},
		{"in flight", "/retry", "", "", &engine.RerunRefusal{Reason: "Workflow run x is running"}, http.StatusConflict, "is running"},
		{"unknown run", "/retry", "", "", fmt.Errorf("retry: %w", workflow.ErrNotFound), http.StatusNotFound, "Workflow run not found"},
		{"unknown node", "/rerun", `{"fromNodeId":"zz"}`, "", workflow.Invalid("fromNodeId", "node %q does not exist", "zz"), http.StatusUnprocessableEntity, "fromNodeId: node"},
		{"key reused", "/retry", "", "k", workflow.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, `Idempotency key \"k\"`},
		{"no body", "/rerun", "", "", nil, http.StatusUnprocessableEntity, "fromNodeId: is required"},
		{"bad version", "/rerun", `{"fromNodeId":"b","version":"v2"}`, "", nil, http.StatusUnprocessableEntity, "version: must be"},
		{"bad input", "/rerun", `{"fromNodeId":"b","input":"x"}`, "", nil, http.StatusUnprocessableEntity, "input: must be a JSON object"},
		{"unknown field", "/rerun", `{"fromNodeId":"b","from":"c"}`, "", nil, http.StatusUnprocessableEntity, `from\" should not exist`},
		{"bad json", "/retry", `{`, "", nil, http.StatusUnprocessableEntity, "malformed JSON"},
		{"long key", "/retry", "", strings.Repeat("k", 201), nil, http.StatusUnprocessableEntity, "Idempotency-Key: must be at most"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &fakeRerunner{err: tc.err}
			h := New(Config{}, Deps{Engine: fake, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			req := httptest.NewRequest(http.MethodPost, "/workflows/runs/"+someRun+tc.path, strings.NewReader(tc.body))
			if tc.key != "" {
				req.Header.Set("Idempotency-Key", tc.key)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.says) {
				t.Errorf("%d %s, want %d mentioning %q", rec.Code, rec.Body, tc.status, tc.says)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("body is not JSON: %s", rec.Body)
			}
		})
	}
	// The per-workflow route passes its workflow, the header its key.
	fake := &fakeRerunner{}
	h := New(Config{}, Deps{Engine: fake, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	req := httptest.NewRequest(http.MethodPost, "/workflows/"+someRun+"/runs/"+someRun+"/rerun", strings.NewReader(`{"fromNodeId":"b","version":"current","input":{"k":1},"idempotencyKey":"body"}`))
	req.Header.Set("Idempotency-Key", "header")
	h.ServeHTTP(httptest.NewRecorder(), req)
	want := engine.RerunRequest{RunID: someRun, WorkflowID: someRun, Origin: engine.OriginRerun, FromNodeID: "b", Version: "current", Input: json.RawMessage(`{"k":1}`), IdempotencyKey: "header"}
	if got := fake.last; got.RunID != want.RunID || got.WorkflowID != want.WorkflowID || got.Origin != want.Origin || got.FromNodeID != want.FromNodeID ||
		got.Version != want.Version || string(got.Input) != string(want.Input) || got.IdempotencyKey != want.IdempotencyKey {
		t.Errorf("request %+v, want %+v", got, want)
	}
}
