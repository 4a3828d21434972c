package workflow_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	str := func(s string) *string { return &s }
	tests := []struct {
		name string
		def  func() workflow.Definition
		want string // substring of the problems; "" means valid
	}{
		{"valid chain", func() workflow.Definition {
			return workflowtest.New().Input("a").Notify("b", "x").Chain("a", "b").Build()
		}, ""},
		{"empty", func() workflow.Definition { return workflow.Definition{} }, ""},
		{"cycle", func() workflow.Definition {
			return workflowtest.New().Notify("a", "").Notify("b", "").Notify("c", "").Chain("a", "b", "c").Edge("c", "a", "out").Build()
		}, "cycle through nodes [a b c]"},
		{"self loop", func() workflow.Definition {
			return workflowtest.New().Notify("a", "").Edge("a", "a", "out").Build()
		}, "cannot connect node \"a\" to itself"},
		{"unknown type", func() workflow.Definition {
			return workflowtest.New().Node("a", "teleport", map[string]any{}).Build()
		}, "nodes[0] (a).base.type: unknown node type \"teleport\""},
		{"dangling source", func() workflow.Definition {
			return workflowtest.New().Notify("a", "").Edge("ghost", "a", "out").Build()
		}, "edges[0].sourceId: unknown node \"ghost\""},
		{"dangling target", func() workflow.Definition {
			return workflowtest.New().Notify("a", "").Edge("a", "ghost", "out").Build()
		}, "edges[0].targetId: unknown node \"ghost\""},
		{"duplicate node", func() workflow.Definition {
			return workflowtest.New().Notify("a", "").Notify("a", "").Build()
		}, "nodes[1].id: duplicate node id \"a\""},
		{"duplicate edge id", func() workflow.Definition {
			d := workflowtest.New().Notify("a", "").Notify("b", "").Notify("c", "").Chain("a", "b").Chain("a", "c").Build()
			d.Edges[1].ID = d.Edges[0].ID
			return d
		}, "duplicate edge id"},
		{"base id differs", func() workflow.Definition {
			d := workflowtest.New().Notify("a", "").Build()
			d.Nodes[0].Base.ID = "other"
			return d
		}, "nodes[0].base.id: must equal the node id \"a\""},
		{"ifElse wrong handle", func() workflow.Definition {
			return workflowtest.New().IfElse("if", "x", nil).Notify("b", "").Edge("if", "b", "out").Build()
		}, "cannot emit handle \"out\""},
		{"ifElse without handle", func() workflow.Definition {
			return workflowtest.New().IfElse("if", "x", nil).Notify("b", "").Edge("if", "b", "").Build()
		}, "cannot emit handle \"\""},
		{"decision unknown outcome", func() workflow.Definition {
			return workflowtest.New().Decision("d", "x", workflowtest.Outcome{ID: "a"}).Notify("b", "").Edge("d", "b", "out-zzz").Build()
		}, "cannot emit handle \"out-zzz\""},
		{"decision known outcome", func() workflow.Definition {
			return workflowtest.New().Decision("d", "x", workflowtest.Outcome{ID: "a"}).Notify("b", "").Edge("d", "b", "out-a").Build()
		}, ""},
		{"wait handles", func() workflow.Definition {
			return workflowtest.New().Node("w", workflow.TypeWait, map[string]any{}).Notify("a", "").Notify("b", "").Notify("c", "").
				Edge("w", "a", "out").Edge("w", "b", "out-timeout").Edge("w", "c", "").Build()
		}, ""},
		{"wait odd handle", func() workflow.Definition {
			return workflowtest.New().Node("w", workflow.TypeWait, map[string]any{}).Notify("a", "").Edge("w", "a", "out-true").Build()
		}, "cannot emit handle \"out-true\" (it emits [out out-timeout])"},
		{"plain node odd handle", func() workflow.Definition {
			return workflowtest.New().Notify("a", "").Notify("b", "").Edge("a", "b", "out-true").Build()
		}, "emits only handle \"out\""},
		{"config not an object", func() workflow.Definition {
			d := workflowtest.New().Notify("a", "").Build()
			d.Nodes[0].Base.Config = json.RawMessage(`[1]`)
			return d
		}, "nodes[0] (a).base.config: must be an object"},
		{"handle-less edge from a plain node", func() workflow.Definition {
			d := workflowtest.New().Notify("a", "").Notify("b", "").Build()
			d.Edges = append(d.Edges, workflow.Edge{ID: "e", SourceID: "a", TargetID: "b", TargetHandleID: str("in")})
			return d
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := workflow.Validate(tc.def(), workflow.DefaultLimits, nil)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			var ve *workflow.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a ValidationError containing %q", err, tc.want)
			}
			if !strings.Contains(strings.Join(ve.Messages(), "\n"), tc.want) {
				t.Fatalf("problems %q do not mention %q", ve.Messages(), tc.want)
			}
		})
	}
}

func TestValidateLimitsAndConfigProblems(t *testing.T) {
	t.Parallel()
	def := workflowtest.New().Notify("a", "").Notify("b", "").Notify("c", "").Build()
	if err := workflow.Validate(def, workflow.Limits{MaxNodes: 2, MaxEdges: 10}, nil); err == nil || !strings.Contains(err.Error(), "at most 2 nodes") {
		t.Fatalf("node limit: %v", err)
	}
	check := func(nodeType string, _ json.RawMessage) []workflow.Problem {
		return []workflow.Problem{{Field: "template", Message: "bad " + nodeType}}
	}
	err := workflow.Validate(def, workflow.DefaultLimits, check)
	if err == nil || !strings.Contains(err.Error(), "nodes[1] (b).base.config.template: bad notification") {
		t.Fatalf("config problems are not reported with their path: %v", err)
	}
}

func TestGraph(t *testing.T) {
	t.Parallel()
	g, err := workflow.Compile(workflowtest.New().Input("a").Notify("b", "").Notify("c", "").Notify("d", "").
		Chain("a", "b").Chain("a", "c").Chain("b", "d").Chain("c", "d").Build())
	if err != nil {
		t.Fatal(err)
	}
	if roots := g.Roots(); len(roots) != 1 || roots[0] != "a" {
		t.Fatalf("roots %v, want [a]", roots)
	}
	if in := g.Incoming("d"); len(in) != 2 || in[0].SourceID != "b" || in[1].SourceID != "c" {
		t.Fatalf("incoming(d) = %v, want b then c", in)
	}
	if bare := (workflow.Edge{}); !workflow.EdgeTaken(bare, []string{workflow.HandleOut}) || workflow.EdgeTaken(bare, []string{workflow.HandleTimeout}) {
		t.Fatal("EdgeTaken: an edge without a handle is an out edge")
	}
	e := workflow.Edge{SourceHandleID: func() *string { s := "out-true"; return &s }()}
	if !workflow.EdgeTaken(e, nil) || !workflow.EdgeTaken(e, []string{"out-true"}) || workflow.EdgeTaken(e, []string{"out-false"}) || workflow.EdgeTaken(e, []string{}) {
		t.Fatal("EdgeTaken: nil takes every edge, an empty set none, otherwise by handle")
	}
}
