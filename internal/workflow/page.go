package workflow

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Page asks for one page of a list: at most Limit items after Cursor, an opaque position
// returned with the previous page (empty: from the start).
type Page struct {
	Limit  int
	Cursor string
}

// RunFilter narrows a run list or search; a run matches when it matches every field that is
// set (the zero value matches every run). A failed node of a run is a task that failed
// (status failed) or failed and continued (outcome failed_continued, onError: continue); a run
// has them recorded when it finishes.
type RunFilter struct {
	// Statuses, when not empty, keeps the runs in any of them (run statuses, see RunStatuses).
	Statuses []string
	// HasFailedNodes, when set, keeps the runs with at least one failed node (true) or with
	// none (false): Statuses succeeded with HasFailedNodes true are the runs that succeeded
	// with failed nodes.
	HasFailedNodes *bool
	// WorkflowID keeps one workflow's runs.
	WorkflowID string
	// Version (1 and up; 0: any) keeps the runs of one version of WorkflowID, which it needs.
	Version int
	// StartedAfter keeps the runs started at or after it, StartedBefore those started before
	// it (zero: unbounded).
	StartedAfter, StartedBefore time.Time
	// IdempotencyKey keeps the run started with that key (one per workflow).
	IdempotencyKey string
	// FailedNode keeps the runs in which the node with that id failed.
	FailedNode string
	// Error keeps the runs whose error, or the error of one of whose failed nodes, contains it,
	// ignoring case (at least MinErrorSearch characters).
	Error string
}

// IsZero reports whether the filter keeps every run.
func (f RunFilter) IsZero() bool {
	return len(f.Statuses) == 0 && f.HasFailedNodes == nil && f.WorkflowID == "" && f.Version == 0 &&
		f.StartedAfter.IsZero() && f.StartedBefore.IsZero() && f.IdempotencyKey == "" && f.FailedNode == "" && f.Error == ""
}

// MinErrorSearch is the shortest error text a run search takes: shorter text has no trigram
// for the error index to look up.
const MinErrorSearch = 3

// Check reports the first problem of a filter as a validation error naming its query
// parameter (statuses are checked by the store).
func (f RunFilter) Check() error {
	switch {
	case f.Version < 0:
		return Invalid("version", "must be a version number (1 and up)")
	case f.Version > 0 && f.WorkflowID == "":
		return Invalid("version", "needs workflowId: a version number belongs to one workflow")
	case !f.StartedAfter.IsZero() && !f.StartedBefore.IsZero() && !f.StartedAfter.Before(f.StartedBefore):
		return Invalid("startedBefore", "must be later than startedAfter")
	}
	for _, p := range []struct{ field, value string }{{"idempotencyKey", f.IdempotencyKey}, {"failedNode", f.FailedNode}, {"error", f.Error}} {
		switch n := utf8.RuneCountInString(p.value); {
		case !utf8.ValidString(p.value) || strings.ContainsRune(p.value, 0):
			return Invalid(p.field, "must be UTF-8 text without NUL characters")
		case n > MaxSearchText:
			return Invalid(p.field, "must be at most %d characters", MaxSearchText)
		case p.field == "error" && n > 0 && n < MinErrorSearch:
			return Invalid("error", "must be at least %d characters", MinErrorSearch)
		}
	}
	return nil
}

// MaxSearchText bounds the text filters of a run search (idempotency key, node id, error).
const MaxSearchText = 200

// RunKey addresses a run, through its workflow when WorkflowID is set: a run of another
// workflow is then not found.
type RunKey struct {
	WorkflowID string
	RunID      string
}

// RunView is a run as the status routes show it, with every large value cut to a preview:
// tasks carry their output only when it is small, logs are one page of previews.
type RunView struct {
	Run
	Tasks []TaskView
	Logs  []LogView
	// LogsNext continues the logs after this page; empty when there are no more.
	LogsNext string
	Lineage  Lineage
}

// TaskView is a task with its error cut to a preview and its output inline only when small.
type TaskView struct {
	Task
	ErrorTruncated bool
	// OutputLarge means the task has an output too large to show inline (Output is nil);
	// TaskOutput returns it.
	OutputLarge bool
	HasOutput   bool
}

// LogView is a log line with its message cut to a preview and its data left out when large.
type LogView struct {
	LogLine
	MessageTruncated bool
	DataTruncated    bool
	// TaskID is the task of the log's node, whose output holds the full result.
	TaskID *string
}

// TaskOutput is one task's full output.
type TaskOutput struct {
	TaskID      string
	NodeID      string
	Status      string
	Output      json.RawMessage
	CompletedAt *time.Time
}
