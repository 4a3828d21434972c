package app_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

func linkKind(l sdktrace.Link) string {
	for _, kv := range l.Attributes {
		if kv.Key == "link.kind" {
			return kv.Value.AsString()
		}
	}
	return ""
}

// A join released by the last of its three parents is a child of that parent's span and links
// to the spans of all three; a task with one parent has no links.
func TestJoinSpanLinksEveryParent(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	def := workflowtest.New().Input("in").Notify("a", "a").Notify("b", "b").Notify("c", "c").Notify("join", "joined").
		Chain("in", "a", "join").Chain("in", "b", "join").Chain("in", "c", "join").JSON()
	runID := execute(t, srv.URL, createWorkflow(t, srv.URL, def))
	if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	waitSpan(t, rec, "join")
	s := collect(t, rec)
	join := s.one("join")
	want := map[trace.SpanID]string{}
	for _, id := range []string{"a", "b", "c"} {
		p := s.one(id)
		want[p.SpanContext().SpanID()] = id
		if len(p.Links()) != 0 {
			t.Errorf("single-parent task %s has %d links, want none", id, len(p.Links()))
		}
		wantParent(t, s, p, s.one("in"))
	}
	got := map[trace.SpanID]bool{}
	for _, l := range join.Links() {
		if linkKind(l) != "parent" {
			t.Errorf("join link has link.kind %q, want parent", linkKind(l))
		}
		if _, ok := want[l.SpanContext.SpanID()]; !ok {
			t.Errorf("join links to span %s, which is none of its parents", l.SpanContext.SpanID())
		}
		got[l.SpanContext.SpanID()] = true
	}
	if len(join.Links()) != 3 || len(got) != 3 {
		t.Errorf("join span has %d links to %d distinct parents, want 3 to a, b and c", len(join.Links()), len(got))
	}
	if _, ok := want[join.Parent().SpanID()]; !ok {
		t.Errorf("join span's parent is none of its parents' spans")
	}
	if v, _ := attr(join, "task.parent_links"); v.AsInt64() != 3 {
		t.Errorf("task.parent_links = %d, want 3", v.AsInt64())
	}
}

// Cancelling a run through the API puts a run.cancel span in the run's trace, under run.start,
// that names the cause, counts the tasks it ended and links to the request's span; the
// request's span (a trace of its own) links back to the run.
func TestCancelIsInRunTrace(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	def := workflowtest.New().Input("in").Delay("wait", 60).Notify("tell", "never").Chain("in", "wait", "tell").JSON()
	runID := execute(t, srv.URL, createWorkflow(t, srv.URL, def))
	waitSpan(t, rec, "wait") // parked
	var cancelled struct{ Cancelled bool }
	procPost(t, srv.URL+"/workflows/runs/"+runID+"/cancel", map[string]any{}, &cancelled, http.StatusCreated)

	const route = "POST /workflows/runs/{runID}/cancel"
	var request, cancel, runStart sdktrace.ReadOnlySpan
	testenv.WaitFor(t, 20*time.Second, "the cancel request's span", func() bool {
		request, cancel, runStart = nil, nil, nil
		for _, sp := range rec.Ended() {
			v, _ := attr(sp, "run.id")
			switch {
			case sp.Name() == route && sp.SpanKind() == trace.SpanKindServer:
				request = sp
			case sp.Name() == "run.cancel" && v.AsString() == runID:
				cancel = sp
			case sp.Name() == "run.start" && v.AsString() == runID:
				runStart = sp
			}
		}
		return request != nil && cancel != nil && runStart != nil
	})
	s := collect(t, rec)
	wantParent(t, s, cancel, runStart)
	for key, want := range map[string]any{"cancel.cause": "api", "cancel.tasks_cancelled": int64(2), "cancel.tasks_skipped": int64(0)} {
		v, ok := attr(cancel, key)
		if !ok || v.AsInterface() != want {
			t.Errorf("run.cancel %s = %v, want %v", key, v.AsInterface(), want)
		}
	}
	var toRequest bool
	for _, l := range cancel.Links() {
		toRequest = toRequest || l.SpanContext.SpanID() == request.SpanContext().SpanID() && linkKind(l) == "cause"
	}
	if !toRequest {
		t.Errorf("run.cancel does not link to the cancel request's span (links %v)", cancel.Links())
	}
	var toRun bool
	for _, l := range request.Links() {
		toRun = toRun || l.SpanContext.SpanID() == runStart.SpanContext().SpanID() && linkKind(l) == "run"
	}
	if !toRun {
		t.Errorf("the cancel request's span does not link to the run's trace (links %v)", request.Links())
	}
}

// The ifElse task that takes its true branch carries a branch.skipped event naming the nodes of
// the false branch, transitively, and the handle it chose.
func TestSkippedBranchIsAnEvent(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	def := workflowtest.New().Input("in").
		IfElse("hot", "temp", map[string]any{">": []any{map[string]any{"var": "value"}, 25}}).
		Notify("yes", "hot").Notify("no", "cold").Notify("no2", "still cold").
		Chain("in", "hot").Edge("hot", "yes", "out-true").Edge("hot", "no", "out-false").Chain("no", "no2").JSON()
	wfID := createWorkflow(t, srv.URL, def)
	var out struct{ RunID string }
	procPost(t, srv.URL+"/workflows/"+wfID+"/execute-async", map[string]any{"input": map[string]any{"temp": 30}}, &out, http.StatusCreated)
	if st := waitTerminal(t, nil, srv.URL, out.RunID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	waitSpan(t, rec, "yes")
	s := collect(t, rec)
	var event *sdktrace.Event
	for _, e := range s.one("hot").Events() {
		if e.Name == "branch.skipped" {
			event = &e
		}
	}
	if event == nil {
		t.Fatalf("the ifElse span has no branch.skipped event (events %v)", s.one("hot").Events())
	}
	got := map[attribute.Key]attribute.Value{}
	for _, kv := range event.Attributes {
		got[kv.Key] = kv.Value
	}
	if v := got["branch.skipped_nodes"].AsStringSlice(); !slices.Equal(v, []string{"no", "no2"}) {
		t.Errorf("branch.skipped_nodes = %v, want [no no2]", v)
	}
	if v := got["branch.skipped_count"].AsInt64(); v != 2 {
		t.Errorf("branch.skipped_count = %d, want 2", v)
	}
	if v := got["branch.handles"].AsStringSlice(); !slices.Equal(v, []string{"out-true"}) {
		t.Errorf("branch.handles = %v, want [out-true]", v)
	}
	for _, id := range []string{"in", "yes"} {
		for _, e := range s.one(id).Events() {
			if e.Name == "branch.skipped" {
				t.Errorf("task %s skipped nothing but has a branch.skipped event", id)
			}
		}
	}
}

// TRACE_DB_SPANS decides which statements of the real store become spans: none, only those
// slower than TRACE_DB_SLOW or failing, or all.
func TestDatabaseSpansFollowSetting(t *testing.T) {
	t.Parallel()
	const (
		slow = "SELECT pg_sleep(0.6) /* slow */"
		fail = "SELECT 1/0 /* fails */"
		fast = "SELECT 1 /* fast */"
	)
	for _, tc := range []struct {
		mode string
		want []string
	}{
		{"off", nil},
		{"slow", []string{fail, slow}},
		{"all", []string{fail, fast, slow}},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			t.Parallel()
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			t.Cleanup(func() { tp.Shutdown(context.Background()) })
			srv := apptest.Start(t, func(c *app.Config) {
				c.TracerProvider = tp
				c.TraceDBSpans = tc.mode
				c.TraceDBSlow = 500 * time.Millisecond
			})
			ctx, probe := tp.Tracer("test").Start(context.Background(), "probe")
			pool := srv.App.Store().Pool()
			for _, sql := range []string{slow, fail, fast} {
				_, err := pool.Exec(ctx, sql)
				if (err != nil) != (sql == fail) {
					t.Fatalf("%s: %v", sql, err)
				}
			}
			probe.End()
			var got []string
			for _, sp := range rec.Ended() {
				if v, ok := attr(sp, "db.query.text"); ok && sp.Parent().SpanID() == probe.SpanContext().SpanID() && !slices.Contains(got, v.AsString()) {
					got = append(got, v.AsString())
				}
			}
			slices.Sort(got)
			slices.Sort(tc.want)
			if !slices.Equal(got, tc.want) {
				t.Errorf("TRACE_DB_SPANS=%s: spans of %q, want %q", tc.mode, got, tc.want)
			}
			if tc.mode == "slow" {
				for _, sp := range rec.Ended() {
					if v, _ := attr(sp, "db.query.text"); v.AsString() == slow && sp.EndTime().Sub(sp.StartTime()) < 500*time.Millisecond {
						t.Errorf("the slow statement's span lasts %v: it lost its start time", sp.EndTime().Sub(sp.StartTime()))
					}
				}
			}
		})
	}
}

// Health, readiness, metrics and run-status requests are not traced unless
// TRACE_POLL_REQUESTS is set; they are in the HTTP metrics either way.
func TestPollRequestsAreNotTraced(t *testing.T) {
	t.Parallel()
	for _, traceThem := range []bool{false, true} {
		name := map[bool]string{false: "default", true: "TRACE_POLL_REQUESTS"}[traceThem]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rec, configure := traced(t)
			srv := apptest.Start(t, func(c *app.Config) { configure(c); c.TracePollRequests = traceThem })
			wfID := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Notify("tell", "x").Chain("in", "tell").JSON())
			runID := execute(t, srv.URL, wfID)
			polls := map[string]string{
				"/health":                               "/health",
				"/healthz":                              "/healthz",
				"/readyz":                               "/readyz",
				"/metrics":                              "/metrics",
				"/workflows/runs/" + runID + "/status":  "/workflows/runs/{runID}/status",
				"/workflows/" + wfID + "/runs/" + runID: "/workflows/{id}/runs/{runID}",
				"/workflows/" + wfID + "/runs/" + runID + "/status": "/workflows/{id}/runs/{runID}/status",
			}
			for path := range polls {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			// A traced request after the polls: once its span ended, theirs would have too.
			resp, err := http.Get(srv.URL + "/workflows/" + wfID)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			traced := func() map[string]bool {
				routes := map[string]bool{}
				for _, sp := range rec.Ended() {
					if v, ok := attr(sp, "http.route"); ok && sp.SpanKind() == trace.SpanKindServer {
						routes[v.AsString()] = true
					}
				}
				return routes
			}
			testenv.WaitFor(t, 20*time.Second, "the span of GET /workflows/{id}", func() bool { return traced()["/workflows/{id}"] })
			if traceThem {
				testenv.WaitFor(t, 20*time.Second, "spans of every poll route", func() bool {
					routes := traced()
					for _, route := range polls {
						if !routes[route] {
							return false
						}
					}
					return true
				})
			} else {
				routes := traced()
				for _, route := range polls {
					if routes[route] {
						t.Errorf("%s was traced by default", route)
					}
				}
			}
			families, err := srv.App.Metrics().Gather()
			if err != nil {
				t.Fatal(err)
			}
			counted := map[string]bool{}
			for _, f := range families {
				if f.GetName() != "sequenceflow_http_request_duration_seconds" {
					continue
				}
				for _, m := range f.GetMetric() {
					for _, l := range m.GetLabel() {
						if l.GetName() == "route" && m.GetHistogram().GetSampleCount() > 0 {
							counted[l.GetValue()] = true
						}
					}
				}
			}
			for _, route := range polls {
				if !counted[route] {
					t.Errorf("%s is missing from the HTTP metrics", route)
				}
			}
		})
	}
}
