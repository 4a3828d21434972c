package expr

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/diegoholiveira/jsonlogic/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// libraryApply runs a rule with github.com/diegoholiveira/jsonlogic/v3 against
// {"value": subject}, turning a panic or an error into an "error: ..." string.
func libraryApply(t *testing.T, rule, subject string) (result any) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			result = fmt.Sprintf("error: panic %v", p)
		}
	}()
	var out bytes.Buffer
	data := strings.NewReader(`{"value": ` + subject + `}`)
	if err := jsonlogic.Apply(strings.NewReader(rule), data, &out); err != nil {
		return "error: " + err.Error()
	}
	return decode(t, out.String())
}

// TestJSONLogicLibraryDeviations records why rules are not evaluated by jsonlogic v3.5.1:
// for each case, what the library returns and what json-logic-js (and so the seed, and this
// package) returns. If this test fails after a library upgrade, the library may have been
// fixed and could take over more of the evaluation.
func TestJSONLogicLibraryDeviations(t *testing.T) {
	t.Parallel()
	const isError = "error"
	tests := []struct {
		name    string
		rule    string
		subject string
		library any // what v3.5.1 returns; isError for an error or a panic
		want    any // what json-logic-js and Rule return; isError where ParseRule rejects the rule
	}{
		{"and returns the largest number", `{"and": [1, 0]}`, `null`, 1.0, 0.0},
		{"and ignores null operands", `{"and": [{"var": "value"}]}`, `null`, true, nil},
		{"and returns true for truthy strings", `{"and": [true, "x"]}`, `null`, true, "x"},
		{"or returns false, not the last operand", `{"or": [0, ""]}`, `null`, false, ""},
		{"true == 1 is false", `{"==": [true, 1]}`, `null`, false, true},
		{"1 == true panics", `{"==": [1, true]}`, `null`, isError, true},
		{`0 == "abc" is true`, `{"==": [0, "abc"]}`, `null`, true, false},
		{`"30.0" == 30 is false`, `{"==": ["30.0", 30]}`, `null`, false, true},
		{"null <= 0 is false", `{"<=": [null, 0]}`, `null`, false, true},
		{`"" < 5 is false`, `{"<": ["", 5]}`, `null`, false, true},
		{"< with one argument is true", `{"<": [1]}`, `null`, true, isError}, // json-logic-js: false
		{`2 in ["2"] is true`, `{"in": [2, ["2"]]}`, `null`, true, false},
		{`"" in "" is true`, `{"in": ["", {"var": "value"}]}`, `""`, true, false},
		{"number in text panics", `{"in": [1, "a1"]}`, `null`, isError, true},
		{"in a number panics", `{"in": ["a", {"var": "value"}]}`, `5`, isError, false},
		{"! of an object panics", `{"!": {"var": "value"}}`, `{}`, isError, false},
		{"!! of NaN is true", `{"!!": {"/": [0, 0]}}`, `null`, true, false},
		{"var skips over primitives", `{"var": "value.a.b"}`, `{"a": "x", "b": 5}`, 5.0, nil},
		{"var of length on an array is the first element", `{"var": "value.length"}`, `[7, 8, 9]`, 7.0, 3.0},
		{"var replaces null with the default", `{"var": ["value", 5]}`, `null`, 5.0, nil},
		{"cat trims spaces", `{"cat": [" a", "b "]}`, `null`, "ab", " ab "},
		{"cat of a boolean panics", `{"cat": ["a", true]}`, `null`, isError, "atrue"},
		{"substr past the end returns everything", `{"substr": ["abc", 5]}`, `null`, "abc", ""},
		{"if evaluates every branch", `{"if": [true, "ok", {"==": [1, true]}]}`, `null`, isError, "ok"},
		{"+ of null panics", `{"+": [null, 1]}`, `null`, isError, math.NaN()},
		{"+ of text is 0", `{"+": ["abc", 1]}`, `null`, 1.0, math.NaN()},
		{"max ignores text", `{"max": [1, "abc"]}`, `null`, 1.0, math.NaN()},
		{"missing does not count empty text", `{"missing": ["value.a"]}`, `{"a": ""}`, []any{}, []any{"value.a"}},
		{"merge drops objects and nulls", `{"merge": [null, {"var": "value"}]}`, `{"k": 1}`, []any{}, []any{nil, map[string]any{"k": 1.0}}},
		{"unknown one-argument operator is true", `{"bogus": [1]}`, `null`, true, isError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lib := libraryApply(t, tt.rule, tt.subject)
			if s, ok := lib.(string); ok && len(s) > len(isError) && s[:len(isError)] == isError {
				lib = isError
			}
			if diff := cmp.Diff(tt.library, lib, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("jsonlogic %s no longer behaves as recorded (-recorded +now):\n%s", tt.rule, diff)
			}
			r, err := ParseRule([]byte(tt.rule))
			if (err != nil) != (tt.want == isError) {
				t.Fatalf("ParseRule(%s) error %v, want an error: %v", tt.rule, err, tt.want == isError)
			}
			if err != nil {
				return
			}
			got, err := r.apply(decode(t, tt.subject))
			if err != nil {
				t.Fatalf("apply(%s): %v", tt.rule, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.EquateNaNs()); diff != "" {
				t.Errorf("apply(%s) (-json-logic-js +got):\n%s", tt.rule, diff)
			}
		})
	}
}

// TestAgreesWithJSONLogicLibrary checks that where the library does follow JavaScript
// (numbers compared with numbers, text with text, plain paths), the two agree.
func TestAgreesWithJSONLogicLibrary(t *testing.T) {
	t.Parallel()
	tests := []struct{ rule, subject string }{
		{`{">": [{"var": "value"}, 25]}`, `30`},
		{`{">": [{"var": "value"}, 25]}`, `20`},
		{`{"and": [{">=": [{"var": "value"}, 10]}, {"<=": [{"var": "value"}, 20]}]}`, `15`},
		{`{"<": [1, {"var": "value"}, 10]}`, `10`},
		{`{"<=": [1, {"var": "value"}, 10]}`, `10`},
		{`{"<": [{"var": "value"}, "2024-06-01"]}`, `"2024-05-31"`},
		{`{"==": [{"var": "value"}, 30]}`, `"30"`},
		{`{"!=": [{"var": "value"}, "x"]}`, `"y"`},
		{`{"in": [{"var": "value"}, ["a", "b"]]}`, `"b"`},
		{`{"in": ["2", [2]]}`, `null`},
		{`{"in": ["ell", {"var": "value"}]}`, `"hello"`},
		{`{"or": [0, "x"]}`, `null`},
		{`{"var": "value.a.b"}`, `{"a": {"b": [1, 2]}}`},
		{`{"+": [1, 2, 3.5]}`, `null`},
		{`{"-": [10, 4]}`, `null`},
		{`{"*": [2, 3]}`, `null`},
		{`{"/": [7, 2]}`, `null`},
		{`{"%": [7, 3]}`, `null`},
		{`{"cat": ["a", "b"]}`, `null`},
		{`{"if": [{"<": [{"var": "value"}, 18]}, "minor", "adult"]}`, `30`},
	}
	for _, tt := range tests {
		t.Run(tt.rule+" "+tt.subject, func(t *testing.T) {
			t.Parallel()
			want := libraryApply(t, tt.rule, tt.subject)
			got, err := mustParse(t, tt.rule).apply(decode(t, tt.subject))
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("apply(%s, %s) (-jsonlogic +got):\n%s", tt.rule, tt.subject, diff)
			}
		})
	}
}
