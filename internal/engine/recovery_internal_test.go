package engine

import (
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// A recovery's cause follows from what the reconciler's query listed: a recovery delivery of
// a task whose worker is gone, a parked delay, a task running for too long, or a queued task.
func TestRecoveryCause(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		task DueTask
		want string
	}{
		{DueTask{Status: workflow.TaskQueued}, RecoveryQueued},
		{DueTask{Status: workflow.TaskWaiting, TaskRef: TaskRef{Kind: KindWake}}, RecoveryWaiting},
		{DueTask{Status: workflow.TaskRunning}, RecoveryStale},
		{DueTask{Status: workflow.TaskRunning, TaskRef: TaskRef{Recovery: 2}}, RecoveryLostWorker},
	} {
		if got := tc.task.recoveryCause(); got != tc.want {
			t.Errorf("%+v: cause %q, want %q", tc.task, got, tc.want)
		}
	}
}
