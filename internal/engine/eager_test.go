package engine_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// chainOf is a workflow of n nodes in a line: an inputText, then notifications.
func chainOf(n int) workflow.Definition {
	b := workflowtest.New().Input("n00")
	ids := []string{"n00"}
	for i := 1; i < n; i++ {
		id := fmt.Sprintf("n%02d", i)
		b.Notify(id, id)
		ids = append(ids, id)
	}
	return b.Chain(ids...).Build()
}

// dispatches counts a run's reported claims by how they reached the worker.
func (o *recordingObserver) dispatches(runID string) (eager, queued int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.claims {
		switch {
		case c.RunID != runID:
		case c.Eager:
			eager++
		default:
			queued++
		}
	}
	return eager, queued
}

// Rule 11: a chain runs on the slot that released it, EagerHopBudget hops per delivery; the
// next hop then goes through the queue. Each node still runs once, as its first attempt.
func TestEagerChainKeepsToItsHopBudget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		budget, eager, queued int
	}{{3, 7, 3}, {9, 9, 1}, {100, 9, 1}} {
		t.Run(fmt.Sprintf("budget=%d", tc.budget), func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, harnessOptions{config: engine.Config{EagerHopBudget: tc.budget}})
			w := h.createWorkflow(chainOf(10))
			runID := h.start(w, nil)
			h.startWorker(1)
			r := h.waitRun(runID)
			if r.Status != workflow.RunSucceeded {
				t.Fatalf("status %s, want succeeded", r.Status)
			}
			for _, task := range r.Tasks {
				if task.Attempt != 1 || len(nodeLogs(r, task.NodeID)) != 1 {
					t.Errorf("%s: attempt %d, logs %q; want one first attempt", task.NodeID, task.Attempt, nodeLogs(r, task.NodeID))
				}
			}
			// 10 nodes: the root and every budget+1-th node come from the queue.
			if eager, queued := h.obs.dispatches(runID); eager != tc.eager || queued != tc.queued {
				t.Errorf("dispatches: %d eager, %d queued; want %d and %d", eager, queued, tc.eager, tc.queued)
			}
		})
	}
}

// Rule 11, fairness: a long chain gives its slot up after EagerHopBudget hops, so a run
// queued behind it finishes long before it; without a budget worth the name the chain would
// keep the only slot to the end.
func TestEagerHopBudgetLetsOtherRunsIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		budget         int
		shortGoesFirst bool
	}{{2, true}, {1000, false}} {
		t.Run(fmt.Sprintf("budget=%d", tc.budget), func(t *testing.T) {
			t.Parallel()
			h := newHarnessWith(t, harnessOptions{config: engine.Config{EagerHopBudget: tc.budget}})
			long := h.start(h.createWorkflow(chainOf(30)), nil)
			short := h.start(h.createWorkflow(chainOf(2)), nil)
			h.startWorker(1) // one slot: the long chain's root is first in the queue
			lr, sr := h.waitRun(long), h.waitRun(short)
			if lr.Status != workflow.RunSucceeded || sr.Status != workflow.RunSucceeded {
				t.Fatalf("long %s, short %s; want both succeeded", lr.Status, sr.Status)
			}
			if got := sr.FinishedAt.Before(*lr.FinishedAt); got != tc.shortGoesFirst {
				t.Errorf("short run finished first: %v, want %v (short %v, long %v)", got, tc.shortGoesFirst, sr.FinishedAt, lr.FinishedAt)
			}
		})
	}
}

// Rule 11 and rule 4: a fan-out runs on free slots of the worker's pool, and its join is
// released and run exactly once.
func TestEagerFanOutUsesFreeSlotsAndJoinsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b := workflowtest.New().Input("root").Notify("join", "joined")
	for i := range 12 {
		id := fmt.Sprintf("p%02d", i)
		b.Notify(id, id).Edge("root", id, "out").Edge(id, "join", "out")
	}
	runID := h.start(h.createWorkflow(b.Build()), nil)
	h.startWorker(1) // the pool has 4 slots: 3 are free for eager executions
	r := h.waitRun(runID)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded", r.Status)
	}
	if got := nodeLogs(r, "join"); len(got) != 1 {
		t.Fatalf("join ran %d times, want once", len(got))
	}
	// The root's transition claims one for its own slot and one for each free slot.
	if eager, _ := h.obs.dispatches(runID); eager < 4 {
		t.Errorf("%d eager executions, want at least 4 (own slot and 3 free ones)", eager)
	}
}

// Rule 9 on the eager path: cancelling a run stops an eagerly executed call in flight.
func TestEagerCancelStopsInFlightCall(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarness(t)
	h.startWorker(1)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("api", "GET", srv.URL+"/hang", map[string]any{"timeoutMs": 60000}).
		Notify("n", "never").Chain("in", "api", "n").Build())
	runID := h.start(w, nil)
	testenv.WaitFor(t, 10*time.Second, "the call to be in flight", func() bool { return srv.count("/hang") == 1 })
	if eager, _ := h.obs.dispatches(runID); eager != 1 {
		t.Fatalf("%d eager executions, want the call's", eager)
	}
	if err := h.eng.Cancel(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the in-flight request to be cancelled", func() bool { return srv.cancelled.Load() == 1 })
	testenv.WaitFor(t, 10*time.Second, "the worker to let the task go", func() bool { return h.eng.InFlight() == 0 })
	r := h.run(runID)
	if got := statuses(r); r.Status != workflow.RunCancelled || got["api"] != "cancelled" || got["n"] != "cancelled" {
		t.Fatalf("status %s tasks %v; want the run and its unfinished tasks cancelled", r.Status, got)
	}
	if len(nodeLogs(r, "api")) != 0 || h.queueHas(taskOf(t, r, "api").ID) {
		t.Fatalf("the cancelled call wrote logs %q or was handed to the queue", nodeLogs(r, "api"))
	}
}

// deadWorkers is a store whose workers named in dead stop heartbeating and never remove
// their row: they crashed.
type deadWorkers struct {
	engine.Store
	dead *sync.Map
}

var errCrashed = errors.New("worker crashed")

func (s deadWorkers) Heartbeat(ctx context.Context, b engine.Heartbeat) error {
	if _, ok := s.dead.Load(b.WorkerID); ok {
		return errCrashed
	}
	return s.Store.Heartbeat(ctx, b)
}

func (s deadWorkers) RemoveWorker(ctx context.Context, id string) error {
	if _, ok := s.dead.Load(id); ok {
		return nil
	}
	return s.Store.RemoveWorker(ctx, id)
}

// Rule 12 on the eager path: the task a worker claimed eagerly is recovered by another worker
// once the crashed worker's lease expired, and the crashed worker's late result is dropped.
func TestEagerClaimOfACrashedWorkerIsRecovered(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // the crashed worker's call: it returns only when the test lets it
			case <-r.Context().Done():
			case <-release:
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(srv.Close)
	dead := &sync.Map{}
	h := newHarnessWith(t, harnessOptions{wrapStore: func(s engine.Store) engine.Store { return deadWorkers{s, dead} }})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	beat := engine.HeartbeatConfig{Interval: 50 * time.Millisecond, Lease: 300 * time.Millisecond}
	worker := func(id string, reconcile bool) *engine.Engine {
		h.opts.config.WorkerID = id
		eng := h.engineAt(nil)
		wg.Add(1)
		go func() { defer wg.Done(); eng.RunHeartbeat(ctx, beat) }()
		if reconcile {
			wg.Add(1)
			go func() {
				defer wg.Done()
				eng.RunReconciler(ctx, engine.ReconcilerConfig{Interval: 50 * time.Millisecond, After: 100 * time.Millisecond})
			}()
		}
		h.startWorkerOn(eng, 1)
		return eng
	}
	w1 := worker("eager-crash-w1", false)
	w := h.createWorkflow(workflowtest.New().Input("in").APICall("api", "GET", srv.URL+"/x", map[string]any{"timeoutMs": 60000}).
		Notify("n", "after the call").Chain("in", "api", "n").Build())
	runID := h.start(w, nil)
	testenv.WaitFor(t, 10*time.Second, "the eagerly claimed call to be in flight", func() bool { return calls.Load() == 1 })
	var holder string
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT coalesce(worker_id, '') FROM tasks WHERE run_id = $1 AND node_id = 'api' AND status = 'running'`, runID).Scan(&holder); err != nil || holder != "eager-crash-w1" {
		t.Fatalf("the call's task is held by %q (%v), want the worker that released it", holder, err)
	}
	dead.Store("eager-crash-w1", true) // its heartbeat stops; its delivery hangs on
	worker("eager-crash-w2", true)
	r := h.waitRun(runID)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded by the second worker", r.Status)
	}
	close(release)
	testenv.WaitFor(t, 10*time.Second, "the crashed worker's late call to end", func() bool { return w1.InFlight() == 0 })
	r = h.run(runID)
	if got := nodeLogs(r, "n"); len(got) != 1 {
		t.Errorf("n logged %q, want once", got)
	}
	var attempt, redeliveries int
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT attempt, redeliveries FROM tasks WHERE run_id = $1 AND node_id = 'api'`, runID).Scan(&attempt, &redeliveries); err != nil {
		t.Fatal(err)
	}
	if attempt != 1 || redeliveries != 1 || calls.Load() != 2 {
		t.Errorf("call task attempt %d redeliveries %d after %d calls; want attempt 1 taken over once, 2 calls", attempt, redeliveries, calls.Load())
	}
}

// Rule 11 and rule 12: a worker holds no more claimed tasks than it has slots. Transitions
// running side by side each see free slots, but a released task is claimed only with a slot
// taken for it; the rest stays queued for whichever worker has one, rather than waiting as
// running behind a call that may never end, where only the lease would free it.
func TestEagerClaimsNoMoreTasksThanSlots(t *testing.T) {
	t.Parallel()
	const slots, runs = 4, 6
	srv := newTarget(t)
	h := newHarness(t)
	b := workflowtest.New().Input("root")
	for i := range 4 {
		id := fmt.Sprintf("call%d", i)
		b.APICall(id, "GET", srv.URL+"/hang", map[string]any{"timeoutMs": 60000}).Edge("root", id, "out")
	}
	w := h.createWorkflow(b.Build())
	ids := make([]string, runs)
	for i := range ids {
		ids[i] = h.start(w, nil)
	}
	h.startWorker(slots) // the roots are delivered side by side
	testenv.WaitFor(t, 10*time.Second, "every slot to be busy with a call", func() bool { return srv.count("/hang") == slots })
	// Whatever a transition claimed has reached its slot by now; the last root may still be
	// waiting for a slot in the queue.
	time.Sleep(300 * time.Millisecond)
	running := 0
	for _, id := range ids {
		for _, st := range statuses(h.run(id)) {
			if st == workflow.TaskRunning {
				running++
			}
		}
	}
	if got := srv.count("/hang"); running > slots || h.eng.InFlight() > slots || got != slots {
		t.Errorf("%d tasks running, %d held by the worker, %d calls in flight; want at most %d held, all of them executing",
			running, h.eng.InFlight(), got, slots)
	}
	for _, id := range ids {
		if err := h.eng.Cancel(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 10*time.Second, "the worker to let the tasks go", func() bool { return h.eng.InFlight() == 0 })
}

// Rule 11: with no slot free, the pure nodes of a fan-out run on the slot that released them,
// within its hop budget, and before a sibling that does I/O: none waits behind a call in
// flight, and none goes through the queue.
func TestEagerPureFanOutRunsOnTheReleasingSlot(t *testing.T) {
	t.Parallel()
	srv := newTarget(t)
	h := newHarnessWith(t, harnessOptions{slots: 1})
	b := workflowtest.New().Input("root").Notify("join", "joined").
		APICall("api", "GET", srv.URL+"/hang", map[string]any{"timeoutMs": 60000}).Edge("root", "api", "out")
	for i := range 6 {
		id := fmt.Sprintf("p%02d", i)
		b.Notify(id, id).Edge("root", id, "out").Edge(id, "join", "out")
	}
	runID := h.start(h.createWorkflow(b.Build()), nil)
	h.startWorker(1) // one slot, held by the root's delivery: none is free for a fork
	h.waitTask(runID, "join", workflow.TaskCompleted)
	if got := srv.count("/hang"); got != 1 {
		t.Fatalf("the call was made %d times, want once, after its pure siblings", got)
	}
	r := h.run(runID)
	if got := nodeLogs(r, "join"); len(got) != 1 {
		t.Fatalf("join ran %d times, want once", len(got))
	}
	// The root came from the queue; its six pure children, the join and the call ran on its slot.
	if eager, queued := h.obs.dispatches(runID); eager != 8 || queued != 1 {
		t.Errorf("dispatches: %d eager, %d queued; want 8 and 1", eager, queued)
	}
	if err := h.eng.Cancel(context.Background(), runID); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 10*time.Second, "the worker to let the call go", func() bool { return h.eng.InFlight() == 0 })
}
