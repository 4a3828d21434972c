package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

func openStore(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: dbURL, MaxConns: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func newWorkflow(t *testing.T, st *store.Store) workflow.Workflow {
	t.Helper()
	def := workflowtest.New().Input("in").Notify("note", "hi").Chain("in", "note").Build()
	w, err := st.CreateWorkflow(context.Background(), "w", def, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// newRun is a running run of w with one queued task and the given logs.
func newRun(w workflow.Workflow, key string, hash []byte, logs ...engine.LogEntry) engine.NewRun {
	id := uuid.NewString()
	for i := range logs {
		logs[i].RunID = id
	}
	return engine.NewRun{ID: id, WorkflowID: w.ID, VersionID: w.VersionID, Input: json.RawMessage(`{}`), IdempotencyKey: key,
		RequestHash: hash, Now: time.Now(), Logs: logs,
		Tasks: []engine.NewTask{{ID: engine.TaskID(id, "in"), NodeID: "in", NodeType: workflow.TypeInputText, Status: workflow.TaskQueued}}}
}

// Values PostgreSQL refuses (NUL in text or jsonb) are ErrInvalidData, never "not found" or an
// unknown error; ids in a non-canonical form name nothing.
func TestStoreRefusedValuesAndIDs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	def := workflowtest.New().Input("in").Build()
	if _, err := st.CreateWorkflow(ctx, "nul\x00name", def, time.Now()); !errors.Is(err, workflow.ErrInvalidData) || errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("workflow name with NUL: %v, want ErrInvalidData", err)
	}
	w := newWorkflow(t, st)
	r := newRun(w, "", nil)
	r.Input = json.RawMessage(`{"a":"\u0000"}`)
	if _, _, err := st.CreateRun(ctx, r); !errors.Is(err, workflow.ErrInvalidData) || errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("run input with \\u0000: %v, want ErrInvalidData", err)
	}
	r = newRun(w, "", nil)
	r.IdempotencyKey = "bad\xffkey"
	if _, _, err := st.CreateRun(ctx, r); !errors.Is(err, workflow.ErrInvalidData) {
		t.Errorf("idempotency key with invalid UTF-8: %v, want ErrInvalidData", err)
	}

	runID, _, err := st.CreateRun(ctx, newRun(w, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"urn:uuid:" + w.ID, "{" + w.ID + "}", strings.ReplaceAll(w.ID, "-", ""), "abc", ""} {
		if _, err := st.GetWorkflow(ctx, id); !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("GetWorkflow(%q): %v, want ErrNotFound", id, err)
		}
		if _, err := st.RunView(ctx, workflow.RunKey{RunID: id}, workflow.Page{}); !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("RunView(%q): %v, want ErrNotFound", id, err)
		}
		if _, err := st.RunView(ctx, workflow.RunKey{WorkflowID: id, RunID: runID}, workflow.Page{}); id != "" && !errors.Is(err, workflow.ErrNotFound) {
			t.Errorf("RunView through workflow %q: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := st.GetWorkflow(ctx, strings.ToUpper(w.ID)); err != nil {
		t.Errorf("GetWorkflow in upper case: %v", err)
	}
	// A run through another workflow is not found on every run read.
	other := newWorkflow(t, st)
	wrong := workflow.RunKey{WorkflowID: other.ID, RunID: runID}
	if _, err := st.RunView(ctx, wrong, workflow.Page{}); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("RunView through another workflow: %v, want ErrNotFound", err)
	}
	if _, _, err := st.RunLogs(ctx, wrong, workflow.Page{}); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("RunLogs through another workflow: %v, want ErrNotFound", err)
	}
	if err := st.RunExists(ctx, wrong); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("RunExists through another workflow: %v, want ErrNotFound", err)
	}
	if _, err := st.TaskOutput(ctx, wrong, engine.TaskID(runID, "in")); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("TaskOutput through another workflow: %v, want ErrNotFound", err)
	}
	if err := st.RunExists(ctx, workflow.RunKey{WorkflowID: w.ID, RunID: runID}); err != nil {
		t.Errorf("RunExists through its own workflow: %v", err)
	}
}

// A run started for a workflow deleted meanwhile (its version read before the delete) is
// ErrNotFound, not an unknown foreign-key failure.
func TestStoreStartAfterDeleteIsNotFound(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	if err := st.DeleteWorkflow(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateRun(ctx, newRun(w, "", nil)); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("start after delete: %v, want ErrNotFound", err)
	}
}

// A workflow with runs in flight is not deleted (ErrRunsInFlight, a conflict); once they are
// finished it is.
func TestStoreDeleteWithRunsInFlight(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testenv.Database(t)
	st := openStore(t, dbURL)
	w := newWorkflow(t, st)
	runID, _, err := st.CreateRun(ctx, newRun(w, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	err = st.DeleteWorkflow(ctx, w.ID)
	if !errors.Is(err, workflow.ErrRunsInFlight) || !errors.Is(err, workflow.ErrConflict) {
		t.Fatalf("delete with a run in flight: %v, want ErrRunsInFlight", err)
	}
	if ids, err := st.RunsInFlightOf(ctx, w.ID); err != nil || len(ids) != 1 || ids[0] != runID {
		t.Fatalf("RunsInFlightOf = %v, %v, want [%s]", ids, err, runID)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE runs SET status = 'cancelled' WHERE id = $1`, runID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteWorkflow(ctx, w.ID); err != nil {
		t.Fatalf("delete with no run in flight: %v", err)
	}
	if _, err := st.GetWorkflow(ctx, w.ID); !errors.Is(err, workflow.ErrNotFound) {
		t.Fatalf("workflow after delete: %v, want ErrNotFound", err)
	}
}

// A statement cut short by statement_timeout is ErrUnavailable (a 503 with Retry-After), not
// an unknown error.
func TestStoreStatementTimeoutIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testenv.Database(t)
	st := openStore(t, dbURL)
	w := newWorkflow(t, st)

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c statement_timeout=200")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	limited := openStore(t, u.String())

	// Another session holds the workflow's row, so the update waits until the timeout.
	holder, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // released at the end of the test
	if _, err := tx.Exec(ctx, `SELECT 1 FROM workflows WHERE id = $1 FOR UPDATE`, w.ID); err != nil {
		t.Fatal(err)
	}
	_, err = limited.UpdateWorkflow(ctx, w.ID, "renamed", w.Definition, time.Now())
	if !errors.Is(err, workflow.ErrUnavailable) {
		t.Fatalf("update past statement_timeout: %v, want ErrUnavailable", err)
	}
}

// The same idempotency key with the same request hash returns the first run; with another
// hash it is ErrIdempotencyMismatch; runs stored without a hash match any request.
func TestStoreIdempotencyKeyBindsRequest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testenv.Database(t)
	st := openStore(t, dbURL)
	w := newWorkflow(t, st)
	first, created, err := st.CreateRun(ctx, newRun(w, "k", []byte("hash-a")))
	if err != nil || !created {
		t.Fatalf("first start: %v created=%v", err, created)
	}
	again, created, err := st.CreateRun(ctx, newRun(w, "k", []byte("hash-a")))
	if err != nil || created || again != first {
		t.Fatalf("same key and request: %s created=%v %v, want %s not created", again, created, err, first)
	}
	if _, _, err := st.CreateRun(ctx, newRun(w, "k", []byte("hash-b"))); !errors.Is(err, workflow.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other request: %v, want ErrIdempotencyMismatch", err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE runs SET request_hash = NULL WHERE id = $1`, first); err != nil {
		t.Fatal(err)
	}
	if old, _, err := st.CreateRun(ctx, newRun(w, "k", []byte("hash-b"))); err != nil || old != first {
		t.Fatalf("key of a run stored without a hash: %s %v, want %s", old, err, first)
	}
}

// Log pages follow (timestamp, sequence): lines written at the same instant are neither
// repeated nor skipped across pages, and every large value comes back cut to its bound.
func TestStoreLogPagesAndPreviews(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	at := time.Now()
	big := strings.Repeat("é", 3*store.PreviewChars)
	var logs []engine.LogEntry
	for i := range 25 {
		logs = append(logs, engine.LogEntry{NodeID: "in", Type: workflow.LogNodeOutput, Message: fmt.Sprintf("line %02d %s", i, big),
			Data: map[string]any{"blob": strings.Repeat("x", 2*store.InlineBytes)}, At: at})
	}
	logs = append(logs, engine.LogEntry{Type: workflow.LogSystem, Message: "small", Data: map[string]any{"k": "v"}, At: at})
	runID, _, err := st.CreateRun(ctx, newRun(w, "", nil, logs...))
	if err != nil {
		t.Fatal(err)
	}
	key := workflow.RunKey{WorkflowID: w.ID, RunID: runID}
	var got []workflow.LogView
	page := workflow.Page{Limit: 4}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("more pages than lines")
		}
		lines, next, err := st.RunLogs(ctx, key, page)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) > 4 {
			t.Fatalf("page of %d lines, limit 4", len(lines))
		}
		got = append(got, lines...)
		if next == "" {
			break
		}
		page.Cursor = next
	}
	if len(got) != len(logs) {
		t.Fatalf("%d lines over all pages, want %d", len(got), len(logs))
	}
	for i, l := range got[:25] {
		if !strings.HasPrefix(l.Message, fmt.Sprintf("line %02d ", i)) {
			t.Fatalf("line %d is %.12q: pages repeat or skip lines", i, l.Message)
		}
		if n := len([]rune(l.Message)); n != store.PreviewChars || !l.MessageTruncated {
			t.Errorf("line %d: %d characters, truncated=%v, want a %d-character preview", i, n, l.MessageTruncated, store.PreviewChars)
		}
		if l.Data != nil || !l.DataTruncated || l.TaskID == nil || *l.TaskID != engine.TaskID(runID, "in") {
			t.Errorf("line %d: data %d bytes, truncated=%v, task %v: want large data left out and the node's task named", i, len(l.Data), l.DataTruncated, l.TaskID)
		}
	}
	if last := got[25]; last.Message != "small" || last.MessageTruncated || last.DataTruncated || string(last.Data) != `{"k": "v"}` {
		t.Errorf("small line = %+v, want it whole", last)
	}
	for _, bad := range []workflow.Page{{Cursor: "nonsense"}, {Cursor: "bm9wZQ"}, {Limit: store.MaxLogPage + 1}, {Limit: -1}} {
		var ve *workflow.ValidationError
		if _, _, err := st.RunLogs(ctx, key, bad); !errors.As(err, &ve) {
			t.Errorf("RunLogs(%+v): %v, want a validation error", bad, err)
		}
	}
	view, err := st.RunView(ctx, key, workflow.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Logs) != 10 || view.LogsNext == "" {
		t.Errorf("run view: %d logs, next %q, want the first page of 10 and a cursor", len(view.Logs), view.LogsNext)
	}
}

// A run starting while its workflow is deleted either is seen by the delete (which then
// refuses: runs in flight) or finds its workflow gone (ErrNotFound): never both succeed, which
// would drop a run the client was told had started.
func TestStoreStartRacingDelete(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	for i := range 30 {
		w := newWorkflow(t, st)
		r := newRun(w, "", nil)
		start := make(chan struct{})
		createErr, deleteErr := make(chan error, 1), make(chan error, 1)
		go func() { <-start; _, _, err := st.CreateRun(ctx, r); createErr <- err }()
		go func() { <-start; deleteErr <- st.DeleteWorkflow(ctx, w.ID) }()
		close(start)
		cErr, dErr := <-createErr, <-deleteErr
		switch {
		case cErr == nil && dErr == nil:
			t.Fatalf("round %d: the run started and the workflow was deleted: the run is lost", i)
		case cErr == nil && !errors.Is(dErr, workflow.ErrRunsInFlight):
			t.Fatalf("round %d: run started, delete failed with %v, want ErrRunsInFlight", i, dErr)
		case dErr == nil && !errors.Is(cErr, workflow.ErrNotFound):
			t.Fatalf("round %d: workflow deleted, start failed with %v, want ErrNotFound", i, cErr)
		case cErr != nil && dErr != nil:
			t.Fatalf("round %d: both failed: start %v, delete %v", i, cErr, dErr)
		}
	}
}
