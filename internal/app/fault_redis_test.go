package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// faultRedisBound bounds recovery after Redis lost its data: the reconciler (RECONCILE_INTERVAL
// 200 ms, RECONCILE_AFTER 2 s in processEnv) re-enqueues from PostgreSQL every task that is due
// (queued, or a parked delay past its wake-up time) but no longer in Redis.
const faultRedisBound = 60 * time.Second

// TestFaultRedisDataLoss kills the private redis-server while apiCalls run, delays are parked
// in asynq's scheduled set and joins are half released, then starts a new, empty one on the same
// port. Every queued delivery and every scheduled wake-up is gone; the reconciler must rebuild
// them from PostgreSQL so that every run still succeeds along its branch with every engine
// effect exactly once. No process died, so no task may take a second attempt.
func TestFaultRedisDataLoss(t *testing.T) {
	const (
		runs        = 30
		concurrency = 4
	)
	slow := newSlowEndpoint(t, 300*time.Millisecond)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 2, concurrency), redis.url(), apiPort),
		"WORKER_CONCURRENCY", fmt.Sprint(concurrency), "RECONCILE_INTERVAL", "200ms", "RECONCILE_AFTER", "2s")
	stack := startFaultStack(t, env, apiPort, 2)

	started := time.Now()
	batch := faultStart(t, stack.apiURL, slow.URL, runs, 4)

	var before map[string]int
	var inFlight []string
	testenv.WaitFor(t, 60*time.Second, "calls in flight, a delay parked and a join half released", func() bool {
		if inFlight, _ = slow.snapshot(); len(inFlight) == 0 {
			return false
		}
		before = faultSnapshot(stack.apiURL, batch)
		return before["wait:waiting"] > 0 && before["join:half-released"] > 0 && before["queued"] > 0
	})
	redis.stop(t)
	killed := time.Now()
	redis.start(t)
	t.Logf("Redis killed %v after the batch started and restarted empty after %v; tasks just before: running %d, queued %d, waiting delays %d, joins half released %d, runs succeeded %d",
		killed.Sub(started).Round(time.Millisecond), time.Since(killed).Round(time.Millisecond), before["running"], before["queued"],
		before["wait:waiting"], before["join:half-released"], before["run:succeeded"])

	final, last := faultWaitAll(t, stack.apiURL, batch, faultRedisBound, append([]*proc{stack.api}, stack.workers...)...)
	recovered := last.Sub(killed)
	tally := faultCheck(t, batch, final, 1, slow.requestCounts())
	t.Logf("RESULT redis-data-loss: runs %d, succeeded correctly %d, wrong %d, duplicated effects %d, redelivered %d, all terminal %v after the kill (bound %v)",
		runs, tally.succeeded, tally.wrong, tally.duplicated, len(tally.retried), recovered.Round(time.Millisecond), testenv.Scaled(faultRedisBound))
	for _, w := range stack.workers {
		if n := countLines(w.out.String(), "reconciler re-enqueued a task"); n > 0 {
			t.Logf("%s: reconciler re-enqueued %d deliveries", w.name, n)
		}
	}
}
