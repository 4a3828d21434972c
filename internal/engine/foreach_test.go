package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// forEachOver is a workflow: input → forEach "each" over $run.input.items running body →
// notification "after" reading the results.
func forEachOver(body map[string]any, extra map[string]any) workflow.Definition {
	cfg := map[string]any{"items": "{{$run.input.items}}", "body": body}
	for k, v := range extra {
		cfg[k] = v
	}
	return workflowtest.New().Input("in").Node("each", workflow.TypeForEach, cfg).
		Notify("after", "count={{count}} failed={{failed}} first={{results[0].item}}").Chain("in", "each", "after").Build()
}

// forEachResult decodes a forEach task's output.
type forEachResult struct {
	Results []json.RawMessage `json:"results"`
	Count   int               `json:"count"`
	Failed  int               `json:"failed"`
}

func (h *harness) resultOf(t *testing.T, r workflow.Run) forEachResult {
	t.Helper()
	raw := h.output(r.ID, "each")
	var out forEachResult
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("forEach output %s: %v", raw, err)
	}
	return out
}

// output reads a task's stored output.
func (h *harness) output(runID, nodeID string) json.RawMessage {
	h.t.Helper()
	var out json.RawMessage
	if err := h.store.Pool().QueryRow(h.t.Context(), `SELECT output FROM tasks WHERE run_id = $1 AND node_id = $2`, runID, nodeID).Scan(&out); err != nil {
		h.t.Fatalf("output of %s: %v", nodeID, err)
	}
	return out
}

func intItems(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = i * 10
	}
	return items
}

// Every element is its own task; the results keep element order however the elements
// finish, and the node after the forEach runs once with them.
func TestForEachCollectsResultsInOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	h.startWorker(4)
	w := h.createWorkflow(forEachOver(map[string]any{"type": "notification", "config": map[string]any{"template": "element {{index}} = {{item}}"}},
		map[string]any{"concurrency": 50}))
	const n = 60
	r := h.waitRun(h.start(w, map[string]any{"items": intItems(n)}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s), want succeeded", r.Status, r.Error)
	}
	res := h.resultOf(t, r)
	if res.Count != n || res.Failed != 0 || len(res.Results) != n {
		t.Fatalf("results: count %d failed %d len %d, want %d, 0, %d", res.Count, res.Failed, len(res.Results), n, n)
	}
	for i, raw := range res.Results {
		var el struct{ Item, Index int }
		if err := json.Unmarshal(raw, &el); err != nil || el.Index != i || el.Item != i*10 {
			t.Errorf("results[%d] = %s, want {item: %d, index: %d}", i, raw, i*10, i)
		}
	}
	elements := 0
	for _, task := range r.Tasks {
		if strings.HasPrefix(task.NodeID, "each[") {
			elements++
			if task.Status != workflow.TaskCompleted || task.NodeType != workflow.TypeNotification {
				t.Errorf("element %s: %s %s, want a completed notification task", task.NodeID, task.NodeType, task.Status)
			}
		}
	}
	if elements != n {
		t.Errorf("%d element tasks, want %d", elements, n)
	}
	if got := nodeLogs(r, "after"); len(got) != 1 || got[0] != "count=60 failed=0 first=0" {
		t.Errorf("after logged %q, want it once with the results", got)
	}
	if got := nodeLogs(r, "each[7]"); len(got) != 1 || got[0] != "element 7 = 70" {
		t.Errorf("element 7 logged %q", got)
	}
}

// gauge is an endpoint that counts the requests in flight at once, answering 500 for the
// items listed in fail.
type gauge struct {
	*httptest.Server
	mu                sync.Mutex
	inFlight, maxSeen int
	calls             int
}

func newGauge(t *testing.T, hold time.Duration, fail func(item int) bool) *gauge {
	g := &gauge{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.inFlight++
		g.calls++
		g.maxSeen = max(g.maxSeen, g.inFlight)
		g.mu.Unlock()
		time.Sleep(hold)
		g.mu.Lock()
		g.inFlight--
		g.mu.Unlock()
		item, _ := strconv.Atoi(r.URL.Query().Get("item"))
		w.Header().Set("Content-Type", "application/json")
		if fail != nil && fail(item) {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, `{"error":"item %d"}`, item)
			return
		}
		fmt.Fprintf(w, `{"item":%d}`, item)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gauge) stats() (calls, maxSeen int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, g.maxSeen
}

func apiBody(url string) map[string]any {
	return map[string]any{"type": "apiCall", "config": map[string]any{"method": "GET", "url": url + "/?item={{item}}", "headers": []any{}, "retries": 0}}
}

// At most `concurrency` elements run at once, with workers free to run more.
func TestForEachConcurrencyBound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	h.startWorker(4)
	g := newGauge(t, 30*time.Millisecond, nil)
	w := h.createWorkflow(forEachOver(apiBody(g.URL), map[string]any{"concurrency": 2}))
	r := h.waitRun(h.start(w, map[string]any{"items": intItems(12)}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s)", r.Status, r.Error)
	}
	calls, maxSeen := g.stats()
	if calls != 12 || maxSeen > 2 {
		t.Errorf("%d calls, at most %d at once; want 12 calls, at most 2 at once", calls, maxSeen)
	}
	res := h.resultOf(t, r)
	for i, raw := range res.Results {
		var el struct {
			Data struct{ Item int } `json:"data"`
		}
		if json.Unmarshal(raw, &el) != nil || el.Data.Item != i*10 {
			t.Errorf("results[%d] = %s, want the response for item %d", i, raw, i*10)
		}
	}
}

// onItemError decides what a failed element does: fail the run, be left out of the results,
// or stay in them with its error payload.
func TestForEachItemErrorPolicies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	g := newGauge(t, 0, func(item int) bool { return item%30 == 0 }) // items 0, 30, 60, 90 fail
	items := map[string]any{"items": intItems(10)}
	for _, tc := range []struct {
		policy              string
		status              string
		results, wantFailed int
	}{
		{"skip", workflow.RunSucceeded, 6, 4},
		{"continue", workflow.RunSucceeded, 10, 4},
		{"fail", workflow.RunFailed, 0, 0},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			w := h.createWorkflow(forEachOver(apiBody(g.URL), map[string]any{"onItemError": tc.policy, "concurrency": 1}))
			r := h.waitRun(h.start(w, items))
			if r.Status != tc.status {
				t.Fatalf("run %s (%s), want %s", r.Status, r.Error, tc.status)
			}
			if tc.policy == "fail" {
				if el := taskOf(t, r, "each[0]"); el.Status != workflow.TaskFailed {
					t.Errorf("each[0] %s, want failed", el.Status)
				}
				if s := taskOf(t, r, "after").Status; s == workflow.TaskCompleted {
					t.Errorf("after ran (%s) although the forEach failed", s)
				}
				return
			}
			res := h.resultOf(t, r)
			if len(res.Results) != tc.results || res.Failed != tc.wantFailed || res.Count != 10 {
				t.Fatalf("results %d failed %d count %d, want %d, %d, 10", len(res.Results), res.Failed, res.Count, tc.results, tc.wantFailed)
			}
			if tc.policy == "continue" {
				var first struct{ Success *bool }
				if json.Unmarshal(res.Results[0], &first) != nil || first.Success == nil || *first.Success {
					t.Errorf("results[0] = %s, want the failed call's error payload (success false)", res.Results[0])
				}
			}
			if el := taskOf(t, r, "each[3]"); el.Status != workflow.TaskCompleted || el.Outcome != "failed_continued" {
				t.Errorf("each[3] %s/%s, want completed and failed_continued", el.Status, el.Outcome)
			}
		})
	}
}

func TestForEachZeroElements(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(forEachOver(map[string]any{"type": "notification", "config": map[string]any{"template": "x"}}, nil))
	r := h.waitRun(h.start(w, map[string]any{"items": []any{}}))
	if r.Status != workflow.RunSucceeded || len(r.Tasks) != 3 {
		t.Fatalf("run %s with %d tasks, want succeeded with 3", r.Status, len(r.Tasks))
	}
	if res := h.resultOf(t, r); res.Count != 0 || len(res.Results) != 0 || res.Results == nil {
		t.Errorf("results %+v, want an empty array and count 0", res)
	}
}

// More elements than maxItems, or items that are not an array, fail the node with a reason
// naming the limit or the value, and create no element.
func TestForEachRefusesTooManyOrNoArray(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	w := h.createWorkflow(forEachOver(map[string]any{"type": "notification", "config": map[string]any{"template": "x"}}, map[string]any{"maxItems": 5}))
	for _, tc := range []struct {
		items any
		want  string
	}{
		{intItems(6), "6 elements, more than the limit of 5 (maxItems)"},
		{"not a list", "got a string that is not a JSON array"},
		{map[string]any{"a": 1}, "got an object, want an array"},
		{"[1, 2, 3, 4, 5, 6]", "6 elements, more than the limit of 5 (maxItems)"},
	} {
		r := h.waitRun(h.start(w, map[string]any{"items": tc.items}))
		if r.Status != workflow.RunFailed || !strings.Contains(r.Error, tc.want) {
			t.Errorf("items %v: run %s (%s), want failed naming %q", tc.items, r.Status, r.Error, tc.want)
		}
		if len(r.Tasks) != 3 {
			t.Errorf("items %v: %d tasks, want no element task", tc.items, len(r.Tasks))
		}
	}
}

// Cancelling a run cancels its waiting forEach task and every element, running, waiting or
// not yet released.
func TestForEachCancelWhileElementsRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	w := h.createWorkflow(forEachOver(map[string]any{"type": "delay", "config": map[string]any{"delayType": "seconds", "delayValue": 60}},
		map[string]any{"concurrency": 2}))
	runID := h.start(w, map[string]any{"items": intItems(5)})
	testenv.WaitFor(t, 30*time.Second, "elements 0 and 1 to wait", func() bool {
		s := statuses(h.run(runID))
		return s["each[0]"] == workflow.TaskWaiting && s["each[1]"] == workflow.TaskWaiting
	})
	if s := statuses(h.run(runID)); s["each[2]"] != workflow.TaskPending || s["each"] != workflow.TaskWaiting {
		t.Fatalf("each %s, each[2] %s: want the forEach waiting and the third element not released (concurrency 2)", s["each"], s["each[2]"])
	}
	if err := h.eng.Cancel(t.Context(), runID); err != nil {
		t.Fatal(err)
	}
	r := h.run(runID)
	if r.Status != workflow.RunCancelled {
		t.Fatalf("run %s, want cancelled", r.Status)
	}
	for _, task := range r.Tasks {
		if task.NodeID == "in" {
			continue
		}
		if task.Status != workflow.TaskCancelled {
			t.Errorf("%s is %s, want cancelled", task.NodeID, task.Status)
		}
	}
}

// An element is retried on its own: each element's first call fails with a retryable status,
// its retry succeeds, and no other element runs again.
func TestForEachElementsRetryIndependently(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(4)
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		item := r.URL.Query().Get("item")
		mu.Lock()
		calls[item]++
		n := calls[item]
		mu.Unlock()
		if n == 1 && item != "0" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{}`))
	}))
	t.Cleanup(srv.Close)
	body := apiBody(srv.URL)
	body["config"].(map[string]any)["retries"] = 2
	w := h.createWorkflow(forEachOver(body, nil))
	r := h.waitRun(h.start(w, map[string]any{"items": intItems(4)}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s (%s)", r.Status, r.Error)
	}
	for i := range 4 {
		el := taskOf(t, r, fmt.Sprintf("each[%d]", i))
		want := 2
		if i == 0 {
			want = 1
		}
		if el.Attempt != want || el.Status != workflow.TaskCompleted || el.Outcome != "" {
			t.Errorf("each[%d]: attempt %d, %s %q; want attempt %d, completed", i, el.Attempt, el.Status, el.Outcome, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if calls["0"] != 1 || calls["10"] != 2 || calls["30"] != 2 {
		t.Errorf("calls %v, want item 0 once and every other twice", calls)
	}
}

// Duplicate deliveries of the forEach task and of every element, on several workers at once,
// create the elements once and collect the results once.
func TestForEachDuplicateDeliveriesOnSeveralWorkers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	def := workflowtest.New().Node("each", workflow.TypeForEach, map[string]any{"items": "{{$run.input.items}}", "concurrency": 5,
		"body": map[string]any{"type": "notification", "config": map[string]any{"template": "element {{index}}"}}}).
		Notify("after", "count={{count}}").Chain("each", "after").Build()
	w := h.createWorkflow(def)
	runID := h.start(w, map[string]any{"items": intItems(5)})
	engines := make([]*engine.Engine, 4)
	for i := range engines {
		engines[i] = h.engineAt(nil)
	}
	deliverEverywhere := func(d engine.TaskRef) {
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for _, e := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				if err := e.Execute(context.Background(), d); err != nil {
					t.Errorf("execute %s: %v", d.TaskID, err)
				}
			}()
		}
		close(gate)
		wg.Wait()
	}
	deliverEverywhere(ref(taskOf(t, h.run(runID), "each").ID, runID))
	r := h.run(runID)
	if len(r.Tasks) != 7 {
		t.Fatalf("%d tasks after duplicate deliveries of the forEach task, want 7 (2 nodes, 5 elements)", len(r.Tasks))
	}
	for i := range 5 {
		el := taskOf(t, r, fmt.Sprintf("each[%d]", i))
		d := ref(el.ID, runID)
		if i%2 == 0 {
			d.NodeType = el.NodeType // half of them on the one-transaction path
		}
		deliverEverywhere(d)
	}
	r = h.run(runID)
	if s := taskOf(t, r, "each").Status; s != workflow.TaskCompleted {
		t.Fatalf("each is %s after every element ran, want completed", s)
	}
	for i := range 5 {
		if got := nodeLogs(r, fmt.Sprintf("each[%d]", i)); len(got) != 1 {
			t.Errorf("element %d logged %q, want once", i, got)
		}
	}
	h.startWorker(2)
	r = h.waitRun(runID)
	if got := nodeLogs(r, "after"); r.Status != workflow.RunSucceeded || len(got) != 1 || got[0] != "count=5" {
		t.Errorf("run %s, after logged %q; want succeeded and after once with count=5", r.Status, got)
	}
}

// Results too large to store fail the forEach node without a retry (its elements' effects
// happened), and its onError decides: fail ends the run and skips what follows; continue
// completes it failed and continued with the error and the count, and the run goes on.
func TestForEachResultsOverTheLimitFollowOnError(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, harnessOptions{config: engine.Config{MaxOutputBytes: 4096}})
	h.startWorker(4)
	items := make([]any, 40) // the input fits the limit; the results, with their indexes, do not
	for i := range items {
		items[i] = strings.Repeat("x", 90)
	}
	body := map[string]any{"type": "notification", "config": map[string]any{"template": "x"}}
	for _, tc := range []struct {
		onError    string
		wantStatus string
		wantAfter  string
	}{{"fail", workflow.RunFailed, workflow.TaskSkipped}, {"continue", workflow.RunSucceeded, workflow.TaskCompleted}} {
		t.Run(tc.onError, func(t *testing.T) {
			w := h.createWorkflow(forEachOver(body, map[string]any{"concurrency": 8, "onError": tc.onError}))
			r := h.waitRun(h.start(w, map[string]any{"items": items}))
			if r.Status != tc.wantStatus {
				t.Fatalf("run %s (%s), want %s", r.Status, r.Error, tc.wantStatus)
			}
			each := taskOf(t, r, "each")
			if each.Error == nil || !strings.Contains(*each.Error, "larger than the limit of 4096 bytes") || each.Attempt != 1 {
				t.Errorf("each: error %v after %d attempts, want the limit's error after 1", each.Error, each.Attempt)
			}
			if reasons := logReasons(r, "each"); len(reasons) != 1 || reasons[0] != "output_too_large" {
				t.Errorf("each's error reasons %v, want output_too_large once", reasons)
			}
			if got := statuses(r)["after"]; got != tc.wantAfter {
				t.Errorf("after is %s, want %s", got, tc.wantAfter)
			}
			completed := 0
			for _, task := range r.Tasks {
				if strings.HasPrefix(task.NodeID, "each[") && task.Status == workflow.TaskCompleted {
					completed++
				}
			}
			if completed != len(items) {
				t.Errorf("%d elements completed, want all %d", completed, len(items))
			}
			switch tc.onError {
			case "fail":
				if each.Status != workflow.TaskFailed || !strings.Contains(r.Error, "Node each failed: results of") {
					t.Errorf("each %s, run error %q; want failed, and the run failed naming it", each.Status, r.Error)
				}
			case "continue":
				if each.Outcome != engine.TaskOutcomeFailedContinued || h.resultOf(t, r).Count != len(items) {
					t.Errorf("each outcome %q, output %s; want failed_continued with the count", each.Outcome, h.output(r.ID, "each"))
				}
			}
		})
	}
}
