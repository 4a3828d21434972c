package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
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

// spans indexes recorded spans for tree assertions.
type spans struct {
	t    *testing.T
	all  []sdktrace.ReadOnlySpan
	byID map[trace.SpanID]sdktrace.ReadOnlySpan
}

func collect(t *testing.T, rec *tracetest.SpanRecorder) *spans {
	s := &spans{t: t, all: rec.Ended(), byID: map[trace.SpanID]sdktrace.ReadOnlySpan{}}
	for _, sp := range s.all {
		s.byID[sp.SpanContext().SpanID()] = sp
	}
	return s
}

func attr(sp sdktrace.ReadOnlySpan, key string) (attribute.Value, bool) {
	for _, kv := range sp.Attributes() {
		if string(kv.Key) == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// tasks returns the task spans of a node, in start order.
func (s *spans) tasks(nodeID string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, sp := range s.all {
		if v, ok := attr(sp, "node.id"); ok && v.AsString() == nodeID && sp.SpanKind() == trace.SpanKindConsumer {
			out = append(out, sp)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].StartTime().Before(out[j-1].StartTime()); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func (s *spans) one(nodeID string) sdktrace.ReadOnlySpan {
	s.t.Helper()
	ts := s.tasks(nodeID)
	if len(ts) == 0 {
		s.t.Fatalf("no task span for node %s", nodeID)
	}
	return ts[len(ts)-1]
}

func (s *spans) parent(sp sdktrace.ReadOnlySpan) sdktrace.ReadOnlySpan {
	return s.byID[sp.Parent().SpanID()]
}

// httpChild returns the HTTP span of the given kind under parent (database spans are client
// spans too, so the HTTP method attribute tells them apart).
func (s *spans) httpChild(parent sdktrace.ReadOnlySpan, kind trace.SpanKind) sdktrace.ReadOnlySpan {
	s.t.Helper()
	for _, sp := range s.all {
		if _, isHTTP := attr(sp, "http.request.method"); isHTTP && sp.Parent().SpanID() == parent.SpanContext().SpanID() && sp.SpanKind() == kind {
			return sp
		}
	}
	s.t.Fatalf("span %q has no %s child", parent.Name(), kind)
	return nil
}

func wantParent(t *testing.T, s *spans, child sdktrace.ReadOnlySpan, parent sdktrace.ReadOnlySpan) {
	t.Helper()
	if child.Parent().SpanID() != parent.SpanContext().SpanID() {
		got := "none"
		if p := s.parent(child); p != nil {
			got = p.Name()
		}
		t.Errorf("span %q: parent %q, want %q", child.Name(), got, parent.Name())
	}
	if child.SpanContext().TraceID() != parent.SpanContext().TraceID() {
		t.Errorf("span %q is in another trace than %q", child.Name(), parent.Name())
	}
}

func traced(t *testing.T) (*tracetest.SpanRecorder, func(*app.Config)) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	return rec, func(c *app.Config) { c.TracerProvider = tp }
}

// waitSpan waits until a consumer span of the node has ended.
func waitSpan(t *testing.T, rec *tracetest.SpanRecorder, nodeID string) {
	t.Helper()
	testenv.WaitFor(t, 20*time.Second, "a span for node "+nodeID, func() bool { return len(collect(t, rec).tasks(nodeID)) > 0 })
}

// One run of inputText → apiCall → ifElse → delay → notification is one trace: the API span,
// run.start, each task span in DAG order, the outbound client span and the mock endpoint's
// server span, with the contract's attributes.
func TestRunIsOneTrace(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	def := workflowtest.New().Input("in").
		APICall("api", "GET", srv.URL+"/workflows/api/test-weather?city=Dubai", nil).
		IfElse("hot", "data.temperature", map[string]any{">": []any{map[string]any{"var": "value"}, 25}}).
		Delay("wait", 0.2).Notify("tell", "It is {{data.temperature}}").
		Chain("in", "api", "hot").Edge("hot", "wait", "out-true").Chain("wait", "tell").JSON()
	wfID := createWorkflow(t, srv.URL, def)
	runID := execute(t, srv.URL, wfID)
	if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	waitSpan(t, rec, "tell")
	s := collect(t, rec)

	var apiSpan, runStart sdktrace.ReadOnlySpan
	for _, sp := range s.all {
		if sp.Name() == "POST /workflows/{id}/execute-async" && sp.SpanKind() == trace.SpanKindServer {
			apiSpan = sp
		}
		if v, ok := attr(sp, "run.id"); ok && sp.Name() == "run.start" && v.AsString() == runID {
			runStart = sp
		}
	}
	if apiSpan == nil || runStart == nil {
		t.Fatalf("missing API span (%v) or run.start span (%v)", apiSpan != nil, runStart != nil)
	}
	wantParent(t, s, runStart, apiSpan)
	in, api, hot, wait, tell := s.one("in"), s.one("api"), s.one("hot"), s.tasks("wait"), s.one("tell")
	wantParent(t, s, in, runStart)
	wantParent(t, s, api, in)
	wantParent(t, s, hot, api)
	if len(wait) != 2 {
		t.Fatalf("delay has %d task spans, want 2 (park, then wake-up)", len(wait))
	}
	wantParent(t, s, wait[0], hot)
	wantParent(t, s, wait[1], wait[0])
	wantParent(t, s, tell, wait[1])

	client := s.httpChild(api, trace.SpanKindClient)
	server := s.httpChild(client, trace.SpanKindServer)
	if !strings.Contains(server.Name(), "/workflows/api") {
		t.Errorf("mock endpoint span %q, want the mock route", server.Name())
	}
	for _, sp := range []sdktrace.ReadOnlySpan{in, api, hot, wait[0], wait[1], tell} {
		for _, key := range []string{"workflow.id", "run.id", "task.id", "node.id", "node.type", "task.attempt", "task.outcome"} {
			if _, ok := attr(sp, key); !ok {
				t.Errorf("span %q lacks attribute %s", sp.Name(), key)
			}
		}
		if v, _ := attr(sp, "run.id"); v.AsString() != runID {
			t.Errorf("span %q has run.id %q, want %q", sp.Name(), v.AsString(), runID)
		}
	}

	// The run's responses carry the trace id.
	resp, err := http.Get(srv.URL + "/workflows/runs/" + runID + "/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"traceId":"`+runStart.SpanContext().TraceID().String()+`"`) {
		t.Errorf("run status does not carry the run's trace id: %s", body)
	}
}

// A retried apiCall keeps the tree: every attempt is a child of the span that released it.
func TestRetriedTaskStaysInTrace(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	target := flakyOnce(t)
	def := workflowtest.New().Input("in").APICall("api", "GET", target, map[string]any{"retries": 2}).Notify("tell", "{{status}}").
		Chain("in", "api", "tell").JSON()
	runID := execute(t, srv.URL, createWorkflow(t, srv.URL, def))
	if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	waitSpan(t, rec, "tell")
	s := collect(t, rec)
	in, attempts, tell := s.one("in"), s.tasks("api"), s.one("tell")
	if len(attempts) != 2 {
		t.Fatalf("%d apiCall spans, want 2 attempts", len(attempts))
	}
	for i, a := range attempts {
		wantParent(t, s, a, in)
		if v, _ := attr(a, "task.attempt"); v.AsInt64() != int64(i+1) {
			t.Errorf("attempt span %d has task.attempt %d", i, v.AsInt64())
		}
	}
	if v, _ := attr(attempts[0], "task.outcome"); v.AsString() != "retry" {
		t.Errorf("first attempt outcome %q, want retry", v.AsString())
	}
	wantParent(t, s, tell, attempts[1])
}

// When the process that started a run is replaced mid-run (here during a delay), the new
// worker continues the same trace.
func TestTraceSurvivesWorkerReplacement(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	def := workflowtest.New().Input("in").Delay("wait", 1).Notify("tell", "done").Chain("in", "wait", "tell").JSON()
	runID := execute(t, srv.URL, createWorkflow(t, srv.URL, def))
	waitSpan(t, rec, "wait") // parked
	srv.Stop()

	cfg := srv.Cfg
	cfg.Listener = nil
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	next, err := app.New(ctx, cfg, app.RoleWorker, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); next.Run(ctx) }()
	defer func() { cancel(); wg.Wait(); next.Close() }()

	deadline := time.Now().Add(testenv.Scaled(20 * time.Second))
	for {
		r, err := next.Store().GetRun(context.Background(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if workflow.RunTerminal(r.Status) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run still %s after the worker was replaced", r.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	waitSpan(t, rec, "tell")
	s := collect(t, rec)
	wait, tell := s.tasks("wait"), s.one("tell")
	if len(wait) != 2 {
		t.Fatalf("%d delay spans, want park and wake-up", len(wait))
	}
	wantParent(t, s, wait[0], s.one("in"))
	wantParent(t, s, wait[1], wait[0])
	wantParent(t, s, tell, wait[1])
}

// flakyOnce serves 503 to the first request and JSON afterwards.
func flakyOnce(t *testing.T) string {
	return httpTarget(t) + "/flaky"
}
