package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// target is an HTTP endpoint for apiCall nodes with scripted failures.
type target struct {
	*httptest.Server
	mu        sync.Mutex
	calls     map[string]int
	cancelled atomic.Int32
	times     map[string][]time.Time
}

func newTarget(t *testing.T) *target {
	tg := &target{calls: map[string]int{}, times: map[string][]time.Time{}}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		tg.calls[r.URL.Path]++
		n := tg.calls[r.URL.Path]
		tg.times[r.URL.Path] = append(tg.times[r.URL.Path], time.Now())
		tg.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte(`{"city":"Paris"}`))
		case "/flaky": // 503 twice, then 200
			if n <= 2 {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte(`{"error":"busy"}`))
				return
			}
			w.Write([]byte(`{"ok":true}`))
		case "/down":
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":"down"}`))
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"no such thing"}`))
		case "/limited": // 429 with Retry-After: 1 once, then 200
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			w.Write([]byte(`{"ok":true}`))
		case "/hang":
			<-r.Context().Done()
			tg.cancelled.Add(1)
		}
	}))
	t.Cleanup(tg.Server.Close)
	return tg
}

func (tg *target) count(path string) int {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.calls[path]
}

func jsonEqual(t *testing.T, got json.RawMessage, want string) bool {
	t.Helper()
	var a, b any
	if err := json.Unmarshal(got, &a); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(want), &b); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(a, b)
}

// Rule 7: retryable errors retry with backoff and succeed; each failure writes an error log.
func TestRetryThenSucceed(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().APICall("api", "GET", srv.URL+"/flaky", map[string]any{"retries": 3}).Notify("n", "{{data.ok}}").Chain("api", "n").Build())
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded", r.Status)
	}
	if a := taskOf(t, r, "api"); a.Attempt != 3 || srv.count("/flaky") != 3 {
		t.Fatalf("api attempt %d with %d calls, want 3 and 3", a.Attempt, srv.count("/flaky"))
	}
	if errs := logsOfType(r, workflow.LogError); len(errs) != 2 || !strings.Contains(errs[0], "retrying in") {
		t.Fatalf("error logs %q, want 2 retry lines", errs)
	}
	if got := nodeLogs(r, "n"); len(got) != 1 || got[0] != "true" {
		t.Fatalf("n logged %q, want [true]", got)
	}
}

// A 429 with Retry-After waits at least that long before the next attempt.
func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().APICall("api", "GET", srv.URL+"/limited", nil).Build())
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunSucceeded || srv.count("/limited") != 2 {
		t.Fatalf("status %s after %d calls, want succeeded after 2", r.Status, srv.count("/limited"))
	}
	srv.mu.Lock()
	gap := srv.times["/limited"][1].Sub(srv.times["/limited"][0])
	srv.mu.Unlock()
	if gap < time.Second {
		t.Fatalf("second attempt %s after the 429, want at least the Retry-After of 1s", gap)
	}
}

// onError fail: the node fails, what is pending is skipped and the run fails, with an error log.
func TestOnErrorFailFailsRun(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("api", "GET", srv.URL+"/down", map[string]any{"retries": 2, "onError": "fail"}).
		Notify("next", "never").Notify("later", "never").Chain("in", "api", "next", "later").Build())
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunFailed {
		t.Fatalf("status %s, want failed", r.Status)
	}
	want := map[string]string{"in": "completed", "api": "failed", "next": "skipped", "later": "skipped"}
	if got := statuses(r); !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	if a := taskOf(t, r, "api"); a.Attempt != 3 || a.Error == nil || !strings.Contains(*a.Error, "500") {
		t.Fatalf("api attempt %d error %v; want 3 attempts and the 500 in the error", a.Attempt, a.Error)
	}
	if errs := logsOfType(r, workflow.LogError); len(errs) != 3 {
		t.Fatalf("error logs %q, want 2 retries + 1 failure", errs)
	}
	var final *workflow.LogLine
	for i, l := range r.Logs {
		if l.Type == workflow.LogError && strings.HasPrefix(l.Message, "Node api failed") {
			final = &r.Logs[i]
		}
	}
	var data struct{ Reason string }
	if final == nil || json.Unmarshal(final.Data, &data) != nil || data.Reason != "http_5xx" {
		t.Fatalf("final failure log %+v, want its data to carry the reason http_5xx", final)
	}
	if r.Error == "" {
		t.Error("run error is empty")
	}
	// The observer learns what ended the run and what it ended, once.
	testenv.WaitFor(t, 5*time.Second, "the run's end to be reported", func() bool { return len(h.obs.abortsOf(r.ID)) > 0 })
	if got, want := h.obs.abortsOf(r.ID), []engine.AbortedRun{{RunID: r.ID, Cause: engine.AbortCauseRunFailure, Skipped: 2}}; !reflect.DeepEqual(got, want) {
		t.Errorf("reported early ends %+v, want %+v", got, want)
	}
}

// A permanent error is not retried; apiCall's default onError (continue) completes the node
// with the seed's error envelope and the run goes on.
func TestPermanentErrorContinues(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().APICall("api", "GET", srv.URL+"/missing", nil).Notify("n", "{{status}} {{success}} {{data.error}}").Chain("api", "n").Build())
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunSucceeded || srv.count("/missing") != 1 {
		t.Fatalf("status %s with %d calls, want succeeded with 1 (no retry of a 404)", r.Status, srv.count("/missing"))
	}
	if got := nodeLogs(r, "n"); len(got) != 1 || got[0] != "404 false no such thing" {
		t.Fatalf("n logged %q, want the error envelope", got)
	}
	if errs := logsOfType(r, workflow.LogError); len(errs) != 2 {
		t.Fatalf("error logs %q, want the node's failure and the run's summary of failed nodes", errs)
	}
}

// A node type this worker does not know fails its task permanently instead of retrying.
func TestUnknownNodeTypeFailsPermanently(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	def := workflowtest.New().Node("x", "teleport", map[string]any{}).Build()
	w, err := h.store.CreateWorkflow(context.Background(), "legacy", def, time.Now()) // bypasses validation, like an old version would
	if err != nil {
		t.Fatal(err)
	}
	r := h.waitRun(h.start(w, nil))
	x := taskOf(t, r, "x")
	if r.Status != workflow.RunFailed || x.Attempt != 1 || x.Error == nil || !strings.Contains(*x.Error, "does not know") {
		t.Fatalf("status %s attempt %d error %v; want failed once with a clear message", r.Status, x.Attempt, x.Error)
	}
}

// Rule 10: a node's deadline cuts a hanging call; a run's deadline fails the run.
func TestTimeouts(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().APICall("api", "GET", srv.URL+"/hang", map[string]any{"timeoutMs": 100, "retries": 0, "onError": "fail"}).Build())
	r := h.waitRun(h.start(w, nil))
	if a := taskOf(t, r, "api"); r.Status != workflow.RunFailed || a.Error == nil || !strings.Contains(*a.Error, "timeout") {
		t.Fatalf("status %s error %v; want failed with a timeout", r.Status, a.Error)
	}
	testenv.WaitFor(h.t, 5*time.Second, "the hanging request to be cancelled", func() bool { return srv.cancelled.Load() >= 1 })
}

// Rule 13: a node whose failure onError: continue absorbs is recorded as failed-and-continued
// on its task, in the run result's failedNodes and in the run's logs, and counted once as a
// final task outcome however many attempts it took; the run's status stays succeeded.
func TestContinuedFailureIsRecorded(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("api", "GET", srv.URL+"/down", map[string]any{"retries": 1}).
		Notify("n", "{{success}}").Chain("in", "api", "n").Build())
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunSucceeded || srv.count("/down") != 2 {
		t.Fatalf("status %s with %d calls, want succeeded after 2 attempts", r.Status, srv.count("/down"))
	}
	api := taskOf(t, r, "api")
	if api.Status != workflow.TaskCompleted || api.Outcome != "failed_continued" || api.Error == nil || !strings.Contains(*api.Error, "500") {
		t.Fatalf("api task status %s outcome %q error %v; want completed, failed_continued and the 500 in its error", api.Status, api.Outcome, api.Error)
	}
	for _, id := range []string{"in", "n"} {
		if task := taskOf(t, r, id); task.Outcome != "" || task.Error != nil {
			t.Errorf("task %s outcome %q error %v; want neither", id, task.Outcome, task.Error)
		}
	}
	var result struct {
		CompletedTasks       int
		FailedTasks          int
		FailedContinuedTasks int
		FailedNodes          []string
	}
	if err := json.Unmarshal(r.Result, &result); err != nil {
		t.Fatal(err)
	}
	if result.CompletedTasks != 3 || result.FailedTasks != 0 || result.FailedContinuedTasks != 1 || !reflect.DeepEqual(result.FailedNodes, []string{"api"}) {
		t.Fatalf("result %s; want 3 completed, 0 failed, failedContinuedTasks 1 and failedNodes [api]", r.Result)
	}
	var summary []string
	for _, m := range logsOfType(r, workflow.LogError) {
		if strings.HasPrefix(m, "Workflow run succeeded with 1 failed node(s)") && strings.HasSuffix(m, ": api") {
			summary = append(summary, m)
		}
	}
	if len(summary) != 1 {
		t.Fatalf("error logs %q; want one run summary naming the failed node api", logsOfType(r, workflow.LogError))
	}
	if last := r.Logs[len(r.Logs)-1]; last.Type != workflow.LogSystem || last.Message != "Workflow run succeeded" {
		t.Errorf("last log %s %q, want the system line \"Workflow run succeeded\" the front end expects", last.Type, last.Message)
	}
	// The run's end is reported after its tasks' outcomes, so once it is, every count is final.
	testenv.WaitFor(t, 5*time.Second, "the run's end to be reported", func() bool { return h.obs.count(workflow.RunSucceeded) == 1 })
	outcomes, failedRuns := h.obs.taskOutcomes()
	if want := map[string]int{"completed": 2, "failed_continued": 1}; !reflect.DeepEqual(outcomes, want) || failedRuns != 1 {
		t.Fatalf("final task outcomes %v and %d runs with failed nodes; want %v and 1", outcomes, failedRuns, want)
	}
}

// Failed, skipped and cancelled tasks are each counted once as a final outcome; a run without
// continued failures lists no failed nodes.
func TestFinalTaskOutcomesOfFailedRun(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("api", "GET", srv.URL+"/down", map[string]any{"retries": 2, "onError": "fail"}).
		Notify("next", "never").Notify("later", "never").Chain("in", "api", "next", "later").Build())
	r := h.waitRun(h.start(w, nil))
	var result struct{ FailedNodes []string }
	if err := json.Unmarshal(r.Result, &result); err != nil || r.Status != workflow.RunFailed || result.FailedNodes == nil || len(result.FailedNodes) != 0 {
		t.Fatalf("status %s result %s; want failed with an empty failedNodes", r.Status, r.Result)
	}
	testenv.WaitFor(t, 5*time.Second, "the run's end to be reported", func() bool { return h.obs.count(workflow.RunFailed) == 1 })
	outcomes, failedRuns := h.obs.taskOutcomes()
	if want := map[string]int{"completed": 1, "failed": 1, "skipped": 2}; !reflect.DeepEqual(outcomes, want) || failedRuns != 0 {
		t.Fatalf("final task outcomes %v and %d runs with failed nodes; want %v and 0", outcomes, failedRuns, want)
	}
}

// A run result lists at most store.MaxFailedNodes failed nodes, in node order, and counts all.
func TestFailedNodesAreBounded(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(4)
	const n = store.MaxFailedNodes + 3
	b := workflowtest.New().Input("in")
	var want []string
	for i := range n {
		id := fmt.Sprintf("api%02d", i)
		b.APICall(id, "GET", srv.URL+"/missing", map[string]any{"retries": 0}).Chain("in", id)
		if i < store.MaxFailedNodes {
			want = append(want, id)
		}
	}
	r := h.waitRun(h.start(h.createWorkflow(b.Build()), nil))
	var result struct {
		FailedContinuedTasks int
		FailedNodes          []string
	}
	if err := json.Unmarshal(r.Result, &result); err != nil {
		t.Fatal(err)
	}
	if r.Status != workflow.RunSucceeded || result.FailedContinuedTasks != n || !reflect.DeepEqual(result.FailedNodes, want) {
		t.Fatalf("status %s, %d failed nodes counted, listed %v; want succeeded, %d counted and the first %d listed",
			r.Status, result.FailedContinuedTasks, result.FailedNodes, n, store.MaxFailedNodes)
	}
}
