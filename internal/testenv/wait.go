package testenv

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TimeScale is the factor every test deadline is multiplied by: TEST_TIME_SCALE when set (a
// positive number, e.g. 3 on a loaded CI runner), otherwise 1 on a machine with 4 or more
// CPUs and 4/NumCPU below that. Deadlines only bound how long a test waits for a condition
// that should hold, so a generous factor costs time only when the test fails anyway.
func TimeScale() float64 {
	timeScale.once.Do(func() {
		timeScale.value, timeScale.err = parseTimeScale(os.Getenv("TEST_TIME_SCALE"), runtime.NumCPU())
	})
	if timeScale.err != nil {
		panic(timeScale.err) // a typo in the environment must not silently shorten deadlines
	}
	return timeScale.value
}

var timeScale struct {
	once  sync.Once
	value float64
	err   error
}

func parseTimeScale(v string, cpus int) (float64, error) {
	if v == "" {
		return max(1, 4/float64(max(cpus, 1))), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f > 0) || f > 1000 {
		return 0, fmt.Errorf("testenv: TEST_TIME_SCALE=%q: want a positive number such as 2", v)
	}
	return f, nil
}

// Scaled returns d multiplied by TimeScale.
func Scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * TimeScale())
}

// WaitFor polls cond every 10 ms until it holds, failing the test with what once
// Scaled(d) has passed. It is the one way tests wait for asynchronous work.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !poll(Scaled(d), 10*time.Millisecond, cond) {
		t.Fatalf("timed out after %v waiting for %s", Scaled(d), what)
	}
}

// poll calls cond every interval until it holds (true) or timeout passes (false). cond is
// called at least once, and once more after the deadline has passed, so a slow poll that
// straddles the deadline still sees the final state.
func poll(timeout, interval time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval)
	}
}
