package expr

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// The rule evaluator works on the JavaScript value model that JSON decodes to: nil (null),
// bool, float64, string, []any (array) and map[string]any (object). toJS brings any Go value
// into it; everything else in this file assumes it.

// maxDepth bounds how deep toJS descends, so a cyclic Go value cannot recurse forever. JSON
// itself cannot nest deeper than encoding/json's limit of 10000.
const maxDepth = 10000

// toJS returns a deep copy of v in the JavaScript value model: numbers of any Go type and
// json.Number become float64, maps with string keys become map[string]any, slices and arrays
// become []any, nil maps and slices become null as in encoding/json, json.RawMessage is
// decoded, and other values go through a JSON round trip (nil if that fails). The copy shares
// nothing with v, so evaluations never race on it.
func toJS(v any) any {
	return toJSDepth(v, 0)
}

func toJSDepth(v any, depth int) any {
	if depth > maxDepth {
		return nil
	}
	switch t := v.(type) {
	case nil, bool, float64, string:
		return t
	case map[string]any:
		if t == nil {
			return nil
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = toJSDepth(e, depth+1)
		}
		return out
	case []any:
		if t == nil {
			return nil
		}
		out := newArray(len(t))
		for i, e := range t {
			out[i] = toJSDepth(e, depth+1)
		}
		return out
	case json.RawMessage:
		var decoded any
		if err := json.Unmarshal(t, &decoded); err != nil {
			return nil
		}
		return decoded
	case []byte:
		return viaJSON(t)
	}
	if s, ok := scalarOK(v); ok {
		return s
	}
	return reflectToJS(reflect.ValueOf(v), depth)
}

// reflectToJS converts typed maps, slices, arrays and pointers; other kinds go through JSON.
func reflectToJS(rv reflect.Value, depth int) any {
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil
		}
		return toJSDepth(rv.Elem().Interface(), depth+1)
	case reflect.Map:
		if rv.IsNil() {
			return nil
		}
		if rv.Type().Key().Kind() != reflect.String {
			return viaJSON(rv.Interface())
		}
		out := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			out[it.Key().String()] = toJSDepth(it.Value().Interface(), depth+1)
		}
		return out
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil
		}
		out := newArray(rv.Len())
		for i := range out {
			out[i] = toJSDepth(rv.Index(i).Interface(), depth+1)
		}
		return out
	}
	return viaJSON(rv.Interface())
}

// viaJSON converts v by marshalling and unmarshalling it; nil if v has no JSON form.
func viaJSON(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var decoded any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		return nil
	}
	return decoded
}

// newArray allocates an array whose backing store is its own even when it is empty, so that
// reference equality (sameRef) tells two empty arrays apart as JavaScript does.
func newArray(n int) []any {
	return make([]any, n, max(n, 1))
}

// scalar converts a Go scalar (json.Number, any integer or float type, named string and bool
// types, pointers to them) to its JavaScript primitive. Other values come back unchanged.
func scalar(v any) any {
	if s, ok := scalarOK(v); ok {
		return s
	}
	return v
}

func scalarOK(v any) (any, bool) {
	switch t := v.(type) {
	case nil, bool, float64, string:
		return t, true
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil && !isRangeErr(err) {
			return math.NaN(), true
		}
		return f, true
	case map[string]any, []any:
		return v, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.String:
		return rv.String(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, true
		}
		return scalarOK(rv.Elem().Interface())
	}
	return v, false
}

// jsBoolean is JavaScript's Boolean(v): null, false, 0, NaN and "" are false; every other
// value, including an empty array or object, is true.
func jsBoolean(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case string:
		return t != ""
	}
	return true
}

// logicTruthy is json-logic's truthiness, used by and, or, if, ! and !!: JavaScript's, except
// that an empty array is false.
func logicTruthy(v any) bool {
	if a, ok := v.([]any); ok {
		return len(a) > 0
	}
	return jsBoolean(v)
}

// jsKind is the JavaScript type of a value in the model.
type jsKind int

const (
	kindNull jsKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func kindOf(v any) jsKind {
	switch v.(type) {
	case nil:
		return kindNull
	case bool:
		return kindBool
	case float64:
		return kindNumber
	case string:
		return kindString
	case []any:
		return kindArray
	}
	return kindObject
}

func isObjectKind(k jsKind) bool { return k == kindArray || k == kindObject }

// strictEquals is JavaScript's ===: same type and value; NaN is unequal to itself; arrays and
// objects are equal only to themselves.
func strictEquals(a, b any) bool {
	ka := kindOf(a)
	if ka != kindOf(b) {
		return false
	}
	switch ka {
	case kindNull:
		return true
	case kindBool:
		return a.(bool) == b.(bool)
	case kindNumber:
		return a.(float64) == b.(float64)
	case kindString:
		return a.(string) == b.(string)
	}
	return sameRef(a, b)
}

// sameRef reports whether two arrays or two objects are the same reference.
func sameRef(a, b any) bool {
	ra, rb := reflect.ValueOf(a), reflect.ValueOf(b)
	if ra.Kind() != rb.Kind() || ra.Pointer() != rb.Pointer() {
		return false
	}
	return ra.Kind() != reflect.Slice || ra.Len() == rb.Len()
}

// looseEquals is JavaScript's == (IsLooselyEqual): null equals only null; a string compared
// with a number becomes a number; a boolean becomes a number; an array or object compared with
// a primitive becomes a primitive.
func looseEquals(a, b any) bool {
	ka, kb := kindOf(a), kindOf(b)
	switch {
	case ka == kb:
		return strictEquals(a, b)
	case ka == kindNull || kb == kindNull:
		return false
	case ka == kindNumber && kb == kindString:
		return a.(float64) == stringToNumber(b.(string))
	case ka == kindString && kb == kindNumber:
		return stringToNumber(a.(string)) == b.(float64)
	case ka == kindBool:
		return looseEquals(toNumber(a), b)
	case kb == kindBool:
		return looseEquals(a, toNumber(b))
	case isObjectKind(ka) && !isObjectKind(kb):
		return looseEquals(toPrimitive(a), b)
	case isObjectKind(kb) && !isObjectKind(ka):
		return looseEquals(a, toPrimitive(b))
	}
	return false
}

// toPrimitive is JavaScript's ToPrimitive for the model: an array becomes its String(), an
// object "[object Object]", a primitive stays as it is.
func toPrimitive(v any) any {
	if isObjectKind(kindOf(v)) {
		return jsString(v)
	}
	return v
}

// lessThan is JavaScript's a < b: two strings (after ToPrimitive) compare by UTF-16 code
// units; anything else compares as numbers, and NaN makes the answer false.
func lessThan(a, b any) bool {
	pa, pb := toPrimitive(a), toPrimitive(b)
	sa, aStr := pa.(string)
	sb, bStr := pb.(string)
	if aStr && bStr {
		return compareUTF16(sa, sb) < 0
	}
	return toNumber(pa) < toNumber(pb)
}

// lessOrEqual is JavaScript's a <= b, which is not(b < a) except that NaN gives false.
func lessOrEqual(a, b any) bool {
	pa, pb := toPrimitive(a), toPrimitive(b)
	sa, aStr := pa.(string)
	sb, bStr := pb.(string)
	if aStr && bStr {
		return compareUTF16(sa, sb) <= 0
	}
	return toNumber(pa) <= toNumber(pb)
}

// compareUTF16 orders strings by UTF-16 code units, as JavaScript does. It differs from Go's
// byte order only for characters beyond the Basic Multilingual Plane.
func compareUTF16(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] == rb[i] {
			continue
		}
		ua, ub := utf16Units(ra[i]), utf16Units(rb[i])
		for j := 0; j < len(ua) && j < len(ub); j++ {
			if ua[j] != ub[j] {
				return int(ua[j]) - int(ub[j])
			}
		}
		return len(ua) - len(ub)
	}
	return len(ra) - len(rb)
}
