package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// RunFinishedChannel is the channel a run's id is notified on when it becomes terminal
// (migration 00006's trigger).
const RunFinishedChannel = "sequenceflow_run_finished"

// RunWatcherConfig tunes a RunWatcher.
type RunWatcherConfig struct {
	// Poll is how often every watched run is checked in one query, whatever the notifications
	// said (default 1 s): the bound on how late a waiter learns of a lost notification.
	Poll time.Duration
	// Batch bounds the run ids checked per query (default 1000).
	Batch int
}

// WithDefaults fills unset fields.
func (c RunWatcherConfig) WithDefaults() RunWatcherConfig {
	c.Poll = cmp.Or(c.Poll, time.Second)
	c.Batch = cmp.Or(c.Batch, 1000)
	return c
}

func (c RunWatcherConfig) validate() error {
	if c.Poll <= 0 || c.Batch <= 0 {
		return fmt.Errorf("run watcher: Poll (%v) and Batch (%d) must be positive", c.Poll, c.Batch)
	}
	return nil
}

// RunWatcher tells waiters when runs finish, without a query per waiter. One connection per
// process LISTENs on RunFinishedChannel and wakes the waiters of each notified run; every Poll
// one query checks all watched runs, so a notification lost (the connection dropped, the
// listener was reconnecting) delays a waiter by at most one Poll. However many requests wait,
// the database sees one listening connection and one query per Poll.
type RunWatcher struct {
	store *Store
	cfg   RunWatcherConfig
	log   *slog.Logger

	mu      sync.Mutex
	waiters map[string]map[*runWaiter]struct{} // run id → its waiters
}

type runWaiter struct{ done chan struct{} }

// NewRunWatcher returns a watcher; Run must be running for notifications to arrive.
func NewRunWatcher(s *Store, cfg RunWatcherConfig, log *slog.Logger) (*RunWatcher, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	return &RunWatcher{store: s, cfg: cfg, log: log, waiters: map[string]map[*runWaiter]struct{}{}}, nil
}

// WaitFinished returns nil once the run is terminal (or gone), ctx's error when ctx ends
// first, and workflow.ErrNotFound when there is no such run.
func (w *RunWatcher) WaitFinished(ctx context.Context, runID string) error {
	waiter := w.subscribe(runID)
	defer w.unsubscribe(runID, waiter)
	// Checked once after subscribing, so a run that finished before cannot be missed.
	var status string
	if err := w.store.pool.QueryRow(ctx, `SELECT status FROM runs WHERE id = $1`, runID).Scan(&status); err != nil {
		return translate(err)
	}
	if workflow.RunTerminal(status) {
		return nil
	}
	select {
	case <-waiter.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *RunWatcher) subscribe(runID string) *runWaiter {
	waiter := &runWaiter{done: make(chan struct{})}
	w.mu.Lock()
	defer w.mu.Unlock()
	set := w.waiters[runID]
	if set == nil {
		set = map[*runWaiter]struct{}{}
		w.waiters[runID] = set
	}
	set[waiter] = struct{}{}
	return waiter
}

func (w *RunWatcher) unsubscribe(runID string, waiter *runWaiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if set := w.waiters[runID]; set != nil {
		delete(set, waiter)
		if len(set) == 0 {
			delete(w.waiters, runID)
		}
	}
}

// finish wakes every waiter of the given runs.
func (w *RunWatcher) finish(runIDs ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range runIDs {
		for waiter := range w.waiters[id] {
			close(waiter.done)
		}
		delete(w.waiters, id)
	}
}

func (w *RunWatcher) watched() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, 0, len(w.waiters))
	for id := range w.waiters {
		ids = append(ids, id)
	}
	return ids
}

// Run listens and polls until ctx ends. Losing the listening connection is not an error: it
// is re-established every Poll while the poll keeps waiters moving.
func (w *RunWatcher) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { w.listen(ctx); return nil })
	g.Go(func() error { w.poll(ctx); return nil })
	return g.Wait()
}

func (w *RunWatcher) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		w.log.WarnContext(ctx, "run notifications interrupted; waiters fall back to polling until they resume", "error", err,
			"retry_in", w.cfg.Poll.String())
		select {
		case <-ctx.Done():
		case <-time.After(w.cfg.Poll):
		}
	}
}

// listenOnce holds one connection listening until it fails.
func (w *RunWatcher) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, w.store.pool.Config().ConnConfig.Copy())
	if err != nil {
		return markUnavailable(err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+RunFinishedChannel); err != nil {
		return err
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		w.finish(n.Payload)
	}
}

func (w *RunWatcher) poll(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ids := w.watched()
		for start := 0; start < len(ids); start += w.cfg.Batch {
			done, err := w.store.finishedRuns(ctx, ids[start:min(start+w.cfg.Batch, len(ids))])
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
					w.log.WarnContext(ctx, "check waited runs", "error", err)
				}
				break
			}
			w.finish(done...)
		}
	}
}

// finishedRuns returns which of the given runs are terminal or no longer exist.
func (s *Store) finishedRuns(ctx context.Context, runIDs []string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT w.id FROM unnest($1::text[]) AS w(id)
		WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = w.id::uuid AND r.status IN ('queued', 'running'))`, runIDs)
	if err != nil {
		return nil, fmt.Errorf("check finished runs: %w", markUnavailable(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("check finished runs: %w", markUnavailable(err))
	}
	return ids, nil
}
