package loadgen

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func sampleResults() []Result {
	ms := time.Millisecond
	return []Result{
		{Name: "floor-10", Shape: ShapeChain, Floor: true, Mode: "c=20", Concurrency: 20, Started: 300, Succeeded: 300,
			Wall: 2 * time.Second, NodeExecutions: 3000, RunsPerSec: 150, NodesPerSec: 1500, Measured: true,
			RunLatency:   Summary{N: 300, P50: 120 * ms, P95: 180 * ms, P99: 210 * ms},
			HopLatency:   Summary{N: 2700, P50: 7500 * time.Microsecond, P95: 15 * ms, P99: 31 * ms},
			StepLatency:  Summary{N: 2700, P50: 8 * ms, P95: 16 * ms, P99: 32 * ms},
			Transactions: 3000, TxPerNode: 1, TxPerNodeNoPoll: 1, TxPerNodeNet: 1},
		{Name: "chain-10", Shape: ShapeChain, Mode: "c=20", Concurrency: 20, Started: 300, Succeeded: 300,
			Wall: 4 * time.Second, NodeExecutions: 3000, RunsPerSec: 75, NodesPerSec: 1000, Measured: true,
			RunLatency: Summary{N: 300, P50: 250 * ms, P95: 356 * ms, P99: 1234 * ms},
			HopLatency: Summary{N: 900, P50: 20 * ms, P95: 35700 * time.Microsecond, P99: 44 * ms}, Eager: 1800,
			StepLatency:  Summary{N: 2700, P50: 3 * ms, P95: 9 * ms, P99: 40 * ms},
			Transactions: 7000, Polls: 400, PollCost: 2, TxPerNode: 7000.0 / 3000, TxPerNodeNoPoll: 6200.0 / 3000,
			Starts: 300, StartCost: 2, TxPerNodeNet: 5600.0 / 3000, FloorRatio: 1000.0 / 1500},
		{Name: "ifelse", Shape: ShapeIfElse, Mode: "c=1", Concurrency: 1, Started: 10, Succeeded: 9, Failed: 1,
			Measured: true, JoinRuns: 9, JoinExact: 8, Duplicates: 1, Branches: map[string]int{"low": 4, "high": 5},
			HopLatency: Summary{N: 40, P50: 2900 * time.Microsecond}, StepLatency: Summary{N: 40, P50: 800 * time.Microsecond}},
		{Name: "apicall", Shape: ShapeAPICall, Mode: "r=50/s", Rate: 50, Started: 10, Succeeded: 8, Stuck: 1, StartErrors: 1},
	}
}

func TestWriteTableMarkdown(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := WriteTable(&b, FormatMarkdown, sampleResults()); err != nil {
		t.Fatal(err)
	}
	want := `| workload | load | runs | ok | failed | stuck | runs/s | nodes/s | run p50/p95/p99 ms | hop p50/p95/p99 ms | eager % | step p50/p95/p99 ms | dup | join once | tx/node | tx/node excl. polls | tx/node excl. polls, starts | of floor |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| floor-10 | c=20 | 300 | 300 | 0 | 0 | 150.0 | 1500 | 120 / 180 / 210 | 7.50 / 15.0 / 31.0 | 0 % | 8.00 / 16.0 / 32.0 | 0 | – | 1.00 | 1.00 | 1.00 | – |
| chain-10 | c=20 | 300 | 300 | 0 | 0 | 75.0 | 1000 | 250 / 356 / 1234 | 20.0 / 35.7 / 44.0 | 67 % | 3.00 / 9.00 / 40.0 | 0 | – | 2.33 | 2.07 | 1.87 | 67 % |
| ifelse (high 5, low 4) | c=1 | 10 | 9 | 1 | 0 | 0.0 | 0 | – | 2.90 / 0.00 / 0.00 | 0 % | 0.80 / 0.00 / 0.00 | 1 | 8/9 | – | – | – | – |
| apicall | r=50/s | 10 | 8 | 0 | 1 | 0.0 | 0 | – | – | – | – | – | – | – | – | – | – |
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("markdown table (-want +got):\n%s", diff)
	}
}

func TestWriteTableTextAligns(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := WriteTable(&b, FormatText, sampleResults()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want a header and 4 rows:\n%s", len(lines), b.String())
	}
	for _, l := range lines[1:] {
		if utf8.RuneCountInString(l) != utf8.RuneCountInString(lines[0]) {
			t.Errorf("rows are not aligned with the header:\n%s", b.String())
			break
		}
	}
	for _, cell := range []string{"67 %", "20.0 / 35.7 / 44.0", "3.00 / 9.00 / 40.0", "1.87"} {
		if !strings.Contains(lines[2], cell) {
			t.Errorf("chain row lacks %q (ratio, hop and step latencies, eager share, tx without polls and starts): %q", cell, lines[2])
		}
	}
}

func TestMs(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		0: "0.00", 1234 * time.Microsecond: "1.23", 12345 * time.Microsecond: "12.3", 123456 * time.Microsecond: "123",
		-2 * time.Millisecond: "-2.00",
	} {
		if got := ms(d); got != want {
			t.Errorf("ms(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestViolations(t *testing.T) {
	t.Parallel()
	rs := sampleResults()
	var got [][]string
	for _, r := range rs {
		got = append(got, r.Violations())
	}
	want := [][]string{nil, nil,
		{"1 failed", "1 duplicate executions", "join ran other than once in 1 runs"},
		{"1 stuck", "1 start errors"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

func TestWriteTargets(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := WriteTargets(&b, sampleResults()); err != nil {
		t.Fatal(err)
	}
	want := `  chain-10 at c=20: 67 % of the floor (target ≥ 100 %): MISSED
  chain-10 at c=20: 2.33 PostgreSQL transactions per node execution, 2.07 without the tracking polls, 1.87 without the polls and the run starts (2.00 per start) (target ≤ 1.0 per pure node, judged without the polls and the starts): MISSED
  ifelse at light load (c=1): step p50 0.80 ms (parent completion → child completion, every dispatch path); 0 % of hops eager, queued hops' p50 2.90 ms (the target is judged on chain-10)
  correctness: 1 stuck, 2 duplicate executions, 2 failed or unstarted runs or API calls (target 0/0/0): MISSED
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestSaveLoadResults(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "results.json")
	if err := SaveResults(path, sampleResults()); err != nil {
		t.Fatal(err)
	}
	got, err := LoadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sampleResults(), got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWriteTargetsLightLoad(t *testing.T) {
	t.Parallel()
	light := func(step time.Duration) []Result {
		return []Result{
			{Name: "floor-10", Floor: true, Mode: "c=1", Concurrency: 1, Measured: true,
				HopLatency: Summary{N: 9, P50: 3 * time.Millisecond}, StepLatency: Summary{N: 9, P50: 3200 * time.Microsecond}},
			{Name: "chain-10", Mode: "c=1", Concurrency: 1, FloorRatio: 0.5, Measured: true, Eager: 6,
				HopLatency: Summary{N: 3, P50: 3900 * time.Microsecond}, StepLatency: Summary{N: 9, P50: step}},
		}
	}
	tests := []struct {
		name string
		step time.Duration
		want string
	}{
		{"missed", 1100 * time.Microsecond, `  chain-10 at c=1: 50 % of the floor (the target applies at c=20)
  chain-10 at light load (c=1): step p50 1.10 ms (parent completion → child completion, every dispatch path), floor 3.20 ms; 67 % of hops eager, queued hops' p50 3.90 ms (target: hop p50 ≤ 1.00 ms for eagerly dispatched hops, judged on the step p50): MISSED
  correctness: 0 stuck, 0 duplicate executions, 0 failed or unstarted runs or API calls (target 0/0/0): met
`},
		{"met", time.Millisecond, `  chain-10 at c=1: 50 % of the floor (the target applies at c=20)
  chain-10 at light load (c=1): step p50 1.00 ms (parent completion → child completion, every dispatch path), floor 3.20 ms; 67 % of hops eager, queued hops' p50 3.90 ms (target: hop p50 ≤ 1.00 ms for eagerly dispatched hops, judged on the step p50): met
  correctness: 0 stuck, 0 duplicate executions, 0 failed or unstarted runs or API calls (target 0/0/0): met
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if err := WriteTargets(&b, light(tt.step)); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("targets (-want +got):\n%s", diff)
			}
		})
	}
}

// Each workload has its own share of the floor; the share is judged at c=20 only.
func TestWriteTargetsFloorRatios(t *testing.T) {
	t.Parallel()
	rs := []Result{
		{Name: "chain-10", Shape: ShapeChain, Mode: "c=20", Concurrency: 20, FloorRatio: 1.02},
		{Name: "fanout-10", Shape: ShapeFanout, Mode: "c=20", Concurrency: 20, FloorRatio: 0.79},
		{Name: "ifelse", Shape: ShapeIfElse, Mode: "c=20", Concurrency: 20, FloorRatio: 0.80},
		{Name: "apicall run 2", Shape: ShapeAPICall, Mode: "c=20", Concurrency: 20, FloorRatio: 0.61},
		{Name: "fanout-100", Shape: ShapeFanout, Mode: "c=20", Concurrency: 20, FloorRatio: 0.5},
	}
	var b strings.Builder
	if err := WriteTargets(&b, rs); err != nil {
		t.Fatal(err)
	}
	want := `  chain-10 at c=20: 102 % of the floor (target ≥ 100 %): met
  fanout-10 at c=20: 79 % of the floor (target ≥ 80 %): MISSED
  ifelse at c=20: 80 % of the floor (target ≥ 80 %): met
  apicall run 2 at c=20: 61 % of the floor (target ≥ 60 %): met
  fanout-100 at c=20: 50 % of the floor (no target)
  correctness: 0 stuck, 0 duplicate executions, 0 failed or unstarted runs or API calls (target 0/0/0): met
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

// An apicall run's pure nodes are charged at the chain's figure; the rest is the apiCall
// node's. Without a chain the whole shape is judged at the apiCall bound.
func TestTxTargetAPICall(t *testing.T) {
	t.Parallel()
	chain := Result{Name: "chain-10", Shape: ShapeChain, Mode: "c=20", Concurrency: 20, NodeExecutions: 4000,
		Transactions: 5000, TxPerNode: 1.25, PollCost: 2, TxPerNodeNoPoll: 1.1, StartCost: 2, TxPerNodeNet: 0.9}
	api := Result{Name: "apicall", Shape: ShapeAPICall, Mode: "c=20", Concurrency: 20, NodeExecutions: 1200, APICalls: 400,
		Transactions: 2400, TxPerNode: 2, PollCost: 2, TxPerNodeNoPoll: 1.8, StartCost: 2, TxPerNodeNet: 1.2}
	verdict := func(ok bool) string { return map[bool]string{true: "met", false: "MISSED"}[ok] }
	// (1.2 × 1200 − 800 × 0.9) / 400 = 1.8
	got := txTarget(api, []Result{chain, api}, verdict)
	want := "apicall at c=20: 2.00 PostgreSQL transactions per node execution, 1.80 without the tracking polls, 1.20 without the polls and the run starts (2.00 per start); " +
		"per apiCall node 1.80 = (1.20 × 1200 node executions − 800 pure nodes × 0.90, chain-10's figure) / 400 apiCall nodes (target ≤ 2.0 per apiCall node, judged without the polls and the starts): met"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with a chain (-want +got):\n%s", diff)
	}
	chain.TxPerNodeNet = 0.2 // pure nodes cheaper: more is left to the apiCall node
	if got := txTarget(api, []Result{chain, api}, verdict); !strings.Contains(got, "per apiCall node 3.20") || !strings.HasSuffix(got, "MISSED") {
		t.Errorf("cheap pure nodes: %s", got)
	}
	got = txTarget(api, []Result{api}, verdict)
	want = "apicall at c=20: 2.00 PostgreSQL transactions per node execution, 1.80 without the tracking polls, 1.20 without the polls and the run starts (2.00 per start) " +
		"(target ≤ 2.0 per apiCall node; no chain at c=20 to separate the pure nodes, so the whole shape is judged at ≤ 2.0 per node, without the polls and the starts): met"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("without a chain (-want +got):\n%s", diff)
	}
}
