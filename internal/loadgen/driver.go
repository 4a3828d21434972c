package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Load says how runs are started: Concurrency > 0 keeps that many in flight (closed loop);
// Rate > 0 starts that many per second whatever is in flight (open loop). Runs and Duration
// bound how many are started; at least one must be set.
type Load struct {
	Concurrency int
	Rate        float64
	Runs        int
	Duration    time.Duration
	// MaxInFlight caps open-loop runs in flight; a start due beyond it is counted as skipped.
	MaxInFlight int
}

// Validate checks that exactly one mode is chosen and that the load is bounded.
func (l Load) Validate() error {
	switch {
	case (l.Concurrency > 0) == (l.Rate > 0):
		return errors.New("choose exactly one of -concurrency N and -rate R")
	case l.Concurrency > 10000:
		return fmt.Errorf("concurrency must be at most 10000, got %d", l.Concurrency)
	case l.Rate > 10000:
		return fmt.Errorf("rate must be at most 10000/s, got %g", l.Rate)
	case l.Runs <= 0 && l.Duration <= 0:
		return errors.New("bound the load with -runs N or -duration D")
	case l.Runs < 0 || l.Duration < 0:
		return errors.New("-runs and -duration must not be negative")
	}
	return nil
}

// Mode is how reports name the load: "c=20" or "r=50/s".
func (l Load) Mode() string {
	if l.Rate > 0 {
		return fmt.Sprintf("r=%g/s", l.Rate)
	}
	return fmt.Sprintf("c=%d", l.Concurrency)
}

// Outcome is what became of one run.
type Outcome struct {
	Seq   int
	RunID string
	// Status is the terminal status; "" when the run was not started or is stuck.
	Status string
	Stuck  bool
	// Skipped means an open-loop start was due while MaxInFlight runs were in flight.
	Skipped bool
	// Err is why the run could not be started or tracked.
	Err error
	// StartLatency is how long the start request took.
	StartLatency time.Duration
	// Start and End are client clock times: the start request was sent, the end observed.
	Start, End time.Time
}

// RunFunc starts run seq and waits for it to end. It must return by its own deadline.
type RunFunc func(ctx context.Context, seq int) Outcome

// Drive starts runs as load says until its bound is reached or ctx ends, waits for the runs in
// flight and returns every outcome in start order.
func Drive(ctx context.Context, load Load, run RunFunc) []Outcome {
	var (
		mu       sync.Mutex
		outcomes []Outcome
	)
	record := func(o Outcome) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	start := time.Now()
	more := func(seq int) bool {
		switch {
		case ctx.Err() != nil:
			return false
		case load.Runs > 0 && seq >= load.Runs:
			return false
		case load.Duration > 0 && time.Since(start) >= load.Duration:
			return false
		}
		return true
	}
	if load.Rate > 0 {
		openLoop(ctx, load, start, more, run, record)
	} else {
		closedLoop(ctx, load, more, run, record)
	}
	sortOutcomes(outcomes)
	return outcomes
}

func closedLoop(ctx context.Context, load Load, more func(int) bool, run RunFunc, record func(Outcome)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range load.Concurrency {
		wg.Go(func() {
			for {
				seq := int(next.Add(1) - 1)
				if !more(seq) {
					return
				}
				record(run(ctx, seq))
			}
		})
	}
	wg.Wait()
}

func openLoop(ctx context.Context, load Load, start time.Time, more func(int) bool, run RunFunc, record func(Outcome)) {
	maxInFlight := load.MaxInFlight
	if maxInFlight <= 0 {
		maxInFlight = 2000
	}
	var inFlight atomic.Int64
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / load.Rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for seq := 0; more(seq); seq++ {
		// Start times are fixed in advance (start + seq/rate): a slow service does not slow the
		// arrivals down, which is what an open loop means.
		due := start.Add(time.Duration(seq) * interval)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-timer.C:
			}
		}
		if load.Duration > 0 && time.Since(start) >= load.Duration {
			break
		}
		if inFlight.Load() >= int64(maxInFlight) {
			record(Outcome{Seq: seq, Skipped: true, Start: time.Now()})
			continue
		}
		inFlight.Add(1)
		wg.Go(func() {
			defer inFlight.Add(-1)
			record(run(ctx, seq))
		})
	}
	wg.Wait()
}

func sortOutcomes(o []Outcome) {
	slices.SortStableFunc(o, func(a, b Outcome) int { return cmp.Compare(a.Seq, b.Seq) })
}

// tally counts outcomes into r.
func tally(r *Result, outcomes []Outcome) {
	var starts []time.Duration
	for _, o := range outcomes {
		switch {
		case o.Skipped:
			r.Skipped++
			continue
		case o.Err != nil && o.RunID == "":
			r.StartErrors++
		case o.Stuck:
			r.Stuck++
		}
		r.Started++
		if o.StartLatency > 0 {
			starts = append(starts, o.StartLatency)
		}
	}
	r.StartLatency = Summarize(starts)
}
