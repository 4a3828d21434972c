package mockapi

import (
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

func nan() float64 { return math.NaN() }

// jsNumber is a number that JSON.stringify would print: JavaScript's number
// formatting, and null for NaN and ±Infinity.
type jsNumber float64

// MarshalJSON implements json.Marshaler.
func (n jsNumber) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return []byte(formatJSNumber(f)), nil
}

// formatJSNumber is JavaScript's Number.prototype.toString() (ECMA-262
// Number::toString): shortest round-trip digits, plain notation for decimal
// exponents in [-6, 21), exponential ("1e+21", "1.5e-7") otherwise.
func formatJSNumber(f float64) string {
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
		return "-" + formatJSNumber(-f)
	}
	// "d.ddddde±XX": digits and the exponent of the first digit.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mantissa, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mantissa, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // value = 0.digits × 10^n
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
	expPart := "e" + sign + strconv.Itoa(abs(n-1))
	if k == 1 {
		return digits + expPart
	}
	return digits[:1] + "." + digits[1:] + expPart
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// parseJSONNumber parses JSON number text; out-of-range values become
// ±Infinity as in JSON.parse.
func parseJSONNumber(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return nan()
	}
	return f
}

var jsDecimal = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$`)

// stringToNumber is JavaScript's ToNumber applied to a string.
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
		if base := radixPrefix(s[1]); base != 0 {
			return parseDigits(s[2:], base, true)
		}
	}
	if !jsDecimal.MatchString(s) {
		return nan()
	}
	return parseJSONNumber(s)
}

// parseInt is JavaScript's parseInt(s) without a radix: leading whitespace
// and sign, an optional 0x prefix, then the longest run of digits; NaN when
// there is none.
func parseInt(s string) float64 {
	s = strings.TrimLeftFunc(s, isJSSpace)
	sign := 1.0
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	base := 10
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	end := 0
	for end < len(s) && digitValue(s[end]) < base {
		end++
	}
	if end == 0 {
		return nan()
	}
	return sign * parseDigits(s[:end], base, false)
}

// parseDigits reads s as an unsigned integer in base. With strict, any
// character that is not a digit makes the result NaN.
func parseDigits(s string, base int, strict bool) float64 {
	if base == 10 {
		return parseJSONNumber(s)
	}
	for i := 0; i < len(s); i++ {
		if digitValue(s[i]) >= base {
			if strict {
				return nan()
			}
			s = s[:i]
			break
		}
	}
	n, ok := new(big.Int).SetString(s, base)
	if !ok {
		return nan()
	}
	f, _ := new(big.Float).SetInt(n).Float64()
	return f
}

func radixPrefix(c byte) int {
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

// digitValue is the value of an ASCII digit or letter, 36 for anything else.
func digitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return 36
}

func isJSSpace(r rune) bool { return unicode.IsSpace(r) || r == '\uFEFF' }
