package expr

import (
	"encoding/json"
	"fmt"
)

// Predicate is one test of an ifElse condition or of a decision outcome (contract 10.4): a
// rule applied to a field of the payload, or to the whole payload when TargetField is empty.
// The front end's validationConfig is for its editor only and is not read.
type Predicate struct {
	ID              string          `json:"id"`
	TargetField     string          `json:"targetField,omitempty"`
	ValidationLogic json.RawMessage `json:"validationLogic,omitempty"`
}

// Combiners of a condition's predicates. An empty combiner means CombinerAll.
const (
	CombinerAll = "all"
	CombinerAny = "any"
)

// PredicateError reports a predicate whose rule does not parse. It wraps the ParseRule error,
// so errors.Is(err, ErrInvalidRule) holds.
type PredicateError struct {
	Index int    // position in the predicate list
	ID    string // the predicate's id
	Err   error
}

func (e *PredicateError) Error() string {
	return fmt.Sprintf("predicate %d (id %q): %v", e.Index, e.ID, e.Err)
}

func (e *PredicateError) Unwrap() error { return e.Err }

// Subject returns what a predicate's rule is applied to: the payload, or the value at
// targetField in it (Lookup's rules; nil when missing).
func Subject(payload any, targetField string) any {
	if targetField == "" {
		return payload
	}
	v, _ := Lookup(payload, targetField)
	return v
}

// Condition is a compiled ifElse condition or decision outcome. It is immutable and safe for
// concurrent use.
type Condition struct {
	anyOf bool // combiner "any"; otherwise "all"
	preds []predicate
}

type predicate struct {
	targetField string
	rule        *Rule
}

// CompileCondition compiles an ifElse condition: predicates combined with "all" (also when
// combiner is empty) or "any". A condition without predicates is false. The error is a
// *PredicateError for a rule that does not parse, or names an unknown combiner.
func CompileCondition(preds []Predicate, combiner string) (*Condition, error) {
	anyOf, err := parseCombiner(combiner)
	if err != nil {
		return nil, err
	}
	c := &Condition{anyOf: anyOf, preds: make([]predicate, len(preds))}
	for i, p := range preds {
		rule, err := ParseRule(p.ValidationLogic)
		if err != nil {
			return nil, &PredicateError{Index: i, ID: p.ID, Err: err}
		}
		c.preds[i] = predicate{targetField: p.TargetField, rule: rule}
	}
	return c, nil
}

// CompileDecision compiles a decision outcome: its predicates as CompileCondition does, or,
// when it has none, the legacy single form, in which legacy's rule (the outcome's own
// targetField and validationLogic; legacy.ID names it in errors) is applied and a missing rule
// passes, so a new, empty outcome always matches.
func CompileDecision(preds []Predicate, combiner string, legacy Predicate) (*Condition, error) {
	if len(preds) > 0 {
		return CompileCondition(preds, combiner)
	}
	rule, err := ParseRule(legacy.ValidationLogic)
	if err != nil {
		return nil, &PredicateError{Index: 0, ID: legacy.ID, Err: err}
	}
	return &Condition{preds: []predicate{{targetField: legacy.TargetField, rule: rule}}}, nil
}

// Eval reports whether the condition holds for payload, charging m. A predicate without a
// rule passes; a predicate whose rule fails or errors does not. The only error is one
// wrapping ErrBudgetExceeded.
func (c *Condition) Eval(payload any, m *Meter) (bool, error) {
	held, err := EvalAll([]*Condition{c}, payload, m)
	if err != nil {
		return false, err
	}
	return held[0], nil
}

// EvalAll evaluates several conditions against one payload, which is brought into the
// JavaScript value model once for all of them, and reports which hold. Every evaluation
// charges m; the only error is one wrapping ErrBudgetExceeded.
func EvalAll(conds []*Condition, payload any, m *Meter) ([]bool, error) {
	held := make([]bool, len(conds))
	if len(conds) == 0 {
		return held, nil
	}
	subject := toJS(payload)
	for i, c := range conds {
		ok, err := c.evalJS(subject, m)
		if err != nil {
			return nil, err
		}
		held[i] = ok
	}
	return held, nil
}

func (c *Condition) evalJS(payload any, m *Meter) (bool, error) {
	if len(c.preds) == 0 {
		return false, nil
	}
	for _, p := range c.preds {
		if err := m.step(1); err != nil {
			return false, err
		}
		subject := payload
		if p.targetField != "" {
			v, _, err := lookup(payload, p.targetField, m)
			if err != nil {
				return false, err
			}
			subject = v
		}
		pass, _, err := p.rule.evalJS(subject, m)
		if err != nil {
			return false, err
		}
		if pass == c.anyOf {
			return c.anyOf, nil
		}
	}
	return !c.anyOf, nil
}

// EvalPredicates compiles and evaluates an ifElse condition in one step with the default
// budget; callers that evaluate the same condition often should keep the result of
// CompileCondition.
func EvalPredicates(preds []Predicate, combiner string, payload any) (bool, error) {
	c, err := CompileCondition(preds, combiner)
	if err != nil {
		return false, err
	}
	return c.Eval(payload, NewMeter(Budget{}))
}

// ValidatePredicates parses every predicate's rule and returns the first failure as a
// *PredicateError naming the predicate's index and id.
func ValidatePredicates(preds []Predicate) error {
	for i, p := range preds {
		if _, err := ParseRule(p.ValidationLogic); err != nil {
			return &PredicateError{Index: i, ID: p.ID, Err: err}
		}
	}
	return nil
}

// ValidateCombiner accepts "", "all" and "any".
func ValidateCombiner(combiner string) error {
	_, err := parseCombiner(combiner)
	return err
}

func parseCombiner(combiner string) (anyOf bool, err error) {
	switch combiner {
	case "", CombinerAll:
		return false, nil
	case CombinerAny:
		return true, nil
	}
	return false, fmt.Errorf("unknown combiner %q: want %q or %q", combiner, CombinerAll, CombinerAny)
}
