package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// meteredEndpoint counts and timestamps the requests it gets, and how many are in flight at
// once, in its own timeline. /slow takes hold before answering; /busy answers 429 with
// Retry-After: busyFor seconds the first time; every path answers {"ok": true}.
type meteredEndpoint struct {
	*httptest.Server
	hold    time.Duration
	busyFor int

	mu       sync.Mutex
	times    []time.Time
	paths    map[string]int
	inFlight int
	peak     int
	busyAt   time.Time
}

func newMeteredEndpoint(t *testing.T, hold time.Duration, busyFor int) *meteredEndpoint {
	e := &meteredEndpoint{hold: hold, busyFor: busyFor, paths: map[string]int{}}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		now := time.Now()
		e.times = append(e.times, now)
		e.paths[r.URL.Path]++
		e.inFlight++
		e.peak = max(e.peak, e.inFlight)
		first := e.paths[r.URL.Path] == 1
		e.mu.Unlock()
		defer func() {
			e.mu.Lock()
			e.inFlight--
			e.mu.Unlock()
		}()
		if strings.HasPrefix(r.URL.Path, "/slow") {
			time.Sleep(e.hold)
		}
		if r.URL.Path == "/busy" && first {
			e.mu.Lock()
			e.busyAt = now
			e.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(e.busyFor))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	}))
	t.Cleanup(e.Server.Close)
	return e
}

// host is the endpoint's host as outbound requests name it (127.0.0.1:port); otherURL reaches
// the same endpoint under another host name (localhost:port), which no limit names.
func (e *meteredEndpoint) host() string {
	u, _ := url.Parse(e.URL)
	return u.Host
}

func (e *meteredEndpoint) otherURL() string {
	u, _ := url.Parse(e.URL)
	return "http://localhost:" + u.Port()
}

func (e *meteredEndpoint) snapshot() (times []time.Time, paths map[string]int, peak int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	paths = map[string]int{}
	for k, v := range e.paths {
		paths[k] = v
	}
	return slices.Clone(e.times), paths, e.peak
}

// limitedWorkers starts n workers of the given concurrency, each with an engine, an HTTP client
// and a limiter of its own on its own Redis connection (n worker processes sharing the limits
// through Redis, under a key prefix of the test's own).
func (h *harness) limitedWorkers(n, concurrency int, limits ...hostlimit.Limit) {
	h.t.Helper()
	prefix := "test-hostlimit-" + uuid.NewString()[:8] + ":"
	h.t.Cleanup(func() { deleteKeys(h.t, h.redis, prefix) })
	for range n {
		rc, err := queue.Connect(context.Background(), h.redis)
		if err != nil {
			h.t.Fatal(err)
		}
		h.t.Cleanup(func() { rc.Close() })
		limiter := hostlimit.New(rc, hostlimit.Config{Limits: limits, Prefix: prefix, InFlightWait: 200 * time.Millisecond})
		client := outbound.NewClient(outbound.Config{AllowPrivate: true, Limiter: limiter})
		h.startWorkerOn(h.engineWith(nil, client), concurrency)
	}
}

func deleteKeys(t testing.TB, redisURL, prefix string) {
	rc, err := queue.Connect(context.Background(), redisURL)
	if err != nil {
		t.Error(err)
		return
	}
	defer rc.Close()
	keys, err := rc.Keys(context.Background(), prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		err = rc.Del(context.Background(), keys...).Err()
	}
	if err != nil {
		t.Errorf("delete keys %s*: %v", prefix, err)
	}
}

// fanOut is an input node followed by n apiCall nodes in parallel, each calling url+"/<path><i>"
// with extra config.
func fanOut(n int, url, path string, extra map[string]any) workflow.Definition {
	b := workflowtest.New().Input("in")
	for i := range n {
		id := fmt.Sprintf("call%d", i)
		b.APICall(id, "GET", fmt.Sprintf("%s/%s%d", url, path, i), extra).Chain("in", id)
	}
	return b.Build()
}

// checkRate fails when some run of consecutive requests in times is denser than the limit
// allows in the endpoint's own timeline: n requests between the first and the last of them,
// d apart, need n <= rate × d + burst, plus one for the network between the limiter's
// decision and the endpoint's clock.
func checkRate(t *testing.T, times []time.Time, rate float64, burst int) {
	t.Helper()
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := range times {
		for j := i + 1; j < len(times); j++ {
			n, d := j-i+1, times[j].Sub(times[i])
			if float64(n) > rate*d.Seconds()+float64(burst)+1 {
				t.Fatalf("%d requests within %v (requests %d to %d), more than %.0f/s with burst %d allow", n, d, i, j, rate, burst)
			}
		}
	}
}

// logsWithReason returns the run's log lines whose data has the reason.
func logsWithReason(r workflow.Run, reason string) []workflow.LogLine {
	var out []workflow.LogLine
	for _, l := range r.Logs {
		var data struct{ Reason string }
		if json.Unmarshal(l.Data, &data) == nil && data.Reason == reason {
			out = append(out, l)
		}
	}
	return out
}

// Per-host rate limit: 5 workers fanning out 16 calls to a host limited to 4/s with a burst of
// 2 keep that rate in the endpoint's own timeline; every call completes on its first attempt
// with retries 0 (a throttle is not a failed attempt), and each throttled call logs once.
func TestThrottledCallsKeepTheHostRate(t *testing.T) {
	t.Parallel()
	const calls, rate, burst = 16, 4, 2
	ep := newMeteredEndpoint(t, 0, 0)
	h := newHarness(t)
	h.limitedWorkers(5, 2, hostlimit.Limit{Host: ep.host(), Rate: rate, Per: time.Second, Burst: burst})
	w := h.createWorkflow(fanOut(calls, ep.URL, "ok", map[string]any{"retries": 0, "onError": "fail"}))
	r := h.waitRun(h.start(w, nil))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded", r.Status)
	}
	times, paths, _ := ep.snapshot()
	if len(times) != calls {
		t.Fatalf("endpoint got %d requests, want %d (one per call)", len(times), calls)
	}
	for i := range calls {
		id := fmt.Sprintf("call%d", i)
		if task := taskOf(t, r, id); task.Attempt != 1 || paths[fmt.Sprintf("/ok%d", i)] != 1 {
			t.Fatalf("%s: attempt %d with %d requests, want 1 and 1", id, task.Attempt, paths[fmt.Sprintf("/ok%d", i)])
		}
	}
	checkRate(t, times, rate, burst)
	held := logsWithReason(r, outbound.ThrottleRate)
	if len(held) < calls-burst-rate || len(held) > calls {
		t.Fatalf("%d held-back log lines, want one per throttled call (at least %d, at most %d)", len(held), calls-burst-rate, calls)
	}
	if !strings.Contains(held[0].Message, "does not count as an attempt") || held[0].Type != workflow.LogInfo {
		t.Fatalf("held-back line %+v, want an info line saying the wait is not an attempt", held[0])
	}
	span := times[len(times)-1].Sub(times[0])
	t.Logf("%d requests in %v at the endpoint: %.2f/s for a limit of %d/s with a burst of %d", len(times), span, float64(len(times)-1)/span.Seconds(), rate, burst)
}

// A throttled call holds no worker slot while it waits: with one slot on each of two workers
// and a limited host saturated for a minute, another workflow calling an unlimited host
// still completes.
func TestThrottledCallHoldsNoSlot(t *testing.T) {
	t.Parallel()
	ep := newMeteredEndpoint(t, 0, 0)
	h := newHarness(t)
	h.limitedWorkers(2, 1, hostlimit.Limit{Host: ep.host(), Rate: 1, Per: time.Minute, Burst: 1})
	limited := h.start(h.createWorkflow(fanOut(6, ep.URL, "ok", map[string]any{"retries": 0})), nil)
	testenv.WaitFor(t, 30*time.Second, "the limited calls to be held back", func() bool {
		return len(logsWithReason(h.run(limited), outbound.ThrottleRate)) >= 4
	})
	other := h.waitRun(h.start(h.createWorkflow(fanOut(3, ep.otherURL(), "free", nil)), nil))
	if other.Status != workflow.RunSucceeded {
		t.Fatalf("unrelated run %s, want succeeded", other.Status)
	}
	if r := h.run(limited); workflow.RunTerminal(r.Status) {
		t.Fatalf("limited run is %s already: the limit of 1/min did not hold its calls", r.Status)
	}
	_, paths, _ := ep.snapshot()
	sent := 0
	for i := range 6 {
		sent += paths[fmt.Sprintf("/ok%d", i)]
	}
	if sent != 1 {
		t.Fatalf("%d calls to the limited host went out, want 1 (the burst)", sent)
	}
	if err := h.eng.Cancel(context.Background(), limited); err != nil {
		t.Fatal(err)
	}
}

// Waiting for a host's limits is bounded: past ThrottleMaxWait the node fails with reason
// throttle_timeout (apiCall's default onError, continue, completes it with the error
// envelope), still on its first attempt, and the call is never sent.
func TestThrottleGivesUpAfterMaxWait(t *testing.T) {
	t.Parallel()
	ep := newMeteredEndpoint(t, 0, 0)
	h := newHarnessWith(t, harnessOptions{config: engine.Config{ThrottleMaxWait: 2 * time.Second}})
	h.limitedWorkers(2, 2, hostlimit.Limit{Host: ep.host(), Rate: 1, Per: time.Minute, Burst: 1})
	r := h.waitRun(h.start(h.createWorkflow(fanOut(3, ep.URL, "ok", map[string]any{"retries": 0})), nil))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded (onError: continue)", r.Status)
	}
	gaveUp := 0
	for i := range 3 {
		task := taskOf(t, r, fmt.Sprintf("call%d", i))
		if task.Outcome != engine.TaskOutcomeFailedContinued {
			continue
		}
		gaveUp++
		var env struct {
			Success bool   `json:"success"`
			Error   string `json:"error"`
		}
		out, err := h.store.TaskOutput(context.Background(), workflow.RunKey{RunID: r.ID}, task.ID)
		if err != nil {
			t.Fatal(err)
		}
		if task.Attempt != 1 || task.Error == nil || !strings.Contains(*task.Error, "THROTTLE_MAX_WAIT is 2s") ||
			json.Unmarshal(out.Output, &env) != nil || env.Success || !strings.Contains(env.Error, "gave up waiting") {
			t.Fatalf("task %s: attempt %d, error %v, output %s; want attempt 1 and the give-up in error and envelope", task.NodeID, task.Attempt, task.Error, out.Output)
		}
	}
	if _, paths, _ := ep.snapshot(); gaveUp != 2 || paths["/ok0"]+paths["/ok1"]+paths["/ok2"] != 1 {
		t.Fatalf("%d calls gave up and %v were sent, want 2 and 1", gaveUp, paths)
	}
	if got := logsWithReason(r, engine.ReasonThrottleTimeout); len(got) != 2 {
		t.Fatalf("%d give-up log lines, want 2", len(got))
	}
}

// Max in flight per host: 4 workers with 2 slots each call a slow host limited to 2 calls in
// flight; the endpoint never sees more than 2 at once, and every call completes on its first
// attempt.
func TestInFlightLimitHoldsAcrossWorkers(t *testing.T) {
	t.Parallel()
	const calls, maxInFlight = 10, 2
	ep := newMeteredEndpoint(t, 150*time.Millisecond, 0)
	h := newHarness(t)
	h.limitedWorkers(4, 2, hostlimit.Limit{Host: ep.host(), MaxInFlight: maxInFlight})
	r := h.waitRun(h.start(h.createWorkflow(fanOut(calls, ep.URL, "slow", map[string]any{"retries": 0, "onError": "fail"})), nil))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded", r.Status)
	}
	times, _, peak := ep.snapshot()
	if peak > maxInFlight || len(times) != calls {
		t.Fatalf("%d requests, at most %d in flight at once; want %d requests and at most %d", len(times), peak, calls, maxInFlight)
	}
	for i := range calls {
		if task := taskOf(t, r, fmt.Sprintf("call%d", i)); task.Attempt != 1 {
			t.Fatalf("call%d: attempt %d, want 1", i, task.Attempt)
		}
	}
	if len(logsWithReason(r, outbound.ThrottleConcurrency)) == 0 {
		t.Fatal("no call was held back for the in-flight maximum: the test did not press the limit")
	}
}

// An upstream Retry-After on a limited host pauses it for every worker: after one worker's
// call got 429 with Retry-After: 2, the calls other workers make to that host wait until the
// pause is over (in the endpoint's own timeline) and are held back as host_paused, not failed.
func TestUpstreamRetryAfterPausesEveryWorker(t *testing.T) {
	t.Parallel()
	const pause = 2
	ep := newMeteredEndpoint(t, 0, pause)
	h := newHarness(t)
	h.limitedWorkers(3, 2, hostlimit.Limit{Host: ep.host(), Rate: 1000, Per: time.Second, Burst: 1000})
	busy := h.start(h.createWorkflow(workflowtest.New().APICall("busy", "GET", ep.URL+"/busy", map[string]any{"retries": 1}).Build()), nil)
	testenv.WaitFor(t, 30*time.Second, "the 429", func() bool {
		_, paths, _ := ep.snapshot()
		return paths["/busy"] > 0
	})
	others := h.start(h.createWorkflow(fanOut(4, ep.URL, "ok", map[string]any{"retries": 0, "onError": "fail"})), nil)
	r := h.waitRun(others)
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("status %s, want succeeded", r.Status)
	}
	if b := h.waitRun(busy); b.Status != workflow.RunSucceeded {
		t.Fatalf("the 429'd run is %s, want succeeded on its retry", b.Status)
	}
	ep.mu.Lock()
	busyAt, times := ep.busyAt, slices.Clone(ep.times)
	ep.mu.Unlock()
	// The 429 is the first request; every later one (the retry and the other run's calls)
	// comes after the pause.
	for _, at := range times[1:] {
		if gap := at.Sub(busyAt); gap < pause*time.Second-50*time.Millisecond {
			t.Fatalf("a request came %v after the 429 with Retry-After: %d", gap, pause)
		}
	}
	if got := logsWithReason(r, outbound.ThrottlePaused); len(got) == 0 || len(got) > 4 {
		t.Fatalf("%d host_paused lines, want one per held-back call of the other run (1 to 4)", len(got))
	}
}
