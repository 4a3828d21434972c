package app_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// Heartbeat settings of the liveness fault test: a worker is presumed dead 1.5 s after its
// last heartbeat.
const (
	livenessHeartbeat = "250ms"
	livenessLease     = "1500ms"
)

// faultKillRedisBound bounds recovery when a worker dies and Redis loses its data at the same
// time. Nothing in Redis remembers the killed worker's deliveries, so asynq cannot recover
// them; the reconcilers of the other workers find them in PostgreSQL once the dead worker's
// lease expired (WORKER_LEASE 1.5 s) and the claim is older than RECONCILE_AFTER (2 s), and
// re-enqueue everything queued or due that Redis lost. Without heartbeats only
// RECONCILE_STALE_AFTER (15 min, left at its default here) would bring the running tasks back.
const faultKillRedisBound = 60 * time.Second

// TestFaultWorkerKillAndRedisLoss kills one of two workers with SIGKILL while apiCalls run on
// it and, at the same moment, replaces Redis with an empty one: every queued delivery, every
// scheduled delay wake-up and every trace of the killed worker's active deliveries is gone.
// A fresh worker starts. Every run must still succeed along its branch with every engine
// effect exactly once, long before RECONCILE_STALE_AFTER; the calls that were running on the
// killed worker take one redelivery each, counted apart from their attempts.
func TestFaultWorkerKillAndRedisLoss(t *testing.T) {
	const (
		runs        = 30
		concurrency = 4
	)
	slow := newSlowEndpoint(t, 300*time.Millisecond)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, testenv.Database(t), redis.url(), apiPort), "WORKER_CONCURRENCY", "4",
		"WORKER_HEARTBEAT_INTERVAL", livenessHeartbeat, "WORKER_LEASE", livenessLease, "RECONCILE_STALE_AFTER", "15m")
	stack := startFaultStack(t, env, apiPort, 2)
	victim := stack.workers[0]

	started := time.Now()
	batch := faultStart(t, stack.apiURL, slow.URL, runs, 4)

	var before map[string]int
	var inFlight []string
	testenv.WaitFor(t, 60*time.Second, "calls in flight on both workers, a delay parked, a join half released and tasks queued", func() bool {
		if inFlight, _ = slow.snapshot(); len(inFlight) <= concurrency {
			return false
		}
		before = faultSnapshot(stack.apiURL, batch)
		inFlight, _ = slow.snapshot()
		return before["wait:waiting"] > 0 && before["join:half-released"] > 0 && before["queued"] > 0 && len(inFlight) > concurrency
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	redis.stop(t)
	killed := time.Now()
	redis.start(t)
	<-victim.done
	t.Logf("SIGKILL and Redis emptied %v after the batch started; calls in flight %d; tasks just before: running %d (call %d), waiting delays %d, queued %d, joins half released %d, runs succeeded %d",
		killed.Sub(started).Round(time.Millisecond), len(inFlight), before["running"], before["call:running"],
		before["wait:waiting"], before["queued"], before["join:half-released"], before["run:succeeded"])

	stack.startWorker(t, "worker-3")
	final, last := faultWaitAll(t, stack.apiURL, batch, faultKillRedisBound, stack.api, stack.workers[1], stack.workers[2])
	recovered := last.Sub(killed)
	tally := faultCheck(t, batch, final, 2, slow.requestCounts())
	t.Logf("RESULT kill-9+redis-loss: runs %d, succeeded correctly %d, wrong %d, duplicated effects %d, tasks redelivered %d %v, all terminal %v after the fault (bound %v)",
		runs, tally.succeeded, tally.wrong, tally.duplicated, len(tally.retried), tally.retried, recovered.Round(time.Millisecond), testenv.Scaled(faultKillRedisBound))
	requireCallsHeld(t, tally, concurrency)
	if len(tally.retried) == 0 {
		t.Errorf("no task was redelivered, but the killed worker held calls in flight")
	}
	recoveries := 0
	for _, w := range stack.workers[1:] {
		recoveries += countLines(w.out.String(), `"cause":"lost_worker"`)
	}
	if recoveries == 0 {
		t.Errorf("no reconciler recovered a task of the dead worker")
	}
}
