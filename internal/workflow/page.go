package workflow

import (
	"encoding/json"
	"time"
)

// Page asks for one page of a list: at most Limit items after Cursor, an opaque position
// returned with the previous page (empty: from the start).
type Page struct {
	Limit  int
	Cursor string
}

// RunFilter narrows a run list. Statuses, when not empty, keeps the runs in any of them
// (run statuses, see RunStatuses).
type RunFilter struct {
	Statuses []string
}

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
