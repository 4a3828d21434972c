package app_test

// Process tests: the built binary's roles as real OS processes, the way Docker Compose runs
// them, against the test database and Redis. A worker stopped with SIGTERM in the middle of a
// batch finishes its in-flight tasks and exits 0, and every run still completes exactly once.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sequenceflow-process-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	processBinary.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// slowEndpoint is the outbound service of the apiCall nodes: it holds every request for delay
// (after its gate opens, if it has one) and counts requests per key.
type slowEndpoint struct {
	*httptest.Server
	delay    time.Duration
	gate     chan struct{} // nil, or closed when requests may proceed
	mu       sync.Mutex
	requests map[string]int  // key -> requests received
	inFlight map[string]bool // keys being answered now
	peak     int             // most requests in flight at once
}

func newSlowEndpoint(t *testing.T, delay time.Duration) *slowEndpoint {
	return newEndpoint(t, delay, nil)
}

// newGatedEndpoint is a slowEndpoint that holds every request until open is called, so a
// test can wait for calls in flight without racing their completion.
func newGatedEndpoint(t *testing.T, delay time.Duration) (e *slowEndpoint, open func()) {
	gate := make(chan struct{})
	var once sync.Once
	open = func() { once.Do(func() { close(gate) }) }
	e = newEndpoint(t, delay, gate)
	t.Cleanup(open) // runs before the server's Close, which waits for held handlers
	return e, open
}

func newEndpoint(t *testing.T, delay time.Duration, gate chan struct{}) *slowEndpoint {
	e := &slowEndpoint{delay: delay, gate: gate, requests: map[string]int{}, inFlight: map[string]bool{}}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		e.mu.Lock()
		e.requests[key]++
		e.inFlight[key] = true
		e.peak = max(e.peak, len(e.inFlight))
		e.mu.Unlock()
		if e.gate != nil {
			select {
			case <-e.gate:
			case <-r.Context().Done():
			}
		}
		select {
		case <-time.After(e.delay):
		case <-r.Context().Done():
		}
		e.mu.Lock()
		delete(e.inFlight, key)
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"key":%q}`, key)
	}))
	t.Cleanup(e.Close)
	return e
}

// snapshot returns the keys in flight now and the peak so far.
func (e *slowEndpoint) snapshot() (inFlight []string, peak int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k := range e.inFlight {
		inFlight = append(inFlight, k)
	}
	sort.Strings(inFlight)
	return inFlight, e.peak
}

// processWorkflow is input -> apiCall to the slow endpoint (no retries, failure fails the run)
// -> notification, in the POST /workflows wire format.
func processWorkflow(endpoint string) map[string]any {
	node := func(id, typ string, config map[string]any, next ...string) map[string]any {
		return map[string]any{"id": id, "position": map[string]any{"x": 0, "y": 0}, "base": map[string]any{
			"id": id, "type": typ, "name": id, "inputSchema": map[string]any{}, "outputSchema": map[string]any{},
			"config": config, "connections": append([]string{}, next...),
		}}
	}
	edge := func(from, to string) map[string]any {
		return map[string]any{"id": from + "-" + to, "sourceId": from, "targetId": to, "sourceHandleId": "out", "targetHandleId": "in"}
	}
	return map[string]any{"name": "process test: slow call", "workflow": map[string]any{
		"nodes": []any{
			node("input", "inputText", map[string]any{"fields": []any{map[string]any{"id": "f-key", "key": "key", "label": "Key", "inputKind": "text"}}}, "call"),
			node("call", "apiCall", map[string]any{
				"method": "GET", "url": endpoint + "/slow?key={{$run.input.key}}", "headers": []any{},
				"timeoutMs": 10000, "expectedStatusCodes": []int{200}, "retries": 0, "onError": "fail",
			}, "done"),
			node("done", "notification", map[string]any{"template": "done {{data.key}}"}),
		},
		"edges": []any{edge("input", "call"), edge("call", "done")},
	}}
}

// procRun is the part of GET /workflows/runs/{id}/status the process tests read.
type procRun struct {
	ID     string  `json:"id"`
	Status string  `json:"status"`
	Error  *string `json:"error"`
	Tasks  []struct {
		NodeID       string `json:"nodeId"`
		Status       string `json:"status"`
		Attempt      int    `json:"attempt"`
		Redeliveries int    `json:"redeliveries"`
	} `json:"tasks"`
	Logs []struct {
		Type    string  `json:"type"`
		Message string  `json:"message"`
		NodeID  *string `json:"nodeId"`
	} `json:"logs"`
}

// procPost posts body as JSON and decodes the answer into out, failing unless it is want.
func procPost(t *testing.T, url string, body, out any, want int) {
	t.Helper()
	if err := postJSON(nil, url, body, out, want); err != nil {
		t.Fatal(err)
	}
}

// postJSON is procPost returning its error, for goroutines, through client c (nil: a plain
// client with a 30 s timeout).
func postJSON(c *http.Client, url string, body, out any, want int) error {
	raw, err := json.Marshal(body)
	if err != nil {
		return err
	}
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := c.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("POST %s: %v", url, err)
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("POST %s: %d, reading the answer: %v", url, res.StatusCode, err)
	}
	if res.StatusCode != want {
		return fmt.Errorf("POST %s: %d %s, want %d", url, res.StatusCode, answer, want)
	}
	if err := json.Unmarshal(answer, out); err != nil {
		return fmt.Errorf("POST %s: %v: %s", url, err, answer)
	}
	return nil
}

// apiPool is the PostgreSQL pool of an api process in these tests, which serve it a handful
// of requests at once.
const apiPool = 4

// workerPool is the PostgreSQL pool of a worker process of the given concurrency in these
// tests: the smallest the binary accepts, a connection per slot plus its headroom.
func workerPool(concurrency int) int { return concurrency + app.PoolHeadroom }

// stackDatabase is a test database for an api and workers processes of the given
// concurrency: it reserves what their pools (withPool) open at most, so the stacks of several
// tests never hold more than the suite's connection budget together.
func stackDatabase(t *testing.T, workers, concurrency int) string {
	t.Helper()
	return testenv.DatabaseConns(t, apiPool+1+workers*workerPool(concurrency)) // +1: the api's run watcher listens on a connection of its own
}

// withPool sizes the PostgreSQL pool of a process of role to what stackDatabase reserved
// for it, unless the test sets DB_MAX_CONNS itself.
func withPool(env map[string]string, role string) map[string]string {
	if _, set := env["DB_MAX_CONNS"]; set {
		return env
	}
	switch role {
	case "api": // it runs no worker slots
		return withEnv(env, "WORKER_CONCURRENCY", "1", "DB_MAX_CONNS", strconv.Itoa(apiPool))
	case "worker":
		concurrency, err := strconv.Atoi(env["WORKER_CONCURRENCY"])
		if err != nil {
			concurrency = 10 // the default
		}
		return withEnv(env, "DB_MAX_CONNS", strconv.Itoa(workerPool(concurrency)))
	}
	return env
}

// processEnv is the environment every role of one stack shares.
func processEnv(t *testing.T, databaseURL, redisURL, apiPort string) map[string]string {
	return map[string]string{
		"DATABASE_URL":           databaseURL,
		"REDIS_URL":              redisURL,
		"QUEUE_NAME":             testenv.QueueName(t),
		"PORT":                   apiPort,
		"API_BASE_URL":           "http://127.0.0.1:" + apiPort,
		"SEED_SAMPLES":           "false",
		"RECONCILE_INTERVAL":     "200ms",
		"RECONCILE_AFTER":        "2s",
		"SHUTDOWN_TIMEOUT":       "2s",
		"RETRY_BASE_DELAY":       "50ms",
		"OUTBOUND_ALLOW_PRIVATE": "true", // the slow endpoint is on 127.0.0.1
		"LOG_LEVEL":              "info",
	}
}

func withEnv(env map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(env)+len(kv)/2)
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestProcessGracefulShutdown(t *testing.T) {
	const (
		runs        = 40
		concurrency = 4 // per worker: both workers busy means 2*concurrency calls in flight
		callTime    = 400 * time.Millisecond
		shutdown    = 2 * time.Second // SHUTDOWN_TIMEOUT
	)
	slow, open := newGatedEndpoint(t, callTime)
	ports := freePorts(t, 3)
	apiPort, workerHealth := ports[0], ports[1:]
	env := withEnv(processEnv(t, stackDatabase(t, 2, concurrency), testenv.RedisURL(), apiPort), "WORKER_CONCURRENCY", fmt.Sprint(concurrency))
	apiURL := "http://127.0.0.1:" + apiPort

	api := startProc(t, "api", withEnv(env, "METRICS_ADDR", "off"), "api")
	victim := startProc(t, "worker-1", withEnv(env, "METRICS_ADDR", "127.0.0.1:"+workerHealth[0]), "worker")
	survivor := startProc(t, "worker-2", withEnv(env, "METRICS_ADDR", "127.0.0.1:"+workerHealth[1]), "worker")
	waitStatus(t, apiURL+"/readyz", 200, "ready", 60*time.Second, api)
	for i, port := range workerHealth {
		waitStatus(t, "http://127.0.0.1:"+port+"/readyz", 200, "ready", 60*time.Second, []*proc{victim, survivor}[i])
	}

	var wf struct{ ID string }
	procPost(t, apiURL+"/workflows", processWorkflow(slow.URL), &wf, http.StatusCreated)
	keyOf := map[string]string{} // run id -> key
	for i := range runs {
		var started struct{ RunID string }
		key := fmt.Sprintf("run-%02d", i)
		procPost(t, apiURL+"/workflows/"+wf.ID+"/execute-async", map[string]any{"input": map[string]any{"key": key}}, &started, http.StatusCreated)
		keyOf[started.RunID] = key
	}

	// Both workers are mid-call when every slot of both is in flight; the endpoint holds the
	// calls until the victim has been told to stop, so that state lasts until then.
	var inFlight []string
	testenv.WaitFor(t, 60*time.Second, fmt.Sprintf("%d calls in flight on both workers", 2*concurrency), func() bool {
		inFlight, _ = slow.snapshot()
		return len(inFlight) >= 2*concurrency
	})
	if err := victim.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	open()
	stopped := time.Now()
	if code := victim.waitExit(t, shutdown+10*time.Second); code != 0 {
		t.Errorf("worker-1 exited with %d after SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM with calls in flight for %v; worker-1 exited after %v", inFlight, time.Since(stopped).Round(time.Millisecond))

	for runID, key := range keyOf {
		run := procWaitRun(t, apiURL, runID, 60*time.Second, api, survivor)
		if run.Status != "succeeded" {
			t.Errorf("run %s (%s) ended %s (error %v), want succeeded", runID, key, run.Status, run.Error)
		}
		outputs := map[string]int{}
		for _, l := range run.Logs {
			if l.Type == "node-output" && l.NodeID != nil {
				outputs[*l.NodeID]++
			}
		}
		for _, task := range run.Tasks {
			if task.Status != "completed" || task.Attempt != 1 || outputs[task.NodeID] != 1 {
				t.Errorf("run %s (%s) node %s: %s after %d attempts, %d node-output logs; want completed once",
					runID, key, task.NodeID, task.Status, task.Attempt, outputs[task.NodeID])
			}
		}
		if len(run.Tasks) != 3 {
			t.Errorf("run %s has %d tasks, want 3", runID, len(run.Tasks))
		}
	}
	slow.mu.Lock()
	for _, key := range keyOf {
		if n := slow.requests[key]; n != 1 {
			t.Errorf("the endpoint saw %d requests for %s, want exactly 1", n, key)
		}
	}
	slow.mu.Unlock()

	for _, p := range []*proc{survivor, api} {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.waitExit(t, shutdown+10*time.Second); code != 0 {
			t.Errorf("%s exited with %d after SIGTERM, want 0", p.name, code)
		}
	}
}

// procWaitRun polls a run's status until it is terminal.
func procWaitRun(t *testing.T, apiURL, runID string, d time.Duration, procs ...*proc) procRun {
	t.Helper()
	d = testenv.Scaled(d)
	deadline := time.Now().Add(d)
	for {
		run, err := faultGet(apiURL, runID)
		if err == nil && workflow.RunTerminal(run.Status) {
			return run
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited (%v) while run %s was %s", p.name, p.err, runID, run.Status)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still %q after %v (%v)", runID, run.Status, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
