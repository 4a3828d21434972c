package retention_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sequenceflow/sequenceflow/internal/retention"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// history is a database with one workflow, into which tests insert runs of any status and
// age, each with two tasks and two log lines.
type history struct {
	t   testing.TB
	url string
	db  *pgx.Conn
	wf  workflow.Workflow
}

func newHistory(t testing.TB, conns int) *history {
	t.Helper()
	ctx := context.Background()
	url := testenv.DatabaseConns(t, conns+2)
	st := openStore(t, url, 1)
	wf, err := st.CreateWorkflow(ctx, "retention", workflowtest.New().Input("a").Build(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return &history{t: t, url: url, db: db, wf: wf}
}

func openStore(t testing.TB, url string, conns int32) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: url, MaxConns: conns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// add inserts n runs with status, started at started and finished at finished (nil: not
// finished), and returns their ids.
func (h *history) add(n int, status string, started time.Time, finished *time.Time) []string {
	h.t.Helper()
	rows, err := h.db.Query(context.Background(), `
		WITH r AS (
			INSERT INTO runs (id, workflow_id, version_id, status, input, pending_tasks, started_at, finished_at)
			SELECT gen_random_uuid(), $1, $2, $3, '{}', CASE WHEN $5::timestamptz IS NULL THEN 2 ELSE 0 END, $4, $5
			FROM generate_series(1, $6)
			RETURNING id, started_at
		), t AS (
			INSERT INTO tasks (id, run_id, node_id, node_type, position, status, unresolved_parents, created_at)
			SELECT gen_random_uuid(), r.id, 'n' || i, 'inputText', i, 'completed', 0, r.started_at FROM r, generate_series(1, 2) i
		), l AS (
			INSERT INTO run_logs (id, run_id, type, message, created_at)
			SELECT gen_random_uuid(), r.id, 'info', 'line ' || i, r.started_at FROM r, generate_series(1, 2) i
		)
		SELECT id::text FROM r`, h.wf.ID, h.wf.VersionID, status, started, finished, n)
	if err != nil {
		h.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		h.t.Fatal(err)
	}
	return ids
}

// runs returns the ids of the runs stored, sorted.
func (h *history) runs() []string {
	h.t.Helper()
	rows, err := h.db.Query(context.Background(), `SELECT id::text FROM runs ORDER BY id`)
	if err != nil {
		h.t.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		h.t.Fatal(err)
	}
	return ids
}

func (h *history) count(table string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(context.Background(), `SELECT count(*) FROM `+table).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

func sorted(groups ...[]string) []string {
	all := slices.Concat(groups...)
	slices.Sort(all)
	return all
}

func ptr(t time.Time) *time.Time { return &t }

// A pass deletes exactly the terminal runs that finished before the cutoff, with their tasks
// and logs, and keeps runs in flight however old (even a running run with a finished_at,
// which the engine never writes), recent runs, and runs finished right at the cutoff. The
// pass is counted, its runs too, and it writes one log line.
func TestPruneDeletesOnlyExpiredTerminalRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHistory(t, 2)
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	old, oldEnd := now.AddDate(0, 0, -40), now.AddDate(0, 0, -39)
	cutoff := now.Add(-30 * 24 * time.Hour)

	var expired []string
	for _, s := range []string{workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled} {
		expired = append(expired, h.add(3, s, old, ptr(oldEnd))...)
		expired = append(expired, h.add(1, s, cutoff.Add(-2*time.Hour), ptr(cutoff.Add(-time.Microsecond)))...)
	}
	kept := sorted(
		h.add(2, workflow.RunQueued, old, nil),
		h.add(2, workflow.RunRunning, old, nil),
		h.add(1, workflow.RunRunning, old, ptr(oldEnd)), // impossible, and still in flight
		h.add(1, workflow.RunQueued, old, ptr(oldEnd)),
		h.add(2, workflow.RunSucceeded, now.AddDate(0, 0, -2), ptr(now.AddDate(0, 0, -1))),
		h.add(1, workflow.RunFailed, old, ptr(cutoff)), // finished right at the cutoff: not before it
		h.add(1, workflow.RunCancelled, now.Add(-time.Hour), ptr(now.Add(-time.Minute))),
	)

	m := telemetry.NewMetrics()
	var logs bytes.Buffer
	p, err := retention.NewPruner(retention.Config{Retention: 30 * 24 * time.Hour, Batch: 4, Pause: time.Millisecond, Now: func() time.Time { return now }},
		openStore(t, h.url, 2), m.RetentionObserver(), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(expired) {
		t.Errorf("pruned %d runs, want %d", n, len(expired))
	}
	if got := h.runs(); !slices.Equal(got, kept) {
		t.Errorf("runs kept:\n%v\nwant\n%v", got, kept)
	}
	if tasks, logs := h.count("tasks"), h.count("run_logs"); tasks != 2*len(kept) || logs != 2*len(kept) {
		t.Errorf("%d tasks and %d logs left, want %d each: the deleted runs' children must go with them", tasks, logs, 2*len(kept))
	}
	if got := testutil.ToFloat64(m.RetentionPruned); got != float64(len(expired)) {
		t.Errorf("sequenceflow_retention_pruned_runs_total = %v, want %d", got, len(expired))
	}
	if ok, failed := testutil.ToFloat64(m.RetentionPasses.WithLabelValues("ok")), testutil.ToFloat64(m.RetentionPasses.WithLabelValues("error")); ok != 1 || failed != 0 {
		t.Errorf("passes ok %v, error %v; want 1, 0", ok, failed)
	}
	if c := testutil.CollectAndCount(m.RetentionTime); c != 1 {
		t.Errorf("pass duration histogram has %d series", c)
	}
	var line struct {
		Msg    string    `json:"msg"`
		Pruned int       `json:"pruned"`
		Cutoff time.Time `json:"cutoff"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil || line.Msg != "retention pass pruned runs" || line.Pruned != len(expired) || !line.Cutoff.Equal(cutoff) {
		t.Errorf("log line %q (%v): want one 'retention pass pruned runs' line with pruned %d and cutoff %s", logs.String(), err, len(expired), cutoff)
	}

	// A second pass finds nothing: it is counted, but writes no line.
	logs.Reset()
	if n, err := p.Prune(ctx); n != 0 || err != nil {
		t.Errorf("second pass: %d, %v", n, err)
	}
	if logs.Len() != 0 {
		t.Errorf("a pass that deleted nothing logged %q", logs.String())
	}
	if ok := testutil.ToFloat64(m.RetentionPasses.WithLabelValues("ok")); ok != 2 {
		t.Errorf("passes ok %v, want 2", ok)
	}
}

// counting wraps the real store and records the runs each delete statement took.
type counting struct {
	retention.Store
	mu      sync.Mutex
	batches []int
}

func (c *counting) DeleteExpiredRuns(ctx context.Context, b retention.Batch) (retention.Deleted, error) {
	d, err := c.Store.DeleteExpiredRuns(ctx, b)
	c.mu.Lock()
	c.batches = append(c.batches, d.Runs)
	c.mu.Unlock()
	return d, err
}

// One statement deletes at most a batch of runs, and a pass goes on batch after batch until
// a statement finds fewer than a batch.
func TestPruneBatchesAreBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHistory(t, 2)
	now := time.Now()
	// Runs that finished in many distinct instants and some in the same one, so that batches
	// start in the middle of a tie.
	for i := range 40 {
		h.add(1, workflow.RunSucceeded, now.AddDate(0, 0, -50), ptr(now.AddDate(0, 0, -45).Add(time.Duration(i)*time.Second)))
	}
	h.add(23, workflow.RunFailed, now.AddDate(0, 0, -50), ptr(now.AddDate(0, 0, -44)))
	live := h.add(5, workflow.RunRunning, now.AddDate(0, 0, -50), nil)
	st := openStore(t, h.url, 2)

	// One statement, directly: 7 of the 63.
	d, err := st.DeleteExpiredRuns(ctx, retention.Batch{Before: now.AddDate(0, 0, -30), Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	if d.Runs != 7 || h.count("runs") != 63-7+5 {
		t.Fatalf("one statement with limit 7 deleted %d runs, %d left", d.Runs, h.count("runs"))
	}

	spy := &counting{Store: st}
	p, err := retention.NewPruner(retention.Config{Retention: 30 * 24 * time.Hour, Batch: 7, Pause: time.Millisecond}, spy, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := p.Prune(ctx)
	if err != nil || n != 56 {
		t.Fatalf("pass: %d, %v; want 56", n, err)
	}
	// 56 = 8 full batches, then one that finds none.
	if want := []int{7, 7, 7, 7, 7, 7, 7, 7, 0}; !slices.Equal(spy.batches, want) {
		t.Errorf("batches %v, want %v", spy.batches, want)
	}
	if got := h.runs(); !slices.Equal(got, sorted(live)) {
		t.Errorf("left %v, want only the runs in flight %v", got, live)
	}
}

// Four workers, each with its own connection pool, pruning the same history at once (while
// runs in flight are updated beside them, and with parent runs and their re-runs in the
// history) delete every expired run exactly once: no errors, no deadlocks, and their counts
// add up to the runs deleted.
func TestConcurrentPruners(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pruners, expired = 4, 3000
	h := newHistory(t, pruners*2+1)
	now := time.Now()
	for i := range 30 {
		end := now.AddDate(0, 0, -60).Add(time.Duration(i) * time.Minute)
		h.add(expired/30, []string{workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled}[i%3], end.Add(-time.Second), &end)
	}
	kept := sorted(h.add(50, workflow.RunRunning, now.AddDate(0, 0, -60), nil), h.add(50, workflow.RunSucceeded, now.Add(-time.Hour), ptr(now)))
	// Every other expired run is a re-run of one that finished 7 runs earlier: deleting a
	// parent updates its child (parent_run_id ON DELETE SET NULL), so parents and children in
	// different pruners' batches must not deadlock.
	if _, err := h.db.Exec(ctx, `
		WITH o AS (SELECT id, row_number() OVER (ORDER BY finished_at, id) AS n FROM runs WHERE finished_at < now() - interval '30 days')
		UPDATE runs r SET parent_run_id = p.id FROM o c JOIN o p ON p.n = c.n - 7 WHERE r.id = c.id AND c.n % 2 = 0`); err != nil {
		t.Fatal(err)
	}

	m := telemetry.NewMetrics()
	var wg sync.WaitGroup
	start := make(chan struct{})
	counts := make([]int, pruners)
	errs := make([]error, pruners)
	spies := make([]*counting, pruners)
	for i := range pruners {
		spies[i] = &counting{Store: openStore(t, h.url, 1)}
		p, err := retention.NewPruner(retention.Config{Retention: 30 * 24 * time.Hour, Batch: 25, Pause: time.Millisecond}, spies[i], m.RetentionObserver(), nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Several passes each, so pruners also start over a history others are deleting.
			for range 3 {
				n, err := p.Prune(ctx)
				counts[i] += n
				errs[i] = errors.Join(errs[i], err)
			}
		}()
	}
	// Live traffic on the runs in flight, through the same rows' neighbours in the index.
	stop := make(chan struct{})
	traffic := make(chan error, 1)
	go func() {
		db, err := pgx.Connect(ctx, h.url)
		if err != nil {
			traffic <- err
			return
		}
		defer db.Close(ctx)
		for {
			select {
			case <-stop:
				traffic <- nil
				return
			default:
			}
			if _, err := db.Exec(ctx, `UPDATE runs SET pending_tasks = pending_tasks + 1 WHERE status = 'running'`); err != nil {
				traffic <- err
				return
			}
		}
	}()
	close(start)
	wg.Wait()
	close(stop)
	if err := <-traffic; err != nil {
		t.Errorf("live traffic: %v", err)
	}
	total := 0
	for i := range pruners {
		if errs[i] != nil {
			t.Errorf("pruner %d: %v", i, errs[i])
		}
		total += counts[i]
		for _, b := range spies[i].batches {
			if b > 25 {
				t.Errorf("pruner %d deleted %d runs in one statement, batch is 25", i, b)
			}
		}
	}
	if total != expired {
		t.Errorf("pruners deleted %v runs in all, want %d exactly", counts, expired)
	}
	if got := testutil.ToFloat64(m.RetentionPruned); got != expired {
		t.Errorf("sequenceflow_retention_pruned_runs_total = %v, want %d", got, expired)
	}
	if got := h.runs(); !slices.Equal(got, kept) {
		t.Errorf("%d runs left, want the %d kept", len(got), len(kept))
	}
	if tasks := h.count("tasks"); tasks != 2*len(kept) {
		t.Errorf("%d tasks left, want %d", tasks, 2*len(kept))
	}
	t.Logf("runs deleted per pruner: %v", counts)
}

// RUN_RETENTION=0 keeps runs forever: a pass deletes nothing (and is not counted), and Run
// returns at once.
func TestZeroRetentionKeepsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHistory(t, 1)
	h.add(5, workflow.RunSucceeded, time.Unix(0, 0), ptr(time.Unix(1, 0)))
	m := telemetry.NewMetrics()
	p, err := retention.NewPruner(retention.Config{Retention: 0, Interval: time.Millisecond}, openStore(t, h.url, 1), m.RetentionObserver(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.Prune(ctx); n != 0 || err != nil {
		t.Fatalf("pass with retention 0: %d, %v", n, err)
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := p.Run(runCtx); err != nil || runCtx.Err() != nil {
		t.Fatalf("Run with retention 0: %v, %v; want it to return at once", err, runCtx.Err())
	}
	if h.count("runs") != 5 || h.count("tasks") != 10 {
		t.Errorf("retention 0 deleted history: %d runs, %d tasks left", h.count("runs"), h.count("tasks"))
	}
	if ok := testutil.ToFloat64(m.RetentionPasses.WithLabelValues("ok")); ok != 0 {
		t.Errorf("%v passes counted for a pruner that keeps runs forever", ok)
	}
}

// A failed statement fails the pass: it is counted as an error and logged at WARN with the
// runs deleted so far.
func TestPruneFailureIsObserved(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHistory(t, 1)
	h.add(3, workflow.RunSucceeded, time.Unix(0, 0), ptr(time.Unix(1, 0)))
	st := openStore(t, h.url, 1)
	st.Close() // every statement now fails
	m := telemetry.NewMetrics()
	var logs bytes.Buffer
	p, err := retention.NewPruner(retention.Config{Retention: time.Hour}, st, m.RetentionObserver(), slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Prune(ctx); err == nil {
		t.Fatal("a pass on a closed pool succeeded")
	}
	if failed := testutil.ToFloat64(m.RetentionPasses.WithLabelValues("error")); failed != 1 {
		t.Errorf("passes error %v, want 1", failed)
	}
	if s := logs.String(); !strings.Contains(s, `"level":"WARN"`) || !strings.Contains(s, "retention pass failed") || !strings.Contains(s, `"error"`) {
		t.Errorf("log %q: want a WARN 'retention pass failed' line with the error", s)
	}
	if h.count("runs") != 3 {
		t.Errorf("runs deleted by a failed pass")
	}
}

// The oldest finished run stored is what the history gauge reports.
func TestOldestFinishedRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHistory(t, 1)
	st := openStore(t, h.url, 1)
	if _, ok, err := st.OldestFinishedRun(ctx); ok || err != nil {
		t.Fatalf("empty history: ok %v, %v", ok, err)
	}
	oldest := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h.add(1, workflow.RunRunning, oldest.Add(-time.Hour), nil)
	h.add(2, workflow.RunSucceeded, oldest.Add(-time.Hour), ptr(oldest.Add(time.Hour)))
	h.add(1, workflow.RunFailed, oldest.Add(-time.Hour), ptr(oldest))
	got, ok, err := st.OldestFinishedRun(ctx)
	if err != nil || !ok || !got.Equal(oldest) {
		t.Fatalf("oldest finished run: %v, %v, %v; want %v", got, ok, err, oldest)
	}
	c := telemetry.NewHistoryCollector(st)
	if n := testutil.CollectAndCount(c, "sequenceflow_retention_oldest_run_age_seconds"); n != 1 {
		t.Fatalf("history collector exported %d series", n)
	}
	age := testutil.ToFloat64(c)
	if want := time.Since(oldest).Seconds(); age < want-60 || age > want+60 {
		t.Errorf("oldest run age %v s, want about %v s", age, want)
	}
}
