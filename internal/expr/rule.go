package expr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalidRule is wrapped by every error ParseRule returns, so callers can answer 400.
var ErrInvalidRule = errors.New("invalid rule")

// Rule is a parsed json-logic rule, evaluated with the semantics of json-logic-js, the library
// the seed service used (contract 10.3). A nil *Rule is the missing rule and always passes. A
// Rule is immutable and safe for concurrent use.
//
// The rule is evaluated here rather than by github.com/diegoholiveira/jsonlogic/v3: at v3.5.1
// that library departs from JavaScript on most operators the front end generates (and, or,
// ==, !=, <=, in, var, truthiness) and panics on some operand types;
// jsonlogic_deviation_test.go records each case. Operators and coercions follow
// json-logic-js and the ECMAScript abstract operations they rely on.
type Rule struct {
	root *term
}

// ParseRule parses and checks a rule. Empty input, JSON null and {} give a nil *Rule, which
// always passes. Invalid JSON, unknown operators (including the non-standard set, in_sorted
// and abs, and the array operators map, filter, reduce, all, some and none, which are not
// supported), objects with more than one key and wrong argument counts are errors that name
// the problem and where it is.
func ParseRule(raw json.RawMessage) (*Rule, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	if len(raw) > MaxRuleBytes {
		return nil, fmt.Errorf("%w: %d bytes is larger than the limit of %d bytes", ErrInvalidRule, len(raw), MaxRuleBytes)
	}
	var decoded any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return nil, fmt.Errorf("%w: not valid JSON: %v", ErrInvalidRule, err)
	}
	if m, ok := decoded.(map[string]any); ok && len(m) == 0 {
		return nil, nil
	}
	if d := nesting(decoded, 0); d > MaxRuleDepth {
		return nil, fmt.Errorf("%w: nests deeper than the limit of %d levels", ErrInvalidRule, MaxRuleDepth)
	}
	root, err := compile(decoded, "")
	if err != nil {
		return nil, err
	}
	return &Rule{root: root}, nil
}

// Eval applies the rule to subject, which rules address as {"var": "value"}. A nil rule
// passes. A string result fails with that string as the message; any other result passes when
// it is truthy in JavaScript (so an empty array passes); an evaluation error fails with the
// error's text. subject is copied first, so the caller may keep using it.
//
// The evaluation has the default Budget; one that goes over it fails with the budget's message.
func (r *Rule) Eval(subject any) (pass bool, message string) {
	pass, message, err := r.evalJS(toJS(subject), NewMeter(Budget{}))
	if err != nil {
		return false, err.Error()
	}
	return pass, message
}

// evalJS is Eval on a subject already in the JavaScript value model, charging m. An error
// other than a budget error is a failure with that message; a budget error is returned.
func (r *Rule) evalJS(subject any, m *Meter) (pass bool, message string, err error) {
	if r == nil {
		return true, "", nil
	}
	result, err := r.root.eval(map[string]any{"value": subject}, m)
	switch {
	case errors.Is(err, ErrBudgetExceeded):
		return false, "", err
	case err != nil:
		return false, err.Error(), nil
	}
	if s, ok := result.(string); ok {
		return false, s, nil
	}
	return jsBoolean(result), "", nil
}

// apply evaluates the rule against {"value": subject} with the default budget and returns the
// raw result.
func (r *Rule) apply(subject any) (any, error) {
	return r.root.eval(map[string]any{"value": toJS(subject)}, NewMeter(Budget{}))
}

// term is one node of a compiled rule: an operation, an array literal (whose elements may be
// operations) or another literal.
type term struct {
	op    *operator // set for an operation
	args  []*term   // an operation's arguments or an array literal's elements
	array bool      // set for an array literal
	value any       // a literal's value
}

func (t *term) eval(data any, m *Meter) (any, error) {
	if err := m.step(1); err != nil {
		return nil, err
	}
	switch {
	case t.op != nil:
		return t.op.apply(t.args, data, m)
	case t.array:
		if err := m.alloc(elemBytes * len(t.args)); err != nil {
			return nil, err
		}
		out := newArray(len(t.args))
		for i, a := range t.args {
			v, err := a.eval(data, m)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return t.value, nil
}

// Limits on rules: bounded size and nesting keep evaluation cheap whatever a workflow holds.
const (
	MaxRuleBytes = 16 << 10
	MaxRuleDepth = 32
)

// nesting returns how deeply arrays and objects nest in v, stopping past MaxRuleDepth.
func nesting(v any, depth int) int {
	if depth > MaxRuleDepth {
		return depth
	}
	deepest := depth
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			deepest = max(deepest, nesting(e, depth+1))
		}
	case map[string]any:
		for _, e := range t {
			deepest = max(deepest, nesting(e, depth+1))
		}
	}
	return deepest
}

// compile turns a decoded rule into terms. at locates v in the rule for error messages, such
// as "and[0].in[1]".
func compile(v any, at string) (*term, error) {
	switch t := v.(type) {
	case []any:
		elems, err := compileAll(t, at)
		if err != nil {
			return nil, err
		}
		return &term{array: true, args: elems}, nil
	case map[string]any:
		return compileObject(t, at)
	}
	return &term{value: v}, nil
}

func compileAll(vs []any, at string) ([]*term, error) {
	out := make([]*term, len(vs))
	for i, e := range vs {
		c, err := compile(e, fmt.Sprintf("%s[%d]", at, i))
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// compileObject compiles {"op": args}. A one-key object is an operation, as in json-logic-js;
// an empty object is a literal; an object with several keys is rejected, although
// json-logic-js would take it as a literal, because in a rule it is almost always a mistake.
func compileObject(m map[string]any, at string) (*term, error) {
	if len(m) == 0 {
		return &term{value: m}, nil
	}
	if len(m) > 1 {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, fmt.Sprintf("%q", k))
		}
		slices.Sort(keys)
		return nil, ruleError(at, "an operation has exactly one key, the operator; got %d keys (%s)",
			len(m), strings.Join(keys, ", "))
	}
	var name string
	var operand any
	for k, v := range m {
		name, operand = k, v
	}
	op, ok := lookupOperator(name)
	if !ok {
		return nil, ruleError(at, "unknown operator %q", name)
	}
	operands, isList := operand.([]any)
	if !isList {
		operands = []any{operand} // {"var": "x"} is short for {"var": ["x"]}
	}
	if err := op.checkArity(len(operands)); err != nil {
		return nil, ruleError(at, "%v", err)
	}
	var args []*term
	var err error
	if isList {
		args, err = compileAll(operands, join(at, name))
	} else {
		var arg *term
		arg, err = compile(operand, join(at, name))
		args = []*term{arg}
	}
	if err != nil {
		return nil, err
	}
	return &term{op: op, args: args}, nil
}

func join(at, name string) string {
	if at == "" {
		return name
	}
	return at + "." + name
}

func ruleError(at, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if at != "" {
		msg += " at " + at
	}
	return fmt.Errorf("%w: %s", ErrInvalidRule, msg)
}
