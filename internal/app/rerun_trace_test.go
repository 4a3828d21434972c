package app_test

import (
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// runStart returns the run.start span of a run.
func (s *spans) runStart(runID string) sdktrace.ReadOnlySpan {
	s.t.Helper()
	for _, sp := range s.all {
		if v, ok := attr(sp, "run.id"); ok && sp.Name() == "run.start" && v.AsString() == runID {
			return sp
		}
	}
	s.t.Fatalf("no run.start span for run %s", runID)
	return nil
}

// A retry's run.start span, in its own trace (its API request's), links to the original run's
// run.start span with link.kind origin.
func TestRetryTraceLinksToTheOriginal(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	def := workflowtest.New().Input("in").
		APICall("call", "GET", srv.URL+"/workflows/api/no-such-endpoint", map[string]any{"onError": "fail", "retries": 0}).
		Chain("in", "call").JSON()
	wfID := createWorkflow(t, srv.URL, def)
	orig := execute(t, srv.URL, wfID)
	if st := waitTerminal(t, nil, srv.URL, orig); st != "failed" {
		t.Fatalf("original run %s, want failed", st)
	}
	var out struct{ RunID string }
	procPost(t, srv.URL+"/workflows/runs/"+orig+"/retry", nil, &out, http.StatusCreated)
	waitTerminal(t, nil, srv.URL, out.RunID)

	s := collect(t, rec)
	first, retry := s.runStart(orig), s.runStart(out.RunID)
	if retry.SpanContext().TraceID() == first.SpanContext().TraceID() {
		t.Error("the retry's run.start is in the original's trace, want its own")
	}
	var linked bool
	for _, l := range retry.Links() {
		kind := ""
		for _, kv := range l.Attributes {
			if kv.Key == "link.kind" {
				kind = kv.Value.AsString()
			}
		}
		if l.SpanContext.SpanID() == first.SpanContext().SpanID() && l.SpanContext.TraceID() == first.SpanContext().TraceID() && kind == "origin" {
			linked = true
		}
	}
	if !linked {
		t.Errorf("the retry's run.start links %v, want the original's run.start %v with link.kind origin", retry.Links(), first.SpanContext())
	}
	if v, ok := attr(retry, "run.origin"); !ok || v.AsString() != "retry" {
		t.Errorf("run.origin %v, want retry", v)
	}
}
