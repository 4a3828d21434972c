package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// listAll follows a run list's cursors to its end and returns the ids in order; between
// pages it calls between (if set) with the page number just read.
func listAll(t *testing.T, st *store.Store, workflowID string, f workflow.RunFilter, limit int, between func(page int)) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		if page > 20 {
			t.Fatal("more pages than runs")
		}
		runs, next, err := st.ListRuns(context.Background(), workflowID, f, workflow.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > limit {
			t.Fatalf("page of %d runs, limit %d", len(runs), limit)
		}
		for _, r := range runs {
			ids = append(ids, r.ID)
		}
		if next == "" {
			return ids
		}
		if between != nil {
			between(page)
		}
		cursor = next
	}
}

// The run list filters by status through its cursor pages, newest first with ties broken by
// id, never listing a run twice; a run whose status changes between pages does not disturb
// the cursor; every run carries its stored trace context.
func TestStoreListRunsByStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w, other := newWorkflow(t, st), newWorkflow(t, st)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	// Runs in start order, two of them started at the same instant.
	statuses := []string{workflow.RunSucceeded, workflow.RunFailed, workflow.RunRunning, workflow.RunSucceeded,
		workflow.RunSucceeded, workflow.RunCancelled, workflow.RunRunning}
	starts := []int{0, 1, 2, 3, 3, 4, 5}
	ids := make([]string, len(statuses))
	for i, status := range statuses {
		r := newRun(w, "", nil)
		r.Now = base.Add(time.Duration(starts[i]) * time.Second)
		r.TraceContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		id, _, err := st.CreateRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Pool().Exec(ctx, `UPDATE runs SET status = $2 WHERE id = $1`, id, status); err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	if _, _, err := st.CreateRun(ctx, newRun(other, "", nil)); err != nil { // running, of another workflow
		t.Fatal(err)
	}
	// Newest first; of the two started together, the smaller id first.
	order := []int{6, 5, 3, 4, 2, 1, 0}
	if ids[4] < ids[3] {
		order[2], order[3] = 4, 3
	}
	want := func(keep ...string) []string {
		var out []string
		for _, i := range order {
			if slices.Contains(keep, statuses[i]) {
				out = append(out, ids[i])
			}
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		statuses []string
	}{
		{"all", nil},
		{"one status", []string{workflow.RunSucceeded}},
		{"two statuses", []string{workflow.RunRunning, workflow.RunFailed}},
		{"repeated status", []string{workflow.RunRunning, workflow.RunRunning}},
		{"every status", workflow.RunStatuses()},
		{"no run has it", []string{workflow.RunQueued}},
	} {
		keep := tc.statuses
		if keep == nil {
			keep = workflow.RunStatuses()
		}
		for _, limit := range []int{1, 2, 100} {
			got := listAll(t, st, w.ID, workflow.RunFilter{Statuses: tc.statuses}, limit, nil)
			if diff := cmp.Diff(want(keep...), got); diff != "" {
				t.Errorf("%s, pages of %d (-want +got):\n%s", tc.name, limit, diff)
			}
		}
	}

	// The newest running run finishes after the first page: the cursor it returned still
	// continues the list, with the other running run.
	got := listAll(t, st, w.ID, workflow.RunFilter{Statuses: []string{workflow.RunRunning}}, 1, func(int) {
		if _, err := st.Pool().Exec(ctx, `UPDATE runs SET status = 'succeeded' WHERE id = $1`, ids[6]); err != nil {
			t.Fatal(err)
		}
	})
	if diff := cmp.Diff([]string{ids[6], ids[2]}, got); diff != "" {
		t.Errorf("running runs while the first finishes (-want +got):\n%s", diff)
	}

	runs, _, err := st.ListRuns(ctx, w.ID, workflow.RunFilter{Statuses: []string{workflow.RunFailed}}, workflow.Page{})
	if err != nil || len(runs) != 1 || runs[0].TraceContext != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Errorf("failed runs = %+v, %v; want one, with its trace context", runs, err)
	}
	for _, bad := range [][]string{{"done"}, {workflow.RunRunning, ""}, {"Running"}} {
		_, _, err := st.ListRuns(ctx, w.ID, workflow.RunFilter{Statuses: bad}, workflow.Page{})
		var ve *workflow.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "status" {
			t.Errorf("statuses %q: %v, want a validation error naming status", bad, err)
		}
	}
}

// A start with an idempotency key that already has a run reads that run's trace context.
func TestStoreRunTraceContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	r := newRun(w, "", nil)
	r.TraceContext = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	id, _, err := st.CreateRun(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	untraced, _, err := st.CreateRun(ctx, newRun(w, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	for runID, want := range map[string]string{id: r.TraceContext, untraced: ""} {
		if got, err := st.RunTraceContext(ctx, runID); err != nil || got != want {
			t.Errorf("RunTraceContext(%s) = %q, %v; want %q", runID, got, err, want)
		}
	}
}
