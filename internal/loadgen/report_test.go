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
			Transactions: 3000, TxPerNode: 1, TxPerNodeNoPoll: 1},
		{Name: "chain-10", Shape: ShapeChain, Mode: "c=20", Concurrency: 20, Started: 300, Succeeded: 300,
			Wall: 4 * time.Second, NodeExecutions: 3000, RunsPerSec: 75, NodesPerSec: 1000, Measured: true,
			RunLatency:   Summary{N: 300, P50: 250 * ms, P95: 356 * ms, P99: 1234 * ms},
			HopLatency:   Summary{N: 2700, P50: 20 * ms, P95: 35700 * time.Microsecond, P99: 44 * ms},
			Transactions: 7000, Polls: 400, PollCost: 2, TxPerNode: 7000.0 / 3000, TxPerNodeNoPoll: 6200.0 / 3000, FloorRatio: 1000.0 / 1500},
		{Name: "ifelse", Shape: ShapeIfElse, Mode: "c=1", Concurrency: 1, Started: 10, Succeeded: 9, Failed: 1,
			Measured: true, JoinRuns: 9, JoinExact: 8, Duplicates: 1, Branches: map[string]int{"low": 4, "high": 5},
			HopLatency: Summary{N: 40, P50: 2900 * time.Microsecond}},
		{Name: "apicall", Shape: ShapeAPICall, Mode: "r=50/s", Rate: 50, Started: 10, Succeeded: 8, Stuck: 1, StartErrors: 1},
	}
}

func TestWriteTableMarkdown(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := WriteTable(&b, FormatMarkdown, sampleResults()); err != nil {
		t.Fatal(err)
	}
	want := `| workload | load | runs | ok | failed | stuck | runs/s | nodes/s | run p50/p95/p99 ms | hop p50/p95/p99 ms | dup | join once | tx/node | tx/node excl. polls | of floor |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| floor-10 | c=20 | 300 | 300 | 0 | 0 | 150.0 | 1500 | 120 / 180 / 210 | 7.50 / 15.0 / 31.0 | 0 | – | 1.00 | 1.00 | – |
| chain-10 | c=20 | 300 | 300 | 0 | 0 | 75.0 | 1000 | 250 / 356 / 1234 | 20.0 / 35.7 / 44.0 | 0 | – | 2.33 | 2.07 | 67 % |
| ifelse (high 5, low 4) | c=1 | 10 | 9 | 1 | 0 | 0.0 | 0 | – | 2.90 / 0.00 / 0.00 | 1 | 8/9 | – | – | – |
| apicall | r=50/s | 10 | 8 | 0 | 1 | 0.0 | 0 | – | – | – | – | – | – | – |
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
	if !strings.Contains(lines[2], "67 %") || !strings.Contains(lines[2], "20.0 / 35.7 / 44.0") {
		t.Errorf("chain row lacks its ratio or hop latencies: %q", lines[2])
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
	want := `  chain-10 at c=20: 67 % of the floor (target ≥ 60 %): met
  chain-10 at c=20: 2.33 PostgreSQL transactions per node execution, 2.07 without the tracking polls (target ≤ 2): MISSED
  ifelse at light load (c=1): hop p50 2.90 ms (target ≤ 3.00 ms): met
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
	rs := []Result{
		{Name: "floor-10", Floor: true, Mode: "c=1", Concurrency: 1, HopLatency: Summary{N: 9, P50: 3 * time.Millisecond}},
		{Name: "chain-10", Mode: "c=1", Concurrency: 1, FloorRatio: 0.5, HopLatency: Summary{N: 9, P50: 3900 * time.Microsecond}},
	}
	var b strings.Builder
	if err := WriteTargets(&b, rs); err != nil {
		t.Fatal(err)
	}
	want := `  chain-10 at c=1: 50 % of the floor (the target applies at c=20)
  chain-10 at light load (c=1): hop p50 3.90 ms, floor 3.00 ms (target ≤ 3.00 ms): MISSED
  correctness: 0 stuck, 0 duplicate executions, 0 failed or unstarted runs or API calls (target 0/0/0): met
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}
