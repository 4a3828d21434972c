package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ErrStuck means a run did not end before its deadline.
var ErrStuck = errors.New("run not terminal before its deadline")

// Poll modes.
const (
	// PollList reads every tracked workflow's run list once per interval (GET
	// /workflows/{id}/runs): one request per workflow, however many runs are in flight.
	PollList = "list"
	// PollStatus reads each run's status once per interval (GET /workflows/runs/{id}/status).
	PollStatus = "status"
)

// Tracker waits for runs to end.
type Tracker interface {
	// Wait returns the run's terminal status, ErrStuck once deadline passes, or ctx's error.
	Wait(ctx context.Context, workflowID, runID string, deadline time.Time) (string, error)
}

// StatusTracker polls each run's status route.
type StatusTracker struct {
	Client   *Client
	Interval time.Duration
	// Errors counts failed status requests (they are retried until the deadline).
	Errors atomic.Int64
}

// Wait polls the run every Interval until it ends or deadline passes.
func (t *StatusTracker) Wait(ctx context.Context, _, runID string, deadline time.Time) (string, error) {
	timer := time.NewTimer(t.Interval)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-timer.C:
		}
		status, err := t.Client.RunStatus(ctx, runID)
		if err != nil {
			t.Errors.Add(1)
		} else if workflow.RunTerminal(status) {
			return status, nil
		}
		if !time.Now().Before(deadline) {
			return "", ErrStuck
		}
		timer.Reset(t.Interval)
	}
}

// ListTracker polls the run lists of the workflows that have runs in flight, from one
// goroutine (Run), and hands each run's terminal status to its waiter.
type ListTracker struct {
	Client   *Client
	Interval time.Duration
	// Errors counts failed list requests.
	Errors atomic.Int64

	mu      sync.Mutex
	waiting map[string]listWaiter
}

type listWaiter struct {
	workflowID string
	done       chan string
}

// Run polls until ctx ends.
func (t *ListTracker) Run(ctx context.Context) {
	ticker := time.NewTicker(t.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		for _, wid := range t.workflows() {
			runs, err := t.Client.ListRuns(ctx, wid)
			if err != nil {
				if ctx.Err() == nil {
					t.Errors.Add(1)
				}
				continue
			}
			t.deliver(runs)
		}
	}
}

func (t *ListTracker) workflows() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, w := range t.waiting {
		if !seen[w.workflowID] {
			seen[w.workflowID] = true
			out = append(out, w.workflowID)
		}
	}
	return out
}

func (t *ListTracker) deliver(runs []RunState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range runs {
		if w, ok := t.waiting[r.ID]; ok && workflow.RunTerminal(r.Status) {
			w.done <- r.Status
			delete(t.waiting, r.ID)
		}
	}
}

// Wait registers the run and waits for Run to see it end.
func (t *ListTracker) Wait(ctx context.Context, workflowID, runID string, deadline time.Time) (string, error) {
	done := make(chan string, 1)
	t.mu.Lock()
	if t.waiting == nil {
		t.waiting = map[string]listWaiter{}
	}
	if _, dup := t.waiting[runID]; dup {
		t.mu.Unlock()
		return "", fmt.Errorf("run %s is already tracked", runID)
	}
	t.waiting[runID] = listWaiter{workflowID: workflowID, done: done}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.waiting, runID)
		t.mu.Unlock()
	}()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case status := <-done:
		return status, nil
	case <-timer.C:
		return "", ErrStuck
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
