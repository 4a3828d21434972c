package engine_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

var gt = func(n float64) any { return map[string]any{">": []any{map[string]any{"var": "value"}, n}} }

// Rule 1: one transaction creates the run and every task; every root starts.
func TestStartQueuesEveryRoot(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		h.startWorker(4)
		w := h.createWorkflow(workflowtest.New().Input("a").Notify("b", "b").Notify("c", "c {{x}}").Chain("a", "c").Build())
		r := h.waitRun(h.start(w, map[string]any{"x": 7}))
		if r.Status != workflow.RunSucceeded {
			t.Fatalf("status %s, want succeeded", r.Status)
		}
		for node, st := range statuses(r) {
			if st != workflow.TaskCompleted {
				t.Errorf("%s is %s, want completed (both roots must run)", node, st)
			}
		}
		if got := nodeLogs(r, "c"); len(got) != 1 || got[0] != "c 7" {
			t.Errorf("c logged %q, want [\"c 7\"]", got)
		}
	})
}

func TestEmptyWorkflowSucceedsAtOnce(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		w := h.createWorkflow(workflow.Definition{})
		r := h.run(h.start(w, nil))
		if r.Status != workflow.RunSucceeded || r.FinishedAt == nil {
			t.Fatalf("empty workflow: status %s finished %v, want succeeded and finished", r.Status, r.FinishedAt)
		}
	})
}

// Rule 2: a task queued in PostgreSQL without a queue entry is recovered by the reconciler,
// and reconcilers running concurrently enqueue it once.
func TestReconcilerRecoversLostEnqueue(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		w := h.createWorkflow(workflowtest.New().Input("a").Notify("b", "done").Chain("a", "b").Build())
		runID := h.start(w, nil)
		a := taskOf(t, h.run(runID), "a")
		// Lose the queue entry: the commit happened, the enqueue did not survive.
		if err := h.queue.Inspector().DeleteTask(h.qname, a.ID); err != nil {
			t.Fatalf("delete queue entry: %v", err)
		}
		if h.queueHas(a.ID) {
			t.Fatal("queue entry still there")
		}
		cfg := engine.ReconcilerConfig{After: time.Nanosecond}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := h.eng.Reconcile(context.Background(), cfg)
				if err != nil {
					t.Errorf("reconcile: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 1 {
			t.Fatalf("8 concurrent reconcilers recovered %d deliveries, want exactly 1", total)
		}
		if got := h.obs.recoveries(); !maps.Equal(got, map[string]int{engine.RecoveryQueued: 1}) {
			t.Errorf("recoveries reported by cause %v, want one %q", got, engine.RecoveryQueued)
		}
		if !h.queueHas(a.ID) {
			t.Fatal("reconciler did not re-enqueue the lost task")
		}
		h.startWorker(2)
		if r := h.waitRun(runID); r.Status != workflow.RunSucceeded {
			t.Fatalf("status %s, want succeeded", r.Status)
		}
	})
}

// A task left running by a worker that died (its delivery gone too) is enqueued again once
// it is stale, taken over as a redelivery of the same attempt, and finishes.
func TestReconcilerRecoversStaleRunningTask(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		w := h.createWorkflow(workflowtest.New().Input("a").Notify("b", "b").Chain("a", "b").Build())
		runID := h.start(w, nil)
		a := taskOf(t, h.run(runID), "a")
		if _, err := h.store.ClaimTask(context.Background(), a.ID, "worker-that-died", time.Now()); err != nil { // the worker claimed it, then died
			t.Fatal(err)
		}
		if err := h.queue.Inspector().DeleteTask(h.qname, a.ID); err != nil {
			t.Fatal(err)
		}
		if n, err := h.eng.Reconcile(context.Background(), engine.ReconcilerConfig{After: time.Hour, StaleAfter: time.Hour}); err != nil || n != 0 {
			t.Fatalf("a fresh running task was re-enqueued: %d, %v", n, err)
		}
		if n, err := h.eng.Reconcile(context.Background(), engine.ReconcilerConfig{After: time.Hour, StaleAfter: time.Nanosecond}); err != nil || n != 1 {
			t.Fatalf("stale running task: recovered %d, %v; want 1", n, err)
		}
		if got := h.obs.recoveries(); !maps.Equal(got, map[string]int{engine.RecoveryStale: 1}) {
			t.Errorf("recoveries reported by cause %v, want one %q", got, engine.RecoveryStale)
		}
		h.startWorker(2)
		r := h.waitRun(runID)
		if a := taskOf(t, r, "a"); r.Status != workflow.RunSucceeded || a.Attempt != 1 || a.Redeliveries != 1 || len(nodeLogs(r, "a")) != 1 {
			t.Fatalf("status %s, a attempt %d redeliveries %d, a logs %d; want succeeded, 1, 1, 1", r.Status, a.Attempt, a.Redeliveries, len(nodeLogs(r, "a")))
		}
		// The observer hears which attempt was lost, on which worker, and why.
		h.obs.mu.Lock()
		got := slices.Clone(h.obs.redeliveryLog)
		h.obs.mu.Unlock()
		want := []engine.Redelivery{{NodeType: "inputText", Cause: engine.CauseLost, Detail: "the worker executing it stopped or lost its lease",
			Attempt: 1, Redeliveries: 1, PreviousWorker: "worker-that-died"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("reported redeliveries (-want +got):\n%s", diff)
		}
	})
}

// A task whose queue entry exists is left alone by the reconciler.
func TestReconcilerLeavesQueuedTasksAlone(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		w := h.createWorkflow(workflowtest.New().Input("a").Build())
		h.start(w, nil)
		n, err := h.eng.Reconcile(context.Background(), engine.ReconcilerConfig{After: time.Nanosecond})
		if err != nil || n != 0 {
			t.Fatalf("reconcile = %d, %v; want 0 recovered", n, err)
		}
	})
}

// Rule 3: a task delivered twice (one after the other, or at the same time) runs its engine
// transition once.
func TestDuplicateDeliveryTransitionsOnce(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		concurrent bool
		path       string
		eager      bool
	}{{false, "classic", false}, {true, "classic", false}, {false, "inline", false}, {true, "inline", false},
		{false, "classic", true}, {true, "classic", true}, {false, "inline", true}, {true, "inline", true}} {
		concurrent := tc.concurrent
		t.Run(fmt.Sprintf("concurrent=%v/%s/%s", concurrent, tc.path, dispatchName(tc.eager)), func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, harnessOptions{queued: !tc.eager})
			w := h.createWorkflow(workflowtest.New().Input("a").Notify("b", "b ran").Chain("a", "b").Build())
			runID := h.start(w, map[string]any{"k": 1})
			a := taskOf(t, h.run(runID), "a")
			delivery := ref(a.ID, runID)
			if tc.path == "inline" {
				delivery.NodeType = a.NodeType // the hint that selects the one-transaction path
			}
			deliveries := 10
			if concurrent {
				var wg sync.WaitGroup
				gate := make(chan struct{})
				for range deliveries {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-gate
						if err := h.eng.Execute(context.Background(), delivery); err != nil {
							t.Errorf("execute: %v", err)
						}
					}()
				}
				close(gate)
				wg.Wait()
			} else {
				for range deliveries {
					if err := h.eng.Execute(context.Background(), delivery); err != nil {
						t.Fatalf("execute: %v", err)
					}
				}
			}
			r := h.run(runID)
			if got := nodeLogs(r, "a"); len(got) != 1 {
				t.Errorf("node a wrote %d node-output logs over %d deliveries, want 1: %q", len(got), deliveries, got)
			}
			b := taskOf(t, r, "b")
			// Eagerly, the delivery that completed a ran b itself; else b waits in the queue.
			if want := map[bool]string{false: workflow.TaskQueued, true: workflow.TaskCompleted}[tc.eager]; b.Status != want {
				t.Fatalf("b is %s, want %s", b.Status, want)
			}
			h.startWorker(2)
			r = h.waitRun(runID)
			if got := nodeLogs(r, "b"); r.Status != workflow.RunSucceeded || len(got) != 1 {
				t.Fatalf("status %s, b logs %q; want succeeded with b run once", r.Status, got)
			}
		})
	}
}

// Rule 4: 50 parents finishing at the same moment release their join exactly once.
func TestJoinReleasedOnceBy50ConcurrentParents(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"classic", "inline"} {
		for _, eager := range []bool{false, true} {
			t.Run(path+"/"+dispatchName(eager), func(t *testing.T) {
				t.Parallel()
				joinOnce(t, path == "inline", eager)
			})
		}
	}
}

// bothDispatches runs a rule's test with eager dispatch on and off (every task through the
// queue): every engine rule holds on both paths.
func bothDispatches(t *testing.T, test func(t *testing.T, opts harnessOptions)) {
	for _, eager := range []bool{false, true} {
		t.Run(dispatchName(eager), func(t *testing.T) {
			t.Parallel()
			test(t, harnessOptions{queued: !eager})
		})
	}
}

// dispatchName names a subtest's dispatch: eager (EagerDispatch on) or queued.
func dispatchName(eager bool) string {
	if eager {
		return "eager"
	}
	return "queued"
}

func joinOnce(t *testing.T, inline, eager bool) {
	h := newHarnessWith(t, harnessOptions{queued: !eager})
	b := workflowtest.New().Input("root").Notify("join", "joined")
	for i := range 50 {
		id := fmt.Sprintf("p%02d", i)
		b.Notify(id, id).Edge("root", id, "out").Edge(id, "join", "out")
	}
	w := h.createWorkflow(b.Build())
	runID := h.start(w, map[string]any{"x": 1})
	root := taskOf(t, h.run(runID), "root")
	if err := h.eng.Execute(context.Background(), ref(root.ID, runID)); err != nil {
		t.Fatal(err)
	}
	var parents []workflow.Task
	for _, task := range h.run(runID).Tasks {
		if strings.HasPrefix(task.NodeID, "p") {
			parents = append(parents, task)
		}
	}
	if len(parents) != 50 {
		t.Fatalf("%d parents, want 50", len(parents))
	}
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for _, p := range parents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			delivery := ref(p.ID, runID)
			if inline {
				delivery.NodeType = p.NodeType
			}
			if err := h.eng.Execute(context.Background(), delivery); err != nil {
				t.Errorf("execute %s: %v", p.NodeID, err)
			}
		}()
	}
	close(gate)
	wg.Wait()

	var unresolved, activated int
	var joinStatus, joinID string
	err := h.store.Pool().QueryRow(context.Background(),
		`SELECT id::text, status, unresolved_parents, activated_parents FROM tasks WHERE run_id = $1 AND node_id = 'join'`, runID).
		Scan(&joinID, &joinStatus, &unresolved, &activated)
	if err != nil {
		t.Fatal(err)
	}
	// Eagerly, the delivery of the parent that released the join ran it.
	want := map[bool]string{false: workflow.TaskQueued, true: workflow.TaskCompleted}[eager]
	if joinStatus != want || unresolved != 0 || activated != 50 {
		t.Fatalf("join: status %s unresolved %d activated %d; want %s, 0, 50", joinStatus, unresolved, activated, want)
	}
	h.startWorker(4)
	r := h.waitRun(runID)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded", r.Status)
	}
	if got := nodeLogs(r, "join"); len(got) != 1 {
		t.Fatalf("join ran %d times, want exactly once", len(got))
	}
	if j := taskOf(t, r, "join"); j.Attempt != 1 {
		t.Fatalf("join attempt %d, want 1", j.Attempt)
	}
}

// Rule 4: a join after an if/else runs with one activated parent and is skipped with none.
func TestJoinAfterIfElse(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		h.startWorker(4)
		// if → (true) A → J, (false) B → J: J runs with one activated parent.
		// if → (true) C → K, (true) D → K, (false) E: K is skipped when the condition is false.
		w := h.createWorkflow(workflowtest.New().Input("in").IfElse("if", "n", gt(10)).
			Notify("A", "A").Notify("B", "B").Notify("J", "J {{n}}").
			Notify("C", "C").Notify("D", "D").Notify("K", "K").Notify("E", "E").
			Chain("in", "if").Edge("if", "A", "out-true").Edge("if", "B", "out-false").Chain("A", "J").Chain("B", "J").
			Edge("if", "C", "out-true").Edge("if", "D", "out-true").Chain("C", "K").Chain("D", "K").Edge("if", "E", "out-false").Build())

		cases := []struct {
			n    int
			want map[string]string
		}{
			{20, map[string]string{"A": "completed", "B": "skipped", "J": "completed", "C": "completed", "D": "completed", "K": "completed", "E": "skipped"}},
			{5, map[string]string{"A": "skipped", "B": "completed", "J": "completed", "C": "skipped", "D": "skipped", "K": "skipped", "E": "completed"}},
		}
		for _, c := range cases {
			r := h.waitRun(h.start(w, map[string]any{"n": c.n}))
			if r.Status != workflow.RunSucceeded {
				t.Fatalf("n=%d: status %s, want succeeded", c.n, r.Status)
			}
			got := statuses(r)
			for node, want := range c.want {
				if got[node] != want {
					t.Errorf("n=%d: %s is %s, want %s", c.n, node, got[node], want)
				}
			}
			if logs := nodeLogs(r, "J"); len(logs) != 1 || logs[0] != fmt.Sprintf("J %d", c.n) {
				t.Errorf("n=%d: J logged %q, want one line with the payload", c.n, logs)
			}
		}
	})
}

// A decision with zero matches ends the run succeeded with every branch skipped; several
// matches run several branches.
func TestDecisionMatches(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		h.startWorker(4)
		w := h.createWorkflow(workflowtest.New().Input("in").
			Decision("d", "n", workflowtest.Outcome{ID: "big", Rule: gt(100)}, workflowtest.Outcome{ID: "pos", Rule: gt(0)}).
			Notify("big", "big").Notify("pos", "pos").Notify("after", "after").
			Chain("in", "d").Edge("d", "big", "out-big").Edge("d", "pos", "out-pos").Chain("pos", "after").Build())
		cases := []struct {
			n    int
			want map[string]string
		}{
			{-5, map[string]string{"big": "skipped", "pos": "skipped", "after": "skipped"}},
			{500, map[string]string{"big": "completed", "pos": "completed", "after": "completed"}},
			{5, map[string]string{"big": "skipped", "pos": "completed", "after": "completed"}},
		}
		for _, c := range cases {
			r := h.waitRun(h.start(w, map[string]any{"n": c.n}))
			if r.Status != workflow.RunSucceeded {
				t.Fatalf("n=%d: status %s, want succeeded", c.n, r.Status)
			}
			got := statuses(r)
			for node, want := range c.want {
				if got[node] != want {
					t.Errorf("n=%d: %s is %s, want %s", c.n, node, got[node], want)
				}
			}
		}
	})
}

// Rule 5: payloads. A join's input merges its activated parents' outputs in edge order;
// $run and $nodes address the run input and upstream outputs.
func TestPayloadsAndTemplateContext(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(4)
	w := h.createWorkflow(workflowtest.New().Input("in").
		APICall("api", "GET", srv.URL+"/ok", nil).Notify("pass", "pass").
		Notify("join", "x={{x}} status={{status}} city={{data.city}} run={{$run.input.x}} node={{$nodes.api.data.city}} missing=[{{nope}}]").
		Chain("in", "api").Chain("in", "pass").Chain("api", "join").Chain("pass", "join").Build())
	r := h.waitRun(h.start(w, map[string]any{"x": "one"}))
	want := "x=one status=200 city=Paris run=one node=Paris missing=[]"
	if got := nodeLogs(r, "join"); r.Status != workflow.RunSucceeded || len(got) != 1 || got[0] != want {
		t.Fatalf("status %s, join logged %q; want %q", r.Status, got, want)
	}
}

// Rule 6: the run finishes exactly when its last task does, with counts in its result.
func TestCompletionCounts(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		h.startWorker(4)
		w := h.createWorkflow(workflowtest.New().Input("in").IfElse("if", "n", gt(1)).Notify("t", "t").Notify("f", "f").Notify("f2", "f2").
			Chain("in", "if").Edge("if", "t", "out-true").Edge("if", "f", "out-false").Chain("f", "f2").Build())
		r := h.waitRun(h.start(w, map[string]any{"n": 5}))
		want := `{"failedTasks": 0, "totalTasks": 5, "skippedTasks": 2, "cancelledTasks": 0, "completedTasks": 3, "failedContinuedTasks": 0, "failedNodes": []}`
		if r.Status != workflow.RunSucceeded || !jsonEqual(t, r.Result, want) {
			t.Fatalf("status %s result %s; want succeeded %s", r.Status, r.Result, want)
		}
		if sys := logsOfType(r, workflow.LogSystem); sys[len(sys)-1] != "Workflow run succeeded" {
			t.Errorf("last system log %q, want \"Workflow run succeeded\"", sys[len(sys)-1])
		}
		// The observer hears of the end once (metrics count finished runs from it).
		testenv.WaitFor(h.t, 5*time.Second, "the run's end to be reported", func() bool { return h.obs.count(workflow.RunSucceeded) == 1 })
	})
}

// failingDueStore fails the reconciler's listing, as an unreachable database would.
type failingDueStore struct{ engine.Store }

func (failingDueStore) DueTasks(context.Context, engine.DueQuery) ([]engine.DueTask, error) {
	return nil, errors.New("connection refused")
}

// Every reconciler pass is reported, a failed one as such.
func TestReconcilerPassesAreReported(t *testing.T) {
	t.Parallel()
	bothDispatches(t, func(t *testing.T, opts harnessOptions) {
		h := newHarnessWith(t, opts)
		if _, err := h.eng.Reconcile(context.Background(), engine.ReconcilerConfig{}); err != nil {
			t.Fatal(err)
		}
		failing := newHarnessWith(t, harnessOptions{wrapStore: func(s engine.Store) engine.Store { return failingDueStore{s} }})
		if _, err := failing.eng.Reconcile(context.Background(), engine.ReconcilerConfig{}); err == nil {
			t.Fatal("a pass whose listing failed returned no error")
		}
		for _, tc := range []struct {
			h      *harness
			failed bool
		}{{h, false}, {failing, true}} {
			tc.h.obs.mu.Lock()
			got := maps.Clone(tc.h.obs.passes)
			tc.h.obs.mu.Unlock()
			if !maps.Equal(got, map[bool]int{tc.failed: 1}) {
				t.Errorf("passes reported (by failed) %v, want one with failed=%v", got, tc.failed)
			}
		}
	})
}
