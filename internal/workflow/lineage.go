package workflow

import "time"

// Lineage is where a run came from and what was made from it: the run it retries or re-runs
// (empty for a run started by an execute route), which of the two it is ("retry" or "rerun"),
// the node a re-run started at, and the runs retried or re-run from it, newest first and
// bounded (store.MaxReruns).
type Lineage struct {
	ParentRunID     string
	Origin          string
	RerunFromNodeID string
	// ParentTaskID is the invokeWorkflow task that started the run (Origin "invoke"; its run
	// is then ParentRunID, when the task still exists).
	ParentTaskID string
	Reruns       []RerunSummary
}

// RerunSummary is one run retried or re-run from another.
type RerunSummary struct {
	ID         string
	Status     string
	Origin     string
	FromNodeID string
	StartedAt  time.Time
}
