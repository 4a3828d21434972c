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
	requireCallsHeld(t, tally, concurrency)
}

// TestFaultWorkerKillBeforeClaim kills the only worker with SIGKILL while it holds the runs'
// first deliveries but none of their claims reached PostgreSQL: the test holds an exclusive
// lock on the tasks table, so each delivery is active in Redis, blocked on its first read and
// listed by the worker's asynq heartbeat. In PostgreSQL the tasks are still queued, and asynq's
// recoverer would hand the deliveries back only 55 s to 2 min later; a fresh worker's
// reconciler must find them orphaned and enqueue them again under ids of their own. Every run
// must succeed along its branch with every node's effect once, well before asynq's recoverer.
func TestFaultWorkerKillBeforeClaim(t *testing.T) {
	const runs = 3
	slow := newSlowEndpoint(t, 0)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	db := stackDatabase(t, 1, 4)
	env := withEnv(processEnv(t, db, redis.url(), apiPort), "WORKER_CONCURRENCY", "4")
	stack := startFaultStack(t, env, apiPort, 0)
	batch := faultStart(t, stack.apiURL, slow.URL, runs, runs)

	release := lockTasks(t, db)
	first := stack.startWorker(t, "worker-1")
	rc := redis.client(t)
	defer rc.Close()
	testenv.WaitFor(t, 30*time.Second, "the worker's asynq heartbeat listing every run's first delivery", func() bool {
		return listedActive(t, rc, func(string) bool { return true }) == runs
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	killed := time.Now()
	release()

	w := stack.startWorker(t, "worker-2")
	final, last := faultWaitAll(t, stack.apiURL, batch, 2*time.Minute, stack.api, w)
	tally := faultCheck(t, batch, final, 1, slow.requestCounts())
	t.Logf("RESULT kill before claim: runs %d, succeeded correctly %d, wrong %d, duplicated effects %d, all terminal %v after the kill",
		runs, tally.succeeded, tally.wrong, tally.duplicated, last.Sub(killed).Round(time.Millisecond))
	// asynq's recoverer cannot act before 55 s, however slow the machine: a recovery later than
	// that is its, not the reconciler's.
	if recovered := last.Sub(killed); recovered >= 55*time.Second {
		t.Errorf("the runs ended %v after the kill: asynq's recoverer, not the reconciler, brought the deliveries back", recovered.Round(time.Millisecond))
	}
	if out := w.out.String(); countLines(out, "reconciler re-enqueued a task") == 0 {
		t.Errorf("%s's reconciler never re-enqueued the orphaned deliveries:\n%s", w.name, tail(out, 20))
	}
}
