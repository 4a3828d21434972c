package loadgen

import (
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// runRow, taskRow and logCount are what the measurement reads of a run from PostgreSQL.
type runRow struct {
	ID         string
	Status     string
	StartedAt  time.Time
	FinishedAt *time.Time
}

type taskRow struct {
	RunID       string
	NodeID      string
	Status      string
	Attempt     int
	StartedAt   *time.Time
	CompletedAt *time.Time
}

// apiOutcome is whether an apiCall task's output reported success.
type apiOutcome struct {
	RunID   string
	Success bool
}

type logCount struct {
	RunID  string
	NodeID string
	// Outputs counts node-output lines; Retries counts "Attempt n of m failed" error lines.
	Outputs, Retries int
}

// Analysis is what the database says about the runs of one phase.
type Analysis struct {
	Runs      int
	Succeeded int
	Failed    int
	Cancelled int
	// Unfinished runs are neither succeeded, failed nor cancelled (stuck in the database).
	Unfinished int
	// Span is from the first run's start to the last run's finish (database clock).
	Span time.Duration
	// NodeExecutions counts completed tasks.
	NodeExecutions int
	// RunLatency is finished_at − started_at of finished runs.
	RunLatency []time.Duration
	// HopLatency is, for every task that started through the queue, its started_at minus the
	// latest completed_at of its completed parents: parent completion → child start. A task
	// whose started_at equals a completed parent's completed_at was claimed in that parent's
	// own transaction (eager dispatch): it is counted in Eager, not here, since its start
	// stamp hides the commit and the hand-over after it.
	HopLatency []time.Duration
	// Eager counts the started tasks whose started_at equals the completed_at of one of their
	// completed parents: the latest one's, or for a join whose parents completed at once,
	// the one whose transaction released it.
	Eager int
	// StepLatency is, for every completed task with a completed parent, its completed_at minus
	// the latest completed_at of its completed parents: the parent's commit, the dispatch
	// (queue or eager), the child's execution and transition. It bounds the hop from above
	// whatever the dispatch path.
	StepLatency []time.Duration
	// Duplicates counts (run, node) pairs that ran more often than retries explain: more than
	// one node-output log per attempt, or an attempt count above 1 + retries.
	Duplicates int
	// JoinRuns counts finished runs whose join node completed; JoinExact those where it ran
	// exactly once.
	JoinRuns, JoinExact int
	// Branches counts runs by the branch they took.
	Branches map[string]int
	// APICalls counts completed apiCall tasks; APIFailures those whose output reported no
	// success (the node completes anyway: onError continue).
	APICalls, APIFailures int
}

// analyze computes a phase's analysis from its rows; w's definition gives the edges for hop
// and step latency.
func analyze(w Workload, runs []runRow, tasks []taskRow, logs []logCount, apis []apiOutcome) Analysis {
	a := Analysis{Runs: len(runs), Branches: map[string]int{}}
	var first, last time.Time
	for _, r := range runs {
		switch r.Status {
		case workflow.RunSucceeded:
			a.Succeeded++
		case workflow.RunFailed:
			a.Failed++
		case workflow.RunCancelled:
			a.Cancelled++
		default:
			a.Unfinished++
		}
		if first.IsZero() || r.StartedAt.Before(first) {
			first = r.StartedAt
		}
		if r.FinishedAt != nil {
			a.RunLatency = append(a.RunLatency, r.FinishedAt.Sub(r.StartedAt))
			if r.FinishedAt.After(last) {
				last = *r.FinishedAt
			}
		}
	}
	if !last.IsZero() {
		a.Span = last.Sub(first)
	}

	type key struct{ run, node string }
	byNode := make(map[key]taskRow, len(tasks))
	for _, t := range tasks {
		byNode[key{t.RunID, t.NodeID}] = t
		if t.Status == workflow.TaskCompleted {
			a.NodeExecutions++
		}
	}
	par := parents(w.Definition)
	for _, t := range tasks {
		if t.StartedAt == nil {
			continue
		}
		var released time.Time
		eager := false
		for _, p := range par[t.NodeID] {
			pt, ok := byNode[key{t.RunID, p}]
			if !ok || pt.Status != workflow.TaskCompleted || pt.CompletedAt == nil {
				continue
			}
			if pt.CompletedAt.After(released) {
				released = *pt.CompletedAt
			}
			// Claimed in this parent's transaction, whose timestamp is the parent's
			// completed_at. Of parents completing at once, the one whose transaction
			// released the join need not hold the latest stamp.
			eager = eager || t.StartedAt.Equal(*pt.CompletedAt)
		}
		if released.IsZero() {
			continue
		}
		if eager {
			a.Eager++
		} else {
			a.HopLatency = append(a.HopLatency, t.StartedAt.Sub(released))
		}
		if t.Status == workflow.TaskCompleted && t.CompletedAt != nil {
			a.StepLatency = append(a.StepLatency, t.CompletedAt.Sub(released))
		}
	}

	retries := make(map[key]int, len(logs))
	outputs := make(map[key]int, len(logs))
	for _, l := range logs {
		retries[key{l.RunID, l.NodeID}] = l.Retries
		outputs[key{l.RunID, l.NodeID}] = l.Outputs
		if l.Outputs > 1+l.Retries {
			a.Duplicates++
		}
	}
	for _, t := range tasks {
		k := key{t.RunID, t.NodeID}
		if t.Attempt > 1+retries[k] && outputs[k] <= 1+retries[k] {
			a.Duplicates++ // not already counted by its logs
		}
	}
	for _, r := range runs {
		if w.Join != "" {
			if t, ok := byNode[key{r.ID, w.Join}]; ok && t.Status == workflow.TaskCompleted {
				a.JoinRuns++
				k := key{r.ID, w.Join}
				if outputs[k] == 1 && t.Attempt == 1 {
					a.JoinExact++
				}
			}
		}
		for _, b := range w.Branches {
			if t, ok := byNode[key{r.ID, b.Node}]; ok && t.Status == workflow.TaskCompleted {
				a.Branches[b.Label]++
			}
		}
	}
	for _, o := range apis {
		a.APICalls++
		if !o.Success {
			a.APIFailures++
		}
	}
	return a
}
