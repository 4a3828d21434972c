package loadgen

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLoadValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		load Load
		want string
	}{
		{"concurrency and runs", Load{Concurrency: 20, Runs: 10}, ""},
		{"rate and duration", Load{Rate: 50, Duration: time.Second}, ""},
		{"no mode", Load{Runs: 10}, "exactly one"},
		{"both modes", Load{Concurrency: 1, Rate: 1, Runs: 1}, "exactly one"},
		{"unbounded", Load{Concurrency: 1}, "bound the load"},
		{"negative runs", Load{Concurrency: 1, Runs: -1, Duration: time.Second}, "negative"},
		{"huge rate", Load{Rate: 1e6, Runs: 1}, "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.load.Validate()
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLoadMode(t *testing.T) {
	t.Parallel()
	if got := (Load{Concurrency: 20}).Mode(); got != "c=20" {
		t.Errorf("Mode = %q", got)
	}
	if got := (Load{Rate: 12.5}).Mode(); got != "r=12.5/s" {
		t.Errorf("Mode = %q", got)
	}
}

// inFlight is a RunFunc that records the most runs it saw at once.
type inFlight struct {
	now, peak atomic.Int64
	mu        sync.Mutex
	seqs      map[int]int
}

func (f *inFlight) run(d time.Duration) RunFunc {
	return func(ctx context.Context, seq int) Outcome {
		n := f.now.Add(1)
		for {
			p := f.peak.Load()
			if n <= p || f.peak.CompareAndSwap(p, n) {
				break
			}
		}
		f.mu.Lock()
		if f.seqs == nil {
			f.seqs = map[int]int{}
		}
		f.seqs[seq]++
		f.mu.Unlock()
		time.Sleep(d)
		f.now.Add(-1)
		return Outcome{Seq: seq, RunID: "r", Status: "succeeded"}
	}
}

func TestDriveClosedLoop(t *testing.T) {
	t.Parallel()
	var f inFlight
	out := Drive(context.Background(), Load{Concurrency: 5, Runs: 40}, f.run(2*time.Millisecond))
	if len(out) != 40 {
		t.Fatalf("got %d outcomes, want 40", len(out))
	}
	for i, o := range out {
		if o.Seq != i {
			t.Fatalf("outcome %d has seq %d: not in start order", i, o.Seq)
		}
		if f.seqs[i] != 1 {
			t.Fatalf("run %d started %d times", i, f.seqs[i])
		}
	}
	if p := f.peak.Load(); p != 5 {
		t.Errorf("peak in flight = %d, want 5", p)
	}
}

func TestDriveDurationBound(t *testing.T) {
	t.Parallel()
	var f inFlight
	start := time.Now()
	out := Drive(context.Background(), Load{Concurrency: 2, Duration: 50 * time.Millisecond}, f.run(5*time.Millisecond))
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("drive took %s with a 50ms bound", el)
	}
	if len(out) < 2 || len(out) > 40 {
		t.Errorf("got %d outcomes in 50ms at 2 in flight of 5ms each", len(out))
	}
}

func TestDriveOpenLoop(t *testing.T) {
	t.Parallel()
	var f inFlight
	start := time.Now()
	out := Drive(context.Background(), Load{Rate: 200, Runs: 20}, f.run(20*time.Millisecond))
	el := time.Since(start)
	if len(out) != 20 {
		t.Fatalf("got %d outcomes, want 20", len(out))
	}
	// 20 starts at 200/s take 95 ms; each run 20 ms: an open loop overlaps them.
	if el < 90*time.Millisecond || el > 2*time.Second {
		t.Errorf("took %s, want about 115ms", el)
	}
	if f.peak.Load() < 2 {
		t.Errorf("peak in flight = %d: the open loop waited for runs to end", f.peak.Load())
	}
}

func TestDriveOpenLoopSkipsBeyondMaxInFlight(t *testing.T) {
	t.Parallel()
	var f inFlight
	out := Drive(context.Background(), Load{Rate: 1000, Runs: 30, MaxInFlight: 2}, f.run(200*time.Millisecond))
	skipped := 0
	for _, o := range out {
		if o.Skipped {
			skipped++
		}
	}
	if len(out) != 30 || skipped < 20 {
		t.Errorf("got %d outcomes, %d skipped; want 30 with most skipped", len(out), skipped)
	}
	if p := f.peak.Load(); p > 2 {
		t.Errorf("peak in flight = %d, want at most 2", p)
	}
}

func TestDriveStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	run := func(ctx context.Context, seq int) Outcome {
		<-ctx.Done()
		return Outcome{Seq: seq, Err: ctx.Err()}
	}
	start := time.Now()
	out := Drive(ctx, Load{Concurrency: 3, Runs: 1000}, run)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("drive took %s after its context ended", el)
	}
	if len(out) != 3 {
		t.Errorf("got %d outcomes, want the 3 in flight", len(out))
	}
}

func TestTally(t *testing.T) {
	t.Parallel()
	var r Result
	tally(&r, []Outcome{
		{RunID: "a", Status: "succeeded", StartLatency: time.Millisecond},
		{RunID: "b", Stuck: true, StartLatency: 3 * time.Millisecond},
		{Err: context.DeadlineExceeded},
		{Skipped: true},
	})
	if r.Started != 3 || r.Stuck != 1 || r.StartErrors != 1 || r.Skipped != 1 || r.StartLatency.N != 2 {
		t.Errorf("tally = %+v", r)
	}
}
