package expr

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestEvalContract covers the JavaScript semantics contract 10.3 requires of rules, through
// Eval: a string result fails with that message, anything else passes when truthy.
func TestEvalContract(t *testing.T) {
	t.Parallel()
	const tooFew = "missing_some: the second argument must be an array of keys"
	tests := []struct {
		name     string
		rule     string
		subject  string // JSON
		wantPass bool
		wantMsg  string
	}{
		// var
		{"var of a missing key is null", `{"===": [{"var": "value.x"}, null]}`, `{}`, true, ""},
		{"var of a missing key is falsy", `{"var": "value.x"}`, `{}`, false, ""},
		{"var default is a string result", `{"var": ["value.x", "dflt"]}`, `{}`, false, "dflt"},
		// == and !=
		{`"30" == 30`, `{"==": [{"var": "value"}, 30]}`, `"30"`, true, ""},
		{`30 == "30"`, `{"==": [{"var": "value"}, "30"]}`, `30`, true, ""},
		{"null == 0 is false", `{"==": [null, 0]}`, `null`, false, ""},
		{"missing == 0 is false", `{"==": [{"var": "value"}, 0]}`, `null`, false, ""},
		{"null == false is false", `{"==": [null, false]}`, `null`, false, ""},
		{"missing == null", `{"==": [{"var": "value.x"}, null]}`, `{}`, true, ""},
		{"true == 1", `{"==": [true, 1]}`, `null`, true, ""},
		{"1 == true", `{"==": [1, true]}`, `null`, true, ""},
		{`"1" == true`, `{"==": ["1", true]}`, `null`, true, ""},
		{`false == ""`, `{"==": [false, ""]}`, `null`, true, ""},
		{`false == "0"`, `{"==": [false, "0"]}`, `null`, true, ""},
		{`"abc" == 0 is false`, `{"==": ["abc", 0]}`, `null`, false, ""},
		{`"" == 0`, `{"==": ["", 0]}`, `null`, true, ""},
		{`" 30 " == 30`, `{"==": [" 30 ", 30]}`, `null`, true, ""},
		{`"30.0" == 30`, `{"==": ["30.0", 30]}`, `null`, true, ""},
		{`"1e1" == 10`, `{"==": ["1e1", 10]}`, `null`, true, ""},
		{"[1] == 1", `{"==": [[1], 1]}`, `null`, true, ""},
		{`[1,2] == "1,2"`, `{"==": [[1, 2], "1,2"]}`, `null`, true, ""},
		{"object == its String()", `{"==": [{"var": "value"}, "[object Object]"]}`, `{}`, true, ""},
		{"same array reference", `{"==": [{"var": "value"}, {"var": "value"}]}`, `[1]`, true, ""},
		{"two array literals differ", `{"==": [[1], [1]]}`, `null`, false, ""},
		{"two empty array literals differ", `{"==": [[], []]}`, `null`, false, ""},
		{"strings", `{"==": ["a", "a"]}`, `null`, true, ""},
		{"!= equal text", `{"!=": [{"var": "value"}, "x"]}`, `"x"`, false, ""},
		{"!= other text", `{"!=": [{"var": "value"}, "x"]}`, `"y"`, true, ""},
		{`"30" != 30 is false`, `{"!=": ["30", 30]}`, `null`, false, ""},
		{"null != 0", `{"!=": [null, 0]}`, `null`, true, ""},
		{"missing != text", `{"!=": [{"var": "value"}, "admin"]}`, `null`, true, ""},
		// <, <=, >, >=
		{"two strings compare as text", `{"<": ["10", "9"]}`, `null`, true, ""},
		{"string and number compare as numbers", `{"<": ["10", 9]}`, `null`, false, ""},
		{"number and string compare as numbers", `{"<": [9, "10"]}`, `null`, true, ""},
		{"missing < 5 passes", `{"<": [{"var": "value"}, 5]}`, `null`, true, ""},
		{"missing > 5 fails", `{">": [{"var": "value"}, 5]}`, `null`, false, ""},
		{"missing >= 0 passes", `{">=": [{"var": "value"}, 0]}`, `null`, true, ""},
		{"null <= 0", `{"<=": [null, 0]}`, `null`, true, ""},
		{"NaN < 5 fails", `{"<": ["abc", 5]}`, `null`, false, ""},
		{"NaN > 5 fails", `{">": ["abc", 5]}`, `null`, false, ""},
		{"NaN <= 5 fails", `{"<=": ["abc", 5]}`, `null`, false, ""},
		{"NaN >= 5 fails", `{">=": ["abc", 5]}`, `null`, false, ""},
		{`"" < 5 as 0`, `{"<": ["", 5]}`, `null`, true, ""},
		{"numeric string > 25", `{">": [{"var": "value"}, 25]}`, `"30"`, true, ""},
		{"non-numeric string > 25", `{">": [{"var": "value"}, 25]}`, `"3a"`, false, ""},
		{"true < 2", `{"<": [true, 2]}`, `null`, true, ""},
		{"array compares as its text", `{"<": [[2], "10"]}`, `null`, false, ""},
		{"UTF-16 order", `{"<": ["\uff5e", "\ud83d\ude00"]}`, `null`, false, ""},
		{"upper case sorts first", `{"<": ["B", "a"]}`, `null`, true, ""},
		{"between inside", `{"<": [1, {"var": "value"}, 10]}`, `5`, true, ""},
		{"between at the top", `{"<": [1, {"var": "value"}, 10]}`, `10`, false, ""},
		{"between at the bottom", `{"<": [1, {"var": "value"}, 10]}`, `1`, false, ""},
		{"inclusive between at the top", `{"<=": [1, {"var": "value"}, 10]}`, `10`, true, ""},
		{"inclusive between at the bottom", `{"<=": [1, {"var": "value"}, 10]}`, `1`, true, ""},
		{"inclusive between above", `{"<=": [1, {"var": "value"}, 10]}`, `11`, false, ""},
		{"date before", `{"<": [{"var": "value"}, "2024-06-01"]}`, `"2024-05-31"`, true, ""},
		{"date before, same day", `{"<": [{"var": "value"}, "2024-06-01"]}`, `"2024-06-01"`, false, ""},
		{"date on or before", `{"<=": [{"var": "value"}, "2024-06-01"]}`, `"2024-06-01"`, true, ""},
		{"date after", `{">": [{"var": "value"}, "2024-06-01"]}`, `"2024-12-01"`, true, ""},
		{"date between", `{"and": [{">=": [{"var": "value"}, "2024-01-01"]}, {"<=": [{"var": "value"}, "2024-12-31"]}]}`, `"2024-07-04"`, true, ""},
		{"date outside", `{"and": [{">=": [{"var": "value"}, "2024-01-01"]}, {"<=": [{"var": "value"}, "2024-12-31"]}]}`, `"2025-01-01"`, false, ""},
		// in
		{`"2" is not in [2]`, `{"in": ["2", [2]]}`, `null`, false, ""},
		{"2 is in [2]", `{"in": [2, [2]]}`, `null`, true, ""},
		{"text in options", `{"in": [{"var": "value"}, ["a", "b"]]}`, `"a"`, true, ""},
		{"text not in options", `{"in": [{"var": "value"}, ["a", "b"]]}`, `"c"`, false, ""},
		{"missing not in options", `{"in": [{"var": "value"}, ["a", "b"]]}`, `null`, false, ""},
		{"number in options", `{"in": [{"var": "value"}, [1, 2, 3]]}`, `2`, true, ""},
		{"numeric text not in number options", `{"in": [{"var": "value"}, [1, 2, 3]]}`, `"2"`, false, ""},
		{"substring", `{"in": ["ell", {"var": "value"}]}`, `"hello"`, true, ""},
		{"substring is case-sensitive", `{"in": ["ell", {"var": "value"}]}`, `"HELLO"`, false, ""},
		{"substring is not a regex", `{"in": ["h.llo", {"var": "value"}]}`, `"hello"`, false, ""},
		{"in null", `{"in": ["ell", {"var": "value"}]}`, `null`, false, ""},
		{"in empty string", `{"in": ["", {"var": "value"}]}`, `""`, false, ""},
		{"empty pattern in text", `{"in": ["", {"var": "value"}]}`, `"abc"`, true, ""},
		{"in a number", `{"in": ["2", {"var": "value"}]}`, `12345`, false, ""},
		{"number pattern in text", `{"in": [1, "a1b"]}`, `null`, true, ""},
		{"null pattern in text", `{"in": [null, "null"]}`, `null`, true, ""},
		{"in an object", `{"in": ["a", {"var": "value"}]}`, `{"a": 1}`, false, ""},
		{"in an empty array", `{"in": ["a", []]}`, `null`, false, ""},
		{"arrays are compared by reference", `{"in": [[1], [[1]]]}`, `null`, false, ""},
		// and, or
		{"or returns a string operand", `{"or": [0, "x"]}`, `null`, false, "x"},
		{"or returns the last falsy operand", `{"or": [0, false]}`, `null`, false, ""},
		{"or passes on a truthy operand", `{"or": [false, 1]}`, `null`, true, ""},
		{"or falls back to a literal", `{"or": [{"var": "value"}, "fallback"]}`, `null`, false, "fallback"},
		{"and returns the last operand", `{"and": [1, "x"]}`, `null`, false, "x"},
		{"and returns the first falsy operand", `{"and": [1, 0]}`, `null`, false, ""},
		{"and of trues", `{"and": [true, true]}`, `null`, true, ""},
		{"empty and", `{"and": []}`, `null`, false, ""},
		{"empty or", `{"or": []}`, `null`, false, ""},
		{"and of a missing value", `{"and": [{"var": "value"}]}`, `null`, false, ""},
		{"and returns an empty array, which is truthy", `{"and": [[], true]}`, `null`, true, ""},
		{"or short-circuits", `{"or": [true, {"missing_some": [1, "x"]}]}`, `null`, true, ""},
		{"and short-circuits", `{"and": [false, {"missing_some": [1, "x"]}]}`, `null`, false, ""},
		{"evaluation error fails with its text", `{"and": [true, {"missing_some": [1, "x"]}]}`, `null`, false, tooFew},
		{"if short-circuits", `{"if": [true, "ok", {"missing_some": [1, "x"]}]}`, `null`, false, "ok"},
		// results
		{"string rule", `"message"`, `null`, false, "message"},
		{"true rule", `true`, `null`, true, ""},
		{"zero rule", `0`, `null`, false, ""},
		{"NaN fails", `{"/": [0, 0]}`, `null`, false, ""},
		{"empty array passes", `{"merge": []}`, `null`, true, ""},
		{"null fails", `{"if": [false, 1]}`, `null`, false, ""},
		{"message from if", `{"if": [{"<": [{"var": "value"}, 18]}, "too young", true]}`, `12`, false, "too young"},
		{"no message from if", `{"if": [{"<": [{"var": "value"}, 18]}, "too young", true]}`, `30`, true, ""},
		// front-end forms
		{"FE gt passes", `{"and": [{">": [{"var": "value"}, 25]}]}`, `30`, true, ""},
		{"FE gt fails", `{"and": [{">": [{"var": "value"}, 25]}]}`, `25`, false, ""},
		{"FE gt on text", `{"and": [{">": [{"var": "value"}, 25]}]}`, `"26"`, true, ""},
		{"FE gt on missing", `{"and": [{">": [{"var": "value"}, 25]}]}`, `null`, false, ""},
		{"FE number between", `{"and": [{">=": [{"var": "value"}, 10]}, {"<=": [{"var": "value"}, 20]}]}`, `20`, true, ""},
		{"FE number outside", `{"and": [{">=": [{"var": "value"}, 10]}, {"<=": [{"var": "value"}, 20]}]}`, `21`, false, ""},
		{"FE exclusive between", `{"and": [{">": [{"var": "value"}, 10]}, {"<": [{"var": "value"}, 20]}]}`, `10`, false, ""},
		{"FE any", `{"or": [{"==": [{"var": "value"}, 1]}, {"==": [{"var": "value"}, 2]}]}`, `2`, true, ""},
		{"FE any fails", `{"or": [{"==": [{"var": "value"}, 1]}, {"==": [{"var": "value"}, 2]}]}`, `3`, false, ""},
		{"bare seed rule", `{">": [{"var": "value"}, 25]}`, `26`, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pass, msg := mustParse(t, tt.rule).Eval(decode(t, tt.subject))
			if pass != tt.wantPass || msg != tt.wantMsg {
				t.Errorf("Eval(%s, %s) = (%v, %q), want (%v, %q)", tt.rule, tt.subject, pass, msg, tt.wantPass, tt.wantMsg)
			}
		})
	}
}

// TestEvalSubjectTypes checks that subjects need not come from encoding/json.
func TestEvalSubjectTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    string
		subject any
		want    bool
	}{
		{"json.Number", `{">": [{"var": "value"}, 25]}`, json.Number("30"), true},
		{"int", `{">": [{"var": "value"}, 25]}`, 30, true},
		{"int8 equality", `{"==": [{"var": "value"}, "7"]}`, int8(7), true},
		{"uint64", `{"<": [{"var": "value"}, 5]}`, uint64(3), true},
		{"typed map", `{">": [{"var": "value.n"}, 25]}`, map[string]int{"n": 30}, true},
		{"typed slice", `{"in": ["a", {"var": "value"}]}`, []string{"a"}, true},
		{"raw JSON", `{"==": [{"var": "value.k"}, 1]}`, json.RawMessage(`{"k": 1}`), true},
		{"nil", `{"<": [{"var": "value"}, 5]}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if pass, msg := mustParse(t, tt.rule).Eval(tt.subject); pass != tt.want {
				t.Errorf("Eval(%s, %#v) = (%v, %q), want %v", tt.rule, tt.subject, pass, msg, tt.want)
			}
		})
	}
}

// TestOperators checks each operator's raw result against json-logic-js.
func TestOperators(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name    string
		rule    string
		subject string
		want    any
	}{
		{"! of zero", `{"!": [0]}`, `null`, true},
		{"! of empty array", `{"!": [[]]}`, `null`, true},
		{"! of empty object", `{"!": [{"var": "value"}]}`, `{}`, false},
		{"! without brackets", `{"!": true}`, `null`, false},
		{"!! of text zero", `{"!!": ["0"]}`, `null`, true},
		{"!! of empty text", `{"!!": [""]}`, `null`, false},
		{"!! of NaN", `{"!!": [{"/": [0, 0]}]}`, `null`, false},
		{"if then", `{"if": [true, "a", "b"]}`, `null`, "a"},
		{"if else", `{"if": [false, "a", "b"]}`, `null`, "b"},
		{"if else-if", `{"if": [false, "a", true, "c", "d"]}`, `null`, "c"},
		{"if without else", `{"if": [false, "a", false, "c"]}`, `null`, nil},
		{"empty if", `{"if": []}`, `null`, nil},
		{"if with one argument", `{"if": ["x"]}`, `null`, "x"},
		{"?: with empty array condition", `{"?:": [[], "a", "b"]}`, `null`, "b"},
		{"if on data", `{"if": [{"var": "value"}, "yes", "no"]}`, `0`, "no"},
		{"=== same", `{"===": [1, 1]}`, `null`, true},
		{"=== number and text", `{"===": [1, "1"]}`, `null`, false},
		{"=== null", `{"===": [null, null]}`, `null`, true},
		{"!== number and text", `{"!==": [1, "1"]}`, `null`, true},
		{"=== same reference", `{"===": [{"var": "value"}, {"var": "value"}]}`, `[1]`, true},
		{"=== NaN", `{"===": [{"/": [0, 0]}, {"/": [0, 0]}]}`, `null`, false},
		{"+", `{"+": [1, 2]}`, `null`, 3.0},
		{"+ of texts", `{"+": ["1", "2"]}`, `null`, 3.0},
		{"+ of nothing", `{"+": []}`, `null`, 0.0},
		{"unary +", `{"+": "3"}`, `null`, 3.0},
		{"+ parses prefixes", `{"+": ["12px", 1]}`, `null`, 13.0},
		{"+ of null", `{"+": [null, 1]}`, `null`, nan},
		{"+ of boolean", `{"+": [true, 1]}`, `null`, nan},
		{"+ of floats", `{"+": [0.1, 0.2]}`, `null`, 0.30000000000000004},
		{"*", `{"*": [2, "3"]}`, `null`, 6.0},
		{"* of one argument", `{"*": ["5"]}`, `null`, "5"},
		{"* of null", `{"*": [2, null]}`, `null`, nan},
		{"unary -", `{"-": [5]}`, `null`, -5.0},
		{"-", `{"-": ["5", 2]}`, `null`, 3.0},
		{"- of null", `{"-": [null, 1]}`, `null`, -1.0},
		{"- of text", `{"-": ["a", 1]}`, `null`, nan},
		{"/", `{"/": [7, 2]}`, `null`, 3.5},
		{"/ by zero", `{"/": [1, 0]}`, `null`, inf},
		{"/ of texts", `{"/": ["8", "2"]}`, `null`, 4.0},
		{"%", `{"%": [7, 3]}`, `null`, 1.0},
		{"% keeps the dividend's sign", `{"%": [-7, 3]}`, `null`, -1.0},
		{"% by zero", `{"%": [7, 0]}`, `null`, nan},
		{"% of a fraction", `{"%": [5.5, 2]}`, `null`, 1.5},
		{"min", `{"min": [3, 1, 2]}`, `null`, 1.0},
		{"max with text", `{"max": [3, "7", 2]}`, `null`, 7.0},
		{"max with NaN", `{"max": [1, "abc"]}`, `null`, nan},
		{"min of nothing", `{"min": []}`, `null`, inf},
		{"max of nothing", `{"max": []}`, `null`, -inf},
		{"max with null", `{"max": [null, -1]}`, `null`, 0.0},
		{"cat", `{"cat": ["a", 1, null, true, [1, 2]]}`, `null`, "a1true1,2"},
		{"cat keeps spaces", `{"cat": [" a", "b "]}`, `null`, " ab "},
		{"cat of one", `{"cat": "x"}`, `null`, "x"},
		{"cat of nothing", `{"cat": []}`, `null`, ""},
		{"substr from", `{"substr": ["jsonlogic", 4]}`, `null`, "logic"},
		{"substr from the end", `{"substr": ["jsonlogic", -5]}`, `null`, "logic"},
		{"substr with length", `{"substr": ["jsonlogic", 1, 3]}`, `null`, "son"},
		{"substr dropping from the end", `{"substr": ["jsonlogic", 4, -2]}`, `null`, "log"},
		{"substr past the end", `{"substr": ["abc", 5]}`, `null`, ""},
		{"substr before the start", `{"substr": ["abc", -10]}`, `null`, "abc"},
		{"substr of a number", `{"substr": [12345, 1, 2]}`, `null`, "23"},
		{"substr in UTF-16 units", `{"substr": ["h\u00e9llo\ud83d\ude00x", 5, 2]}`, `null`, "\U0001F600"},
		{"substr with a NaN start", `{"substr": ["abc", "x"]}`, `null`, "abc"},
		{"substr with a NaN length", `{"substr": ["abc", 0, "x"]}`, `null`, ""},
		{"substr without start", `{"substr": ["abc"]}`, `null`, "abc"},
		{"substr of null", `{"substr": [null, 0]}`, `null`, "null"},
		{"merge", `{"merge": [[1, 2], 3, [[4]], null]}`, `null`, []any{1.0, 2.0, 3.0, []any{4.0}, nil}},
		{"merge of nothing", `{"merge": []}`, `null`, []any{}},
		{"merge of an object", `{"merge": [{"var": "value"}]}`, `{"k": 1}`, []any{map[string]any{"k": 1.0}}},
		{"missing", `{"missing": ["value.a", "value.b", "value.c"]}`, `{"a": 1, "b": "", "c": null}`, []any{"value.b", "value.c"}},
		{"missing with a list", `{"missing": [["value.a", "value.x"]]}`, `{"a": 1}`, []any{"value.x"}},
		{"missing of one", `{"missing": "value.z"}`, `{}`, []any{"value.z"}},
		{"missing_some satisfied", `{"missing_some": [1, ["value.a", "value.x"]]}`, `{"a": 1}`, []any{}},
		{"missing_some unsatisfied", `{"missing_some": [2, ["value.a", "value.x"]]}`, `{"a": 1}`, []any{"value.x"}},
		{"var index", `{"var": "value.list.1"}`, `{"list": [1, 2]}`, 2.0},
		{"var array length", `{"var": "value.list.length"}`, `{"list": [1, 2]}`, 2.0},
		{"var string length", `{"var": "value.s.length"}`, `{"s": "h\u00e9llo"}`, 5.0},
		{"var default", `{"var": ["value.x", 42]}`, `{}`, 42.0},
		{"var null is not replaced by the default", `{"var": ["value.n", 42]}`, `{"n": null}`, nil},
		{"var does not skip primitives", `{"var": "value.a.b"}`, `{"a": "x", "b": 5}`, nil},
		{"var of a named key on an array", `{"var": "value.x"}`, `[7]`, nil},
		{"var of the whole data", `{"var": ""}`, `1`, map[string]any{"value": 1.0}},
		{"var without arguments", `{"var": []}`, `1`, map[string]any{"value": 1.0}},
		{"var of null", `{"var": null}`, `1`, map[string]any{"value": 1.0}},
		{"var with a computed path", `{"var": {"cat": ["value.", "k"]}}`, `{"k": "v"}`, "v"},
		{"var returns a present false, not the default", `{"var": ["value", 0]}`, `false`, false},
		{"array literal with operations", `[1, {"var": "value"}]`, `2`, []any{1.0, 2.0}},
		{"object literal", `{"==": [{}, 1]}`, `null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := mustParse(t, tt.rule).apply(decode(t, tt.subject))
			if err != nil {
				t.Fatalf("apply(%s): %v", tt.rule, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateNaNs(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("apply(%s, %s) (-want +got):\n%s", tt.rule, tt.subject, diff)
			}
		})
	}
}

func TestSignedZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		rule         string
		wantNegative bool
	}{
		{`{"min": [0, {"-": [0]}]}`, true},
		{`{"max": [{"-": [0]}, 0]}`, false},
		{`{"-": [0]}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			t.Parallel()
			got, err := mustParse(t, tt.rule).apply(nil)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := got.(float64)
			if !ok || f != 0 || math.Signbit(f) != tt.wantNegative {
				t.Errorf("apply(%s) = %v (negative %v), want zero, negative %v", tt.rule, got, math.Signbit(f), tt.wantNegative)
			}
		})
	}
}

func TestCompareUTF16(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"a", "b", -1},
		{"b", "a", 1},
		{"a", "a", 0},
		{"a", "ab", -1},
		{"", "a", -1},
		{"\uff5e", "\U0001F600", 1}, // U+FF5E > high surrogate U+D83D
		{"\U0001F600", "\U0001F601", -1},
		{"\U0001F600", "\U0001F600x", -1},
	}
	for _, tt := range tests {
		t.Run(tt.a+"|"+tt.b, func(t *testing.T) {
			t.Parallel()
			got := compareUTF16(tt.a, tt.b)
			if sign(got) != tt.want {
				t.Errorf("compareUTF16(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
