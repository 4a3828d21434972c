package store_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// watchFixture is a store whose statements are counted, a watcher on it, and a connection of
// its own that plays the workers: it creates runs and finishes them.
type watchFixture struct {
	t       *testing.T
	store   *store.Store
	watcher *store.RunWatcher
	sent    *testenv.Statements
	db      *pgx.Conn
	dbURL   string
}

func newWatchFixture(t *testing.T, poll time.Duration) *watchFixture {
	t.Helper()
	ctx := context.Background()
	f := &watchFixture{t: t, sent: &testenv.Statements{}, dbURL: testenv.Database(t)}
	var err error
	if f.store, err = store.Open(ctx, store.Config{URL: f.dbURL, MaxConns: 4, Tracer: f.sent}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.store.Close)
	if f.db, err = pgx.Connect(ctx, f.dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.db.Close(context.Background()) })
	if f.watcher, err = store.NewRunWatcher(f.store, store.RunWatcherConfig{Poll: poll}, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- f.watcher.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("watcher: %v", err)
		}
	})
	return f
}

// runs creates n running runs of one workflow.
func (f *watchFixture) runs(n int) []string {
	f.t.Helper()
	ctx := context.Background()
	wf, version := uuid.NewString(), uuid.NewString()
	if _, err := f.db.Exec(ctx, `INSERT INTO workflows (id, name, current_version, created_at, updated_at) VALUES ($1, 'watched', 1, now(), now())`, wf); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.db.Exec(ctx, `INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at) VALUES ($1, $2, 1, '{}', now())`, version, wf); err != nil {
		f.t.Fatal(err)
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	if _, err := f.db.Exec(ctx, `
		INSERT INTO runs (id, workflow_id, version_id, status, input, pending_tasks, started_at)
		SELECT id, $2, $3, 'running', '{}', 1, now() FROM unnest($1::text[]::uuid[]) AS id`, ids, wf, version); err != nil {
		f.t.Fatal(err)
	}
	return ids
}

// finish makes the runs succeed, as a worker settling their last task does.
func (f *watchFixture) finish(ids []string) {
	f.t.Helper()
	if _, err := f.db.Exec(context.Background(), `UPDATE runs SET status = 'succeeded', pending_tasks = 0, finished_at = now() WHERE id = ANY($1::text[]::uuid[])`, ids); err != nil {
		f.t.Fatal(err)
	}
}

// wait starts one waiter per run and returns their results as they come.
func (f *watchFixture) wait(ctx context.Context, ids []string) <-chan error {
	results := make(chan error, len(ids))
	for _, id := range ids {
		go func() { results <- f.watcher.WaitFinished(ctx, id) }()
	}
	return results
}

func (f *watchFixture) collect(results <-chan error, n int) {
	f.t.Helper()
	deadline := time.After(testenv.Scaled(time.Minute))
	for i := range n {
		select {
		case err := <-results:
			if err != nil {
				f.t.Errorf("a waiter returned %v, want nil (its run finished)", err)
			}
		case <-deadline:
			f.t.Fatalf("%d of %d waiters still waiting a minute after their runs finished", n-i, n)
		}
	}
}

// statusChecks counts the one status read each waiter makes when it starts waiting, once
// PostgreSQL answered it: the waiter then waits, and a change to the run can no longer race
// its read.
func (f *watchFixture) statusChecks() int { return f.sent.Answered("SELECT status FROM runs") }

// polls counts the watcher's periodic check of every watched run.
func (f *watchFixture) polls() int { return f.sent.Count("FROM unnest($1::text[]) AS w(id)") }

// Many waiters cost the database one status read each when they start and then nothing per
// waiter: one listening connection wakes them all when their runs finish.
func TestRunWatcherWakesWaitersOnNotification(t *testing.T) {
	t.Parallel()
	const waiters = 200
	f := newWatchFixture(t, time.Hour) // no poll during the test: only a notification can wake them
	ids := f.runs(waiters)
	testenv.WaitFor(t, time.Minute, "the watcher to listen", func() bool { return f.sent.Count("LISTEN "+store.RunFinishedChannel) == 1 })
	results := f.wait(context.Background(), ids)
	testenv.WaitFor(t, time.Minute, "every waiter to start waiting", func() bool { return f.statusChecks() == waiters })
	before := f.sent.Len()
	f.finish(ids)
	f.collect(results, waiters)
	if extra := f.sent.Since(before); len(extra) != 0 {
		t.Errorf("%d waiters woke with %d statements, want none: %q", waiters, len(extra), extra)
	}
	if total := f.sent.Len(); total != waiters+1 {
		t.Errorf("%d statements in all, want %d: one status read per waiter and one LISTEN", total, waiters+1)
	}
}

// A notification that never comes (here the trigger is disabled) delays a waiter by at most one
// poll, and the poll is one query for all waiters, however many there are.
func TestRunWatcherReturnsWhenTheNotificationIsLost(t *testing.T) {
	t.Parallel()
	const waiters = 150
	f := newWatchFixture(t, 20*time.Millisecond)
	if _, err := f.db.Exec(context.Background(), `ALTER TABLE runs DISABLE TRIGGER runs_notify_finished`); err != nil {
		t.Fatal(err)
	}
	ids := f.runs(waiters)
	results := f.wait(context.Background(), ids)
	testenv.WaitFor(t, time.Minute, "every waiter to start waiting", func() bool { return f.statusChecks() == waiters })
	// While they wait, each poll is the only statement: nothing per waiter.
	before, pollsBefore := f.sent.Len(), f.polls()
	testenv.WaitFor(t, time.Minute, "ten polls", func() bool { return f.polls() >= pollsBefore+10 })
	window := f.sent.Since(before)
	for _, q := range window {
		if !strings.Contains(q, "FROM unnest($1::text[]) AS w(id)") {
			t.Errorf("a statement other than the poll while %d runs were waited on: %q", waiters, q)
		}
	}
	f.finish(ids)
	f.collect(results, waiters)
}

// The listening connection may die (a PostgreSQL restart, a proxy in between): waiters still
// return, and the watcher listens again.
func TestRunWatcherSurvivesALostListener(t *testing.T) {
	t.Parallel()
	f := newWatchFixture(t, 50*time.Millisecond)
	testenv.WaitFor(t, time.Minute, "the watcher to listen", func() bool { return f.sent.Count("LISTEN "+store.RunFinishedChannel) == 1 })
	u, _ := url.Parse(f.dbURL)
	// The watcher has sent LISTEN; PostgreSQL shows it as the backend's query once it ran it.
	testenv.WaitFor(t, time.Minute, "PostgreSQL to show the listening backend", func() bool {
		var n int
		err := f.db.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`, u.Path[1:]).Scan(&n)
		return err == nil && n == 1
	})
	var killed int
	if err := f.db.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`,
		u.Path[1:]).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listeners: %v", killed, err)
	}
	ids := f.runs(3)
	results := f.wait(context.Background(), ids)
	testenv.WaitFor(t, time.Minute, "every waiter to start waiting", func() bool { return f.statusChecks() == len(ids) })
	f.finish(ids)
	f.collect(results, len(ids))
	testenv.WaitFor(t, time.Minute, "the watcher to listen again", func() bool { return f.sent.Count("LISTEN "+store.RunFinishedChannel) == 2 })
}

// A waiter of a run that does not exist, or that is deleted while waited on, does not wait
// forever; one whose context ends gets the context's error.
func TestRunWatcherEdges(t *testing.T) {
	t.Parallel()
	f := newWatchFixture(t, 20*time.Millisecond)
	ctx := context.Background()
	if err := f.watcher.WaitFinished(ctx, uuid.NewString()); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("unknown run: %v, want ErrNotFound", err)
	}
	ids := f.runs(2)
	results := f.wait(ctx, ids[:1])
	testenv.WaitFor(t, time.Minute, "the waiter to start waiting", func() bool { return f.statusChecks() == 2 })
	if _, err := f.db.Exec(ctx, `DELETE FROM runs WHERE id = $1`, ids[0]); err != nil {
		t.Fatal(err)
	}
	f.collect(results, 1)
	short, cancel := context.WithCancel(ctx)
	results = f.wait(short, ids[1:])
	testenv.WaitFor(t, time.Minute, "the waiter to start waiting", func() bool { return f.statusChecks() == 3 })
	cancel()
	if err := <-results; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled waiter: %v, want context.Canceled", err)
	}
	if _, err := store.NewRunWatcher(f.store, store.RunWatcherConfig{Poll: -time.Second}, nil); err == nil {
		t.Error("a negative poll was accepted")
	}
}
