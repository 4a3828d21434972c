package app_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// TestSyncExecuteWaitsWithoutPolling: many clients waiting on the legacy synchronous
// /execute cost the database one status read each when they start waiting, then only the
// process's one periodic check of all waited runs; their runs' completion wakes them through
// a notification. (Polling every 20 ms per client, 50 clients made 3,600 transactions/s.)
func TestSyncExecuteWaitsWithoutPolling(t *testing.T) {
	const (
		clients = 50
		slots   = 5 // WORKER_CONCURRENCY: calls held at once
		polls   = 10
		// The periodic check of every waited run, and the status read of a new waiter.
		pollSQL   = "FROM unnest($1::text[]) AS w(id)"
		statusSQL = "SELECT status FROM runs WHERE id"
	)
	release := make(chan struct{})
	var held atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		held.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer target.Close()
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()

	sent := &testenv.Statements{}
	srv := apptest.Start(t, func(c *app.Config) {
		c.SeedSamples = false
		c.QueryTracer = sent
		c.WorkerConcurrency, c.DBMaxConns = slots, slots+app.PoolHeadroom
		c.ReconcileInterval = time.Hour // no reconciler statements in the measured window
		c.SyncWaitPoll = 50 * time.Millisecond
		c.SyncWaitTimeout = 5 * time.Minute
	})
	def := workflowtest.New().Input("in").
		APICall("call", "GET", target.URL+"/hold?key={{$run.input.key}}", map[string]any{"timeoutMs": 600000, "retries": 0}).
		Notify("done", "done").Chain("in", "call", "done").JSON()
	wfID := createWorkflow(t, srv.URL, def)

	type answer struct {
		Status string `json:"status"`
		Logs   []any  `json:"logs"`
	}
	answers := make(chan error, clients)
	client := &http.Client{Timeout: 5 * time.Minute}
	for i := range clients {
		go func() {
			var a answer
			err := postJSON(client, srv.URL+"/workflows/"+wfID+"/execute", map[string]any{"input": map[string]any{"key": i}}, &a, http.StatusCreated)
			if err == nil && (a.Status != "succeeded" || len(a.Logs) == 0) {
				err = fmt.Errorf("answer %+v, want succeeded with the node logs", a)
			}
			answers <- err
		}()
	}
	// Every run started and the worker's slots held: from here on the database has nothing to
	// do but what waiting costs. (Each waiter's one status read may still be on its way; so may,
	// with per-client polling, a flood, which also ends these waits.)
	testenv.WaitFor(t, 2*time.Minute, fmt.Sprintf("%d runs started and %d calls held", clients, slots), func() bool {
		return sent.Count("INSERT INTO runs") >= clients && held.Load() == slots
	})
	started := sent.Len()
	testenv.WaitFor(t, 2*time.Minute, "every client waiting", func() bool {
		return sent.Count(statusSQL) >= clients || len(sent.Since(started)) >= 3*clients
	})
	before := sent.Len()
	var window, other []string
	testenv.WaitFor(t, 2*time.Minute, fmt.Sprintf("%d checks of the waited runs, or one statement per client", polls), func() bool {
		window, other = sent.Since(before), nil
		for _, q := range window {
			if !strings.Contains(q, pollSQL) {
				other = append(other, q)
			}
		}
		return len(window)-len(other) >= polls || len(other) >= clients
	})
	t.Logf("%d clients waiting over %d checks: %d statements, %d of them not the check", clients, polls, len(window), len(other))
	// Per-client polling would send at least one statement per client in that time.
	if len(other) >= clients {
		t.Errorf("%d statements besides the periodic check while %d clients waited, want fewer than one per client: %q", len(other), clients, other[:min(len(other), 5)])
	}

	open()
	deadline := time.After(testenv.Scaled(2 * time.Minute))
	for i := range clients {
		select {
		case err := <-answers:
			if err != nil {
				t.Error(err)
			}
		case <-deadline:
			t.Fatalf("%d of %d clients still waiting two minutes after their calls were let through", clients-i, clients)
		}
	}
}
