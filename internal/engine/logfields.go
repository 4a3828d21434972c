package engine

import "log/slog"

// Field names of the process log lines about a task (retries, failures, redeliveries,
// recoveries), shared by every package that writes one. The log handler adds trace_id and
// span_id from the context; README.md ("Logs") lists the lines.
const (
	LogRunID      = "run.id"
	LogWorkflowID = "workflow.id"
	LogNodeID     = "node.id"
	LogNodeType   = "node.type"
	LogTaskID     = "task.id"
	LogError      = "error"
)

// LogAttrs are the fields that name the claimed task on a log line. They never include the
// task's input.
func (c Claim) LogAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String(LogRunID, c.RunID), slog.String(LogWorkflowID, c.WorkflowID), slog.String(LogNodeID, c.NodeID),
		slog.String(LogNodeType, c.NodeType), slog.String(LogTaskID, c.TaskID),
	}
}
