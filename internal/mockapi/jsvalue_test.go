package mockapi

import (
	"math"
	"testing"
)

func TestFormatJSNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-2.5, "-2.5"}, {36.6, "36.6"},
		{100, "100"}, {0.30000000000000004, "0.30000000000000004"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1.5e22, "1.5e+22"}, {0.000001, "0.000001"}, {1e-7, "1e-7"},
		{1.25e-7, "1.25e-7"}, {123456789012345680000, "123456789012345680000"},
		{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
	}
	for _, tc := range tests {
		if got := formatJSNumber(tc.in); got != tc.want {
			t.Errorf("formatJSNumber(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want float64 // NaN: not a number
	}{
		{"250", 250}, {"  42", 42}, {"12abc", 12}, {"-5", -5}, {"+7", 7}, {"0x1A", 26},
		{"0X10", 16}, {"1e3", 1}, {"3.9", 3}, {"0", 0}, {"", math.NaN()}, {"abc", math.NaN()},
		{"-", math.NaN()}, {"0x", math.NaN()}, {"0b11", 0},
	}
	for _, tc := range tests {
		got := parseInt(tc.in)
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("parseInt(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestJSValueSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw    string // "" is undefined
		str    string
		truthy bool
		number float64 // NaN: not a number
	}{
		{"", "undefined", false, math.NaN()},
		{"null", "null", false, 0},
		{"true", "true", true, 1},
		{"false", "false", false, 0},
		{"0", "0", false, 0},
		{"-0.0", "0", false, 0},
		{"1.50", "1.5", true, 1.5},
		{"1e400", "Infinity", true, math.Inf(1)},
		{`""`, "", false, 0},
		{`"0"`, "0", true, 0},
		{`" 36.5 "`, " 36.5 ", true, 36.5},
		{`"0x1f"`, "0x1f", true, 31},
		{`"1,5"`, "1,5", true, math.NaN()},
		{`"Infinity"`, "Infinity", true, math.Inf(1)},
		{`"inf"`, "inf", true, math.NaN()},
		{`"1_000"`, "1_000", true, math.NaN()},
		{`{}`, "[object Object]", true, math.NaN()},
		{`[]`, "", true, 0},
		{`[31]`, "31", true, 31},
		{`[1,null,[2,"a"],{}]`, "1,,2,a,[object Object]", true, math.NaN()},
		{`"\u00e9\ud83d\ude00"`, "é😀", true, math.NaN()},
	}
	for _, tc := range tests {
		var v jsValue
		if tc.raw != "" {
			v = jsValue(tc.raw)
		}
		if got := v.String(); got != tc.str {
			t.Errorf("String(%s) = %q, want %q", tc.raw, got, tc.str)
		}
		if got := v.truthy(); got != tc.truthy {
			t.Errorf("truthy(%s) = %v, want %v", tc.raw, got, tc.truthy)
		}
		if got := v.toNumber(); got != tc.number && !(math.IsNaN(got) && math.IsNaN(tc.number)) {
			t.Errorf("toNumber(%s) = %v, want %v", tc.raw, got, tc.number)
		}
	}
}

func TestBodyDefaults(t *testing.T) {
	t.Parallel()
	b := body{"empty": jsValue(`""`), "null": jsValue(`null`), "name": jsValue(`"Ada"`)}
	tests := []struct {
		name string
		got  jsValue
		want string
	}{
		{"|| replaces empty", b.or("empty", "d"), `"d"`},
		{"|| replaces null", b.or("null", "d"), `"d"`},
		{"|| replaces undefined", b.or("missing", "d"), `"d"`},
		{"|| keeps truthy", b.or("name", "d"), `"Ada"`},
		{"= keeps empty", b.orDefault("empty", jsString("d")), `""`},
		{"= keeps null", b.orDefault("null", jsString("d")), `null`},
		{"= replaces undefined", b.orDefault("missing", jsString("d")), `"d"`},
		{"jsString does not HTML-escape", jsString(`<a&b>`), `"<a&b>"`},
	}
	for _, tc := range tests {
		if string(tc.got) != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, tc.got, tc.want)
		}
	}
}

func TestRound1(t *testing.T) {
	t.Parallel()
	for in, want := range map[float64]float64{22.04: 22, 22.05: 22.1, 37.96: 38, 30.25: 30.3, 45.99: 46} {
		if got := round1(in); math.Abs(got-want) > 1e-9 {
			t.Errorf("round1(%v) = %v, want %v", in, got, want)
		}
	}
}
