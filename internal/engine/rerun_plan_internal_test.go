package engine

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// These tests plan retries and re-runs without services: the plan is pure.

const planRun = "7f0c1a52-3c39-4b8e-9d55-3a9e3f5d2b10"

func compile(t *testing.T, b *workflowtest.Builder) *workflow.Graph {
	t.Helper()
	g, err := workflow.Compile(b.Build())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func done(nodeID, nodeType, output string, handles ...string) PriorTask {
	p := PriorTask{NodeID: nodeID, NodeType: nodeType, Status: workflow.TaskCompleted, Input: json.RawMessage(`{"in":"` + nodeID + `"}`), Output: json.RawMessage(output)}
	if handles != nil {
		p.Handles = handles
	}
	return p
}

func ended(nodeID, nodeType, status string) PriorTask {
	return PriorTask{NodeID: nodeID, NodeType: nodeType, Status: status}
}

func priors(ts ...PriorTask) map[string]PriorTask {
	m := map[string]PriorTask{}
	for _, t := range ts {
		m[t.NodeID] = t
	}
	return m
}

// retryReuse is the retry's rule: every completed node but those that failed and continued.
func retryReuse(prior map[string]PriorTask) func(string) bool {
	return func(id string) bool { return prior[id].Outcome != TaskOutcomeFailedContinued }
}

func planned(t *testing.T, p RerunPlan, nodeID string) NewTask {
	t.Helper()
	task, ok := p.Task(nodeID)
	if !ok {
		t.Fatalf("no planned task for %s", nodeID)
	}
	return task
}

func wantTask(t *testing.T, p RerunPlan, nodeID, status string, unresolved, activated int, input string) {
	t.Helper()
	task := planned(t, p, nodeID)
	if task.Status != status || task.Unresolved != unresolved || task.Activated != activated {
		t.Errorf("%s: status %s unresolved %d activated %d, want %s %d %d", nodeID, task.Status, task.Unresolved, task.Activated, status, unresolved, activated)
	}
	if input != "" && !jsonSame(task.Input, input) {
		t.Errorf("%s: input %s, want %s", nodeID, task.Input, input)
	}
	if input == "" && task.Input != nil {
		t.Errorf("%s: input %s, want none", nodeID, task.Input)
	}
}

func jsonSame(got json.RawMessage, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

// A chain that failed in the middle: the first node is reused, the failed one is released with
// the reused output as input, and the rest waits for it.
func TestPlanRetryChain(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").APICall("b", "GET", "http://x", nil).Notify("c", "x").Chain("a", "b", "c"))
	prior := priors(done("a", "inputText", `{"city":"Paris"}`), ended("b", "apiCall", "failed"), ended("c", "notification", "skipped"))
	p, err := PlanRerun(g, planRun, json.RawMessage(`{"city":"Paris"}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "a", workflow.TaskCompleted, 0, 0, `{"city":"Paris"}`)
	wantTask(t, p, "b", workflow.TaskQueued, 0, 1, `{"city":"Paris"}`)
	wantTask(t, p, "c", workflow.TaskPending, 1, 0, "")
	if !slices.Equal(p.Reused, []string{"a"}) || !slices.Equal(p.Released, []string{"b"}) || len(p.Skipped) != 0 {
		t.Errorf("reused %v released %v skipped %v, want [a] [b] []", p.Reused, p.Released, p.Skipped)
	}
	if a := planned(t, p, "a"); !jsonSame(a.Output, `{"city":"Paris"}`) || a.ID != TaskID(planRun, "a") {
		t.Errorf("reused a: output %s id %s", a.Output, a.ID)
	}
}

// Fan-out and join: the completed branch is reused and counts as an activated parent of the
// join, which waits for the re-executed branch only.
func TestPlanRetryFanOutJoin(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").Notify("b", "x").APICall("c", "GET", "http://x", nil).Notify("j", "x").
		Chain("a", "b", "j").Chain("a", "c", "j"))
	prior := priors(done("a", "inputText", `{"k":1}`), done("b", "notification", `{"b":2}`), ended("c", "apiCall", "failed"), ended("j", "notification", "skipped"))
	p, err := PlanRerun(g, planRun, json.RawMessage(`{"k":1}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "b", workflow.TaskCompleted, 0, 1, `{"k":1}`)
	wantTask(t, p, "c", workflow.TaskQueued, 0, 1, `{"k":1}`)
	wantTask(t, p, "j", workflow.TaskPending, 1, 1, "")
	if !slices.Equal(p.Reused, []string{"a", "b"}) || !slices.Equal(p.Released, []string{"c"}) {
		t.Errorf("reused %v released %v, want [a b] [c]", p.Reused, p.Released)
	}
}

// A join whose every parent is reused is released with the merge of their outputs, as the
// engine merges them (edge order, later parents winning).
func TestPlanJoinOfReusedParentsGetsMergedInput(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").Notify("b", "x").Notify("c", "x").APICall("j", "GET", "http://x", nil).
		Chain("a", "b", "j").Chain("a", "c", "j"))
	prior := priors(done("a", "inputText", `{}`), done("b", "notification", `{"x":1,"y":1}`), done("c", "notification", `{"y":2}`), ended("j", "apiCall", "failed"))
	p, err := PlanRerun(g, planRun, json.RawMessage(`{}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "j", workflow.TaskQueued, 0, 2, `{"x":1,"y":2}`)
}

// If/else: the untaken branch stays skipped when its deciding node is reused; the taken branch
// that failed is re-executed.
func TestPlanRetryIfElseKeepsUntakenBranchSkipped(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").IfElse("i", "v", map[string]any{"==": []any{1, 1}}).
		APICall("yes", "GET", "http://x", nil).Notify("no", "x").Notify("after", "x").
		Edge("a", "i", "out").Edge("i", "yes", "out-true").Edge("i", "no", "out-false").Edge("no", "after", "out"))
	prior := priors(done("a", "inputText", `{"v":1}`), done("i", "ifElse", `{"v":1}`, "out-true"),
		ended("yes", "apiCall", "failed"), ended("no", "notification", "skipped"), ended("after", "notification", "skipped"))
	p, err := PlanRerun(g, planRun, json.RawMessage(`{"v":1}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "yes", workflow.TaskQueued, 0, 1, `{"v":1}`)
	wantTask(t, p, "no", workflow.TaskSkipped, 0, 0, "")
	wantTask(t, p, "after", workflow.TaskSkipped, 0, 0, "")
	if !slices.Equal(p.Skipped, []string{"no", "after"}) {
		t.Errorf("skipped %v, want [no after]", p.Skipped)
	}
}

// Decision: an empty handle list (no outcome matched) takes no edge, unlike nil (every edge).
func TestPlanDecisionWithNoOutcomeSkipsEveryTarget(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").Decision("d", "v", workflowtest.Outcome{ID: "hi", Rule: true}).Notify("x", "x").
		APICall("z", "GET", "http://x", nil).Edge("a", "d", "out").Edge("d", "x", "out-hi").Edge("a", "z", "out"))
	prior := priors(done("a", "inputText", `{}`), ended("x", "notification", "skipped"), ended("z", "apiCall", "failed"))
	prior["d"] = PriorTask{NodeID: "d", NodeType: "decision", Status: workflow.TaskCompleted, Output: json.RawMessage(`{}`), Handles: []string{}}
	p, err := PlanRerun(g, planRun, json.RawMessage(`{}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "x", workflow.TaskSkipped, 0, 0, "")
	wantTask(t, p, "z", workflow.TaskQueued, 0, 1, `{}`)
}

// A reused delay passes its input on, as a woken delay does (its stored output is its wait).
func TestPlanReusedDelayPassesItsInput(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").Delay("d", 1).APICall("b", "GET", "http://x", nil).Chain("a", "d", "b"))
	prior := priors(done("a", "inputText", `{"k":1}`), ended("b", "apiCall", "failed"))
	prior["d"] = PriorTask{NodeID: "d", NodeType: "delay", Status: workflow.TaskCompleted, Input: json.RawMessage(`{"k":1}`), Output: json.RawMessage(`{"delayMs":1000}`)}
	p, err := PlanRerun(g, planRun, json.RawMessage(`{"k":1}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "b", workflow.TaskQueued, 0, 1, `{"k":1}`)
	if d := planned(t, p, "d"); !jsonSame(d.Output, `{"delayMs":1000}`) {
		t.Errorf("reused delay output %s, want the stored one", d.Output)
	}
}

// A node that failed and continued is re-executed by a retry, and so is everything after it
// (it completed with the error payload).
func TestPlanRetryReexecutesFailedContinued(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").APICall("b", "GET", "http://x", map[string]any{"onError": "continue"}).Notify("c", "x").Chain("a", "b", "c"))
	prior := priors(done("a", "inputText", `{}`), done("b", "apiCall", `{"error":"down"}`), done("c", "notification", `{}`))
	pb := prior["b"]
	pb.Outcome = TaskOutcomeFailedContinued
	prior["b"] = pb
	p, err := PlanRerun(g, planRun, json.RawMessage(`{}`), prior, retryReuse(prior))
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "b", workflow.TaskQueued, 0, 1, `{}`)
	wantTask(t, p, "c", workflow.TaskPending, 1, 0, "")
}

// A re-run reuses the start node's ancestors only: the start node and nodes beside it execute.
func TestPlanRerunReusesAncestorsOnly(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").Notify("b", "x").Notify("c", "x").Notify("side", "x").
		Chain("a", "b", "c").Chain("a", "side"))
	prior := priors(done("a", "inputText", `{}`), done("b", "notification", `{"b":1}`), done("c", "notification", `{}`), done("side", "notification", `{}`))
	up := Ancestors(g, "c")
	if !reflect.DeepEqual(up, map[string]bool{"a": true, "b": true}) {
		t.Fatalf("ancestors of c: %v", up)
	}
	p, err := PlanRerun(g, planRun, json.RawMessage(`{}`), prior, func(id string) bool { return up[id] })
	if err != nil {
		t.Fatal(err)
	}
	wantTask(t, p, "c", workflow.TaskQueued, 0, 1, `{"b":1}`)
	wantTask(t, p, "side", workflow.TaskQueued, 0, 1, `{}`)
	if err := checkUpstream(g, p, prior, up, "r0", "c"); err != nil {
		t.Errorf("checkUpstream: %v", err)
	}
}

// A re-run is refused when an upstream node has no output to reuse: it failed, it is not in the
// earlier run, or the start node would be skipped by the reused branch choice.
func TestPlanRerunRefusals(t *testing.T) {
	g := compile(t, workflowtest.New().Input("a").APICall("b", "GET", "http://x", nil).Notify("c", "x").Chain("a", "b", "c"))
	for name, prior := range map[string]map[string]PriorTask{
		"failed":  priors(done("a", "inputText", `{}`), ended("b", "apiCall", "failed"), ended("c", "notification", "skipped")),
		"missing": priors(done("a", "inputText", `{}`)),
		"retyped": priors(done("a", "inputText", `{}`), done("b", "notification", `{}`)),
	} {
		up := Ancestors(g, "c")
		p, err := PlanRerun(g, planRun, json.RawMessage(`{}`), prior, func(id string) bool { return up[id] })
		if err != nil {
			t.Fatal(err)
		}
		var refusal *RerunRefusal
		if err := checkUpstream(g, p, prior, up, "r0", "c"); !errors.As(err, &refusal) || !errors.Is(err, workflow.ErrConflict) {
			t.Errorf("%s: checkUpstream = %v, want a refusal", name, err)
		}
	}
	gi := compile(t, workflowtest.New().Input("a").IfElse("i", "v", true).Notify("no", "x").Edge("a", "i", "out").Edge("i", "no", "out-false"))
	prior := priors(done("a", "inputText", `{}`), done("i", "ifElse", `{}`, "out-true"), ended("no", "notification", "skipped"))
	up := Ancestors(gi, "no")
	p, err := PlanRerun(gi, planRun, json.RawMessage(`{}`), prior, func(id string) bool { return up[id] })
	if err != nil {
		t.Fatal(err)
	}
	if err := checkUpstream(gi, p, prior, up, "r0", "no"); err == nil {
		t.Error("a re-run from a node on the untaken branch was accepted")
	}
}
