package expr

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// toNumber is JavaScript's Number(v) for the model: null is 0, booleans are 0 and 1, strings
// are parsed by stringToNumber, arrays and objects go through their String() first.
func toNumber(v any) float64 {
	switch t := v.(type) {
	case nil:
		return 0
	case bool:
		if t {
			return 1
		}
		return 0
	case float64:
		return t
	case string:
		return stringToNumber(t)
	}
	return stringToNumber(jsString(v))
}

// stringToNumber is JavaScript's StringToNumber: surrounding white space is ignored, an empty
// string is 0, "Infinity" and 0x/0o/0b literals are accepted, and anything that is not a
// complete decimal literal is NaN (so "12px" and "1_000" are NaN, unlike strconv).
func stringToNumber(s string) float64 {
	s = strings.TrimFunc(s, isJSSpace)
	switch s {
	case "":
		return 0
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		if base := radixOf(s[1]); base != 0 {
			return parseRadix(s[2:], base)
		}
	}
	if decimalPrefix(s) != len(s) {
		return math.NaN()
	}
	return parseDecimal(s)
}

// parseFloatJS is JavaScript's global parseFloat(String(v)): leading white space is skipped
// and the longest decimal literal at the start is parsed; NaN if there is none.
func parseFloatJS(v any) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	s := strings.TrimLeftFunc(jsString(v), isJSSpace)
	unsigned := strings.TrimLeft(s, "+-")
	if len(s)-len(unsigned) <= 1 && strings.HasPrefix(unsigned, "Infinity") {
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	n := decimalPrefix(s)
	if n == 0 {
		return math.NaN()
	}
	return parseDecimal(s[:n])
}

// decimalPrefix returns the length of the longest StrDecimalLiteral without "Infinity" at the
// start of s: [+-] digits [. digits] [e [+-] digits], or [+-] . digits [e ...]. It is 0 when
// there is none.
func decimalPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	intDigits := countDigits(s[i:])
	i += intDigits
	fracDigits := 0
	if i < len(s) && s[i] == '.' {
		fracDigits = countDigits(s[i+1:])
		if intDigits > 0 || fracDigits > 0 {
			i += 1 + fracDigits
		}
	}
	if intDigits == 0 && fracDigits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if d := countDigits(s[j:]); d > 0 {
			i = j + d
		}
	}
	return i
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// parseDecimal parses a string that decimalPrefix accepted in full. Overflow gives ±Infinity,
// as in JavaScript.
func parseDecimal(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !isRangeErr(err) {
		return math.NaN()
	}
	return f
}

func isRangeErr(err error) bool {
	return errors.Is(err, strconv.ErrRange)
}

func radixOf(c byte) int {
	switch c {
	case 'x', 'X':
		return 16
	case 'o', 'O':
		return 8
	case 'b', 'B':
		return 2
	}
	return 0
}

// parseRadix parses the digits of a 0x, 0o or 0b literal; NaN if any is invalid.
func parseRadix(digits string, base int) float64 {
	f := 0.0
	for _, c := range digits {
		d := strings.IndexRune("0123456789abcdef", unicode.ToLower(c))
		if d < 0 || d >= base {
			return math.NaN()
		}
		f = f*float64(base) + float64(d)
	}
	return f
}

// isJSSpace reports whether r is JavaScript white space or a line terminator, the characters
// Number() and parseFloat() ignore around a number.
func isJSSpace(r rune) bool {
	switch r {
	case '\t', '\n', '\v', '\f', '\r', '\ufeff', '\u2028', '\u2029':
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

// formatNumber is JavaScript's Number.prototype.toString(): the shortest digits that round-trip
// (what strconv gives too), in plain notation for 1e-7 < |f| < 1e21 and in exponent notation
// ("1e+21", "1.5e-7") outside it; -0 is "0".
func formatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	case f < 0:
		return "-" + formatNumber(-f)
	}
	mantissa, exp, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
	digits := strings.Replace(mantissa, ".", "", 1)
	e, _ := strconv.Atoi(exp)
	k, n := len(digits), e+1 // value = 0.digits × 10^n, digits has k digits
	switch {
	case k <= n && n <= 21:
		return digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return "0." + strings.Repeat("0", -n) + digits
	}
	sign := "+"
	if n-1 < 0 {
		sign = "-"
	}
	exponent := "e" + sign + strconv.Itoa(abs(n-1))
	if k == 1 {
		return digits + exponent
	}
	return digits[:1] + "." + digits[1:] + exponent
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
