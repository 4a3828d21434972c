package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
)

// ReconcilerConfig tunes the reconciler.
type ReconcilerConfig struct {
	// Interval between passes (default 5 s).
	Interval time.Duration
	// After is how long a task may be due without running before it is enqueued again
	// (default 15 s).
	After time.Duration
	// StaleAfter is how long a task may be running before its delivery is presumed lost
	// with its worker and enqueued again (default 15 min, above the longest node timeout; a
	// live delivery makes that a no-op).
	StaleAfter time.Duration
	// Batch bounds the tasks handled per pass (default 500).
	Batch int
}

// WithDefaults fills unset fields.
func (c ReconcilerConfig) WithDefaults() ReconcilerConfig {
	c.Interval = cmp.Or(c.Interval, 5*time.Second)
	c.After = cmp.Or(c.After, 15*time.Second)
	c.StaleAfter = cmp.Or(c.StaleAfter, 15*time.Minute)
	c.Batch = cmp.Or(c.Batch, 500)
	return c
}

// validate checks a configuration with its defaults filled in.
func (c ReconcilerConfig) validate() error {
	var errs []error
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"Interval", c.Interval}, {"After", c.After}, {"StaleAfter", c.StaleAfter}} {
		if d.value <= 0 {
			errs = append(errs, fmt.Errorf("reconciler: %s must be positive, got %v", d.name, d.value))
		}
	}
	if c.Batch <= 0 {
		errs = append(errs, fmt.Errorf("reconciler: Batch must be positive, got %d", c.Batch))
	}
	return errors.Join(errs...)
}

// Reconcile makes one pass (ARCHITECTURE rules 2 and 12): tasks queued or waiting in
// PostgreSQL and overdue by more than cfg.After, and running tasks whose worker's heartbeat
// expired (or that their worker no longer reports), are enqueued again (a duplicate is a
// no-op, so any number of workers may reconcile at once), and runs past their deadline are
// failed. It returns how many deliveries were recovered; each is reported to the Observer
// with its cause, and so is the pass.
func (e *Engine) Reconcile(ctx context.Context, cfg ReconcilerConfig) (int, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return 0, err
	}
	started := e.now()
	recovered, err := e.reconcile(ctx, cfg, started)
	e.obs.ReconcilerPass(ctx, recovered, err, e.now().Sub(started))
	return recovered, err
}

func (e *Engine) reconcile(ctx context.Context, cfg ReconcilerConfig, now time.Time) (int, error) {
	due, err := e.store.DueTasks(ctx, DueQuery{Before: now.Add(-cfg.After), StaleBefore: now.Add(-cfg.StaleAfter), Now: now, Limit: cfg.Batch})
	if err != nil {
		return 0, fmt.Errorf("reconcile: list due tasks: %w", err)
	}
	recovered := 0
	// In small chunks, each re-checked just before enqueueing: a task a worker finished after
	// the listing is gone from the queue, and enqueueing it again would be a wasted delivery.
	const chunk = 50
	for start := 0; start < len(due); start += chunk {
		part := due[start:min(start+chunk, len(due))]
		ids := make([]string, len(part))
		for i, d := range part {
			ids[i] = d.TaskID
		}
		live, err := e.store.StillDue(ctx, ids)
		if err != nil {
			return recovered, fmt.Errorf("reconcile: re-check tasks: %w", err)
		}
		for _, d := range part {
			if !live[d.TaskID] {
				continue
			}
			added, err := e.queue.Enqueue(ctx, d.TaskRef, time.Time{})
			if err != nil {
				return recovered, fmt.Errorf("reconcile: enqueue task %s: %w", d.TaskID, err)
			}
			if added {
				recovered++
				e.obs.Recovered(ctx, Recovery{DueTask: d, Cause: d.recoveryCause()})
			}
		}
	}
	overdue, err := e.store.OverdueRuns(ctx, now, cfg.Batch)
	if err != nil {
		return recovered, fmt.Errorf("reconcile: list overdue runs: %w", err)
	}
	for _, runID := range overdue {
		if err := e.endRun(ctx, runID, "run deadline exceeded"); err != nil {
			return recovered, err
		}
		e.log.InfoContext(ctx, "reconciler failed a run past its deadline", LogRunID, runID)
	}
	return recovered, nil
}

// RunReconciler reconciles every cfg.Interval until ctx ends. It refuses, before its first
// pass, a configuration that is invalid or whose StaleAfter is not longer than the longest
// node timeout (live executions would be delivered again).
func (e *Engine) RunReconciler(ctx context.Context, cfg ReconcilerConfig) error {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if longest := max(e.cfg.NodeTimeout, nodes.MaxTimeout); cfg.StaleAfter <= longest {
		return fmt.Errorf("reconciler: StaleAfter (%v) must be longer than the longest node timeout (%v)", cfg.StaleAfter, longest)
	}
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if _, err := e.Reconcile(ctx, cfg); err != nil && ctx.Err() == nil {
				e.log.WarnContext(ctx, "reconcile pass failed", "error", err)
			}
		}
	}
}
