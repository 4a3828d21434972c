package expr

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFormatNumber(t *testing.T) {
	t.Parallel()
	tenth := 0.1 // a variable, so 0.1 + 0.2 is computed in float64, not as an exact constant
	tests := []struct {
		in   float64
		want string
	}{
		{35, "35"},
		{25.5, "25.5"},
		{tenth + 0.2, "0.30000000000000004"},
		{-1.5, "-1.5"},
		{math.Copysign(0, -1), "0"},
		{0, "0"},
		{100, "100"},
		{1e20, "100000000000000000000"},
		{123456789012345680000, "123456789012345680000"},
		{1e21, "1e+21"},
		{1.2e21, "1.2e+21"},
		{-1e21, "-1e+21"},
		{0.000001, "0.000001"},
		{0.0000015, "0.0000015"},
		{1e-7, "1e-7"},
		{1.5e-7, "1.5e-7"},
		{123.456, "123.456"},
		{9007199254740992, "9007199254740992"},
		{5e-324, "5e-324"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := formatNumber(tt.in); got != tt.want {
				t.Errorf("formatNumber(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringToNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64 // NaN compares via isNaN
	}{
		{"30", 30},
		{" 30 ", 30},
		{"\n\t30\u00a0", 30},
		{"", 0},
		{"   ", 0},
		{"-2.5", -2.5},
		{"+2.5", 2.5},
		{".5", 0.5},
		{"5.", 5},
		{"1e3", 1000},
		{"1E-2", 0.01},
		{"0x1F", 31},
		{"0o17", 15},
		{"0b101", 5},
		{"00", 0},
		{"1e400", math.Inf(1)},
		{"Infinity", math.Inf(1)},
		{"-Infinity", math.Inf(-1)},
		{"abc", math.NaN()},
		{"12px", math.NaN()},
		{"1_000", math.NaN()},
		{"inf", math.NaN()},
		{"NaN", math.NaN()},
		{"0x", math.NaN()},
		{"-0x10", math.NaN()},
		{"0x1g", math.NaN()},
		{"1e", math.NaN()},
		{".", math.NaN()},
		{"1.2.3", math.NaN()},
		{"0x1p3", math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := stringToNumber(tt.in)
			if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
				t.Errorf("stringToNumber(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseFloatJS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want float64
	}{
		{"number", 2.5, 2.5},
		{"string", "2.5", 2.5},
		{"prefix", "12px", 12},
		{"leading space", "  7", 7},
		{"exponent", "1e2x", 100},
		{"dangling exponent", "1e", 1},
		{"infinity prefix", "-Infinityx", math.Inf(-1)},
		{"empty", "", math.NaN()},
		{"null", nil, math.NaN()},
		{"boolean", true, math.NaN()},
		{"array", []any{1.5, 2.0}, 1.5},
		{"hex is not parsed", "0x10", 0},
		{"double sign", "--1", math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := parseFloatJS(tt.in)
			if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
				t.Errorf("parseFloatJS(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestJSString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, "null"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"integer", 35.0, "35"},
		{"string", "a\"b", "a\"b"},
		{"array", []any{1.0, "a", true}, "1,a,true"},
		{"nested array with null", []any{1.0, []any{2.0, nil, 3.0}, nil, "x"}, "1,2,,3,,x"},
		{"empty array", []any{}, ""},
		{"object", map[string]any{"a": 1.0}, "[object Object]"},
		{"array of objects", []any{map[string]any{}, map[string]any{}}, "[object Object],[object Object]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := jsString(tt.in); got != tt.want {
				t.Errorf("jsString(%v) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAppendJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"null", nil, `null`},
		{"number", 25.5, `25.5`},
		{"large number", 1e21, `1e+21`},
		{"NaN", math.NaN(), `null`},
		{"infinity", math.Inf(-1), `null`},
		{"escapes", "q\"b\\n\n\t\r\x01\u2028", `"q\"b\\n\n\t\r\u0001\u2028"`},
		{"invalid UTF-8", "a\xffb", `"a\ufffdb"`},
		{"no HTML escaping", "<a&b>", `"<a&b>"`},
		{"array", []any{1.0, nil, "x", false}, `[1,null,"x",false]`},
		{"object with sorted keys", map[string]any{"b": 1.0, "a": []any{}}, `{"a":[],"b":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := string(appendJSON(nil, tt.in))
			if got != tt.want {
				t.Errorf("appendJSON(%v) = %s, want %s", tt.in, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("appendJSON(%v) = %s is not valid JSON", tt.in, got)
			}
		})
	}
}

func TestToJS(t *testing.T) {
	t.Parallel()
	type point struct {
		X int `json:"x"`
	}
	type label string
	tests := []struct {
		name string
		in   any
		want any
	}{
		{"json.Number", json.Number("30"), 30.0},
		{"int", 7, 7.0},
		{"uint8", uint8(7), 7.0},
		{"float32", float32(0.5), 0.5},
		{"named string", label("x"), "x"},
		{"typed map", map[string]int{"a": 1}, map[string]any{"a": 1.0}},
		{"typed slice", []string{"a"}, []any{"a"}},
		{"array", [2]int{1, 2}, []any{1.0, 2.0}},
		{"nil slice", []string(nil), nil},
		{"nil array", []any(nil), nil},
		{"nil map", map[string]any(nil), nil},
		{"nil typed map", map[string]int(nil), nil},
		{"pointer", &point{X: 3}, map[string]any{"x": 3.0}},
		{"struct", point{X: 3}, map[string]any{"x": 3.0}},
		{"raw message", json.RawMessage(`{"a":[1]}`), map[string]any{"a": []any{1.0}}},
		{"bad raw message", json.RawMessage(`{`), nil},
		{"bytes", []byte("hi"), "aGk="},
		{"nested", map[string]any{"a": []any{json.Number("1"), int64(2)}}, map[string]any{"a": []any{1.0, 2.0}}},
		{"function", func() {}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, toJS(tt.in)); diff != "" {
				t.Errorf("toJS(%#v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestToJSCopies(t *testing.T) {
	t.Parallel()
	in := map[string]any{"list": []any{1.0}, "obj": map[string]any{"k": "v"}}
	out := toJS(in).(map[string]any)
	out["list"].([]any)[0] = "changed"
	out["obj"].(map[string]any)["k"] = "changed"
	want := map[string]any{"list": []any{1.0}, "obj": map[string]any{"k": "v"}}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("toJS shares data with its input (-want +got):\n%s", diff)
	}
}

func TestToJSCycle(t *testing.T) {
	t.Parallel()
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	if toJS(cyclic) == nil {
		t.Fatal("toJS of a cyclic map returned nil at the top")
	}
}
