package expr

import (
	"cmp"
	"errors"
	"fmt"
	"math"
)

// ErrBudgetExceeded is wrapped by every error a Meter returns once an evaluation has used up
// its budget.
var ErrBudgetExceeded = errors.New("evaluation budget exceeded")

// Default budget of one node's evaluation: every rule and template a node evaluates for one
// execution shares it.
const (
	DefaultBudgetSteps = 1_000_000
	DefaultBudgetBytes = 16 << 20
)

// Budget bounds the work of evaluating rules and rendering templates: Steps counts operations
// (rule terms, placeholders, elements compared or visited), Bytes the size of the intermediate
// values built (strings from cat, substr and coercions, arrays from merge and literals, rendered
// text). The input itself is not counted: it is bounded where it is stored.
type Budget struct {
	Steps int
	Bytes int
}

// WithDefaults fills unset fields with DefaultBudgetSteps and DefaultBudgetBytes.
func (b Budget) WithDefaults() Budget {
	b.Steps = cmp.Or(b.Steps, DefaultBudgetSteps)
	b.Bytes = cmp.Or(b.Bytes, DefaultBudgetBytes)
	return b
}

// Meter counts one evaluation's work against its Budget. It is not safe for concurrent use;
// each execution has its own.
type Meter struct {
	budget   Budget
	steps    int
	bytes    int
	exceeded error
}

// unlimited is a meter that never runs out, for rendering without a budget.
func unlimited() *Meter {
	return &Meter{budget: Budget{Steps: math.MaxInt, Bytes: math.MaxInt}}
}

// NewMeter returns a meter for b (unset fields take the defaults).
func NewMeter(b Budget) *Meter {
	return &Meter{budget: b.WithDefaults()}
}

// BudgetError says which limit an evaluation went over.
type BudgetError struct {
	Limit string // "steps" or "bytes"
	Max   int
}

func (e *BudgetError) Error() string {
	if e.Limit == "steps" {
		return fmt.Sprintf("evaluation took more than %d steps; simplify the rule or template", e.Max)
	}
	return fmt.Sprintf("evaluation built more than %d bytes of intermediate values; the rule or template grows values too large for its input", e.Max)
}

func (e *BudgetError) Unwrap() error { return ErrBudgetExceeded }

// step charges n operations.
func (m *Meter) step(n int) error {
	if m.exceeded != nil {
		return m.exceeded
	}
	m.steps += n
	if m.steps > m.budget.Steps {
		m.exceeded = &BudgetError{Limit: "steps", Max: m.budget.Steps}
	}
	return m.exceeded
}

// alloc charges n bytes of intermediate values, before they are built.
func (m *Meter) alloc(n int) error {
	if m.exceeded != nil {
		return m.exceeded
	}
	m.bytes += n
	if m.bytes > m.budget.Bytes {
		m.exceeded = &BudgetError{Limit: "bytes", Max: m.budget.Bytes}
	}
	return m.exceeded
}

// room is how many bytes may still be charged.
func (m *Meter) room() int { return max(0, m.budget.Bytes-m.bytes) }

// Bytes charged per element of an array built during evaluation (an interface value).
const elemBytes = 16

// textSize is the length of String(v) (joinElement's rules: null as "" inside arrays), found
// without building it. It stops counting once the size passes limit, so its own work is
// bounded by what it is allowed to charge.
func textSize(v any, limit int) int {
	switch t := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case float64:
		return 24
	case string:
		return len(t)
	case []any:
		return joinSize(t, limit)
	case map[string]any:
		return len("[object Object]")
	}
	return len(jsString(v))
}

func joinSize(a []any, limit int) int {
	n := max(0, len(a)-1) // commas
	for _, e := range a {
		if n > limit {
			return n
		}
		if e != nil {
			n += textSize(e, limit-n)
		}
	}
	return n
}

// chargeText charges the String() of v and its use: building it for an array (joined through
// one string per element), a scan for a string (parsed as a number, searched, compared).
func (m *Meter) chargeText(v any) error {
	if a, ok := v.([]any); ok {
		return m.alloc(2*elemBytes*len(a) + joinSize(a, m.room()+1))
	}
	return m.step(stepCost(v))
}

// chargeCoercions charges the String() of every array among vals, which comparisons and
// arithmetic build to coerce them.
func (m *Meter) chargeCoercions(vals []any) error {
	for _, v := range vals {
		if err := m.chargeText(v); err != nil {
			return err
		}
	}
	return nil
}

// jsonSize is about the length of v written as JSON (escapes not counted), counted up to
// limit. Values outside the JavaScript value model count as
// their String().
func jsonSize(v any, limit int) int {
	switch t := v.(type) {
	case nil, bool, float64:
		return textSize(t, limit)
	case string:
		return len(t) + 2
	case []any:
		n := len(t) + 1
		for _, e := range t {
			if n > limit {
				return n
			}
			n += jsonSize(e, limit-n)
		}
		return n
	case map[string]any:
		n := len(t) + 1
		for k, e := range t {
			if n > limit {
				return n
			}
			n += len(k) + 3 + jsonSize(e, limit-n)
		}
		return n
	}
	return len(jsString(toJS(v))) + 16
}
