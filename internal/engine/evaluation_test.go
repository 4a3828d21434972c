package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// watchedStore is the real store, noting while a run transaction is open and what the
// template contexts loaded.
type watchedStore struct {
	*store.Store
	open      atomic.Int32 // run transactions in progress
	peeks     atomic.Int32
	readBytes atomic.Int64 // bytes RunValues returned
}

func (s *watchedStore) InRun(ctx context.Context, runID string, fn func(engine.RunTx) error) error {
	return s.Store.InRun(ctx, runID, func(tx engine.RunTx) error {
		s.open.Add(1)
		defer s.open.Add(-1)
		return fn(tx)
	})
}

func (s *watchedStore) PeekTask(ctx context.Context, taskID string) (engine.Claim, error) {
	s.peeks.Add(1)
	return s.Store.PeekTask(ctx, taskID)
}

func (s *watchedStore) RunValues(ctx context.Context, runID string, reads []engine.ValueRead, all bool) ([]json.RawMessage, map[string]json.RawMessage, error) {
	values, outputs, err := s.Store.RunValues(ctx, runID, reads, all)
	for _, v := range values {
		s.readBytes.Add(int64(len(v)))
	}
	for _, v := range outputs {
		s.readBytes.Add(int64(len(v)))
	}
	return values, outputs, err
}

// watchedNodes is the real registry whose executors report whether a run transaction was
// open while they executed.
type watchedNodes struct {
	*nodes.Registry
	store     *watchedStore
	executed  atomic.Int32
	mu        sync.Mutex
	violation []string
}

func (n *watchedNodes) Prepare(nodeType string, config json.RawMessage) (nodes.Executor, bool) {
	exec, ok := n.Registry.Prepare(nodeType, config)
	if !ok {
		return nil, false
	}
	return watchedExecutor{exec: exec, nodes: n, nodeType: nodeType}, true
}

type watchedExecutor struct {
	exec     nodes.Executor
	nodes    *watchedNodes
	nodeType string
}

func (w watchedExecutor) Execute(ctx context.Context, in nodes.Input) (nodes.Output, error) {
	w.nodes.executed.Add(1)
	if w.nodes.store.open.Load() > 0 {
		w.nodes.mu.Lock()
		w.nodes.violation = append(w.nodes.violation, fmt.Sprintf("%s %s executed inside a run transaction", w.nodeType, in.NodeID))
		w.nodes.mu.Unlock()
	}
	return w.exec.Execute(ctx, in)
}

// watchedHarness is a harness whose engine runs on the watched store and registry.
func watchedHarness(t *testing.T, cfg engine.Config) (*harness, *watchedStore, *watchedNodes) {
	h := newHarness(t)
	ws := &watchedStore{Store: h.store}
	wn := &watchedNodes{Registry: nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{}), store: ws}
	eng, err := engine.New(cfg, engine.Deps{Store: ws, Queue: h.queue, Registry: wn, Observer: h.obs, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	return h, ws, wn
}

// No rule or template is evaluated while a run transaction (and so the run's lock) is open:
// pure nodes that take the one-transaction path execute before it begins.
func TestNoEvaluationInsideRunTransaction(t *testing.T) {
	t.Parallel()
	h, ws, wn := watchedHarness(t, engine.Config{})
	h.startWorker(1) // one execution at a time, so an open transaction is this execution's
	w := h.createWorkflow(workflowtest.New().Input("in").IfElse("if", "n", gt(1)).
		Decision("d", "n", workflowtest.Outcome{ID: "pos", Rule: gt(0)}).
		Notify("say", "n={{n}} run={{$run.input.n}} if={{$nodes.if.n}}").Delay("wait", 0).
		Chain("in", "if").Edge("if", "d", "out-true").Edge("d", "say", "out-pos").Chain("say", "wait").Build())
	r := h.waitRun(h.start(w, map[string]any{"n": 5}))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s, want succeeded", r.Status)
	}
	if got := nodeLogs(r, "say"); len(got) != 1 || got[0] != "n=5 run=5 if=5" {
		t.Errorf("notification logged %q", got)
	}
	if wn.executed.Load() < 5 || ws.peeks.Load() < 5 {
		t.Fatalf("%d executions, %d inline reads; want every node executed on the inline path", wn.executed.Load(), ws.peeks.Load())
	}
	wn.mu.Lock()
	defer wn.mu.Unlock()
	if len(wn.violation) > 0 {
		t.Fatalf("evaluation under a run lock:\n%s", strings.Join(wn.violation, "\n"))
	}
}

// A rule that grows a 200 KB input into gigabytes fails its node permanently with the
// budget's message, and the run fails (ifElse's onError is fail).
func TestHostileRuleFailsWithBudgetError(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.startWorker(2)
	leaf := map[string]any{"var": "value"}
	var rule any = leaf
	for range 9 {
		rule = map[string]any{"cat": []any{rule, rule}}
	}
	w := h.createWorkflow(workflowtest.New().Input("in").IfElse("if", "s", rule).Notify("after", "after").
		Chain("in", "if").Edge("if", "after", "out-true").Build())
	r := h.waitRun(h.start(w, map[string]any{"s": strings.Repeat("x", 200<<10)}))
	if r.Status != workflow.RunFailed {
		t.Fatalf("run %s, want failed", r.Status)
	}
	task := taskOf(t, r, "if")
	if task.Status != workflow.TaskFailed || task.Error == nil || !strings.Contains(*task.Error, "intermediate values") {
		t.Fatalf("ifElse task %s with error %v, want failed with the budget's message", task.Status, task.Error)
	}
	if errs := logsOfType(r, workflow.LogError); len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), "budget") && !strings.Contains(strings.Join(errs, "\n"), "intermediate values") {
		t.Errorf("error logs %q do not report the budget", errs)
	}
}

// Templates load only the values they address: a node reading $run.input.city and one path
// of an upstream output transfers those values, not the large run input, and renders exactly
// what the whole run context would give.
func TestTemplatesLoadOnlyWhatTheyRead(t *testing.T) {
	t.Parallel()
	h, ws, _ := watchedHarness(t, engine.Config{})
	h.startWorker(2)
	tmpl := "city={{$run.input.city}} second={{$run.input.list[1]}} len={{$run.input.name.length}} " +
		"deep={{$run.input.a.b.c}} none={{$run.input.a.x.y}} falsy={{$run.input.zero.x}} node={{$nodes.in.a.b}} " +
		"id={{$run.workflowId}} missing={{$nodes.nope.x}}"
	w := h.createWorkflow(workflowtest.New().Input("in").Notify("say", tmpl).Chain("in", "say").Build())
	input := map[string]any{"city": "Paris", "list": []any{"a", "b"}, "name": "Ada", "zero": 0,
		"a": map[string]any{"b": map[string]any{"c": 1.5}}, "blob": strings.Repeat("x", 100<<10)}
	r := h.waitRun(h.start(w, input))
	if r.Status != workflow.RunSucceeded {
		t.Fatalf("run %s, want succeeded", r.Status)
	}
	var decoded any
	raw, _ := json.Marshal(input)
	if err := json.Unmarshal(raw, &decoded); err != nil {
		t.Fatal(err)
	}
	want := expr.Render(tmpl, expr.Scope{Payload: decoded, Run: map[string]any{"id": r.ID, "workflowId": w.ID, "input": decoded},
		Nodes: map[string]any{"in": decoded}})
	if got := nodeLogs(r, "say"); len(got) != 1 || got[0] != want {
		t.Errorf("rendered %q, want %q (as from the whole run context)", got, want)
	}
	if n := ws.readBytes.Load(); n > 1<<10 {
		t.Errorf("template context loaded %d bytes; want only the addressed values, not the %d-byte input", n, len(raw))
	}
}
