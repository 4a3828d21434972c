package app_test

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// TestFaultConcurrentRuns starts a burst of runs of the fan-out/branch/delay/call/join workflow
// at once (1,000 by default, the figure; FAULT_LOAD_RUNS overrides it, e.g. 300 on a
// slower machine) on an api and two workers: 0 stuck (all terminal within the bound), 0 lost
// (every started run has its status and succeeded along its branch), 0 duplicated (one output
// log per node, no repeated engine log, one attempt per task, one request per call).
func TestFaultConcurrentRuns(t *testing.T) {
	runs := 1000
	if v, err := strconv.Atoi(os.Getenv("FAULT_LOAD_RUNS")); err == nil && v > 0 {
		runs = v
	}
	bound := 150 * time.Second
	slow := newSlowEndpoint(t, 50*time.Millisecond)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 2, 10), redis.url(), apiPort), "WORKER_CONCURRENCY", "10")
	stack := startFaultStack(t, env, apiPort, 2)

	started := time.Now()
	batch := faultStart(t, stack.apiURL, slow.URL, runs, 16)
	posted := time.Since(started)
	final, last := faultWaitAll(t, stack.apiURL, batch, bound, append([]*proc{stack.api}, stack.workers...)...)
	elapsed := last.Sub(started)
	tally := faultCheck(t, batch, final, 1, slow.requestCounts())
	_, peak := slow.snapshot()
	t.Logf("RESULT load: runs %d (%d tasks), posted in %v, all terminal %v after the first post (%.1f runs/s); succeeded correctly %d, wrong %d, stuck 0, duplicated effects %d, redelivered %d, peak calls in flight %d",
		runs, runs*7, posted.Round(time.Millisecond), elapsed.Round(time.Millisecond), float64(runs)/elapsed.Seconds(),
		tally.succeeded, tally.wrong, tally.duplicated, len(tally.retried), peak)
	// With a backlog older than RECONCILE_AFTER (2 s here) the reconciler enqueues tasks it saw
	// queued that a worker has finished meanwhile; such a delivery is dropped at claim (the task
	// is terminal), which the one-attempt check above proves.
	for _, w := range stack.workers {
		t.Logf("%s: reconciler re-enqueued %d deliveries", w.name, countLines(w.out.String(), "reconciler re-enqueued a task"))
	}
}
