package mockapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"unicode/utf16"
)

// jsObject is a JavaScript object literal built by spreading a client value
// and then setting keys, serialised in JavaScript's property order:
// array-index keys ascending first, then the other keys in insertion order. A
// key set twice keeps its first position and its last value.
type jsObject struct {
	keys   []string
	values map[string]jsValue
}

// spreadObject is `{...v}`: the members of an object, the elements of an
// array or the characters of a string, keyed by index; nothing for other
// values (undefined, null, numbers, booleans).
func spreadObject(v jsValue) *jsObject {
	o := &jsObject{values: map[string]jsValue{}}
	switch v.kind() {
	case '{':
		dec := json.NewDecoder(bytes.NewReader(v))
		if _, err := dec.Token(); err != nil { // the opening brace
			return o
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return o
			}
			key, _ := tok.(string)
			var val json.RawMessage
			if err := dec.Decode(&val); err != nil {
				return o
			}
			o.set(key, jsValue(val))
		}
	case '[':
		var elems []jsValue
		_ = json.Unmarshal(v, &elems)
		for i, e := range elems {
			o.set(strconv.Itoa(i), e)
		}
	case '"':
		s, _ := v.stringValue()
		for i, unit := range utf16.Encode([]rune(s)) {
			o.set(strconv.Itoa(i), utf16Unit(unit))
		}
	}
	return o
}

// utf16Unit is a one-code-unit JS string as JSON; lone surrogates are escaped
// as JSON.stringify does.
func utf16Unit(u uint16) jsValue {
	if utf16.IsSurrogate(rune(u)) {
		return jsValue(fmt.Sprintf(`"\u%04x"`, u))
	}
	return jsString(string(rune(u)))
}

func (o *jsObject) set(key string, v jsValue) {
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = v
}

func (o *jsObject) setString(key, s string) { o.set(key, jsString(s)) }

func (o *jsObject) setInt(key string, n int) { o.set(key, jsValue(strconv.Itoa(n))) }

// MarshalJSON implements json.Marshaler.
func (o *jsObject) MarshalJSON() ([]byte, error) {
	keys := append([]string(nil), o.keys...)
	sort.SliceStable(keys, func(i, j int) bool {
		ii, iok := arrayIndex(keys[i])
		ji, jok := arrayIndex(keys[j])
		if iok && jok {
			return ii < ji
		}
		return iok && !jok
	})
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(jsString(k))
		buf.WriteByte(':')
		buf.Write(o.values[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// arrayIndex reports whether key is a canonical array index ("0", "17", at
// most 2^32-2), which JavaScript orders before every other key.
func arrayIndex(key string) (uint64, bool) {
	if key == "" || len(key) > 10 || (key[0] == '0' && key != "0") {
		return 0, false
	}
	n, err := strconv.ParseUint(key, 10, 64)
	if err != nil || n > 1<<32-2 {
		return 0, false
	}
	return n, true
}
