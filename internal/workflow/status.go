package workflow

// Run statuses.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
	RunCancelled = "cancelled"
)

// RunStatuses lists every run status, in lifecycle order.
func RunStatuses() []string {
	return []string{RunQueued, RunRunning, RunSucceeded, RunFailed, RunCancelled}
}

// IsRunStatus reports whether s is a run status.
func IsRunStatus(s string) bool {
	switch s {
	case RunQueued, RunRunning, RunSucceeded, RunFailed, RunCancelled:
		return true
	}
	return false
}

// Task statuses.
const (
	TaskPending   = "pending"
	TaskQueued    = "queued"
	TaskRunning   = "running"
	TaskWaiting   = "waiting"
	TaskCompleted = "completed"
	TaskFailed    = "failed"
	TaskSkipped   = "skipped"
	TaskCancelled = "cancelled"
)

// Run log types.
const (
	LogSystem     = "system"
	LogInfo       = "info"
	LogError      = "error"
	LogNodeOutput = "node-output"
)

// RunTerminal reports whether a run status is final.
func RunTerminal(status string) bool {
	switch status {
	case RunSucceeded, RunFailed, RunCancelled:
		return true
	}
	return false
}

// TaskTerminal reports whether a task status is final.
func TaskTerminal(status string) bool {
	switch status {
	case TaskCompleted, TaskFailed, TaskSkipped, TaskCancelled:
		return true
	}
	return false
}
