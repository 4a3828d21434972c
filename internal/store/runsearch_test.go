package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// searchRun is a run of the search fixture, as the filters see it.
type searchRun struct {
	id, workflowID, key, status, err string
	version                          int
	at                               time.Time
	failedNodes                      []string
	failedErrors                     string
}

// searchAll follows a search's cursors to its end and returns the ids in order.
func searchAll(t *testing.T, st *store.Store, f workflow.RunFilter, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatal("more pages than runs")
		}
		runs, next, err := st.SearchRuns(context.Background(), f, workflow.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("search %+v: %v", f, err)
		}
		if len(runs) > limit {
			t.Fatalf("page of %d runs, limit %d", len(runs), limit)
		}
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		// The ids-only search pages the same way.
		idPage, idNext, err := st.SearchRunIDs(context.Background(), f, workflow.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]string, len(runs))
		for i, r := range runs {
			want[i] = r.ID
		}
		if !slices.Equal(idPage, want) || idNext != next {
			t.Fatalf("SearchRunIDs page %v next %q, SearchRuns page %v next %q", idPage, idNext, want, next)
		}
		if next == "" {
			return ids
		}
		cursor = next
	}
}

// Every filter of the run search, alone and combined, keeps exactly the runs it describes,
// newest first with ties broken by id, through pages of any size; the summaries carry each
// run's workflow, version, failed nodes, error preview and idempotency key.
func TestSearchRunsFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w1, w2 := newWorkflow(t, st), newWorkflow(t, st)
	w1v2, err := st.UpdateWorkflow(ctx, w1.ID, "w1 edited", workflowtest.New().Input("in").Build(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-48 * time.Hour).Truncate(time.Millisecond)
	long := strings.Repeat("x", store.ListErrorChars+50)
	specs := []searchRun{
		{workflowID: w1.ID, version: 1, status: "succeeded"},
		{workflowID: w1.ID, version: 1, status: "succeeded", failedNodes: []string{"charge"}, failedErrors: "charge: HTTP 503 from Payments"},
		{workflowID: w1.ID, version: 2, status: "failed", err: "node ship failed: Timeout after 10s", failedNodes: []string{"ship"}, failedErrors: "Timeout after 10s", key: "order-1"},
		{workflowID: w1.ID, version: 2, status: "cancelled", err: "cancelled"},
		{workflowID: w2.ID, version: 1, status: "failed", err: "node charge failed", failedNodes: []string{"charge", "notify"}, failedErrors: "charge: http 503\nnotify: 100% of 50_x quota", key: "order-1"},
		{workflowID: w2.ID, version: 1, status: "running", key: "order-2"},
		{workflowID: w2.ID, version: 1, status: "queued"},
		{workflowID: w1.ID, version: 2, status: "succeeded"},
		{workflowID: w2.ID, version: 1, status: "failed", err: long, failedNodes: []string{"ship"}, failedErrors: "disk full"},
		{workflowID: w1.ID, version: 2, status: "succeeded", failedNodes: []string{"notify"}, failedErrors: "notify: quota"},
	}
	// Start times an hour apart, two of them at the same instant.
	for i := range specs {
		s := &specs[i]
		s.at = base.Add(time.Duration(i) * time.Hour)
		if i == 7 {
			s.at = specs[6].at
		}
		w := w1
		if s.workflowID == w2.ID {
			w = w2
		}
		r := newRun(w, s.key, nil)
		if s.version == 2 {
			r.VersionID = w1v2.VersionID
		}
		r.Now = s.at
		if s.id, _, err = st.CreateRun(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `UPDATE runs SET status = $2, error = nullif($3, ''), failed_tasks = $4, failed_nodes = $5,
			failed_errors = nullif($6, ''), finished_at = CASE WHEN $2 IN ('queued', 'running') THEN NULL ELSE started_at END WHERE id = $1`,
			s.id, s.status, s.err, len(s.failedNodes), s.failedNodes, s.failedErrors); err != nil {
			t.Fatal(err)
		}
	}
	order := slices.Clone(specs)
	slices.SortStableFunc(order, func(a, b searchRun) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	want := func(keep func(searchRun) bool) []string {
		var ids []string
		for _, r := range order {
			if keep(r) {
				ids = append(ids, r.id)
			}
		}
		return ids
	}
	yes, no := true, false
	contains := func(s, sub string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(sub)) }
	for _, tc := range []struct {
		name   string
		filter workflow.RunFilter
		keep   func(searchRun) bool
	}{
		{"every run", workflow.RunFilter{}, func(searchRun) bool { return true }},
		{"one status", workflow.RunFilter{Statuses: []string{"failed"}}, func(r searchRun) bool { return r.status == "failed" }},
		{"two statuses", workflow.RunFilter{Statuses: []string{"queued", "cancelled", "queued"}}, func(r searchRun) bool { return r.status == "queued" || r.status == "cancelled" }},
		{"has failed nodes", workflow.RunFilter{HasFailedNodes: &yes}, func(r searchRun) bool { return len(r.failedNodes) > 0 }},
		{"has no failed nodes", workflow.RunFilter{HasFailedNodes: &no}, func(r searchRun) bool { return len(r.failedNodes) == 0 }},
		{"succeeded with failed nodes", workflow.RunFilter{Statuses: []string{"succeeded"}, HasFailedNodes: &yes},
			func(r searchRun) bool { return r.status == "succeeded" && len(r.failedNodes) > 0 }},
		{"workflow", workflow.RunFilter{WorkflowID: w2.ID}, func(r searchRun) bool { return r.workflowID == w2.ID }},
		{"workflow in capitals", workflow.RunFilter{WorkflowID: strings.ToUpper(w2.ID)}, func(r searchRun) bool { return r.workflowID == w2.ID }},
		{"version", workflow.RunFilter{WorkflowID: w1.ID, Version: 2}, func(r searchRun) bool { return r.workflowID == w1.ID && r.version == 2 }},
		{"version that does not exist", workflow.RunFilter{WorkflowID: w1.ID, Version: 3}, func(searchRun) bool { return false }},
		{"workflow that does not exist", workflow.RunFilter{WorkflowID: "00000000-0000-4000-8000-000000000000"}, func(searchRun) bool { return false }},
		{"started after", workflow.RunFilter{StartedAfter: specs[6].at}, func(r searchRun) bool { return !r.at.Before(specs[6].at) }},
		{"started before", workflow.RunFilter{StartedBefore: specs[6].at}, func(r searchRun) bool { return r.at.Before(specs[6].at) }},
		{"time range", workflow.RunFilter{StartedAfter: specs[2].at, StartedBefore: specs[6].at},
			func(r searchRun) bool { return !r.at.Before(specs[2].at) && r.at.Before(specs[6].at) }},
		{"idempotency key", workflow.RunFilter{IdempotencyKey: "order-1"}, func(r searchRun) bool { return r.key == "order-1" }},
		{"idempotency key of a workflow", workflow.RunFilter{WorkflowID: w2.ID, IdempotencyKey: "order-1"},
			func(r searchRun) bool { return r.key == "order-1" && r.workflowID == w2.ID }},
		{"failed node", workflow.RunFilter{FailedNode: "charge"}, func(r searchRun) bool { return slices.Contains(r.failedNodes, "charge") }},
		{"failed node no run has", workflow.RunFilter{FailedNode: "char"}, func(searchRun) bool { return false }},
		{"error of the run or a failed node, any case", workflow.RunFilter{Error: "HTTP 503"},
			func(r searchRun) bool { return contains(r.err, "http 503") || contains(r.failedErrors, "http 503") }},
		{"error of the run", workflow.RunFilter{Error: "ship failed"}, func(r searchRun) bool { return contains(r.err, "ship failed") }},
		{"error with LIKE's wildcards taken literally", workflow.RunFilter{Error: "100% of 50_x"}, func(r searchRun) bool { return contains(r.failedErrors, "100% of 50_x") }},
		{"wildcards that would match otherwise", workflow.RunFilter{Error: "%quota"}, func(searchRun) bool { return false }},
		{"failed runs of a workflow since a time", workflow.RunFilter{WorkflowID: w2.ID, Statuses: []string{"failed"}, StartedAfter: specs[5].at},
			func(r searchRun) bool {
				return r.workflowID == w2.ID && r.status == "failed" && !r.at.Before(specs[5].at)
			}},
		{"every filter", workflow.RunFilter{WorkflowID: w1.ID, Version: 2, Statuses: []string{"failed", "succeeded"}, HasFailedNodes: &yes,
			StartedAfter: specs[1].at, StartedBefore: specs[9].at.Add(time.Millisecond), IdempotencyKey: "order-1", FailedNode: "ship", Error: "timeout"},
			func(r searchRun) bool { return r.id == specs[2].id }},
		{"statuses and failed node", workflow.RunFilter{Statuses: []string{"failed", "succeeded"}, FailedNode: "notify"},
			func(r searchRun) bool { return slices.Contains(r.failedNodes, "notify") }},
	} {
		exp := want(tc.keep)
		if tc.name == "every filter" && len(exp) != 1 || tc.name == "time range" && len(exp) != 4 {
			t.Fatalf("%s: the fixture keeps %v", tc.name, exp)
		}
		for _, limit := range []int{1, 2, 100} {
			if diff := cmp.Diff(exp, searchAll(t, st, tc.filter, limit)); diff != "" {
				t.Errorf("%s, pages of %d (-want +got):\n%s", tc.name, limit, diff)
			}
		}
	}

	// The per-workflow list takes the same filters.
	runs, next, err := st.ListRuns(ctx, w2.ID, workflow.RunFilter{Statuses: []string{"failed"}, Error: "disk"}, workflow.Page{})
	if err != nil || next != "" || len(runs) != 1 || runs[0].ID != specs[8].id {
		t.Fatalf("ListRuns of w2, failed with error disk = %+v, %q, %v; want run 8", runs, next, err)
	}
	got := runs[0]
	if got.WorkflowID != w2.ID || got.WorkflowName != "w" || got.Version != 1 || got.Status != "failed" || got.FailedNodes != 1 ||
		got.Error != long[:store.ListErrorChars] || !got.ErrorTruncated || got.FinishedAt == nil || !got.StartedAt.Equal(specs[8].at) {
		t.Errorf("summary %+v; want w2's version 1, failed with 1 failed node, its error cut to %d characters", got, store.ListErrorChars)
	}
	runs, _, err = st.SearchRuns(ctx, workflow.RunFilter{IdempotencyKey: "order-2"}, workflow.Page{})
	if err != nil || len(runs) != 1 || runs[0].IdempotencyKey != "order-2" || runs[0].Error != "" || runs[0].ErrorTruncated || runs[0].FinishedAt != nil {
		t.Errorf("run with key order-2 = %+v, %v", runs, err)
	}
	runs, _, err = st.SearchRuns(ctx, workflow.RunFilter{WorkflowID: w1.ID, Version: 2, Statuses: []string{"failed"}}, workflow.Page{})
	if err != nil || len(runs) != 1 || runs[0].Version != 2 || runs[0].WorkflowName != "w1 edited" || runs[0].Error != specs[2].err || runs[0].IdempotencyKey != "order-1" {
		t.Errorf("failed run of w1 version 2 = %+v, %v", runs, err)
	}
}

// A filter that cannot describe runs is a validation error naming its query parameter.
func TestSearchRunsRefusesBadFilters(t *testing.T) {
	t.Parallel()
	st := openStore(t, testenv.Database(t))
	for _, tc := range []struct {
		filter workflow.RunFilter
		page   workflow.Page
		field  string
	}{
		{workflow.RunFilter{Statuses: []string{"done"}}, workflow.Page{}, "status"},
		{workflow.RunFilter{Version: 2}, workflow.Page{}, "version"},
		{workflow.RunFilter{WorkflowID: "abc"}, workflow.Page{}, "workflowId"},
		{workflow.RunFilter{WorkflowID: "00000000-0000-4000-8000-000000000000", Version: -1}, workflow.Page{}, "version"},
		{workflow.RunFilter{StartedAfter: time.Now(), StartedBefore: time.Now().Add(-time.Hour)}, workflow.Page{}, "startedBefore"},
		{workflow.RunFilter{Error: "ab"}, workflow.Page{}, "error"},
		{workflow.RunFilter{Error: strings.Repeat("a", workflow.MaxSearchText+1)}, workflow.Page{}, "error"},
		{workflow.RunFilter{FailedNode: "a\x00b"}, workflow.Page{}, "failedNode"},
		{workflow.RunFilter{IdempotencyKey: "\xff"}, workflow.Page{}, "idempotencyKey"},
		{workflow.RunFilter{}, workflow.Page{Cursor: "nope"}, "cursor"},
		{workflow.RunFilter{}, workflow.Page{Limit: store.MaxRunPage + 1}, "limit"},
	} {
		_, _, err := st.SearchRuns(context.Background(), tc.filter, tc.page)
		var ve *workflow.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != tc.field {
			t.Errorf("search %+v %+v: %v, want a validation error naming %s", tc.filter, tc.page, err, tc.field)
		}
	}
}

// Paging through a search while runs are inserted, some started earlier than the pages
// already read (a start's time is the caller's clock, which can lag), shows every run that
// existed before exactly once and never any run twice.
func TestSearchRunsCursorStableUnderConcurrentInserts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	const existing = 150
	before := map[string]bool{}
	for i := range existing {
		r := newRun(w, "", nil)
		r.Now = base.Add(time.Duration(i/2) * time.Second) // pairs share a start time
		id, _, err := st.CreateRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		before[id] = true
	}
	var inserted atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	errc := make(chan error, 1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := newRun(w, "", nil)
			// Alternately newer than every run, and in the middle of the runs already paged.
			r.Now = time.Now()
			if i%2 == 1 {
				r.Now = base.Add(time.Duration(i%(existing/2)) * time.Second)
			}
			if _, _, err := st.CreateRun(ctx, r); err != nil {
				errc <- err
				return
			}
			inserted.Add(1)
		}
	}()
	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("more pages than runs")
		}
		runs, next, err := st.SearchRuns(ctx, workflow.RunFilter{WorkflowID: w.ID}, workflow.Page{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			seen[r.ID]++
		}
		cursor = next
		if pages == 3 {
			// Let the inserts overlap most of the paging.
			testenv.WaitFor(t, 10*time.Second, "runs inserted while paging", func() bool { return inserted.Load() >= 20 })
		}
		if cursor == "" {
			break
		}
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	if inserted.Load() < 20 {
		t.Fatalf("only %d runs inserted while paging", inserted.Load())
	}
	var problems []string
	for id := range before {
		if seen[id] != 1 {
			problems = append(problems, fmt.Sprintf("run %s seen %d times", id, seen[id]))
		}
	}
	for id, n := range seen {
		if n > 1 && !before[id] {
			problems = append(problems, fmt.Sprintf("inserted run %s seen %d times", id, n))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d runs inserted while paging; %s", inserted.Load(), strings.Join(problems, "; "))
	}
}

// The search indexes of runs cover only what changes when a run finishes: while it runs, the
// updates that count its tasks down (SettleRun) stay HOT, writing no index entries.
func TestRunCountdownUpdatesStayHOT(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	id, _, err := st.CreateRun(ctx, newRun(w, "key-1", nil))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE runs SET pending_tasks = pending_tasks - 1 WHERE id = $1`, id); err != nil {
		t.Fatal(err)
	}
	var updates, hot int64
	if err := tx.QueryRow(ctx, `SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'runs'`).Scan(&updates, &hot); err != nil {
		t.Fatal(err)
	}
	if updates != 1 || hot != 1 {
		t.Errorf("counting a run's tasks down: %d updates, %d HOT; want the one update HOT (an index covers pending_tasks?)", updates, hot)
	}
}
