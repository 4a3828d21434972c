package engine_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// harness is a real engine on a fresh database and its own queue; workers are started and
// stopped by the test.
type harness struct {
	t     testing.TB
	store *store.Store
	queue *queue.Client
	eng   *engine.Engine
	qname string
	redis string
	opts  harnessOptions

	mu      sync.Mutex
	workers []func()
	obs     *recordingObserver
	// pools are the slot pools of the engines it made (eager dispatch), by engine.
	pools map[*engine.Engine]*queue.Slots
}

// workerSeq numbers the harnesses' worker ids.
var workerSeq atomic.Int64

// recordingObserver keeps the runs the engine reported finished.
type recordingObserver struct {
	mu          sync.Mutex
	finished    map[string]int // status → count
	redelivered map[string]int // cause → count
	tasks       map[string]int // final task outcome → count
	failedRuns  int            // runs reported with nodes that failed but continued
	// redeliveryLog keeps every reported redelivery, in order.
	redeliveryLog []engine.Redelivery
	// claims keeps every reported claim, in order; started and ended the workflows of the
	// runs reported started and finished.
	claims  []engine.Claim
	started []engine.WorkflowRef
	ended   []engine.WorkflowRef
	// aborts and branches keep every reported early end and branch skip, in order.
	aborts    []engine.AbortedRun
	branches  []engine.BranchSkip
	recovered map[string]int // reconciler recovery cause → count
	passes    map[bool]int   // reconciler passes by failed
}

func (o *recordingObserver) RunAborted(_ context.Context, a engine.AbortedRun) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.aborts = append(o.aborts, a)
}

// abortsOf returns the early ends reported for a run.
func (o *recordingObserver) abortsOf(runID string) []engine.AbortedRun {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []engine.AbortedRun
	for _, a := range o.aborts {
		if a.RunID == runID {
			out = append(out, a)
		}
	}
	return out
}

func (o *recordingObserver) BranchSkipped(_ context.Context, b engine.BranchSkip) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.branches = append(o.branches, b)
}

func (o *recordingObserver) RunStarting(ctx context.Context, _ string) (context.Context, func(string, error)) {
	return ctx, func(string, error) {}
}
func (o *recordingObserver) RunStarted(_ context.Context, wf engine.WorkflowRef) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.started = append(o.started, wf)
}
func (o *recordingObserver) TraceParent(context.Context) string { return "" }
func (o *recordingObserver) TaskClaimed(_ context.Context, c engine.Claim, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claims = append(o.claims, c)
}
func (o *recordingObserver) TaskExecuted(context.Context, engine.Claim, engine.Execution) {}
func (o *recordingObserver) Recovered(_ context.Context, r engine.Recovery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.recovered == nil {
		o.recovered = map[string]int{}
	}
	o.recovered[r.Cause]++
}
func (o *recordingObserver) ReconcilerPass(_ context.Context, _ int, err error, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.passes == nil {
		o.passes = map[bool]int{}
	}
	o.passes[err != nil]++
}

// recoveries returns the reconciler recoveries reported so far, by cause.
func (o *recordingObserver) recoveries() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.recovered)
}
func (o *recordingObserver) Redelivered(_ context.Context, r engine.Redelivery) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.redelivered[r.Cause]++
	o.redeliveryLog = append(o.redeliveryLog, r)
}

func (o *recordingObserver) redeliveries(cause string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.redelivered[cause]
}
func (o *recordingObserver) RunFinished(_ context.Context, wf engine.WorkflowRef, status string, failedNodes int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = append(o.ended, wf)
	o.finished[status]++
	if failedNodes > 0 {
		o.failedRuns++
	}
}

func (o *recordingObserver) TasksFinished(_ context.Context, _ engine.WorkflowRef, tasks []engine.FinishedTask) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range tasks {
		o.tasks[t.Outcome]++
	}
}

// taskOutcomes returns the final task outcomes reported so far and the runs with failed nodes.
func (o *recordingObserver) taskOutcomes() (map[string]int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return maps.Clone(o.tasks), o.failedRuns
}

func (o *recordingObserver) count(status string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.finished[status]
}

// harnessOptions changes what newHarnessWith builds: the engine's config, the HTTP client of
// apiCall nodes and a decorator of the real store (to inject faults).
type harnessOptions struct {
	// queued turns eager dispatch off: every task then travels through the queue.
	queued    bool
	config    engine.Config
	caller    nodes.HTTPDoer
	wrapStore func(engine.Store) engine.Store
	// slots is the size of each engine's slot pool (default 4).
	slots int
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, harnessOptions{})
}

func newHarnessWith(t testing.TB, opts harnessOptions) *harness {
	t.Helper()
	ctx := context.Background()
	// A worker of the largest concurrency the tests use (4) holds at most two connections per
	// task (its claim and a completion), plus the test's own queries.
	const conns = 10
	st, err := store.Open(ctx, store.Config{URL: testenv.DatabaseConns(t, conns), MaxConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	rc, err := queue.Connect(ctx, testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, store: st, qname: testenv.QueueName(t), redis: testenv.RedisURL(), obs: &recordingObserver{finished: map[string]int{}, redelivered: map[string]int{}, tasks: map[string]int{}},
		pools: map[*engine.Engine]*queue.Slots{}}
	h.queue = queue.NewClient(rc, h.qname)
	h.opts = opts
	h.eng = h.engineAt(nil)
	t.Cleanup(func() {
		h.stopWorkers()
		rc.Close()
		st.Close()
	})
	return h
}

// engineAt is an engine on the harness's store and queue whose clock is now (nil: the wall
// clock), for driving time-based rules without waiting for them.
func (h *harness) engineAt(now func() time.Time) *engine.Engine {
	return h.engineWith(now, h.opts.caller)
}

// engineWith is engineAt whose apiCall nodes send through caller (nil: the harness's).
func (h *harness) engineWith(now func() time.Time, caller nodes.HTTPDoer) *engine.Engine {
	if caller == nil {
		caller = h.opts.caller
	}
	if caller == nil {
		caller = outbound.NewClient(outbound.Config{AllowPrivate: true})
	}
	registry := nodes.NewRegistry(caller, nodes.APICallConfig{})
	var es engine.Store = h.store
	if h.opts.wrapStore != nil {
		es = h.opts.wrapStore(h.store)
	}
	cfg := h.opts.config
	cfg.RetryBaseDelay = cmp.Or(cfg.RetryBaseDelay, 10*time.Millisecond)
	// A worker of the largest concurrency the tests use (4): eager executions take the slots
	// its deliveries leave free.
	pool := queue.NewSlots(cmp.Or(h.opts.slots, 4))
	deps := engine.Deps{Store: es, Queue: h.queue, Registry: registry, Observer: h.obs, Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if !h.opts.queued {
		cfg.EagerDispatch = true
		cfg.WorkerID = cmp.Or(cfg.WorkerID, fmt.Sprintf("harness-worker-%d", workerSeq.Add(1)))
		deps.Slots = pool
	}
	eng, err := engine.New(cfg, deps)
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.pools[eng] = pool
	h.mu.Unlock()
	return eng
}

// startWorker runs a worker until the returned function (or the test's end) stops it.
func (h *harness) startWorker(concurrency int) (stop func()) {
	h.t.Helper()
	return h.startWorkerOn(h.eng, concurrency)
}

// startWorkerOn is startWorker executing with eng (an engine of its own is a worker process
// of its own).
func (h *harness) startWorkerOn(eng *engine.Engine, concurrency int) (stop func()) {
	h.t.Helper()
	rc, err := queue.Connect(context.Background(), h.redis)
	if err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	pool := h.pools[eng]
	h.mu.Unlock()
	srv, err := queue.NewServer(rc, queue.ServerConfig{Queue: h.qname, Concurrency: concurrency, ShutdownTimeout: time.Second, Slots: pool}, eng,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Run(ctx); err != nil {
			h.t.Errorf("worker: %v", err)
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			rc.Close()
		})
	}
	h.mu.Lock()
	h.workers = append(h.workers, stop)
	h.mu.Unlock()
	return stop
}

func (h *harness) stopWorkers() {
	h.mu.Lock()
	workers := h.workers
	h.workers = nil
	h.mu.Unlock()
	for _, stop := range workers {
		stop()
	}
}

// createWorkflow stores a definition (validated like the API does) and returns the workflow.
func (h *harness) createWorkflow(def workflow.Definition) workflow.Workflow {
	h.t.Helper()
	registry := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{})
	if err := workflow.Validate(def, workflow.DefaultLimits, registry.ValidateConfig); err != nil {
		h.t.Fatalf("invalid test workflow: %v", err)
	}
	w, err := h.store.CreateWorkflow(context.Background(), "test", def, time.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	return w
}

func (h *harness) start(w workflow.Workflow, input any) string {
	h.t.Helper()
	raw, _ := json.Marshal(input)
	id, created, err := h.eng.StartRun(context.Background(), engine.StartRequest{WorkflowID: w.ID, VersionID: w.VersionID, Input: raw})
	if err != nil || !created {
		h.t.Fatalf("start run: created=%v err=%v", created, err)
	}
	return id
}

func (h *harness) run(runID string) workflow.Run {
	h.t.Helper()
	r, err := h.store.GetRun(context.Background(), runID)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

// waitRun waits for a run to reach a terminal status.
func (h *harness) waitRun(runID string) workflow.Run {
	h.t.Helper()
	var r workflow.Run
	testenv.WaitFor(h.t, 30*time.Second, "run "+runID+" to finish", func() bool {
		r = h.run(runID)
		return workflow.RunTerminal(r.Status)
	})
	return r
}

func (h *harness) waitTask(runID, nodeID, status string) workflow.Task {
	h.t.Helper()
	var task workflow.Task
	testenv.WaitFor(h.t, 30*time.Second, nodeID+" to be "+status, func() bool {
		task = taskOf(h.t, h.run(runID), nodeID)
		return task.Status == status
	})
	return task
}

func taskOf(t testing.TB, r workflow.Run, nodeID string) workflow.Task {
	t.Helper()
	for _, task := range r.Tasks {
		if task.NodeID == nodeID {
			return task
		}
	}
	t.Fatalf("run %s has no task for node %s", r.ID, nodeID)
	return workflow.Task{}
}

// statuses maps node id to task status.
func statuses(r workflow.Run) map[string]string {
	out := map[string]string{}
	for _, t := range r.Tasks {
		out[t.NodeID] = t.Status
	}
	return out
}

// nodeLogs returns the node-output messages of a node.
func nodeLogs(r workflow.Run, nodeID string) []string {
	var out []string
	for _, l := range r.Logs {
		if l.Type == workflow.LogNodeOutput && l.NodeID != nil && *l.NodeID == nodeID {
			out = append(out, l.Message)
		}
	}
	return out
}

func logsOfType(r workflow.Run, typ string) []string {
	var out []string
	for _, l := range r.Logs {
		if l.Type == typ {
			out = append(out, l.Message)
		}
	}
	return out
}

// queuedDeliveries counts the queue entries (pending or scheduled) for a task id.
func (h *harness) queueHas(taskID string) bool {
	_, err := h.queue.Inspector().GetTaskInfo(h.qname, taskID)
	return err == nil
}

func ref(taskID, runID string) engine.TaskRef {
	return engine.TaskRef{TaskID: taskID, RunID: runID, Kind: engine.KindExecute}
}
