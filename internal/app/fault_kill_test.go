package app_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// faultKillBound bounds recovery after a worker is killed with SIGKILL. Its running tasks come
// back through the other workers' reconcilers once its PostgreSQL heartbeat lease expired
// (WORKER_LEASE, default 30 s, plus RECONCILE_INTERVAL), or through asynq's own recoverer
// (its 30 s lease, rdb.LeaseDuration in asynq v0.26, must have expired more than 30 s ago, and
// it runs every minute: 55 s to about 2 min), whichever comes first.
const faultKillBound = 150 * time.Second

// TestFaultWorkerKill9 kills one of two workers with SIGKILL while apiCalls run on it, delays
// are parked and joins are waiting for their other parents, then starts a fresh worker. Every
// run must succeed along its if/else branch, every node (the join included) must have logged its
// output exactly once and no engine log line may repeat; a task that was running on the killed
// worker may have taken a second delivery (at-least-once delivery), nothing else.
func TestFaultWorkerKill9(t *testing.T) {
	const (
		runs        = 30
		concurrency = 4
	)
	slow := newSlowEndpoint(t, 300*time.Millisecond)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, stackDatabase(t, 2, concurrency), redis.url(), apiPort), "WORKER_CONCURRENCY", fmt.Sprint(concurrency))
	stack := startFaultStack(t, env, apiPort, 2)
	victim := stack.workers[0]

	started := time.Now()
	batch := faultStart(t, stack.apiURL, slow.URL, runs, 4)

	// Kill when more calls are in flight than one worker can hold (so the victim holds some),
	// at least one delay is parked and at least one join is half released.
	var before map[string]int
	var inFlight []string
	testenv.WaitFor(t, 60*time.Second, "calls in flight on both workers, a delay parked and a join half released", func() bool {
		if inFlight, _ = slow.snapshot(); len(inFlight) <= concurrency {
			return false
		}
		before = faultSnapshot(stack.apiURL, batch)
		inFlight, _ = slow.snapshot()
		return before["wait:waiting"] > 0 && before["join:half-released"] > 0 && len(inFlight) > concurrency
	})
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-victim.done
	t.Logf("SIGKILL %v after the batch started; calls in flight %d %v; tasks just before: running %d (call %d), waiting delays %d, queued %d, joins half released %d, runs succeeded %d",
		killed.Sub(started).Round(time.Millisecond), len(inFlight), inFlight, before["running"], before["call:running"],
		before["wait:waiting"], before["queued"], before["join:half-released"], before["run:succeeded"])

	stack.startWorker(t, "worker-3")
	final, last := faultWaitAll(t, stack.apiURL, batch, faultKillBound, stack.api, stack.workers[1], stack.workers[2])
	recovered := last.Sub(killed)
	tally := faultCheck(t, batch, final, 2, slow.requestCounts())
	t.Logf("RESULT kill-9: runs %d, succeeded correctly %d, wrong %d, duplicated effects %d, tasks redelivered %d %v, all terminal %v after the kill (bound %v)",
		runs, tally.succeeded, tally.wrong, tally.duplicated, len(tally.retried), tally.retried, recovered.Round(time.Millisecond), testenv.Scaled(faultKillBound))
	if len(tally.retried) > concurrency {
		t.Errorf("%d tasks redelivered, but the killed worker held at most %d", len(tally.retried), concurrency)
	}
}
