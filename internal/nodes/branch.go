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

func (ifElse) Execute(_ context.Context, in Input) (Output, error) {
	var cfg ifElseConfig
	if err := json.Unmarshal(in.Config, &cfg); err != nil {
		return Output{}, Permanent("config", "ifElse config: %v", err)
	}
	ok, err := expr.EvalPredicates(cfg.Condition.Predicates, cfg.Condition.Combiner, in.Scope.Payload)
	if err != nil {
		return Output{}, Permanent("config", "ifElse condition: %v", err)
	}
	handle, label := "out-false", labelOr(cfg.FalseLabel, "False")
	if ok {
		handle, label = "out-true", labelOr(cfg.TrueLabel, "True")
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

func (decision) Execute(_ context.Context, in Input) (Output, error) {
	var cfg decisionConfig
	if err := json.Unmarshal(in.Config, &cfg); err != nil {
		return Output{}, Permanent("config", "decision config: %v", err)
	}
	handles := []string{}
	var matched []string
	for _, d := range cfg.Decisions {
		var ok bool
		var err error
		if len(d.Predicates) > 0 {
			ok, err = expr.EvalPredicates(d.Predicates, d.Combiner, in.Scope.Payload)
		} else {
			// Legacy single form: the rule applies to targetField (or the payload); a missing
			// rule passes.
			ok, err = expr.EvalPredicates([]expr.Predicate{{ID: d.ID, TargetField: d.TargetField, ValidationLogic: d.ValidationLogic}}, "all", in.Scope.Payload)
		}
		if err != nil {
			return Output{}, Permanent("config", "decision %q: %v", d.ID, err)
		}
		if ok {
			handles = append(handles, "out-"+d.ID)
			matched = append(matched, d.ID)
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
