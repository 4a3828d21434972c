package loadgen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(msec float64) *time.Time {
	t := t0.Add(time.Duration(msec * float64(time.Millisecond)))
	return &t
}

func task(run, node, status string, attempt int, started, completed *time.Time) taskRow {
	return taskRow{RunID: run, NodeID: node, Status: status, Attempt: attempt, StartedAt: started, CompletedAt: completed}
}

func TestAnalyzeChain(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeChain, 3, "")
	runs := []runRow{
		{ID: "r1", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(20)},
		{ID: "r2", Status: "succeeded", StartedAt: *at(5), FinishedAt: at(40)},
		{ID: "r3", Status: "running", StartedAt: *at(6)},
	}
	tasks := []taskRow{
		task("r1", "in", "completed", 1, at(1), at(2)),
		task("r1", "n1", "completed", 1, at(3), at(5)),  // hop 1 ms
		task("r1", "n2", "completed", 1, at(9), at(19)), // hop 4 ms
		task("r2", "in", "completed", 1, at(6), at(7)),
		task("r2", "n1", "completed", 1, at(9), at(10)),  // hop 2 ms
		task("r2", "n2", "completed", 1, at(13), at(39)), // hop 3 ms
		task("r3", "in", "completed", 1, at(7), at(8)),
		task("r3", "n1", "queued", 0, nil, nil),
		task("r3", "n2", "pending", 0, nil, nil),
	}
	logs := []logCount{{"r1", "in", 1, 0}, {"r1", "n1", 1, 0}, {"r1", "n2", 1, 0}, {"r2", "in", 1, 0}, {"r2", "n1", 1, 0}, {"r2", "n2", 1, 0}, {"r3", "in", 1, 0}}
	a := analyze(w, runs, tasks, logs, nil)
	want := Analysis{Runs: 3, Succeeded: 2, Unfinished: 1, Span: 40 * time.Millisecond, NodeExecutions: 7,
		RunLatency:  []time.Duration{20 * time.Millisecond, 35 * time.Millisecond},
		HopLatency:  []time.Duration{time.Millisecond, 4 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond},
		StepLatency: []time.Duration{3 * time.Millisecond, 14 * time.Millisecond, 3 * time.Millisecond, 29 * time.Millisecond},
		Branches:    map[string]int{}}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("analyze (-want +got):\n%s", diff)
	}
}

// A join's hop is measured from the parent that released it: the last to complete.
func TestAnalyzeJoinHopAndExactness(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeFanout, 2, "")
	runs := []runRow{
		{ID: "ok", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(30)},
		{ID: "twice", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(30)},
	}
	var tasks []taskRow
	var logs []logCount
	for _, run := range []string{"ok", "twice"} {
		tasks = append(tasks,
			task(run, "in", "completed", 1, at(0), at(1)),
			task(run, "b1", "completed", 1, at(2), at(3)),
			task(run, "b2", "completed", 1, at(2), at(10)),
			task(run, "join", "completed", 1, at(12), at(13)))
		logs = append(logs, logCount{run, "in", 1, 0}, logCount{run, "b1", 1, 0}, logCount{run, "b2", 1, 0})
	}
	logs = append(logs, logCount{"ok", "join", 1, 0}, logCount{"twice", "join", 2, 0})
	a := analyze(w, runs, tasks, logs, nil)
	if a.JoinRuns != 2 || a.JoinExact != 1 {
		t.Errorf("join runs %d exact %d, want 2 and 1", a.JoinRuns, a.JoinExact)
	}
	if a.Duplicates != 1 {
		t.Errorf("duplicates = %d, want 1", a.Duplicates)
	}
	joinHops := 0
	for _, h := range a.HopLatency {
		if h == 2*time.Millisecond { // join started at 12, last parent completed at 10
			joinHops++
		}
	}
	if joinHops != 2 {
		t.Errorf("hop latencies %v: want the join's hop measured from its last parent (2 ms) in both runs", a.HopLatency)
	}
}

func TestAnalyzeDuplicates(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeChain, 2, "")
	runs := []runRow{{ID: "r", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(9)}}
	tests := []struct {
		name    string
		attempt int
		log     logCount
		want    int
	}{
		{"once", 1, logCount{"r", "n1", 1, 0}, 0},
		{"two outputs, no retry", 1, logCount{"r", "n1", 2, 0}, 1},
		{"two outputs, one retry", 2, logCount{"r", "n1", 2, 1}, 0},
		{"second attempt without a retry", 2, logCount{"r", "n1", 1, 0}, 1},
		{"second attempt and two outputs count once", 2, logCount{"r", "n1", 2, 0}, 1},
		{"third attempt after two retries", 3, logCount{"r", "n1", 1, 2}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tasks := []taskRow{task("r", "in", "completed", 1, at(0), at(1)), task("r", "n1", "completed", tt.attempt, at(2), at(3))}
			a := analyze(w, runs, tasks, []logCount{{"r", "in", 1, 0}, tt.log}, nil)
			if a.Duplicates != tt.want {
				t.Errorf("duplicates = %d, want %d", a.Duplicates, tt.want)
			}
		})
	}
}

func TestAnalyzeBranchesIgnoreSkippedParents(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeIfElse, 0, "")
	runs := []runRow{{ID: "r", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(20)}}
	tasks := []taskRow{
		task("r", "in", "completed", 1, at(0), at(1)),
		task("r", "check", "completed", 1, at(2), at(3)),
		task("r", "t1", "completed", 1, at(4), at(5)),
		task("r", "t2", "completed", 1, at(6), at(7)),
		task("r", "f1", "skipped", 0, nil, at(3)),
		task("r", "f2", "skipped", 0, nil, at(30)), // skipped late: must not count as the join's parent
		task("r", "join", "completed", 1, at(9), at(10)),
	}
	a := analyze(w, runs, tasks, nil, nil)
	if diff := cmp.Diff(map[string]int{"high": 1}, a.Branches); diff != "" {
		t.Errorf("branches (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{1, 1, 1, 2}, scale(a.HopLatency)); diff != "" {
		t.Errorf("hops in ms (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{2, 2, 2, 3}, scale(a.StepLatency)); diff != "" {
		t.Errorf("steps in ms (-want +got):\n%s", diff)
	}
	if a.NodeExecutions != 5 {
		t.Errorf("node executions = %d, want 5", a.NodeExecutions)
	}
}

func scale(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d / time.Millisecond
	}
	return out
}

// An apiCall node completes even when its request failed (onError continue); the analysis
// must still see the failure.
func TestAnalyzeAPIFailures(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeAPICall, 0, "http://127.0.0.1:1")
	a := analyze(w, nil, nil, nil, []apiOutcome{{"r1", true}, {"r2", false}, {"r3", true}})
	if a.APICalls != 3 || a.APIFailures != 1 {
		t.Errorf("api calls %d, failures %d; want 3 and 1", a.APICalls, a.APIFailures)
	}
	if w.APICall != "weather" {
		t.Errorf("apicall workload names API node %q", w.APICall)
	}
	r := Result{APIFailures: a.APIFailures}
	if diff := cmp.Diff([]string{"1 API calls failed"}, r.Violations()); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

// A task claimed in its parent's transaction starts at the parent's completion: it is an
// eager hop, left out of the hop latency, and its step (parent completion → its completion)
// is measured like any other.
func TestAnalyzeEagerHopsAndSteps(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeChain, 4, "")
	runs := []runRow{{ID: "r", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(20)}}
	tasks := []taskRow{
		task("r", "in", "completed", 1, at(1), at(2)),
		task("r", "n1", "completed", 1, at(2), at(2.5)),    // eager: started at in's completion
		task("r", "n2", "completed", 1, at(2.5), at(3.25)), // eager
		task("r", "n3", "completed", 1, at(7), at(8)),      // queued: 3.75 ms hop
	}
	a := analyze(w, runs, tasks, nil, nil)
	if a.Eager != 2 {
		t.Errorf("eager = %d, want 2", a.Eager)
	}
	if diff := cmp.Diff([]time.Duration{3750 * time.Microsecond}, a.HopLatency); diff != "" {
		t.Errorf("hop latency (-want +got):\n%s", diff)
	}
	want := []time.Duration{500 * time.Microsecond, 750 * time.Microsecond, 4750 * time.Microsecond}
	if diff := cmp.Diff(want, a.StepLatency); diff != "" {
		t.Errorf("step latency (-want +got):\n%s", diff)
	}
}

// A join claimed eagerly by the parent that released it starts at that parent's completion.
// Parents completing at once stamp their completion before their transactions take turns, so
// the releasing parent need not hold the latest stamp: the join is eager all the same, and
// its step is measured from the latest parent. A task that started but has not completed has
// a hop and no step.
func TestAnalyzeEagerJoinFromItsReleasingParent(t *testing.T) {
	t.Parallel()
	w, _ := NewWorkload(ShapeFanout, 2, "")
	runs := []runRow{
		{ID: "eager", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(30)},
		{ID: "concurrent", Status: "succeeded", StartedAt: *at(0), FinishedAt: at(30)},
		{ID: "queued", Status: "running", StartedAt: *at(0)},
	}
	tasks := []taskRow{
		task("eager", "in", "completed", 1, at(0), at(1)),
		task("eager", "b1", "completed", 1, at(1), at(3)),
		task("eager", "b2", "completed", 1, at(4), at(6)),
		task("eager", "join", "completed", 1, at(6), at(7)),
		task("concurrent", "in", "completed", 1, at(0), at(1)),
		task("concurrent", "b1", "completed", 1, at(1), at(5)),
		task("concurrent", "b2", "completed", 1, at(1), at(4)),   // released the join, though stamped earlier
		task("concurrent", "join", "completed", 1, at(4), at(8)), // step from b1's 5 ms: 3 ms
		task("queued", "in", "completed", 1, at(0), at(1)),
		task("queued", "b1", "completed", 1, at(2), at(3)),
		task("queued", "b2", "completed", 1, at(3), at(6)), // at b1's completion, not its parent's
		task("queued", "join", "running", 1, at(8), nil),
	}
	a := analyze(w, runs, tasks, nil, nil)
	// eager: b1, join; concurrent: b1, b2, join; queued: none.
	if a.Eager != 5 {
		t.Errorf("eager = %d, want 5", a.Eager)
	}
	// eager: b2 (3 ms); queued: b1 (1 ms), b2 (2 ms), join (2 ms).
	if diff := cmp.Diff([]time.Duration{3, 1, 2, 2}, scale(a.HopLatency)); diff != "" {
		t.Errorf("hops in ms (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{2, 5, 1, 4, 3, 3, 2, 5}, scale(a.StepLatency)); diff != "" {
		t.Errorf("steps in ms (-want +got):\n%s", diff)
	}
}
