package hostlimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// redisClient connects to the tests' Redis; closed when the test ends.
func redisClient(t *testing.T) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	t.Cleanup(func() { rc.Close() })
	if err := rc.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	return rc
}

// prefix is a key prefix of the test's own, whose keys are deleted when it ends.
func prefix(t *testing.T) string {
	t.Helper()
	p := "test-hostlimit-" + uuid.NewString()[:8] + ":"
	t.Cleanup(func() {
		rc := redisClient(t)
		keys, err := rc.Keys(context.Background(), "*"+p+"*").Result()
		if err == nil && len(keys) > 0 {
			err = rc.Del(context.Background(), keys...).Err()
		}
		if err != nil {
			t.Errorf("delete keys of %s: %v", p, err)
		}
	})
	return p
}

// workers returns n limiters of the same limits and prefix, each on its own connection, as n
// worker processes would have.
func workers(t *testing.T, n int, cfg hostlimit.Config) []*hostlimit.Limiter {
	t.Helper()
	cfg.Prefix = prefix(t)
	out := make([]*hostlimit.Limiter, n)
	for i := range out {
		out[i] = hostlimit.New(redisClient(t), cfg)
	}
	return out
}

func throttleOf(t *testing.T, err error) *outbound.ThrottledError {
	t.Helper()
	var th *outbound.ThrottledError
	if !errors.As(err, &th) {
		t.Fatalf("error %v, want a *outbound.ThrottledError", err)
	}
	return th
}

// TestRateIsSharedByEveryWorker: 8 limiters (workers) asking as fast as the limiter lets them
// for 1.5 s get at most rate × elapsed + burst grants in all, measured in the test's own span,
// and at least half the rate (the limit is enforced, not a refusal of everything).
func TestRateIsSharedByEveryWorker(t *testing.T) {
	t.Parallel()
	const rate, burst = 20, 5
	limit := hostlimit.Limit{Host: "api.example.com", Rate: rate, Per: time.Second, Burst: burst}
	ls := workers(t, 8, hostlimit.Config{Limits: []hostlimit.Limit{limit}})
	var grants, refusals atomic.Int64
	start := time.Now()
	stopAt := start.Add(testenv.Scaled(1500 * time.Millisecond))
	var wg sync.WaitGroup
	for _, l := range ls {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(stopAt) {
					release, err := l.Admit(context.Background(), limit.Host, time.Minute)
					if err != nil {
						th := throttleOf(t, err)
						if th.Reason != outbound.ThrottleRate || th.Wait <= 0 || th.Wait > time.Second/rate {
							t.Errorf("refusal %+v, want rate_limited with a wait in (0, %v]", th, time.Second/rate)
							return
						}
						refusals.Add(1)
						time.Sleep(th.Wait) // as a rescheduled task would come back
						continue
					}
					grants.Add(1)
					release()
				}
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(start)
	allowed := float64(rate)*elapsed.Seconds() + burst
	t.Logf("%d grants and %d refusals in %v (at most %.1f allowed)", grants.Load(), refusals.Load(), elapsed, allowed)
	if float64(grants.Load()) > allowed+1 {
		t.Fatalf("%d grants in %v, more than rate × elapsed + burst = %.1f", grants.Load(), elapsed, allowed)
	}
	if float64(grants.Load()) < float64(rate)*elapsed.Seconds()/2 {
		t.Fatalf("%d grants in %v, fewer than half the rate", grants.Load(), elapsed)
	}
	if refusals.Load() == 0 {
		t.Fatal("no caller was refused: the test did not press the limit")
	}
}

// TestInFlightIsBoundedAcrossWorkers: 12 callers on 4 limiters, each holding its slot a
// while, never exceed the in-flight maximum together, and every one of them gets through.
func TestInFlightIsBoundedAcrossWorkers(t *testing.T) {
	t.Parallel()
	const maxInFlight = 3
	limit := hostlimit.Limit{Host: "slow.example.com", MaxInFlight: maxInFlight}
	ls := workers(t, 4, hostlimit.Config{Limits: []hostlimit.Limit{limit}, InFlightWait: 5 * time.Millisecond})
	var inFlight, peak, done atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		l := ls[i%len(ls)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				release, err := l.Admit(context.Background(), limit.Host, time.Minute)
				if err != nil {
					th := throttleOf(t, err)
					if th.Reason != outbound.ThrottleConcurrency {
						t.Errorf("refusal %+v, want concurrency_limited", th)
						return
					}
					time.Sleep(th.Wait)
					continue
				}
				n := inFlight.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
				time.Sleep(20 * time.Millisecond) // the call
				inFlight.Add(-1)
				release()
				done.Add(1)
				return
			}
		}()
	}
	wg.Wait()
	if peak.Load() > maxInFlight {
		t.Fatalf("%d calls in flight at once, more than the maximum %d", peak.Load(), maxInFlight)
	}
	if peak.Load() < 2 || done.Load() != 12 {
		t.Fatalf("peak %d, done %d: want calls in parallel and all 12 through", peak.Load(), done.Load())
	}
}

// TestCrashedHolderFreesItsSlotWhenTheLeaseEnds: slots whose holder never releases them (a
// worker that crashed) are taken back once their lease has ended, not before.
func TestCrashedHolderFreesItsSlotWhenTheLeaseEnds(t *testing.T) {
	t.Parallel()
	limit := hostlimit.Limit{Host: "crashy.example.com", MaxInFlight: 2}
	ls := workers(t, 2, hostlimit.Config{Limits: []hostlimit.Limit{limit}, InFlightWait: time.Hour})
	ctx := context.Background()
	for range 2 {
		if _, err := ls[0].Admit(ctx, limit.Host, 300*time.Millisecond); err != nil {
			t.Fatal(err) // never released: the holder "crashed"
		}
	}
	_, err := ls[1].Admit(ctx, limit.Host, time.Minute)
	th := throttleOf(t, err)
	if th.Reason != outbound.ThrottleConcurrency || th.Wait <= 0 || th.Wait > 300*time.Millisecond {
		t.Fatalf("refusal %+v, want concurrency_limited until the oldest lease ends (at most 300ms)", th)
	}
	testenv.WaitFor(t, 5*time.Second, "a slot to come back after its lease", func() bool {
		release, err := ls[1].Admit(ctx, limit.Host, time.Minute)
		if err == nil {
			release()
		}
		return err == nil
	})
}

// TestPauseStopsEveryWorker: a pause (an upstream Retry-After) refuses the host's requests on
// every limiter until it ends; a shorter pause does not shorten it; an unlimited host is
// neither paused nor looked up.
func TestPauseStopsEveryWorker(t *testing.T) {
	t.Parallel()
	limit := hostlimit.Limit{Host: "busy.example.com", Rate: 1000, Per: time.Second, Burst: 1000}
	ls := workers(t, 2, hostlimit.Config{Limits: []hostlimit.Limit{limit}})
	ctx := context.Background()
	ls[0].Pause(ctx, limit.Host, 500*time.Millisecond)
	ls[1].Pause(ctx, limit.Host, 10*time.Millisecond)
	_, err := ls[1].Admit(ctx, limit.Host, time.Minute)
	th := throttleOf(t, err)
	if th.Reason != outbound.ThrottlePaused || th.Wait < 100*time.Millisecond || th.Wait > 500*time.Millisecond {
		t.Fatalf("refusal %+v, want host_paused for the longer pause (at most 500ms)", th)
	}
	ls[0].Pause(ctx, "other.example.com", time.Hour)
	if release, err := ls[1].Admit(ctx, "other.example.com", time.Minute); err != nil {
		t.Fatalf("unlimited host: %v", err)
	} else {
		release()
	}
	testenv.WaitFor(t, 5*time.Second, "the pause to end", func() bool {
		_, err := ls[1].Admit(ctx, limit.Host, time.Minute)
		return err == nil
	})
}

// TestUnreachableRedisHoldsLimitedCallsOnly: without Redis a limited host's calls wait (they
// are not sent unlimited) and the others go as if there were no limiter.
func TestUnreachableRedisHoldsLimitedCallsOnly(t *testing.T) {
	t.Parallel()
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { rc.Close() })
	var throttled []string
	l := hostlimit.New(rc, hostlimit.Config{Limits: []hostlimit.Limit{{Host: "api.example.com", Rate: 1, Per: time.Second, Burst: 1}},
		UnavailableWait: 3 * time.Second, OnThrottle: func(host, reason string, _ time.Duration) { throttled = append(throttled, host+" "+reason) }})
	release, err := l.Admit(context.Background(), "free.example.com", time.Minute)
	if err != nil {
		t.Fatalf("unlimited host: %v", err)
	}
	release()
	_, err = l.Admit(context.Background(), "api.example.com", time.Minute)
	if th := throttleOf(t, err); th.Reason != outbound.ThrottleUnavailable || th.Wait != 3*time.Second {
		t.Fatalf("refusal %+v, want limiter_unavailable for UnavailableWait", th)
	}
	if len(throttled) != 1 || throttled[0] != "api.example.com limiter_unavailable" {
		t.Fatalf("OnThrottle saw %q", throttled)
	}
}

// TestInFlightCountsHolders: InFlight reports the holders of every host with a maximum.
func TestInFlightCountsHolders(t *testing.T) {
	t.Parallel()
	ls := workers(t, 1, hostlimit.Config{Limits: []hostlimit.Limit{{Host: "a.example", MaxInFlight: 5}, {Host: "b.example", Rate: 1, Per: time.Second, Burst: 1}}})
	ctx := context.Background()
	r1, err := ls[0].Admit(ctx, "a.example", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ls[0].Admit(ctx, "a.example", time.Minute); err != nil {
		t.Fatal(err)
	}
	r1()
	got, err := ls[0].InFlight(ctx)
	if err != nil || len(got) != 1 || got["a.example"] != 1 {
		t.Fatalf("in flight %v, %v; want a.example 1 and nothing for b.example (no maximum)", got, err)
	}
}
