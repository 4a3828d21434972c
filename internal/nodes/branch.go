package nodes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ifElse evaluates one condition and fires exactly one of out-true and out-false.
type ifElse struct{}

type ifElseConfig struct {
	Condition struct {
		Combiner   string           `json:"combiner"`
		Predicates []expr.Predicate `json:"predicates"`
	} `json:"condition"`
	TrueLabel  string `json:"trueLabel"`
	FalseLabel string `json:"falseLabel"`
}

func (x ifElse) Execute(ctx context.Context, in Input) (Output, error) {
	prepared, err := x.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return prepared.Execute(ctx, in)
}

// Prepare compiles the condition.
func (ifElse) Prepare(config json.RawMessage) (Executor, error) {
	var cfg ifElseConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, Permanent("config", "ifElse config: %v", err)
	}
	cond, err := expr.CompileCondition(cfg.Condition.Predicates, cfg.Condition.Combiner)
	if err != nil {
		return nil, Permanent("config", "ifElse condition: %v", err)
	}
	return preparedIfElse{cond: cond, trueLabel: labelOr(cfg.TrueLabel, "True"), falseLabel: labelOr(cfg.FalseLabel, "False")}, nil
}

// preparedIfElse is an ifElse node with its condition compiled.
type preparedIfElse struct {
	cond                  *expr.Condition
	trueLabel, falseLabel string
}

func (x preparedIfElse) Execute(_ context.Context, in Input) (Output, error) {
	ok, err := x.cond.Eval(in.Scope.Payload, in.meter())
	if err != nil {
		return Output{}, budgetError("ifElse condition", err)
	}
	handle, label := "out-false", x.falseLabel
	if ok {
		handle, label = "out-true", x.trueLabel
	}
	return Output{
		Payload: in.Scope.Payload,
		Handles: []string{handle},
		Logs:    []Log{{Kind: "decision", Message: "If-Else condition evaluated to: " + label}},
	}, nil
}

func (ifElse) Validate(config json.RawMessage) []workflow.Problem {
	var cfg ifElseConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return []workflow.Problem{{Field: "condition", Message: fmt.Sprintf("must be {combiner, predicates: [...]}: %v", err)}}
	}
	return validateCondition("condition", cfg.Condition.Combiner, cfg.Condition.Predicates)
}

// decision fires out-<id> for every matching decision; zero matches fire nothing, and the
// engine then skips every branch.
type decision struct{}

type decisionConfig struct {
	Decisions []struct {
		ID              string           `json:"id"`
		Name            string           `json:"name"`
		Combiner        string           `json:"combiner"`
		Predicates      []expr.Predicate `json:"predicates"`
		TargetField     string           `json:"targetField"`
		ValidationLogic json.RawMessage  `json:"validationLogic"`
	} `json:"decisions"`
}

func (x decision) Execute(ctx context.Context, in Input) (Output, error) {
	prepared, err := x.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return prepared.Execute(ctx, in)
}

// Prepare compiles every outcome: its predicates, or the legacy single form, in which the
// rule applies to targetField (or the payload) and a missing rule passes.
func (decision) Prepare(config json.RawMessage) (Executor, error) {
	var cfg decisionConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, Permanent("config", "decision config: %v", err)
	}
	p := preparedDecision{ids: make([]string, len(cfg.Decisions)), conds: make([]*expr.Condition, len(cfg.Decisions))}
	for i, d := range cfg.Decisions {
		cond, err := expr.CompileDecision(d.Predicates, d.Combiner, expr.Predicate{ID: d.ID, TargetField: d.TargetField, ValidationLogic: d.ValidationLogic})
		if err != nil {
			return nil, Permanent("config", "decision %q: %v", d.ID, err)
		}
		p.ids[i], p.conds[i] = d.ID, cond
	}
	return p, nil
}

// preparedDecision is a decision node with its outcomes compiled.
type preparedDecision struct {
	ids   []string
	conds []*expr.Condition
}

func (x preparedDecision) Execute(_ context.Context, in Input) (Output, error) {
	held, err := expr.EvalAll(x.conds, in.Scope.Payload, in.meter())
	if err != nil {
		return Output{}, budgetError("decision outcomes", err)
	}
	handles := []string{}
	var matched []string
	for i, ok := range held {
		if ok {
			handles = append(handles, "out-"+x.ids[i])
			matched = append(matched, x.ids[i])
		}
	}
	names := "none"
	if len(matched) > 0 {
		names = strings.Join(matched, ", ")
	}
	return Output{
		Payload: in.Scope.Payload,
		Handles: handles,
		Logs:    []Log{{Kind: "decision", Message: fmt.Sprintf("Matched %d outcome(s): %s", len(matched), names)}},
	}, nil
}

func (decision) Validate(config json.RawMessage) []workflow.Problem {
	var cfg decisionConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return []workflow.Problem{{Field: "decisions", Message: fmt.Sprintf("must be an array of {id, name, combiner, predicates}: %v", err)}}
	}
	var problems []workflow.Problem
	seen := map[string]bool{}
	for i, d := range cfg.Decisions {
		at := fmt.Sprintf("decisions[%d]", i)
		if d.ID == "" {
			problems = append(problems, workflow.Problem{Field: at + ".id", Message: "must not be empty"})
		} else if seen[d.ID] {
			problems = append(problems, workflow.Problem{Field: at + ".id", Message: fmt.Sprintf("duplicate decision id %q", d.ID)})
		}
		seen[d.ID] = true
		problems = append(problems, validateCondition(at, d.Combiner, d.Predicates)...)
		if _, err := expr.ParseRule(d.ValidationLogic); err != nil {
			problems = append(problems, workflow.Problem{Field: at + ".validationLogic", Message: err.Error()})
		}
	}
	return problems
}

func validateCondition(at, combiner string, preds []expr.Predicate) []workflow.Problem {
	var problems []workflow.Problem
	if combiner != "" && combiner != "all" && combiner != "any" {
		problems = append(problems, workflow.Problem{Field: at + ".combiner", Message: fmt.Sprintf("must be \"all\" or \"any\", got %q", combiner)})
	}
	for i, p := range preds {
		if _, err := expr.ParseRule(p.ValidationLogic); err != nil {
			problems = append(problems, workflow.Problem{Field: fmt.Sprintf("%s.predicates[%d].validationLogic", at, i), Message: err.Error()})
		}
	}
	return problems
}

func labelOr(label, fallback string) string {
	if label == "" {
		return fallback
	}
	return label
}
