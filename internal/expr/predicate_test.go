package expr

import (
	"encoding/json"
	"errors"
	"testing"
)

func pred(id, field, rule string) Predicate {
	p := Predicate{ID: id, TargetField: field}
	if rule != "" {
		p.ValidationLogic = json.RawMessage(rule)
	}
	return p
}

const (
	hot     = `{"and": [{">": [{"var": "value"}, 25]}]}`
	inParis = `{"==": [{"var": "value"}, "Paris"]}`
	badRule = `{"like": [1, 2]}`
)

func TestCondition(t *testing.T) {
	t.Parallel()
	payload := decode(t, `{"data": {"temperature": 30, "city": "Oslo"}, "tags": ["x"]}`)
	tests := []struct {
		name     string
		preds    []Predicate
		combiner string
		want     bool
	}{
		{"no predicates is false", nil, "", false},
		{"no predicates is false with any", []Predicate{}, CombinerAny, false},
		{"one passing predicate", []Predicate{pred("p1", "data.temperature", hot)}, "", true},
		{"one failing predicate", []Predicate{pred("p1", "data.city", inParis)}, CombinerAll, false},
		{"all: one fails", []Predicate{pred("p1", "data.temperature", hot), pred("p2", "data.city", inParis)}, CombinerAll, false},
		{"empty combiner is all", []Predicate{pred("p1", "data.temperature", hot), pred("p2", "data.city", inParis)}, "", false},
		{"any: one passes", []Predicate{pred("p1", "data.city", inParis), pred("p2", "data.temperature", hot)}, CombinerAny, true},
		{"any: none passes", []Predicate{pred("p1", "data.city", inParis), pred("p2", "data.missing", hot)}, CombinerAny, false},
		{"predicate without a rule passes", []Predicate{pred("p1", "data.city", "")}, "", true},
		{"predicate with a null rule passes", []Predicate{pred("p1", "", "null")}, "", true},
		{"missing target field is null", []Predicate{pred("p1", "nope.deeper", `{"==": [{"var": "value"}, null]}`)}, "", true},
		{"missing target field below 5", []Predicate{pred("p1", "nope", `{"<": [{"var": "value"}, 5]}`)}, "", true},
		{"no target field uses the payload", []Predicate{pred("p1", "", `{"==": [{"var": "value.data.city"}, "Oslo"]}`)}, "", true},
		{"indexed target field", []Predicate{pred("p1", "tags[0]", `{"==": [{"var": "value"}, "x"]}`)}, "", true},
		{"string result fails", []Predicate{pred("p1", "", `"no"`)}, "", false},
		{"evaluation error fails", []Predicate{pred("p1", "", `{"missing_some": [1, "x"]}`)}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := CompileCondition(tt.preds, tt.combiner)
			if err != nil {
				t.Fatalf("CompileCondition: %v", err)
			}
			if got, err := c.Eval(payload, NewMeter(Budget{})); err != nil || got != tt.want {
				t.Errorf("Eval = %v, %v; want %v", got, err, tt.want)
			}
			got, err := EvalPredicates(tt.preds, tt.combiner, payload)
			if err != nil || got != tt.want {
				t.Errorf("EvalPredicates = (%v, %v), want (%v, nil)", got, err, tt.want)
			}
		})
	}
}

func TestCompileDecision(t *testing.T) {
	t.Parallel()
	payload := decode(t, `{"data": {"temperature": 30, "city": "Oslo"}}`)
	tests := []struct {
		name     string
		preds    []Predicate
		combiner string
		legacy   Predicate
		want     bool
	}{
		{"empty outcome matches", nil, "", pred("d1", "", ""), true},
		{"legacy rule on a field", nil, "", pred("d1", "data.temperature", hot), true},
		{"legacy rule failing", nil, "", pred("d1", "data.city", inParis), false},
		{"legacy rule on the payload", nil, "", pred("d1", "", `{"==": [{"var": "value.data.city"}, "Oslo"]}`), true},
		{"predicates win over the legacy rule", []Predicate{pred("p1", "data.city", inParis)}, "", pred("d1", "", ""), false},
		{"predicates with any", []Predicate{pred("p1", "data.city", inParis), pred("p2", "data.temperature", hot)}, CombinerAny, pred("d1", "", ""), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := CompileDecision(tt.preds, tt.combiner, tt.legacy)
			if err != nil {
				t.Fatalf("CompileDecision: %v", err)
			}
			if got, err := c.Eval(payload, NewMeter(Budget{})); err != nil || got != tt.want {
				t.Errorf("Eval = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestPredicateErrors(t *testing.T) {
	t.Parallel()
	good := pred("ok", "a", hot)
	tests := []struct {
		name      string
		compile   func() error
		wantIndex int
		wantID    string
		wantMsg   string
	}{
		{
			name:      "condition",
			compile:   func() error { _, err := CompileCondition([]Predicate{good, pred("p2", "", badRule)}, ""); return err },
			wantIndex: 1, wantID: "p2",
			wantMsg: `predicate 1 (id "p2"): invalid rule: unknown operator "like"`,
		},
		{
			name: "eval predicates",
			compile: func() error {
				_, err := EvalPredicates([]Predicate{pred("p1", "", badRule)}, "", nil)
				return err
			},
			wantIndex: 0, wantID: "p1",
			wantMsg: `predicate 0 (id "p1"): invalid rule: unknown operator "like"`,
		},
		{
			name:      "validate",
			compile:   func() error { return ValidatePredicates([]Predicate{pred("p1", "", `{"==": [1]}`), good}) },
			wantIndex: 0, wantID: "p1",
			wantMsg: `predicate 0 (id "p1"): invalid rule: operator "==" takes 2 arguments, got 1`,
		},
		{
			name:      "decision predicates",
			compile:   func() error { _, err := CompileDecision([]Predicate{pred("p1", "", "{")}, "", Predicate{}); return err },
			wantIndex: 0, wantID: "p1",
			wantMsg: `predicate 0 (id "p1"): invalid rule: not valid JSON: unexpected end of JSON input`,
		},
		{
			name:      "decision legacy rule",
			compile:   func() error { _, err := CompileDecision(nil, "", pred("d7", "", badRule)); return err },
			wantIndex: 0, wantID: "d7",
			wantMsg: `predicate 0 (id "d7"): invalid rule: unknown operator "like"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.compile()
			var pe *PredicateError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *PredicateError", err)
			}
			if pe.Index != tt.wantIndex || pe.ID != tt.wantID {
				t.Errorf("PredicateError index %d id %q, want %d %q", pe.Index, pe.ID, tt.wantIndex, tt.wantID)
			}
			if !errors.Is(err, ErrInvalidRule) {
				t.Errorf("error %v does not wrap ErrInvalidRule", err)
			}
			if err.Error() != tt.wantMsg {
				t.Errorf("error\n got %q\nwant %q", err.Error(), tt.wantMsg)
			}
		})
	}
}

func TestValidatePredicatesValid(t *testing.T) {
	t.Parallel()
	if err := ValidatePredicates([]Predicate{pred("a", "", hot), pred("b", "x", ""), pred("c", "", "null")}); err != nil {
		t.Errorf("ValidatePredicates: %v", err)
	}
	if err := ValidatePredicates(nil); err != nil {
		t.Errorf("ValidatePredicates(nil): %v", err)
	}
}

func TestCombiner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		combiner string
		wantErr  string
	}{
		{"", ""},
		{"all", ""},
		{"any", ""},
		{"ALL", `unknown combiner "ALL": want "all" or "any"`},
		{"none", `unknown combiner "none": want "all" or "any"`},
	}
	for _, tt := range tests {
		t.Run(tt.combiner, func(t *testing.T) {
			t.Parallel()
			for name, err := range map[string]error{
				"ValidateCombiner": ValidateCombiner(tt.combiner),
				"CompileCondition": func() error { _, err := CompileCondition(nil, tt.combiner); return err }(),
				"CompileDecision":  func() error { _, err := CompileDecision([]Predicate{{}}, tt.combiner, Predicate{}); return err }(),
			} {
				got := ""
				if err != nil {
					got = err.Error()
				}
				if got != tt.wantErr {
					t.Errorf("%s(%q) error %q, want %q", name, tt.combiner, got, tt.wantErr)
				}
			}
		})
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	payload := map[string]any{"a": map[string]any{"b": 1.0}}
	if got := Subject(payload, ""); got == nil {
		t.Error("Subject without a field should be the payload")
	}
	if got := Subject(payload, "a.b"); got != 1.0 {
		t.Errorf("Subject(a.b) = %v, want 1", got)
	}
	if got := Subject(payload, "a.c"); got != nil {
		t.Errorf("Subject(a.c) = %v, want nil", got)
	}
}
