package httpapi

import (
	"context"
	"errors"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// RunWaiter blocks until runs finish. store.RunWatcher satisfies it with one notification
// listener and one periodic query per process, however many requests wait.
type RunWaiter interface {
	// WaitFinished returns nil once the run is terminal, ctx's error when ctx ends first.
	WaitFinished(ctx context.Context, runID string) error
}

// waitRun waits up to SyncTimeout for the run to finish and returns it as it is then
// (still running when the wait timed out, as the seed's route did).
func (a *API) waitRun(ctx context.Context, runID string) (workflow.RunView, error) {
	return a.waitRunFor(ctx, runID, a.cfg.SyncTimeout, legacyLogLimit)
}

// waitRunFor waits up to timeout for the run to finish and returns it as it is then, with
// its first logs log lines.
func (a *API) waitRunFor(ctx context.Context, runID string, timeout time.Duration, logs int) (workflow.RunView, error) {
	waiter := a.Waiter
	if waiter == nil {
		waiter = pollingWaiter{runs: a.Runs, every: a.cfg.SyncPoll}
	}
	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	err := waiter.WaitFinished(waitCtx, runID)
	cancel()
	if err != nil && (!errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil) {
		return workflow.RunView{}, err
	}
	return a.Runs.RunView(ctx, workflow.RunKey{RunID: runID}, workflow.Page{Limit: logs})
}

// pollingWaiter reads the run every interval: for an API built without a RunWaiter.
type pollingWaiter struct {
	runs  RunStore
	every time.Duration
}

func (p pollingWaiter) WaitFinished(ctx context.Context, runID string) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		run, err := p.runs.RunView(ctx, workflow.RunKey{RunID: runID}, workflow.Page{Limit: 1})
		if err != nil {
			return err
		}
		if workflow.RunTerminal(run.Status) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
