package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/outbound/outboundtest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Every engine test stops its workers and closes its pools, Redis clients and servers, so no
// goroutine may outlive the package's tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// taskOutput reads a task's stored output.
func (h *harness) taskOutput(taskID string) map[string]any {
	h.t.Helper()
	var out map[string]any
	if err := h.store.Pool().QueryRow(context.Background(), `SELECT output FROM tasks WHERE id = $1`, taskID).Scan(&out); err != nil {
		h.t.Fatalf("output of task %s: %v", taskID, err)
	}
	return out
}

// errorLogs splits a node's error log lines into the reasons of its retry lines ("Attempt n
// of m failed ...; retrying in ...") and the other lines, oldest first.
func errorLogs(t *testing.T, r workflow.Run, nodeID string) (retryReasons, others []string) {
	t.Helper()
	for _, l := range r.Logs {
		if l.Type != workflow.LogError || l.NodeID == nil || *l.NodeID != nodeID {
			continue
		}
		if !strings.HasPrefix(l.Message, "Attempt ") {
			others = append(others, l.Message)
			continue
		}
		var data struct {
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(l.Data, &data); err != nil {
			t.Fatalf("retry log data %s: %v", l.Data, err)
		}
		retryReasons = append(retryReasons, data.Reason)
	}
	return retryReasons, others
}

// Rules 7 and 10 against targets that misbehave: API-call nodes hitting an endpoint that
// hangs, resets connections, answers 500 or 429 with Retry-After, or streams an endless body
// fast or slowly. Each run ends in the state its node's onError asks for, retryable failures
// are retried exactly `retries` times, permanent ones never, a 429's Retry-After spaces the
// attempts, a host that keeps failing opens its breaker so later attempts fail without
// calling it, and afterwards no goroutine, database connection or target connection is left.
//
// Not parallel: besides the package-wide check in TestMain, this test checks its own
// goroutines against those alive when it starts, which only holds while no other test runs
// (the other engine tests are parallel, so they wait until the sequential ones are done).
func TestHostileOutboundEndpoints(t *testing.T) {
	before := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, before) }) // registered first, so it runs after every other cleanup

	const (
		breakerFailures = 4
		maxBody         = 64 << 10
	)
	h := newHarness(t)
	client := outbound.NewClient(outbound.Config{AllowPrivate: true, MaxResponseBytes: maxBody,
		Breaker: outbound.BreakerConfig{Failures: breakerFailures, OpenTimeout: time.Minute}})
	eng, err := engine.New(engine.Config{RetryBaseDelay: 10 * time.Millisecond}, engine.Deps{
		Store: h.store, Queue: h.queue, Registry: nodes.NewRegistry(client, nodes.APICallConfig{}),
		Observer: h.obs, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng

	type expect struct {
		run      string
		attempts int
		requests int      // attempts that reached the target
		retries  []string // reason of each retry, oldest first
		message  string   // in the task's error (onError fail) or its error payload (continue)
		logged   string   // in the node's output log of the last attempt
		after    string   // what the next node logged from the error payload; "" when skipped
	}
	tests := []struct {
		name      string
		misbehave outboundtest.Behaviour
		config    map[string]any
		want      expect
	}{
		{"hang", outboundtest.Hang, map[string]any{"timeoutMs": 300, "retries": 2, "onError": "fail"},
			expect{run: workflow.RunFailed, attempts: 3, requests: 3, retries: slices.Repeat([]string{"timeout"}, 2),
				message: "Request timeout (after 3 attempts)", logged: "API Call failed: Request timeout"}},
		{"hang until the breaker opens", outboundtest.Hang, map[string]any{"timeoutMs": 300, "retries": 5, "onError": "fail"},
			expect{run: workflow.RunFailed, attempts: 6, requests: breakerFailures,
				retries: append(slices.Repeat([]string{"timeout"}, breakerFailures), "breaker_open"),
				message: "circuit breaker open for 127.0.0.1:", logged: "circuit breaker open for 127.0.0.1:"}},
		{"reset", outboundtest.Reset, map[string]any{"retries": 2},
			expect{run: workflow.RunSucceeded, attempts: 3, requests: 3, retries: slices.Repeat([]string{"connection"}, 2),
				message: "connection reset by peer", logged: "connection reset by peer", after: "0 false"}},
		{"500", outboundtest.Status(http.StatusInternalServerError), map[string]any{"retries": 2},
			expect{run: workflow.RunSucceeded, attempts: 3, requests: 3, retries: slices.Repeat([]string{"http_5xx"}, 2),
				message: "unexpected status 500 Internal Server Error", logged: "→ 500 Internal Server Error (unexpected status)", after: "500 false"}},
		{"429 with Retry-After", outboundtest.Status(http.StatusTooManyRequests, "Retry-After", "2"), map[string]any{"retries": 1},
			expect{run: workflow.RunSucceeded, attempts: 2, requests: 2, retries: []string{"http_429"},
				message: "unexpected status 429 Too Many Requests", logged: "→ 429 Too Many Requests (unexpected status)", after: "429 false"}},
		{"endless body", outboundtest.Endless(32<<10, 0), map[string]any{"retries": 3, "onError": "fail"},
			expect{run: workflow.RunFailed, attempts: 1, requests: 1,
				message: fmt.Sprintf("response body too large: more than %d bytes", maxBody), logged: "API Call failed: response body too large"}},
		{"slow drip", outboundtest.Endless(1, 10*time.Millisecond), map[string]any{"timeoutMs": 300, "retries": 1},
			expect{run: workflow.RunSucceeded, attempts: 2, requests: 2, retries: []string{"timeout"},
				message: "Request timeout", logged: "API Call failed: Request timeout", after: "0 false"}},
	}
	targets := make([]*outboundtest.Hostile, len(tests))
	runs := make([]string, len(tests))
	for i, tc := range tests {
		targets[i] = outboundtest.NewHostile(t, tc.misbehave) // one host each: breakers are per host
		w := h.createWorkflow(workflowtest.New().
			APICall("api", "GET", targets[i].URL, tc.config).
			Notify("after", "{{status}} {{success}} {{error}}").
			Chain("api", "after").Build())
		runs[i] = h.start(w, nil)
	}
	h.startWorker(len(tests))

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.waitRun(runs[i])
			api := taskOf(t, r, "api")
			if r.Status != tc.want.run || api.Attempt != tc.want.attempts {
				t.Fatalf("run %s after %d attempts, want %s after %d", r.Status, api.Attempt, tc.want.run, tc.want.attempts)
			}
			if got := len(targets[i].Requests()); got != tc.want.requests {
				t.Errorf("target saw %d requests, want %d", got, tc.want.requests)
			}
			retries, others := errorLogs(t, r, "api")
			if strings.Join(retries, ",") != strings.Join(tc.want.retries, ",") {
				t.Errorf("retries %q, want %q", retries, tc.want.retries)
			}
			if len(others) != 1 || !strings.HasPrefix(others[0], "Node api failed: ") || !strings.Contains(others[0], tc.want.message) {
				t.Errorf("error logs besides retries %q, want one \"Node api failed\" line with %q", others, tc.want.message)
			}
			if out := nodeLogs(r, "api"); len(out) != tc.want.attempts || !strings.Contains(out[len(out)-1], tc.want.logged) {
				t.Errorf("api node output %q, want one line per attempt, the last with %q", out, tc.want.logged)
			}
			switch tc.want.run {
			case workflow.RunFailed:
				if api.Status != workflow.TaskFailed || api.Error == nil || !strings.Contains(*api.Error, tc.want.message) {
					t.Errorf("api task %s error %v, want failed with %q", api.Status, api.Error, tc.want.message)
				}
				if got := statuses(r)["after"]; got != workflow.TaskSkipped {
					t.Errorf("after is %s, want skipped", got)
				}
				if !strings.Contains(r.Error, tc.want.message) {
					t.Errorf("run error %q, want %q", r.Error, tc.want.message)
				}
			default:
				env := h.taskOutput(api.ID)
				if msg, _ := env["error"].(string); env["success"] != false || !strings.Contains(msg, tc.want.message) {
					t.Errorf("api output %v, want the error payload with %q", env, tc.want.message)
				}
				if got := nodeLogs(r, "after"); len(got) != 1 || !strings.HasPrefix(got[0], tc.want.after+" ") || !strings.Contains(got[0], tc.want.message) {
					t.Errorf("after logged %q, want %q and the error", got, tc.want.after)
				}
			}
		})
	}

	// Every attempt at a hanging or dripping target was cut by the node's timeout, and the
	// endless body by the size bound: the target saw the client leave each time.
	for i, tc := range tests {
		if strings.HasPrefix(tc.name, "hang") || tc.name == "slow drip" || tc.name == "endless body" {
			testenv.WaitFor(h.t, 10*time.Second, fmt.Sprintf("%s: all %d requests to be abandoned by the client", tc.name, tc.want.requests),
				func() bool { return int(targets[i].Abandoned.Load()) == tc.want.requests })
		}
	}
	// Retry-After: 2 spaced the 429's attempts by at least 2 s (the backoff alone is ~10 ms,
	// rounded up to the next whole second).
	for i, tc := range tests {
		if tc.name != "429 with Retry-After" {
			continue
		}
		times := targets[i].Requests()
		if len(times) != 2 {
			t.Fatalf("429 target saw %d requests, want 2", len(times))
		}
		if gap := times[1].Sub(times[0]); gap < 2*time.Second {
			t.Errorf("second attempt %s after the 429, want at least its Retry-After of 2s", gap)
		} else {
			t.Logf("429: second attempt %s after the first (Retry-After: 2)", gap.Round(time.Millisecond))
		}
	}

	h.stopWorkers()
	pool := h.store.Pool()
	testenv.WaitFor(h.t, 10*time.Second, "the database pool to have no acquired connections", func() bool { return pool.Stat().AcquiredConns() == 0 })
	held := make([]string, len(tests))
	for i, tc := range tests {
		held[i] = fmt.Sprintf("%s %d", tc.name, targets[i].OpenConns())
	}
	t.Logf("target connections open before CloseIdle: %s", strings.Join(held, ", "))
	client.CloseIdle()
	for i, tc := range tests {
		testenv.WaitFor(h.t, 10*time.Second, tc.name+" target's connections to close", func() bool { return targets[i].OpenConns() == 0 })
	}
}
