package loadgen

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The run list comes in pages: ListRuns follows X-Next-Cursor until the last page, so a
// workflow with more runs than one page still has all of them tracked.
func TestListRunsFollowsPages(t *testing.T) {
	t.Parallel()
	pages := map[string][]RunState{
		"":   {{ID: "r5", Status: "running"}, {ID: "r4", Status: "running"}},
		"c1": {{ID: "r3", Status: "succeeded"}, {ID: "r2", Status: "failed"}},
		"c2": {{ID: "r1", Status: "succeeded"}},
	}
	next := map[string]string{"": "c1", "c1": "c2"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cursor := r.URL.Query().Get("cursor")
		if n := next[cursor]; n != "" {
			w.Header().Set("X-Next-Cursor", n)
		}
		_ = json.NewEncoder(w).Encode(pages[cursor])
	}))
	defer srv.Close()
	runs, err := NewClient(srv.URL).ListRuns(context.Background(), "wf")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	if len(ids) != 5 || ids[0] != "r5" || ids[4] != "r1" {
		t.Fatalf("ListRuns = %v, want r5..r1 over three pages", ids)
	}
}
