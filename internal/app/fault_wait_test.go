package app_test

// Fault tests of the wait node (wait for an event): a worker killed with SIGKILL while runs wait
// and while the tasks their events released run, a timeout that passes while no worker lives,
// and the private redis-server replaced by an empty one while runs wait, so the timeouts'
// scheduled wake-ups are lost. Each run must end on the branch of what really happened (the
// event or the timeout) with every engine effect exactly once, and an event for a wait that
// already ended must be refused with 409.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// waitFaultBound bounds how long the runs of a wait fault test take to end once the fault is
// over (a new worker started, Redis back, the event delivered). The killed worker's running
// tasks come back once its PostgreSQL heartbeat lease expired (livenessLease) and the claim is
// older than RECONCILE_AFTER (2 s); a lost wake-up once it is overdue by RECONCILE_AFTER.
const waitFaultBound = 60 * time.Second

// waitFaultTimeout is the wait node's timeout in the timeout tests: long enough that every run
// is parked and the fault injected well before it passes, short enough to keep them fast.
var waitFaultTimeout = testenv.Scaled(3 * time.Second)

// Messages the wait node logs (engine/event.go, nodes/wait.go).
const (
	waitLogWaiting  = "Waiting for an event, at most "
	waitLogResumed  = "Event delivered; continuing on out"
	waitLogTimedOut = "No event before the timeout; continuing on out-timeout"
)

// waitFaultWorkflow is
//
//	input ─> approval (wait, timeout) ─┬─ out ─────────> call (apiCall to the endpoint) ─> approved (notification)
//	                                   └─ out-timeout ─> expired (notification)
//
// so an event runs an apiCall (which a test can hold in flight) and a notification quoting the
// event, and a timeout skips both and runs the other notification.
func waitFaultWorkflow(endpoint string, timeout time.Duration) map[string]any {
	node := func(id, typ string, config map[string]any) map[string]any {
		return map[string]any{"id": id, "position": map[string]any{"x": 0, "y": 0}, "base": map[string]any{
			"id": id, "type": typ, "name": id, "inputSchema": map[string]any{}, "outputSchema": map[string]any{},
			"config": config, "connections": []string{},
		}}
	}
	edge := func(from, handle, to string) map[string]any {
		return map[string]any{"id": from + "-" + handle + "-" + to, "sourceId": from, "targetId": to, "sourceHandleId": handle, "targetHandleId": "in"}
	}
	return map[string]any{"name": "fault test: wait for an event", "workflow": map[string]any{
		"nodes": []any{
			node("input", "inputText", map[string]any{"fields": []any{map[string]any{"id": "f-key", "key": "key", "label": "Key", "inputKind": "text"}}}),
			node("approval", "wait", map[string]any{"timeoutMs": timeout.Milliseconds()}),
			node("call", "apiCall", map[string]any{
				"method": "GET", "url": endpoint + "/slow?key={{$run.input.key}}", "headers": []any{},
				"timeoutMs": 20000, "expectedStatusCodes": []int{200}, "retries": 0, "onError": "fail",
			}),
			node("approved", "notification", map[string]any{"template": "approved {{$run.input.key}} by {{$nodes.approval.by}}"}),
			node("expired", "notification", map[string]any{"template": "expired {{$run.input.key}}"}),
		},
		"edges": []any{
			edge("input", "out", "approval"),
			edge("approval", "out", "call"), edge("approval", "out-timeout", "expired"),
			edge("call", "out", "approved"),
		},
	}}
}

// waitRunView is the part of a run's status the wait fault tests read.
type waitRunView struct {
	Status string  `json:"status"`
	Error  *string `json:"error"`
	Tasks  []struct {
		ID           string          `json:"id"`
		NodeID       string          `json:"nodeId"`
		Status       string          `json:"status"`
		Attempt      int             `json:"attempt"`
		Redeliveries int             `json:"redeliveries"`
		Output       json.RawMessage `json:"output"`
	} `json:"tasks"`
	Logs []struct {
		Type    string  `json:"type"`
		Message string  `json:"message"`
		NodeID  *string `json:"nodeId"`
	} `json:"logs"`
}

// waitingTask is a run's approval task while it waits: its id, resume URL and timeout.
type waitingTask struct {
	id        string
	resumeURL string
	timeoutAt time.Time
}

// waitRun reads a run's status.
func waitRun(apiURL, runID string) (waitRunView, error) {
	return runStatusAs[waitRunView](apiURL, runID)
}

// waitingOf is the approval task of v if it waits, with its resume URL and timeout.
func waitingOf(v waitRunView) (waitingTask, bool) {
	for _, task := range v.Tasks {
		if task.NodeID != "approval" || task.Status != workflow.TaskWaiting {
			continue
		}
		var out struct {
			ResumeURL string    `json:"resumeUrl"`
			TimeoutAt time.Time `json:"timeoutAt"`
		}
		if json.Unmarshal(task.Output, &out) != nil || out.ResumeURL == "" {
			return waitingTask{}, false
		}
		return waitingTask{id: task.ID, resumeURL: out.ResumeURL, timeoutAt: out.TimeoutAt}, true
	}
	return waitingTask{}, false
}

// waitStartParked creates the workflow, starts runs of it with keys wait-00, wait-01, ... and
// waits until every run's approval task waits. It returns the runs and their waiting tasks.
func waitStartParked(t *testing.T, apiURL string, def map[string]any, runs int, procs ...*proc) ([]faultRun, []waitingTask) {
	t.Helper()
	var wf struct{ ID string }
	procPost(t, apiURL+"/workflows", def, &wf, http.StatusCreated)
	batch := make([]faultRun, runs)
	for i := range batch {
		batch[i].key = fmt.Sprintf("wait-%02d", i)
		var started struct{ RunID string }
		procPost(t, apiURL+"/workflows/"+wf.ID+"/execute-async", map[string]any{"input": map[string]any{"key": batch[i].key}}, &started, http.StatusCreated)
		batch[i].id = started.RunID
	}
	waiting := make([]waitingTask, runs)
	testenv.WaitFor(t, 60*time.Second, "every run's approval task waiting", func() bool {
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited (%v) before every run waited", p.name, p.err)
			}
		}
		for i, r := range batch {
			if waiting[i].id != "" {
				continue
			}
			v, err := waitRun(apiURL, r.id)
			if err != nil {
				return false
			}
			if w, ok := waitingOf(v); ok {
				waiting[i] = w
			}
		}
		for _, w := range waiting {
			if w.id == "" {
				return false
			}
		}
		return true
	})
	return batch, waiting
}

// requireStillWaiting fails unless every run still waits in PostgreSQL, on its first attempt,
// with the resume URL it had.
func requireStillWaiting(t *testing.T, apiURL string, batch []faultRun, waiting []waitingTask, what string) {
	t.Helper()
	for i, r := range batch {
		v, err := waitRun(apiURL, r.id)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := waitingOf(v)
		if !ok || w != waiting[i] {
			t.Fatalf("run %s (%s) %s: approval is no longer waiting as it was (%+v, tasks %+v)", r.id, r.key, what, waiting[i], v.Tasks)
		}
	}
}

// requireParkedBefore fails unless the fault came before every wait's timeout: otherwise the
// test would not test what it says.
func requireParkedBefore(t *testing.T, fault time.Time, waiting []waitingTask) {
	t.Helper()
	for _, w := range waiting {
		if !fault.Before(w.timeoutAt) {
			t.Fatalf("the fault came at %v, after task %s's timeout at %v: the machine is too slow for this timeout (raise TEST_TIME_SCALE)",
				fault.Format(time.RFC3339Nano), w.id, w.timeoutAt.Format(time.RFC3339Nano))
		}
	}
}

// postEvent posts an event to url and returns the status and body of the answer.
func postEvent(t *testing.T, url, body string) (int, string) {
	t.Helper()
	status, _, answer := rawRequest(t, http.MethodPost, url, body)
	return status, answer
}

// deliverEvent posts event {"by": by} to the run's approval task, through its resume URL or
// (byRoute) the run's events route, and requires it to complete the task on "out".
func deliverEvent(t *testing.T, apiURL string, r faultRun, w waitingTask, byRoute bool, by string) {
	t.Helper()
	url := w.resumeURL
	if byRoute {
		url = apiURL + "/workflows/runs/" + r.id + "/events/approval"
	}
	status, body := postEvent(t, url, fmt.Sprintf(`{"by":%q}`, by))
	var done struct{ RunID, NodeID, TaskID, Status, Handle string }
	if status != http.StatusOK || json.Unmarshal([]byte(body), &done) != nil ||
		done.RunID != r.id || done.NodeID != "approval" || done.TaskID != w.id || done.Status != workflow.TaskCompleted || done.Handle != workflow.HandleOut {
		t.Fatalf("event for run %s (%s) through %s: %d %s, want 200 completing task %s on out", r.id, r.key, url, status, body, w.id)
	}
}

// requireRefused posts a second event to the run's approval task, through its resume URL and
// its events route, and requires both to be refused with 409 and a message containing want.
func requireRefused(t *testing.T, apiURL string, r faultRun, w waitingTask, want string) {
	t.Helper()
	for _, url := range []string{w.resumeURL, apiURL + "/workflows/runs/" + r.id + "/events/approval"} {
		status, body := postEvent(t, url, `{"by":"late"}`)
		if status != http.StatusConflict || !strings.Contains(body, want) {
			t.Errorf("second event for run %s (%s) through %s: %d %s, want 409 with %q", r.id, r.key, url, status, body, want)
		}
	}
}

// waitAllEnded polls every run until all are terminal (failing after d, or when one of procs
// exits) and returns their final statuses.
func waitAllEnded(t *testing.T, apiURL string, batch []faultRun, d time.Duration, procs ...*proc) map[string]waitRunView {
	t.Helper()
	final := map[string]waitRunView{}
	testenv.WaitFor(t, d, "every run terminal", func() bool {
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited (%v) with %d of %d runs still open", p.name, p.err, len(batch)-len(final), len(batch))
			}
		}
		for _, r := range batch {
			if _, ok := final[r.id]; ok {
				continue
			}
			if v, err := waitRun(apiURL, r.id); err == nil && workflow.RunTerminal(v.Status) {
				final[r.id] = v
			}
		}
		return len(final) == len(batch)
	})
	return final
}

// waitBranch is what a run of waitFaultWorkflow must have done.
type waitBranch struct {
	event bool // the event resumed it (else its timeout passed)
	by    string
	// callDeliveries is the deliveries (attempts plus redeliveries) the call node must have
	// taken on the event branch; the endpoint must have seen exactly that many requests.
	callDeliveries int
}

// checkWaitRun asserts that a run of waitFaultWorkflow succeeded on the branch b describes:
// every task in its expected state, the approval task waited once and ended once (one of its
// outcomes logged exactly once), every node that ran logged its output once, no engine log line
// repeats, and no task but the call took more than one delivery. requests is the endpoint's
// count per key.
func checkWaitRun(t *testing.T, r faultRun, v waitRunView, b waitBranch, requests map[string]int) {
	t.Helper()
	bad := func(format string, args ...any) {
		t.Errorf("run %s (%s): %s", r.id, r.key, fmt.Sprintf(format, args...))
	}
	if v.Status != workflow.RunSucceeded {
		bad("ended %s (error %v), want succeeded", v.Status, v.Error)
	}
	want := map[string]string{"input": "completed", "approval": "completed", "call": "skipped", "approved": "skipped", "expired": "completed"}
	ending, notEnding := waitLogTimedOut, waitLogResumed
	if b.event {
		want["call"], want["approved"], want["expired"] = "completed", "completed", "skipped"
		ending, notEnding = waitLogResumed, waitLogTimedOut
	}
	outputs := map[string][]string{} // node -> its node-output messages
	seen := map[string]int{}
	for _, l := range v.Logs {
		node := ""
		if l.NodeID != nil {
			node = *l.NodeID
		}
		if l.Type == "node-output" {
			outputs[node] = append(outputs[node], l.Message)
		}
		if seen[l.Type+"\x00"+node+"\x00"+l.Message]++; seen[l.Type+"\x00"+node+"\x00"+l.Message] == 2 {
			bad("log %s of node %q (%q) appears more than once: an engine transition happened twice", l.Type, node, l.Message)
		}
	}
	if len(v.Tasks) != len(want) {
		bad("%d tasks, want %d", len(v.Tasks), len(want))
	}
	for _, task := range v.Tasks {
		w, known := want[task.NodeID]
		if !known {
			bad("unexpected task for node %s", task.NodeID)
			continue
		}
		if task.Status != w {
			bad("node %s is %s, want %s", task.NodeID, task.Status, w)
		}
		deliveries, wantDeliveries := task.Attempt+task.Redeliveries, 1
		switch {
		case w == "skipped":
			wantDeliveries = 0
		case task.NodeID == "call":
			wantDeliveries = b.callDeliveries
		}
		if deliveries != wantDeliveries || w == "completed" && task.Attempt != 1 {
			bad("node %s took %d attempts and %d redeliveries, want %d deliveries (one attempt if it ran)", task.NodeID, task.Attempt, task.Redeliveries, wantDeliveries)
		}
		got := outputs[task.NodeID]
		switch {
		case task.NodeID == "approval":
			if len(got) != 2 || !strings.HasPrefix(got[0], waitLogWaiting) || got[1] != ending {
				bad("approval logged %q, want %q then %q once each", got, waitLogWaiting+"…", ending)
			}
			for _, m := range got {
				if m == notEnding {
					bad("approval logged both outcomes: %q", got)
				}
			}
		case w == "skipped":
			if len(got) != 0 {
				bad("skipped node %s logged %q", task.NodeID, got)
			}
		case len(got) != 1:
			bad("node %s logged %d outputs %q, want 1", task.NodeID, len(got), got)
		}
	}
	wantRequests := 0
	if b.event {
		wantRequests = b.callDeliveries
		if got := outputs["approved"]; len(got) != 1 || got[0] != "approved "+r.key+" by "+b.by {
			bad("approved logged %q, want %q: the event's payload, once", got, "approved "+r.key+" by "+b.by)
		}
	}
	if n := requests[r.key]; n != wantRequests {
		bad("the endpoint saw %d requests for it, want %d", n, wantRequests)
	}
}

// TestFaultWaitWorkerKillWhileWaiting kills the only worker with SIGKILL while every run waits
// for an event, starts a fresh one and delivers the events (half through resume URLs, half
// through the events route); then, while the apiCalls the events released are in flight on
// that worker, kills it too and starts a third. The waits must survive the first kill untouched
// in PostgreSQL; each event completes its wait once (a second one is refused with 409); every
// run succeeds on the event branch with the event's payload, every engine effect once, and each
// call exactly one redelivery (the one its killed delivery lost).
func TestFaultWaitWorkerKillWhileWaiting(t *testing.T) {
	const runs = 4 // every call fits the worker's slots, so all are in flight on it at once
	slow, open := newGatedEndpoint(t, 50*time.Millisecond)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 1, runs), redis.url(), apiPort), "WORKER_CONCURRENCY", fmt.Sprint(runs),
		"WORKER_HEARTBEAT_INTERVAL", livenessHeartbeat, "WORKER_LEASE", livenessLease)
	stack := startFaultStack(t, env, apiPort, 1)

	batch, waiting := waitStartParked(t, stack.apiURL, waitFaultWorkflow(slow.URL, time.Hour), runs, stack.api, stack.workers[0])
	first := stack.workers[0]
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	second := stack.startWorker(t, "worker-2")
	requireStillWaiting(t, stack.apiURL, batch, waiting, "after its worker was killed")

	for i, r := range batch {
		deliverEvent(t, stack.apiURL, r, waiting[i], i%2 == 1, "ops-"+r.key)
		// The call it released is held at the endpoint, so the run is still running.
		requireRefused(t, stack.apiURL, r, waiting[i], "already resumed: an event resumed it")
	}
	var inFlight []string
	testenv.WaitFor(t, 60*time.Second, fmt.Sprintf("the %d released calls in flight on worker-2", runs), func() bool {
		if second.exited() {
			t.Fatalf("worker-2 exited (%v)", second.err)
		}
		inFlight, _ = slow.snapshot()
		return len(inFlight) == runs
	})
	if err := second.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-second.done
	killed := time.Now()
	t.Logf("worker-1 killed with %d runs waiting; events delivered; worker-2 killed with calls in flight %v", runs, inFlight)
	third := stack.startWorker(t, "worker-3")
	open()

	final := waitAllEnded(t, stack.apiURL, batch, waitFaultBound, stack.api, third)
	t.Logf("all runs terminal %v after worker-2 was killed", time.Since(killed).Round(time.Millisecond))
	requireWaitsSucceeded(t, stack.apiURL, batch, waiting, final, slow.requestCounts(), func(r faultRun) waitBranch {
		return waitBranch{event: true, by: "ops-" + r.key, callDeliveries: 2}
	})
	if n := countLines(third.out.String(), `"cause":"lost_worker"`); n != runs {
		t.Errorf("worker-3's reconciler recovered %d tasks of the killed worker, want the %d calls", n, runs)
	}
}

// TestFaultWaitTimeoutWhileWorkerDead kills the only worker with SIGKILL while every run waits
// and lets the waits' timeout pass with no worker alive: nothing may end them meanwhile. A
// fresh worker then finds their wake-ups in Redis; every run must succeed on the timeout branch
// exactly once (the event branch skipped, its call never made), and an event that comes after
// is refused with 409.
func TestFaultWaitTimeoutWhileWorkerDead(t *testing.T) {
	const runs = 4
	slow := newSlowEndpoint(t, 0)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 1, runs), redis.url(), apiPort), "WORKER_CONCURRENCY", fmt.Sprint(runs),
		"WORKER_HEARTBEAT_INTERVAL", livenessHeartbeat, "WORKER_LEASE", livenessLease)
	stack := startFaultStack(t, env, apiPort, 1)

	batch, waiting := waitStartParked(t, stack.apiURL, waitFaultWorkflow(slow.URL, waitFaultTimeout), runs, stack.api, stack.workers[0])
	first := stack.workers[0]
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	requireParkedBefore(t, time.Now(), waiting)
	last := waiting[0].timeoutAt
	for _, w := range waiting {
		last = later(last, w.timeoutAt)
	}
	testenv.WaitFor(t, waitFaultTimeout+30*time.Second, "every wait's timeout passed", func() bool {
		return time.Now().After(last.Add(time.Second)) // asynq's schedule has whole seconds
	})
	requireStillWaiting(t, stack.apiURL, batch, waiting, "past its timeout with no worker alive")

	w := stack.startWorker(t, "worker-2")
	final := waitAllEnded(t, stack.apiURL, batch, waitFaultBound, stack.api, w)
	requireWaitsSucceeded(t, stack.apiURL, batch, waiting, final, slow.requestCounts(), func(faultRun) waitBranch { return waitBranch{} })
}

// TestFaultWaitWorkerKillDuringWakeUp kills the only worker with SIGKILL while it executes the
// timeout wake-ups of waiting runs: the test holds an exclusive lock on the tasks table from
// before the timeouts, so each wake-up delivery is active in Redis, blocked on its first read
// and listed by the worker's asynq heartbeat when the worker dies, and nothing of it reached
// PostgreSQL. A fresh worker starts. The wait
// is still waiting and overdue, and its wake-up is the dead worker's active delivery in Redis,
// which asynq's recoverer would hand back only 55 s to 2 min later: the reconciler must find
// the delivery orphaned (no live asynq server processes it) and enqueue the wake-up again under
// an id of its own. Every run must succeed on the timeout branch exactly once.
func TestFaultWaitWorkerKillDuringWakeUp(t *testing.T) {
	const runs = 2
	slow := newSlowEndpoint(t, 0)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	db := stackDatabase(t, 1, 4)
	env := withEnv(processEnv(t, db, redis.url(), apiPort), "WORKER_CONCURRENCY", "4",
		"WORKER_HEARTBEAT_INTERVAL", livenessHeartbeat, "WORKER_LEASE", livenessLease)
	stack := startFaultStack(t, env, apiPort, 1)
	batch, waiting := waitStartParked(t, stack.apiURL, waitFaultWorkflow(slow.URL, waitFaultTimeout), runs, stack.api, stack.workers[0])

	release := lockTasks(t, db)
	requireParkedBefore(t, time.Now(), waiting)
	rc := redis.client(t)
	defer rc.Close()
	ctx := context.Background()
	wakeUp := func(id string) bool {
		return slices.ContainsFunc(waiting, func(w waitingTask) bool { return id == w.id+":wake" })
	}
	testenv.WaitFor(t, waitFaultTimeout+30*time.Second, "every wake-up delivery active on the worker", func() bool {
		active, err := rc.LRange(ctx, "asynq:{"+env["QUEUE_NAME"]+"}:active", 0, -1).Result()
		if err != nil {
			t.Fatalf("read the active list: %v", err)
		}
		n := 0
		for _, id := range active {
			if wakeUp(id) {
				n++
			}
		}
		return n == runs
	})
	testenv.WaitFor(t, 30*time.Second, "the worker's asynq heartbeat listing the wake-ups", func() bool {
		return listedActive(t, rc, wakeUp) == runs
	})
	first := stack.workers[0]
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killed := time.Now()
	release()
	requireStillWaiting(t, stack.apiURL, batch, waiting, "after its worker died executing its wake-up")

	w := stack.startWorker(t, "worker-2")
	final := waitAllEnded(t, stack.apiURL, batch, waitFaultBound, stack.api, w)
	t.Logf("all runs terminal %v after the worker was killed mid wake-up", time.Since(killed).Round(time.Millisecond))
	requireWaitsSucceeded(t, stack.apiURL, batch, waiting, final, slow.requestCounts(), func(faultRun) waitBranch { return waitBranch{} })
	requireWakeUpsRecovered(t, w, waiting)
}

// requireWaitsSucceeded checks every run of batch against its final view along the branch
// branchOf gives it (checkWaitRun), and that its approval refuses another event now.
func requireWaitsSucceeded(t *testing.T, apiURL string, batch []faultRun, waiting []waitingTask, final map[string]waitRunView,
	requests map[string]int, branchOf func(faultRun) waitBranch) {
	t.Helper()
	for i, r := range batch {
		checkWaitRun(t, r, final[r.id], branchOf(r), requests)
		requireRefused(t, apiURL, r, waiting[i], "is succeeded; node approval no longer waits")
	}
}

// requireWakeUpsRecovered fails unless the reconciler of worker w re-enqueued the wake-up of
// every task in waiting (a recovery with cause "waiting").
func requireWakeUpsRecovered(t *testing.T, w *proc, waiting []waitingTask) {
	t.Helper()
	var recovered []string
	for _, line := range strings.Split(w.out.String(), "\n") {
		if strings.Contains(line, "reconciler re-enqueued a task") && strings.Contains(line, `"cause":"waiting"`) {
			recovered = append(recovered, line)
		}
	}
	for _, task := range waiting {
		if countLines(strings.Join(recovered, "\n"), `"task.id":"`+task.id+`"`) == 0 {
			t.Errorf("%s's reconciler never re-enqueued the wake-up of task %s", w.name, task.id)
		}
	}
}

// TestFaultWaitRedisLossEvent kills the private redis-server while every run waits for an
// event; one event is delivered while Redis is down, then Redis comes back empty and the
// others are delivered. An event needs no queue: each completes its wait in PostgreSQL (200),
// and what it releases is enqueued then, or by the reconciler once Redis is back. Every run
// must succeed on the event branch with every engine effect once; no process died, so no task
// takes a second delivery.
func TestFaultWaitRedisLossEvent(t *testing.T) {
	const runs = 4
	slow := newSlowEndpoint(t, 0)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 1, runs), redis.url(), apiPort), "WORKER_CONCURRENCY", fmt.Sprint(runs))
	stack := startFaultStack(t, env, apiPort, 1)
	procs := append([]*proc{stack.api}, stack.workers...)

	batch, waiting := waitStartParked(t, stack.apiURL, waitFaultWorkflow(slow.URL, time.Hour), runs, procs...)
	redis.stop(t)
	deliverEvent(t, stack.apiURL, batch[0], waiting[0], false, "ops-"+batch[0].key)
	redis.start(t)
	requireStillWaiting(t, stack.apiURL, batch[1:], waiting[1:], "after Redis was replaced")
	for i, r := range batch[1:] {
		deliverEvent(t, stack.apiURL, r, waiting[i+1], i%2 == 1, "ops-"+r.key)
	}

	final := waitAllEnded(t, stack.apiURL, batch, waitFaultBound, procs...)
	requireWaitsSucceeded(t, stack.apiURL, batch, waiting, final, slow.requestCounts(), func(r faultRun) waitBranch {
		return waitBranch{event: true, by: "ops-" + r.key, callDeliveries: 1}
	})
}

// TestFaultWaitRedisLossTimeout replaces the private redis-server with an empty one while every
// run waits, after the waits' timeout wake-ups were scheduled in it: Redis no longer remembers
// them. The reconciler must enqueue each wake-up again from PostgreSQL once it is overdue, so
// that every run still succeeds on the timeout branch exactly once.
func TestFaultWaitRedisLossTimeout(t *testing.T) {
	const runs = 4
	slow := newSlowEndpoint(t, 0)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 1, runs), redis.url(), apiPort), "WORKER_CONCURRENCY", fmt.Sprint(runs))
	stack := startFaultStack(t, env, apiPort, 1)
	procs := append([]*proc{stack.api}, stack.workers...)

	batch, waiting := waitStartParked(t, stack.apiURL, waitFaultWorkflow(slow.URL, waitFaultTimeout), runs, procs...)
	scheduled := func() map[string]bool {
		t.Helper()
		rc := redis.client(t)
		defer rc.Close()
		ids, err := rc.ZRange(context.Background(), "asynq:{"+env["QUEUE_NAME"]+"}:scheduled", 0, -1).Result()
		if err != nil {
			t.Fatalf("read the scheduled set: %v", err)
		}
		out := map[string]bool{}
		for _, id := range ids {
			out[id] = true
		}
		return out
	}
	testenv.WaitFor(t, 30*time.Second, "every wait's wake-up scheduled in Redis", func() bool {
		set := scheduled()
		for _, w := range waiting {
			if !set[w.id+":wake"] {
				return false
			}
		}
		return true
	})
	redis.stop(t)
	requireParkedBefore(t, time.Now(), waiting)
	redis.start(t)
	if set := scheduled(); len(set) != 0 {
		t.Fatalf("the new Redis has scheduled deliveries %v, want none", set)
	}

	final := waitAllEnded(t, stack.apiURL, batch, waitFaultTimeout+waitFaultBound, procs...)
	requireWaitsSucceeded(t, stack.apiURL, batch, waiting, final, slow.requestCounts(), func(faultRun) waitBranch { return waitBranch{} })
	requireWakeUpsRecovered(t, stack.workers[0], waiting)
}

// client is a Redis client of the server.
func (r *redisServer) client(t *testing.T) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(r.url())
	if err != nil {
		t.Fatal(err)
	}
	return redis.NewClient(opts)
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
