package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// panickingCaller is an apiCall HTTP client that panics on every request.
type panickingCaller struct{ calls atomic.Int32 }

func (p *panickingCaller) Do(*http.Request) (*outbound.Response, error) {
	p.calls.Add(1)
	panic("caller exploded")
}

// A node that panics on every delivery is delivered again a bounded number of times, each
// redelivery counted apart from its attempts and logged with its cause, and then fails the
// task and the run with the reason.
func TestPanickingNodeEndsAfterBoundedRedeliveries(t *testing.T) {
	t.Parallel()
	caller := &panickingCaller{}
	h := newHarnessWith(t, harnessOptions{caller: caller, config: engine.Config{MaxRedeliveries: 2}})
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("api", "GET", "http://127.0.0.1:1/never", map[string]any{"retries": 3, "onError": "continue"}).Chain("in", "api").Build())
	r := h.waitRun(h.start(w, nil))
	api := taskOf(t, r, "api")
	if r.Status != workflow.RunFailed || api.Status != workflow.TaskFailed {
		t.Fatalf("run %s, api %s; want both failed", r.Status, api.Status)
	}
	if api.Attempt != 1 || api.Redeliveries != 3 || caller.calls.Load() != 3 {
		t.Fatalf("api attempt %d, redeliveries %d, calls %d; want 1 attempt, 3 redeliveries (the last one over the bound of 2), 2+1 calls",
			api.Attempt, api.Redeliveries, caller.calls.Load())
	}
	if api.Error == nil || !strings.Contains(*api.Error, "panic: caller exploded") || !strings.Contains(*api.Error, "giving up after 2 redeliveries") {
		t.Fatalf("api error %q, want the panic and the bound", derefString(api.Error))
	}
	var redelivered int
	for _, l := range logsOfType(r, workflow.LogError) {
		if strings.Contains(l, "delivering it again") && strings.Contains(l, "panic: caller exploded") {
			redelivered++
		}
	}
	if redelivered != 2 || h.obs.redeliveries(engine.CausePanic) != 3 {
		t.Fatalf("%d redelivery log lines, %d panic redeliveries observed; want 2 and 3 (logs: %q)", redelivered,
			h.obs.redeliveries(engine.CausePanic), logsOfType(r, workflow.LogError))
	}
}

func derefString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// refusingStore is the real store, except that a completion whose output contains marker is
// sent with an output PostgreSQL refuses (a number beyond numeric's range).
type refusingStore struct {
	engine.Store
	marker string
}

func (s refusingStore) InRun(ctx context.Context, runID string, fn func(engine.RunTx) error) error {
	return s.Store.InRun(ctx, runID, func(tx engine.RunTx) error { return fn(refusingTx{tx, s.marker}) })
}

type refusingTx struct {
	engine.RunTx
	marker string
}

func (tx refusingTx) FinishTask(ctx context.Context, f engine.TaskFinish) error {
	if strings.Contains(string(f.Output), tx.marker) {
		f.Output = json.RawMessage(`{"n": 1e1000000}`)
	}
	return tx.RunTx.FinishTask(ctx, f)
}

// A completion PostgreSQL refuses (a data exception) fails the node at once, on its first
// delivery, with the database's reason in the task and the run's logs; it is not delivered again.
func TestCompletionTheDatabaseRefusesFailsTheTask(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls.Add(1)
		w.Write([]byte("refuse-me"))
	}))
	t.Cleanup(srv.Close)
	h := newHarnessWith(t, harnessOptions{wrapStore: func(s engine.Store) engine.Store { return refusingStore{s, "refuse-me"} }})
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("api", "GET", srv.URL, nil).Notify("after", "after").Chain("in", "api", "after").Build())
	r := h.waitRun(h.start(w, nil))
	api := taskOf(t, r, "api")
	if r.Status != workflow.RunFailed || api.Status != workflow.TaskFailed || statuses(r)["after"] != workflow.TaskSkipped {
		t.Fatalf("run %s, tasks %v; want the run and api failed, after skipped", r.Status, statuses(r))
	}
	if api.Attempt != 1 || api.Redeliveries != 0 || calls.Load() != 1 {
		t.Fatalf("api attempt %d, redeliveries %d, calls %d; want one delivery and one call", api.Attempt, api.Redeliveries, calls.Load())
	}
	want := "the database refused to store its output or logs (value refused by the database: value overflows numeric format"
	if api.Error == nil || !strings.Contains(*api.Error, want) {
		t.Fatalf("api error %q, want it to contain %q", derefString(api.Error), want)
	}
	if errs := logsOfType(r, workflow.LogError); len(errs) != 1 || !strings.Contains(errs[0], want) {
		t.Fatalf("error logs %q, want one with the reason", errs)
	}
}

// A response whose JSON strings hold NUL (\u0000), and a binary one, are stored: the run
// succeeds on the first delivery, NUL arrives as U+FFFD and the binary body as base64.
func TestResponsesWithNULAndBinaryBodiesAreStored(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/image" {
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"name": "a\u0000b", "k\u0000": ["\u0000"]}`))
	}))
	t.Cleanup(srv.Close)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("json", "GET", srv.URL+"/json", map[string]any{"onError": "fail"}).
		APICall("image", "GET", srv.URL+"/image", map[string]any{"onError": "fail"}).
		Chain("in", "json").Chain("in", "image").Build())
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s, tasks %v, error %q; want succeeded", r.Status, statuses(r), r.Error)
	}
	for _, task := range r.Tasks {
		if task.Attempt != 1 || task.Redeliveries != 0 {
			t.Errorf("task %s: attempt %d, redeliveries %d; want one delivery", task.NodeID, task.Attempt, task.Redeliveries)
		}
	}
	_, outputs, err := h.store.RunValues(context.Background(), r.ID, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	data := func(nodeID string) any {
		var out map[string]any
		if err := json.Unmarshal(outputs[nodeID], &out); err != nil {
			t.Fatalf("output of %s: %v", nodeID, err)
		}
		return out["data"]
	}
	got, _ := json.Marshal(data("json"))
	if string(got) != `{"k`+"\uFFFD"+`":["`+"\uFFFD"+`"],"name":"a`+"\uFFFD"+`b"}` {
		t.Errorf("json data %s, want NUL replaced by U+FFFD", got)
	}
	img, _ := data("image").(map[string]any)
	if img["encoding"] != "base64" || img["contentType"] != "image/png" || img["data"] != "iVBORw0KGgoAAAANSUhEUv8=" {
		t.Errorf("image data %v, want the body as base64 with its content type", img)
	}
}

// failingStore is the real store, except that every completion of a claimed task (the
// classic path: apiCall nodes) fails as if the connection dropped: a delivery that can never
// record its outcome.
type failingStore struct{ engine.Store }

func (s failingStore) InRun(ctx context.Context, runID string, fn func(engine.RunTx) error) error {
	return s.Store.InRun(ctx, runID, func(tx engine.RunTx) error { return fn(failingTx{tx}) })
}

type failingTx struct{ engine.RunTx }

func (tx failingTx) FinishTask(ctx context.Context, f engine.TaskFinish) error {
	if f.To == workflow.TaskCompleted && !f.Claim {
		return errors.New("write tcp: connection reset by peer")
	}
	return tx.RunTx.FinishTask(ctx, f)
}

// A delivery that keeps failing for an infrastructure reason ends too: each redelivery is
// counted with cause "error", the node's retries are untouched, and past the bound the task
// fails with the last error.
func TestDeliveryFailingForInfrastructureReasonsEnds(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls.Add(1) }))
	t.Cleanup(srv.Close)
	h := newHarnessWith(t, harnessOptions{config: engine.Config{MaxRedeliveries: 1},
		wrapStore: func(s engine.Store) engine.Store { return failingStore{s} }})
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("api", "GET", srv.URL, map[string]any{"retries": 3}).Chain("in", "api").Build())
	r := h.waitRun(h.start(w, nil))
	api := taskOf(t, r, "api")
	if r.Status != workflow.RunFailed || api.Status != workflow.TaskFailed || api.Attempt != 1 || api.Redeliveries != 2 || calls.Load() != 2 {
		t.Fatalf("run %s, api %s after %d attempts, %d redeliveries, %d calls; want failed after 1 attempt, 2 redeliveries, 2 calls",
			r.Status, api.Status, api.Attempt, api.Redeliveries, calls.Load())
	}
	if api.Error == nil || !strings.Contains(*api.Error, "connection reset by peer") || h.obs.redeliveries(engine.CauseError) != 2 {
		t.Fatalf("api error %q, %d redeliveries with cause error; want the last error and 2", derefString(api.Error), h.obs.redeliveries(engine.CauseError))
	}
}
