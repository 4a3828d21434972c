package expr

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf16"
)

// operator is one json-logic operation. Most operators get their arguments evaluated
// (eager); and, or and if evaluate only what they need (lazy), as json-logic-js does.
type operator struct {
	name             string
	minArgs, maxArgs int // maxArgs < 0: no limit
	eager            func(args []any, data any, m *Meter) (any, error)
	lazy             func(args []*term, data any, m *Meter) (any, error)
}

func (o *operator) apply(args []*term, data any, m *Meter) (any, error) {
	if o.lazy != nil {
		return o.lazy(args, data, m)
	}
	vals := make([]any, len(args))
	for i, a := range args {
		v, err := a.eval(data, m)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return o.eager(vals, data, m)
}

func (o *operator) checkArity(n int) error {
	if n >= o.minArgs && (o.maxArgs < 0 || n <= o.maxArgs) {
		return nil
	}
	want := fmt.Sprintf("%d to %s", o.minArgs, arguments(o.maxArgs))
	switch {
	case o.maxArgs < 0:
		want = "at least " + arguments(o.minArgs)
	case o.minArgs == o.maxArgs:
		want = arguments(o.minArgs)
	}
	return fmt.Errorf("operator %q takes %s, got %d", o.name, want, n)
}

func arguments(n int) string {
	if n == 1 {
		return "1 argument"
	}
	return fmt.Sprintf("%d arguments", n)
}

// lookupOperator returns the supported operators: json-logic-js's standard set except log,
// method calls and the array operators (map, filter, reduce, all, some, none).
func lookupOperator(name string) (*operator, bool) {
	eager := func(lo, hi int, fn func([]any, any, *Meter) (any, error)) (*operator, bool) {
		return &operator{name: name, minArgs: lo, maxArgs: hi, eager: fn}, true
	}
	// pure is an operator that needs only its arguments; cost charges the meter for what fn
	// will build before fn builds it.
	pure := func(lo, hi int, cost func(*Meter, []any) error, fn func([]any) any) (*operator, bool) {
		return eager(lo, hi, func(args []any, _ any, m *Meter) (any, error) {
			if err := cost(m, args); err != nil {
				return nil, err
			}
			return fn(args), nil
		})
	}
	lazy := func(fn func([]*term, any, *Meter) (any, error)) (*operator, bool) {
		return &operator{name: name, maxArgs: -1, lazy: fn}, true
	}
	free := func(*Meter, []any) error { return nil }
	coerced := (*Meter).chargeCoercions
	switch name {
	case "var":
		return eager(0, 2, opVar)
	case "missing":
		return eager(0, -1, opMissing)
	case "missing_some":
		return eager(2, 2, opMissingSome)
	case "if", "?:":
		return lazy(opIf)
	case "and":
		return lazy(func(args []*term, data any, m *Meter) (any, error) { return shortCircuit(args, data, m, false) })
	case "or":
		return lazy(func(args []*term, data any, m *Meter) (any, error) { return shortCircuit(args, data, m, true) })
	case "!":
		return pure(1, 1, free, func(a []any) any { return !logicTruthy(a[0]) })
	case "!!":
		return pure(1, 1, free, func(a []any) any { return logicTruthy(a[0]) })
	case "==":
		return pure(2, 2, coerced, func(a []any) any { return looseEquals(a[0], a[1]) })
	case "!=":
		return pure(2, 2, coerced, func(a []any) any { return !looseEquals(a[0], a[1]) })
	case "===":
		return pure(2, 2, free, func(a []any) any { return strictEquals(a[0], a[1]) })
	case "!==":
		return pure(2, 2, free, func(a []any) any { return !strictEquals(a[0], a[1]) })
	case "<":
		return pure(2, 3, chargeCompare, func(a []any) any { return chain(a, lessThan) })
	case "<=":
		return pure(2, 3, chargeCompare, func(a []any) any { return chain(a, lessOrEqual) })
	case ">":
		return pure(2, 2, chargeCompare, func(a []any) any { return lessThan(a[1], a[0]) })
	case ">=":
		return pure(2, 2, chargeCompare, func(a []any) any { return lessOrEqual(a[1], a[0]) })
	case "in":
		return pure(2, 2, chargeIn, opIn)
	case "cat":
		return pure(0, -1, chargeCat, opCat)
	case "substr":
		return pure(1, 3, chargeSubstr, opSubstr)
	case "merge":
		return pure(0, -1, chargeMerge, opMerge)
	case "+":
		return pure(0, -1, coerced, opAdd)
	case "*":
		return pure(1, -1, coerced, opMultiply)
	case "-":
		return pure(1, 2, coerced, opSubtract)
	case "/":
		return pure(2, 2, coerced, func(a []any) any { return toNumber(a[0]) / toNumber(a[1]) })
	case "%":
		return pure(2, 2, coerced, func(a []any) any { return math.Mod(toNumber(a[0]), toNumber(a[1])) })
	case "min":
		return pure(0, -1, coerced, func(a []any) any { return extremum(a, false) })
	case "max":
		return pure(0, -1, coerced, func(a []any) any { return extremum(a, true) })
	}
	return nil, false
}

// opVar is {"var": [path, default]}: path is split on "." and followed through objects (own
// keys), arrays (indexes, length) and strings (indexes, length). A missing step gives the
// default, or null; an empty or null path gives the whole data.
func opVar(args []any, data any, m *Meter) (any, error) {
	var notFound any
	if len(args) > 1 {
		notFound = args[1]
	}
	if len(args) == 0 || args[0] == nil || args[0] == "" {
		return data, nil
	}
	if err := m.chargeText(args[0]); err != nil {
		return nil, err
	}
	path := jsString(args[0])
	keys := strings.Count(path, ".") + 1
	if err := m.alloc(elemBytes * keys); err != nil {
		return nil, err
	}
	cur := data
	for _, key := range strings.Split(path, ".") {
		if cur == nil {
			return notFound, nil
		}
		if err := m.step(stepCost(cur)); err != nil {
			return nil, err
		}
		next, ok := ownProperty(cur, key)
		if !ok {
			return notFound, nil
		}
		cur = next
	}
	return cur, nil
}

// opMissing lists the keys (the arguments, or the array that is the first argument) whose
// value is null, missing or "".
func opMissing(args []any, data any, m *Meter) (any, error) {
	keys := args
	if len(args) > 0 {
		if list, ok := args[0].([]any); ok {
			keys = list
		}
	}
	if err := m.alloc(elemBytes * len(keys)); err != nil {
		return nil, err
	}
	missing := newArray(0)
	for _, key := range keys {
		v, err := opVar([]any{key}, data, m)
		if err != nil {
			return nil, err
		}
		if v == nil || v == "" {
			missing = append(missing, key)
		}
	}
	return missing, nil
}

// opMissingSome is {"missing_some": [need, keys]}: [] when at least need keys are present,
// otherwise the missing keys.
func opMissingSome(args []any, data any, meter *Meter) (any, error) {
	keys, ok := args[1].([]any)
	if !ok {
		return nil, errors.New("missing_some: the second argument must be an array of keys")
	}
	m, err := opMissing([]any{keys}, data, meter)
	if err != nil {
		return nil, err
	}
	missing := m.([]any)
	if lessOrEqual(args[0], float64(len(keys)-len(missing))) {
		return newArray(0), nil
	}
	return missing, nil
}

// opIf is {"if": [cond, then, cond, then, ..., else]}: the branch of the first truthy
// condition, else the last argument when the count is odd, else null.
func opIf(args []*term, data any, m *Meter) (any, error) {
	i := 0
	for ; i+1 < len(args); i += 2 {
		cond, err := args[i].eval(data, m)
		if err != nil {
			return nil, err
		}
		if logicTruthy(cond) {
			return args[i+1].eval(data, m)
		}
	}
	if i < len(args) {
		return args[i].eval(data, m)
	}
	return nil, nil
}

// shortCircuit is and (stopAt false) and or (stopAt true): it returns the first operand whose
// truthiness is stopAt, or the last operand, or null when there are none.
func shortCircuit(args []*term, data any, m *Meter, stopAt bool) (any, error) {
	var current any
	for _, a := range args {
		v, err := a.eval(data, m)
		if err != nil {
			return nil, err
		}
		if logicTruthy(v) == stopAt {
			return v, nil
		}
		current = v
	}
	return current, nil
}

// chain is json-logic's two- or three-argument < and <=: a < b, or a < b < c ("between").
func chain(args []any, less func(a, b any) bool) bool {
	if !less(args[0], args[1]) {
		return false
	}
	return len(args) < 3 || less(args[1], args[2])
}

// opIn is {"in": [needle, haystack]}: strict membership in an array, a substring test in a
// non-empty string (the needle converted with String()), false for anything else.
func opIn(args []any) any {
	switch hay := args[1].(type) {
	case string:
		return hay != "" && strings.Contains(hay, jsString(args[0]))
	case []any:
		return slices.ContainsFunc(hay, func(e any) bool { return strictEquals(args[0], e) })
	}
	return false
}

// opCat concatenates its arguments' String() (null as "").
func opCat(args []any) any {
	var b strings.Builder
	b.Grow(catSize(args, math.MaxInt))
	for _, a := range args {
		b.WriteString(joinElement(a))
	}
	return b.String()
}

// opSubstr is json-logic-js's substr: String.prototype.substr(start, length) on
// String(source), in UTF-16 units; a negative length drops that many units from the end.
func opSubstr(args []any) any {
	units := utf16.Encode([]rune(jsString(args[0])))
	start := 0.0
	if len(args) > 1 {
		start = toNumber(args[1])
	}
	rest := units[substrStart(start, len(units)):]
	if len(args) < 3 {
		return string(utf16.Decode(rest))
	}
	length := toNumber(args[2])
	if length < 0 {
		length += float64(len(rest))
	}
	n := math.Max(0, math.Min(integerOrInfinity(length), float64(len(rest))))
	return string(utf16.Decode(rest[:int(n)]))
}

// substrStart resolves substr's start against a string of size units: negative counts from
// the end, and the result is clamped to [0, size].
func substrStart(start float64, size int) int {
	s := integerOrInfinity(start)
	if s < 0 {
		s += float64(size)
	}
	return int(math.Max(0, math.Min(s, float64(size))))
}

// integerOrInfinity is ECMAScript's ToIntegerOrInfinity for a number: NaN is 0, the rest is
// truncated.
func integerOrInfinity(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Trunc(f)
}

// opMerge flattens its arguments one level into a new array.
func opMerge(args []any) any {
	out := newArray(0)
	for _, a := range args {
		if list, ok := a.([]any); ok {
			out = append(out, list...)
		} else {
			out = append(out, a)
		}
	}
	return out
}

// opAdd is json-logic-js's +: the sum of parseFloat of each argument.
func opAdd(args []any) any {
	sum := 0.0
	for _, a := range args {
		sum += parseFloatJS(a)
	}
	return sum
}

// opMultiply is json-logic-js's *: a lone argument comes back unconverted, as reduce without
// an initial value returns it; otherwise the product of parseFloat of each.
func opMultiply(args []any) any {
	if len(args) == 1 {
		return args[0]
	}
	product := parseFloatJS(args[0])
	for _, a := range args[1:] {
		product *= parseFloatJS(a)
	}
	return product
}

// opSubtract is -a for one argument and a - b for two, with Number() coercion.
func opSubtract(args []any) any {
	if len(args) == 1 {
		return -toNumber(args[0])
	}
	return toNumber(args[0]) - toNumber(args[1])
}

// extremum is Math.max (isMax) or Math.min: NaN if any argument is NaN after Number(),
// -Infinity or +Infinity without arguments, and +0 above -0.
func extremum(args []any, isMax bool) float64 {
	best := math.Inf(1)
	if isMax {
		best = math.Inf(-1)
	}
	for _, a := range args {
		n := toNumber(a)
		bothZero := n == 0 && best == 0
		switch {
		case math.IsNaN(n):
			return n
		case isMax && (n > best || bothZero && !math.Signbit(n)):
			best = n
		case !isMax && (n < best || bothZero && math.Signbit(n)):
			best = n
		}
	}
	return best
}

// catSize is the length of cat's result, counted up to limit.
func catSize(args []any, limit int) int {
	n := 0
	for _, a := range args {
		if n > limit {
			break
		}
		if a != nil {
			n += textSize(a, limit-n)
		}
	}
	return n
}

// chargeCat charges cat's result.
func chargeCat(m *Meter, args []any) error {
	return m.alloc(catSize(args, m.room()+1))
}

// chargeSubstr charges substr's rune and UTF-16 copies of its source and the result.
func chargeSubstr(m *Meter, args []any) error {
	return m.alloc(7 * textSize(args[0], m.room()/7+1))
}

// chargeMerge charges merge's result array.
func chargeMerge(m *Meter, args []any) error {
	n := 0
	for _, a := range args {
		if list, ok := a.([]any); ok {
			n += len(list)
		} else {
			n++
		}
	}
	return m.alloc(elemBytes * n)
}

// chargeCompare charges the coercions of < and friends and the rune copies that compare
// strings.
func chargeCompare(m *Meter, args []any) error {
	for _, a := range args {
		if err := m.alloc(4 * textSize(a, m.room()/4+1)); err != nil {
			return err
		}
	}
	return m.chargeCoercions(args)
}

// chargeIn charges the needle's String() and the scan of the haystack.
func chargeIn(m *Meter, args []any) error {
	if err := m.chargeText(args[0]); err != nil {
		return err
	}
	switch hay := args[1].(type) {
	case string:
		return m.step(len(hay)/64 + 1)
	case []any:
		return m.step(len(hay))
	}
	return nil
}
