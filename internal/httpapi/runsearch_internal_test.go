package httpapi

import (
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// The run list's query parameters parse to a filter and page without any service; a bad value,
// an unknown parameter and a repeated single-valued one are validation errors naming the
// parameter (the seed's route ignores unknown ones), and the next page's query keeps the filter.
func TestParseRunQuery(t *testing.T) {
	yes, no := true, false
	wf := "5B0F8A9E-0C4D-4E7A-9A51-D2B1A6C0E3F7"
	for _, tc := range []struct {
		query string
		want  runQuery
	}{
		{"", runQuery{}},
		{"status=", runQuery{}},
		{"status=failed,%20cancelled&status=failed", runQuery{filter: workflow.RunFilter{Statuses: []string{"failed", "cancelled"}}}},
		{"status=succeeded&hasFailedNodes=true", runQuery{filter: workflow.RunFilter{Statuses: []string{"succeeded"}, HasFailedNodes: &yes}}},
		{"hasFailedNodes=false", runQuery{filter: workflow.RunFilter{HasFailedNodes: &no}}},
		{"workflowId=" + wf + "&version=3", runQuery{filter: workflow.RunFilter{WorkflowID: "5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7", Version: 3}}},
		{"startedAfter=2026-12-01T18:00:00%2B01:00&startedBefore=1796148000000", runQuery{filter: workflow.RunFilter{
			StartedAfter: time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC), StartedBefore: time.UnixMilli(1796148000000)}}},
		{"startedAfter=2026-12-01T17:00:00.5Z", runQuery{filter: workflow.RunFilter{StartedAfter: time.Date(2026, 12, 1, 17, 0, 0, 5e8, time.UTC)}}},
		{"idempotencyKey=order%201&failedNode=charge&error=HTTP%20503", runQuery{filter: workflow.RunFilter{IdempotencyKey: "order 1", FailedNode: "charge", Error: "HTTP 503"}}},
		{"cursor=abc&limit=5", runQuery{page: workflow.Page{Cursor: "abc", Limit: 5}}},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseRunQuery(q, true)
		if err != nil {
			t.Errorf("%q: %v", tc.query, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(runQuery{}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.query, diff)
		}
		// The next page's query reads back as the same filter, with the new cursor.
		again, err := parseRunQuery(got.values("next"), true)
		got.page.Cursor = "next"
		if err != nil {
			t.Errorf("%q: next page's query %v: %v", tc.query, got.values("next"), err)
		} else if diff := cmp.Diff(got, again, cmp.AllowUnexported(runQuery{}), cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%q: next page's query (-want +got):\n%s", tc.query, diff)
		}
	}

	for _, tc := range []struct{ query, field string }{
		{"status=done", "status"},
		{"status=failed,,cancelled", "status"},
		{"hasFailedNodes=yes", "hasFailedNodes"},
		{"workflowId=abc", "workflowId"},
		{"workflowId=5b0f8a9e0c4d4e7a9a51d2b1a6c0e3f7", "workflowId"},
		{"version=2", "version"},
		{"workflowId=" + wf + "&version=0", "version"},
		{"workflowId=" + wf + "&version=two", "version"},
		{"startedAfter=yesterday", "startedAfter"},
		{"startedAfter=2026-12-01", "startedAfter"},
		{"startedAfter=2026-12-01T18:00:00", "startedAfter"},
		{"startedBefore=-5", "startedBefore"},
		{"startedBefore=1e12", "startedBefore"},
		{"startedAfter=2026-12-02T00:00:00Z&startedBefore=2026-12-01T00:00:00Z", "startedBefore"},
		{"error=ab", "error"},
		{"limit=0", "limit"},
		{"limit=ten", "limit"},
		{"since=2026-12-01T00:00:00Z", "since"},
		{"startedafter=2026-12-01T00:00:00Z&status=running", "startedafter"},
		{"status=running&Status=failed", "Status"},
		{"workflowId=" + wf + "&workflowId=" + wf, "workflowId"},
		{"workflowId=" + wf + "&version=1&version=2", "version"},
		{"error=timeout&error=refused", "error"},
		{"limit=5&limit=6", "limit"},
	} {
		wantQueryProblem(t, tc.query, tc.field, func(q url.Values) error { _, err := parseRunQuery(q, true); return err })
	}

	// The per-workflow list ignores workflowId and takes a version without it (its workflow is
	// in its path).
	q, _ := url.ParseQuery("workflowId=abc&version=2&unknown=1")
	if got, err := parseRunQuery(q, false); err != nil || got.filter.WorkflowID != "" || got.filter.Version != 2 {
		t.Errorf("per-workflow list's query = %+v, %v; want version 2 and no workflow", got, err)
	}
}

// A bulk action's search must narrow the runs: no filter, only page parameters, a filter given
// empty, or a misspelt one is refused naming the problem, so no typo acts on every run.
func TestBulkQueryNeedsAFilter(t *testing.T) {
	defaults := []string{workflow.RunQueued, workflow.RunRunning}
	for _, tc := range []struct{ query, field string }{
		{"", "filter"},
		{"limit=5&cursor=abc", "filter"},
		{"status=", "filter"},
		{"error=&failedNode=", "filter"},
		{"since=2026-12-01T00:00:00Z", "since"},
		{"status=running&startedafter=2026-12-01T00:00:00Z", "startedafter"},
		{"status=running&limit=501", "limit"},
	} {
		wantQueryProblem(t, tc.query, tc.field, func(q url.Values) error { _, err := bulkQuery(q, defaults); return err })
	}
	q, _ := url.ParseQuery("error=timeout")
	got, err := bulkQuery(q, defaults)
	if err != nil || got.filter.Error != "timeout" || !slices.Equal(got.filter.Statuses, defaults) || got.page.Limit != DefaultBulkRuns {
		t.Errorf("bulk query %q = %+v, %v; want the error filter, the default statuses and page", "error=timeout", got, err)
	}
}

// wantQueryProblem parses query and checks that read refuses it with one problem naming field.
func wantQueryProblem(t *testing.T, query, field string, read func(url.Values) error) {
	t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	var ve *workflow.ValidationError
	if err := read(q); !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != field {
		t.Errorf("%q: %v, want a validation error naming %s", query, err, field)
	}
}
