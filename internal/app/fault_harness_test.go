package app_test

// Helpers of the fault-injection tests (fault_*_test.go): a workflow with a fan-out, an
// if/else branch, a parked delay, an apiCall and a join; a batch of its runs; and the checks
// that every run reached its correct terminal state with every engine effect exactly once.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"golang.org/x/sync/errgroup"
)

// faultThreshold is the n above which the if/else node takes out-true (node "hi").
const faultThreshold = 14

// faultWorkflow is
//
//	input ─┬─> check (ifElse n > 14) ─┬─ out-true ──> hi (notification) ─┐
//	       │                          └─ out-false ─> lo (notification) ─┤
//	       ├─> call (apiCall to the slow endpoint) ──────────────────────┼─> join (notification)
//	       └─> wait (delay 1 s) ─────────────────────────────────────────┘
//
// so every run fans out three ways, skips one branch, parks a delay and releases a join with
// four incoming edges, one of them not taken.
func faultWorkflow(endpoint string) map[string]any {
	node := func(id, typ string, config map[string]any) map[string]any {
		return map[string]any{"id": id, "position": map[string]any{"x": 0, "y": 0}, "base": map[string]any{
			"id": id, "type": typ, "name": id, "inputSchema": map[string]any{}, "outputSchema": map[string]any{},
			"config": config, "connections": []string{},
		}}
	}
	edge := func(from, handle, to string) map[string]any {
		return map[string]any{"id": from + "-" + handle + "-" + to, "sourceId": from, "targetId": to, "sourceHandleId": handle, "targetHandleId": "in"}
	}
	return map[string]any{"name": "fault test: fan-out, branch, delay, call, join", "workflow": map[string]any{
		"nodes": []any{
			node("input", "inputText", map[string]any{"fields": []any{
				map[string]any{"id": "f-key", "key": "key", "label": "Key", "inputKind": "text"},
				map[string]any{"id": "f-n", "key": "n", "label": "N", "inputKind": "number"},
			}}),
			node("check", "ifElse", map[string]any{
				"condition": map[string]any{"combiner": "all", "predicates": []any{map[string]any{
					"id": "p-n", "targetField": "n", "validationLogic": map[string]any{">": []any{map[string]any{"var": "value"}, faultThreshold}},
				}}},
				"trueLabel": "High", "falseLabel": "Low",
			}),
			node("hi", "notification", map[string]any{"template": "high {{$run.input.key}}"}),
			node("lo", "notification", map[string]any{"template": "low {{$run.input.key}}"}),
			node("call", "apiCall", map[string]any{
				"method": "GET", "url": endpoint + "/slow?key={{$run.input.key}}", "headers": []any{},
				"timeoutMs": 20000, "expectedStatusCodes": []int{200}, "retries": 3, "onError": "fail",
			}),
			node("wait", "delay", map[string]any{"delayType": "seconds", "delayValue": 1}),
			node("join", "notification", map[string]any{"template": "joined {{$run.input.key}}"}),
		},
		"edges": []any{
			edge("input", "out", "check"), edge("input", "out", "call"), edge("input", "out", "wait"),
			edge("check", "out-true", "hi"), edge("check", "out-false", "lo"),
			edge("hi", "out", "join"), edge("lo", "out", "join"), edge("call", "out", "join"), edge("wait", "out", "join"),
		},
	}}
}

// faultRun is one run of faultWorkflow the test started.
type faultRun struct {
	id  string
	key string
	n   int
}

// branch is the notification node the run's if/else must take.
func (r faultRun) branch() (taken, skipped string) {
	if r.n > faultThreshold {
		return "hi", "lo"
	}
	return "lo", "hi"
}

// faultStart creates the workflow and starts runs of it, parallel posts at a time, with n
// cycling through 0..29 so both branches are taken.
func faultStart(t *testing.T, apiURL, endpoint string, runs, parallel int) []faultRun {
	t.Helper()
	var wf struct{ ID string }
	procPost(t, apiURL+"/workflows", faultWorkflow(endpoint), &wf, http.StatusCreated)
	out := make([]faultRun, runs)
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	errs := make(chan error, runs)
	for i := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := faultRun{key: fmt.Sprintf("run-%04d", i), n: i % 30}
			var started struct{ RunID string }
			if err := postJSON(nil, apiURL+"/workflows/"+wf.ID+"/execute-async", map[string]any{"input": map[string]any{"key": r.key, "n": r.n}}, &started, http.StatusCreated); err != nil {
				errs <- err
				return
			}
			r.id = started.RunID
			out[i] = r
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

// faultGet reads a run's status.
func faultGet(apiURL, runID string) (procRun, error) { return runStatusAs[procRun](apiURL, runID) }

// runStatusAs reads a run's status into a T.
func runStatusAs[T any](apiURL, runID string) (T, error) {
	var s T
	status, body, err := procHTTP(apiURL + "/workflows/runs/" + runID + "/status")
	if err != nil {
		return s, err
	}
	if status != http.StatusOK {
		return s, fmt.Errorf("run %s status: %d %s", runID, status, body)
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return s, fmt.Errorf("run %s status: %v: %s", runID, err, body)
	}
	return s, nil
}

// runStatus is one run's status as read, or why it could not be read.
type runStatus struct {
	run procRun
	err error
}

// faultGetAll reads the status of every run in ids, 8 requests at a time.
func faultGetAll(apiURL string, ids []string) map[string]runStatus {
	out := make(map[string]runStatus, len(ids))
	var mu sync.Mutex
	var g errgroup.Group
	g.SetLimit(8)
	for _, id := range ids {
		g.Go(func() error {
			run, err := faultGet(apiURL, id)
			mu.Lock()
			defer mu.Unlock()
			out[id] = runStatus{run, err}
			return nil
		})
	}
	_ = g.Wait() // the goroutines report through out, never by error
	return out
}

// faultWaitAll polls every run until all are terminal, failing after d (or when one of procs
// exits) with the runs still open. It returns the final statuses and when the last run ended
// (as observed by polling).
func faultWaitAll(t *testing.T, apiURL string, runs []faultRun, d time.Duration, procs ...*proc) (map[string]procRun, time.Time) {
	t.Helper()
	d = testenv.Scaled(d)
	deadline := time.Now().Add(d)
	done := map[string]procRun{}
	for {
		var pending []string
		for _, r := range runs {
			if _, ok := done[r.id]; !ok {
				pending = append(pending, r.id)
			}
		}
		statuses := faultGetAll(apiURL, pending)
		var open []string // ids of runs not terminal yet
		for _, id := range pending {
			if s := statuses[id]; s.err == nil && workflow.RunTerminal(s.run.Status) {
				done[id] = s.run
			} else {
				open = append(open, id)
			}
		}
		if len(open) == 0 {
			return done, time.Now()
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited (%v) with %d runs still open", p.name, p.err, len(open))
			}
		}
		if time.Now().After(deadline) {
			var examples []string
			for _, id := range open[:min(5, len(open))] {
				examples = append(examples, fmt.Sprintf("%s (%s, err %v)", id, statuses[id].run.Status, statuses[id].err))
			}
			stuck := statuses[open[0]].run
			t.Logf("stuck run %s: status %s, tasks %+v", open[0], stuck.Status, stuck.Tasks)
			t.Fatalf("%d of %d runs not terminal after %v, e.g. %v", len(open), len(runs), d, examples)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// faultTally is what the checks found over a batch.
type faultTally struct {
	succeeded, wrong int
	retried          []string // run/node#deliveries of tasks delivered more than once (allowed only where maxDeliveries > 1)
	duplicated       int      // engine effects seen twice
}

// faultCheck asserts that every run succeeded along its expected branch, every node's output
// was logged exactly once (0 for the skipped branch), no log line of the engine repeats and no
// task took more than maxDeliveries deliveries (attempts plus redeliveries). requests, if not
// nil, is the slow endpoint's count per key: each call node made at least one request and no
// more than its deliveries.
func faultCheck(t *testing.T, runs []faultRun, final map[string]procRun, maxDeliveries int, requests map[string]int) faultTally {
	t.Helper()
	var tally faultTally
	for _, r := range runs {
		s, ok := final[r.id]
		if !ok {
			t.Errorf("run %s (%s) lost: no final status", r.id, r.key)
			tally.wrong++
			continue
		}
		bad := func(format string, args ...any) {
			t.Errorf("run %s (%s, n=%d): %s", r.id, r.key, r.n, fmt.Sprintf(format, args...))
		}
		okRun := true
		if s.Status != "succeeded" {
			bad("ended %s (error %v), want succeeded", s.Status, s.Error)
			okRun = false
		}
		taken, skipped := r.branch()
		outputs := map[string]int{}
		seen := map[string]int{}
		for _, l := range s.Logs {
			node := ""
			if l.NodeID != nil {
				node = *l.NodeID
			}
			if l.Type == "node-output" {
				outputs[node]++
			}
			seen[l.Type+"\x00"+node+"\x00"+l.Message]++
		}
		for k, n := range seen {
			if n > 1 {
				parts := strings.SplitN(k, "\x00", 3)
				bad("log %s of node %q (%q) appears %d times: an engine transition happened twice", parts[0], parts[1], parts[2], n)
				tally.duplicated++
				okRun = false
			}
		}
		want := map[string]string{"input": "completed", "check": "completed", "call": "completed", "wait": "completed",
			"join": "completed", taken: "completed", skipped: "skipped"}
		if len(s.Tasks) != len(want) {
			bad("%d tasks, want %d", len(s.Tasks), len(want))
			okRun = false
		}
		for _, task := range s.Tasks {
			w, known := want[task.NodeID]
			if !known {
				bad("unexpected task for node %s", task.NodeID)
				okRun = false
				continue
			}
			if task.Status != w {
				bad("node %s is %s, want %s", task.NodeID, task.Status, w)
				okRun = false
			}
			wantOutputs := 1
			if w == "skipped" {
				wantOutputs = 0
			}
			if outputs[task.NodeID] != wantOutputs {
				bad("node %s has %d node-output logs, want %d", task.NodeID, outputs[task.NodeID], wantOutputs)
				if outputs[task.NodeID] > 1 {
					tally.duplicated++
				}
				okRun = false
			}
			deliveries := task.Attempt + task.Redeliveries
			if deliveries > maxDeliveries || (w == "completed" && task.Attempt < 1) {
				bad("node %s took %d attempts and %d redeliveries, want 1..%d deliveries", task.NodeID, task.Attempt, task.Redeliveries, maxDeliveries)
				okRun = false
			}
			if deliveries > 1 {
				tally.retried = append(tally.retried, fmt.Sprintf("%s/%s#%d", r.key, task.NodeID, deliveries))
			}
			if task.NodeID == "call" && requests != nil {
				if n := requests[r.key]; n < 1 || n > max(deliveries, 1) {
					bad("the endpoint saw %d requests for the call node, which took %d attempts and %d redeliveries", n, task.Attempt, task.Redeliveries)
					okRun = false
				}
			}
		}
		if okRun {
			tally.succeeded++
		} else {
			tally.wrong++
		}
	}
	sort.Strings(tally.retried)
	return tally
}

// requestCounts copies the slow endpoint's per-key request counts.
func (e *slowEndpoint) requestCounts() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.requests)
}

// faultSnapshot counts, over the runs, tasks per status right now.
func faultSnapshot(apiURL string, runs []faultRun) map[string]int {
	ids := make([]string, len(runs))
	for i, r := range runs {
		ids[i] = r.id
	}
	counts := map[string]int{}
	for _, st := range faultGetAll(apiURL, ids) {
		if st.err != nil {
			counts["unreadable"]++
			continue
		}
		s := st.run
		counts["run:"+s.Status]++
		joinOpen, parentDone := false, false
		for _, task := range s.Tasks {
			counts[task.NodeID+":"+task.Status]++
			counts[task.Status]++
			switch {
			case task.NodeID == "join":
				joinOpen = !workflow.TaskTerminal(task.Status)
			case task.NodeID != "input" && task.NodeID != "check" && (task.Status == "completed" || task.Status == "skipped"):
				parentDone = true
			}
		}
		if joinOpen && parentDone {
			counts["join:half-released"]++ // some of its parents resolved, not all
		}
	}
	return counts
}

// faultStack is an api and workers of one test.
type faultStack struct {
	apiURL  string
	api     *proc
	env     map[string]string
	workers []*proc
}

// startWorker starts one more worker process and waits until it is ready.
func (s *faultStack) startWorker(t *testing.T, name string) *proc {
	t.Helper()
	port := freePort(t)
	w := startProc(t, name, withEnv(s.env, "METRICS_ADDR", "127.0.0.1:"+port), "worker")
	waitStatus(t, "http://127.0.0.1:"+port+"/readyz", 200, "ready", 60*time.Second, w)
	s.workers = append(s.workers, w)
	return w
}

// startFaultStack starts an api and n workers on env and waits until all are ready.
func startFaultStack(t *testing.T, env map[string]string, apiPort string, workers int) *faultStack {
	t.Helper()
	s := &faultStack{apiURL: "http://127.0.0.1:" + apiPort, env: env}
	s.api = startProc(t, "api", withEnv(env, "METRICS_ADDR", "off"), "api")
	waitStatus(t, s.apiURL+"/readyz", 200, "ready", 60*time.Second, s.api)
	for i := range workers {
		s.startWorker(t, fmt.Sprintf("worker-%d", i+1))
	}
	return s
}

// countLines counts the lines of out containing s.
func countLines(out, s string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

// lockTasks holds an exclusive lock on the tasks table of database db until release (or the
// end of the test): every statement on tasks waits, so a delivery blocks on its first read.
func lockTasks(t *testing.T, db string) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if err := tx.Rollback(ctx); err != nil {
				t.Errorf("release the lock on tasks: %v", err)
			}
			conn.Close(ctx)
		})
	}
	t.Cleanup(release)
	if _, err := tx.Exec(ctx, `LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	return release
}

// listedActive counts the deliveries that live asynq servers on rc list among those their
// workers process, of those whose id match accepts. Once a worker's asynq heartbeat lists a
// delivery, Redis says a live server processes it until that state expires.
func listedActive(t *testing.T, rc *redis.Client, match func(id string) bool) int {
	t.Helper()
	servers, err := asynq.NewInspectorFromRedisClient(rc).Servers()
	if err != nil {
		t.Fatalf("list asynq servers: %v", err)
	}
	n := 0
	for _, s := range servers {
		for _, a := range s.ActiveWorkers {
			if match(a.TaskID) {
				n++
			}
		}
	}
	return n
}

// requireCallsHeld checks that no more calls were redelivered than the killed worker had slots.
// A slot holds one task that does I/O; the pure tasks a transition released may be claimed for
// the releasing slot too, to run ahead of it (eager dispatch, within the hop budget), so they
// may come back as well, and only the calls are bounded by the worker's concurrency.
func requireCallsHeld(t *testing.T, tally faultTally, concurrency int) {
	t.Helper()
	calls := 0
	for _, r := range tally.retried {
		if strings.Contains(r, "/call#") {
			calls++
		}
	}
	if calls > concurrency {
		t.Errorf("%d calls redelivered (%v), but the killed worker held at most %d", calls, tally.retried, concurrency)
	}
}
