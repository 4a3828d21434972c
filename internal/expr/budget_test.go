package expr

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// catTree is a rule of nested cats, depth levels deep, whose leaves are leaf: each level
// doubles the text, so the result is 2^depth copies of the leaf's value.
func catTree(leaf string, depth int) string {
	if depth == 0 {
		return leaf
	}
	sub := catTree(leaf, depth-1)
	return `{"cat":[` + sub + `,` + sub + `]}`
}

// mergeFlat merges the leaf n times.
func mergeFlat(leaf string, n int) string {
	return `{"merge":[` + strings.TrimSuffix(strings.Repeat(leaf+",", n), ",") + `]}`
}

// allocatedBy returns the bytes fn allocates. The test calling it must not be parallel, so
// no other test allocates meanwhile.
func allocatedBy(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileRuleIsBounded evaluates rules that grow a 200 KB input into gigabytes (nested
// cat, wide merge, repeated coercions of a large array): each ends with a budget error after
// allocating a bounded amount, far below what the unbounded evaluation builds.
func TestHostileRuleIsBounded(t *testing.T) {
	big := strings.Repeat("x", 200<<10)
	items := make([]any, 20_000)
	for i := range items {
		items[i] = "item-0123"
	}
	payload := map[string]any{"s": big, "items": items}
	tests := []struct {
		name string
		rule string
	}{
		{"nested cat", catTree(`{"var":"value.s"}`, 9)},
		{"wide merge", mergeFlat(`{"var":"value.items"}`, 700)},
		{"coerced comparisons", `{"or":[` + strings.TrimSuffix(strings.Repeat(`{"==":[{"var":"value.items"},"x"]},`, 400), ",") + `]}`},
		{"substr of a large string", `{"and":[` + strings.TrimSuffix(strings.Repeat(`{"substr":[{"var":"value.s"},1,1]},`, 400), ",") + `]}`},
	}
	const bound = 32 << 20 // the 16 MiB budget and slack; unbounded, these rules allocate 200 MiB to 1.3 GiB
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.rule) > MaxRuleBytes {
				t.Fatalf("rule of %d bytes is over the rule size limit", len(tt.rule))
			}
			cond, err := CompileCondition([]Predicate{{ID: "p", ValidationLogic: json.RawMessage(tt.rule)}}, "")
			if err != nil {
				t.Fatal(err)
			}
			m := NewMeter(Budget{})
			var evalErr error
			allocated := allocatedBy(func() { _, evalErr = cond.Eval(payload, m) })
			var be *BudgetError
			if !errors.Is(evalErr, ErrBudgetExceeded) || !errors.As(evalErr, &be) {
				t.Fatalf("Eval error = %v, want a budget error (allocated %d MiB)", evalErr, allocated>>20)
			}
			if allocated > bound {
				t.Errorf("evaluation allocated %d MiB, want at most %d MiB", allocated>>20, bound>>20)
			}
			if !strings.Contains(evalErr.Error(), "intermediate values") && !strings.Contains(evalErr.Error(), "steps") {
				t.Errorf("message %q does not say which limit was exceeded", evalErr)
			}
		})
	}
}

// TestBudgetIsShared checks that every rule and template of one execution draws on one meter:
// rules that each fit the budget exceed it together, and a rendered template too.
func TestBudgetIsShared(t *testing.T) {
	t.Parallel()
	payload := map[string]any{"s": strings.Repeat("y", 1<<20)}
	cond, err := CompileCondition([]Predicate{{ID: "p", ValidationLogic: json.RawMessage(`{"cat":[{"var":"value.s"},{"var":"value.s"}]}`)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	m := NewMeter(Budget{Bytes: 5 << 20})
	for i := range 2 {
		if _, err := cond.Eval(payload, m); err != nil {
			t.Fatalf("evaluation %d within the budget: %v", i, err)
		}
	}
	if _, err := cond.Eval(payload, m); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("third evaluation: %v, want the shared budget exceeded", err)
	}
	tmpl := strings.Repeat("{{s}}", 20)
	if _, err := RenderBounded(tmpl, Scope{Payload: payload}, NewMeter(Budget{})); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("template of 20 MiB: %v, want a budget error", err)
	}
	if _, err := RenderJSONBounded(`{"a":"`+tmpl+`"}`, Scope{Payload: payload}, NewMeter(Budget{})); !errors.Is(err, ErrBudgetExceeded) {
		t.Fatalf("JSON template of 20 MiB: %v, want a budget error", err)
	}
	got, err := RenderBounded("{{s}}", Scope{Payload: payload}, NewMeter(Budget{}))
	if err != nil || len(got) != 1<<20 {
		t.Fatalf("template within the budget: %d bytes, %v", len(got), err)
	}
}

// TestStepBudget stops a rule that visits many elements without building anything.
func TestStepBudget(t *testing.T) {
	t.Parallel()
	items := make([]any, 50_000)
	for i := range items {
		items[i] = float64(i)
	}
	rule := `{"or":[` + strings.TrimSuffix(strings.Repeat(`{"in":[-1,{"var":"value.items"}]},`, 100), ",") + `]}`
	cond, err := CompileCondition([]Predicate{{ID: "p", ValidationLogic: json.RawMessage(rule)}}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cond.Eval(map[string]any{"items": items}, NewMeter(Budget{Steps: 1_000_000}))
	var be *BudgetError
	if !errors.As(err, &be) || be.Limit != "steps" {
		t.Fatalf("Eval: %v, want the step budget exceeded", err)
	}
}

// TestStringStepsAreBounded reads characters and lengths of a large string many times, from a
// template and from a rule: each read scans the string, so the step budget stops them, and
// no read builds a copy of it.
func TestStringStepsAreBounded(t *testing.T) {
	payload := map[string]any{"s": strings.Repeat("é", 1<<20)}
	tmpl := strings.Repeat("{{s.1}}{{s.length}}", 2000)
	var err error
	allocated := allocatedBy(func() { _, err = RenderBounded(tmpl, Scope{Payload: payload}, NewMeter(Budget{})) })
	var be *BudgetError
	if !errors.As(err, &be) || be.Limit != "steps" {
		t.Fatalf("template: %v, want the step budget exceeded", err)
	}
	if allocated > 8<<20 {
		t.Errorf("template reads allocated %d MiB, want no copies of the string", allocated>>20)
	}
	rule := `{"and":[` + strings.TrimSuffix(strings.Repeat(`{"var":"value.s.1"},`, 750), ",") + `]}`
	cond, cerr := CompileCondition([]Predicate{{ID: "p", ValidationLogic: json.RawMessage(rule)}}, "")
	if cerr != nil {
		t.Fatal(cerr)
	}
	allocated = allocatedBy(func() { _, err = cond.Eval(payload, NewMeter(Budget{})) })
	if !errors.As(err, &be) || be.Limit != "steps" {
		t.Fatalf("rule: %v, want the step budget exceeded", err)
	}
	if allocated > 8<<20 {
		t.Errorf("rule reads allocated %d MiB, want no copies of the string", allocated>>20)
	}
	if got, _ := RenderBounded("{{s.1}} {{s.length}}", Scope{Payload: map[string]any{"s": "a😀b"}}, NewMeter(Budget{})); got != "\uFFFD 4" {
		t.Errorf("surrogate half and UTF-16 length: %q", got)
	}
}
