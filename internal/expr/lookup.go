// Package expr evaluates the small expression languages of workflow definitions with the
// seed service's JavaScript semantics: {{path}} templates (contract 10.2), json-logic rules
// (10.3) and the predicates of ifElse and decision nodes (10.4). Everything here is a pure
// function of its arguments: no I/O, no package-level state.
package expr

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Scope is what a template path can address: the node's payload by default,
// "$run.<path>" the run (for example {"id":..., "workflowId":..., "input": {...}}) and
// "$nodes.<nodeId>.<path>" the output of a completed upstream node.
type Scope struct {
	Payload any
	Run     map[string]any
	Nodes   map[string]any
}

// Scope prefixes. A payload key spelled like one of them cannot be addressed; ARCHITECTURE.md
// reserves them so run and node data never collide with payload keys.
const (
	runPrefix   = "$run"
	nodesPrefix = "$nodes"
)

// Resolve looks a template path up in the scope: "$run" and "$nodes" paths against the run and
// the upstream outputs, anything else against the payload, each with Lookup's rules.
func (s Scope) Resolve(path string) (any, bool) {
	v, found, _ := s.resolve(path, unlimited())
	return v, found
}

// resolve is Resolve charging m for the steps through strings.
func (s Scope) resolve(path string, m *Meter) (any, bool, error) {
	switch {
	case inScope(path, runPrefix):
		return lookupIn(s.Run, path[len(runPrefix):], m)
	case inScope(path, nodesPrefix):
		return lookupIn(s.Nodes, path[len(nodesPrefix):], m)
	}
	return lookup(s.Payload, path, m)
}

// Place stores value, read as r (see ReferencesOf), where Resolve looks for it: in
// Run["input"] or Nodes[r.Node], at r.Path, creating the objects on the way. A scope built
// from every read of a References answers its templates' paths as the full run would.
func (s *Scope) Place(r Read, value any) {
	if r.Node == "" {
		if s.Run == nil {
			s.Run = map[string]any{}
		}
		place(s.Run, "input", r.Path, value)
		return
	}
	if s.Nodes == nil {
		s.Nodes = map[string]any{}
	}
	place(s.Nodes, r.Node, r.Path, value)
}

func place(parent map[string]any, key string, path []string, value any) {
	for _, step := range path {
		child, ok := parent[key].(map[string]any)
		if !ok {
			child = map[string]any{}
			parent[key] = child
		}
		parent, key = child, step
	}
	parent[key] = value
}

// inScope reports whether path is prefix itself or starts with prefix + ".".
func inScope(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '.')
}

// lookupIn resolves the rest of a scoped path, "" or ".<path>", against the scope's root.
func lookupIn(root map[string]any, rest string, m *Meter) (any, bool, error) {
	switch {
	case root == nil:
		return nil, false, nil
	case rest == "":
		return root, true, nil
	}
	return lookup(root, rest[1:], m)
}

// Lookup resolves a dotted path against root the way the seed's template lookup does: "[n]" is
// rewritten to ".n", the path is split on ".", and each step needs an own key of a map or an
// index into an array ("items.0", "items[0]" and "items.length" all work; strings have
// "length" and indexes too, as JavaScript strings do). A missing step, or a falsy value before
// a step, gives (nil, false). A key that is present with a null value gives (nil, true).
//
// root may hold what encoding/json decodes (map[string]any, []any, float64, ...) and also
// json.Number, integer types and other maps with string keys, slices and pointers.
func Lookup(root any, path string) (any, bool) {
	v, found, _ := lookup(root, path, unlimited())
	return v, found
}

// lookup is Lookup charging m for each step, and for a step into a string its scan (a
// string's length and characters are counted in UTF-16 units).
func lookup(root any, path string, m *Meter) (any, bool, error) {
	cur := root
	for _, key := range strings.Split(rewriteIndexes(path), ".") {
		if !jsBoolean(scalar(cur)) {
			return nil, false, nil
		}
		if err := m.step(stepCost(cur)); err != nil {
			return nil, false, err
		}
		next, ok := ownProperty(cur, key)
		if !ok {
			return nil, false, nil
		}
		cur = next
	}
	return cur, true, nil
}

// stepCost is what reading a property of v costs: one step, and a string's scan.
func stepCost(v any) int {
	if s, ok := v.(string); ok {
		return 1 + len(s)/64
	}
	return 1
}

// rewriteIndexes turns every "[digits]" into ".digits", like the seed's /\[(\d+)\]/g.
func rewriteIndexes(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	var b strings.Builder
	for i := 0; i < len(path); {
		if path[i] == '[' {
			j := i + 1
			for j < len(path) && path[j] >= '0' && path[j] <= '9' {
				j++
			}
			if j > i+1 && j < len(path) && path[j] == ']' {
				b.WriteByte('.')
				b.WriteString(path[i+1 : j])
				i = j + 1
				continue
			}
		}
		b.WriteByte(path[i])
		i++
	}
	return b.String()
}

// ownProperty returns v[key] when key is an own property of v in JavaScript terms: a map key,
// an array index or length, a string index or length.
func ownProperty(v any, key string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		got, ok := t[key]
		return got, ok
	case []any:
		if key == "length" {
			return float64(len(t)), true
		}
		if i, ok := arrayIndex(key, len(t)); ok {
			return t[i], true
		}
		return nil, false
	case string:
		return stringProperty(t, key)
	}
	return reflectProperty(reflect.ValueOf(v), key)
}

// reflectProperty is ownProperty for typed Go values: maps with string keys, slices, arrays,
// named string types and pointers to any of these.
func reflectProperty(rv reflect.Value, key string) (any, bool) {
	for rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Interface {
		if rv.IsNil() {
			return nil, false
		}
		rv = rv.Elem()
	}
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, false
		}
		got := rv.MapIndex(reflect.ValueOf(key).Convert(rv.Type().Key()))
		if !got.IsValid() {
			return nil, false
		}
		return got.Interface(), true
	case reflect.Slice, reflect.Array:
		if key == "length" {
			return float64(rv.Len()), true
		}
		if i, ok := arrayIndex(key, rv.Len()); ok {
			return rv.Index(i).Interface(), true
		}
	case reflect.String:
		return stringProperty(rv.String(), key)
	}
	return nil, false
}

// stringProperty gives a JavaScript string's length and indexed characters (UTF-16 units;
// half of a surrogate pair reads as U+FFFD), counting units without building them.
func stringProperty(s, key string) (any, bool) {
	if key == "length" {
		n := 0
		for _, r := range s {
			n += utf16.RuneLen(r)
		}
		return float64(n), true
	}
	i, ok := arrayIndex(key, len(s)) // a string has at most one UTF-16 unit per byte
	if !ok {
		return nil, false
	}
	unit := 0
	for _, r := range s {
		n := utf16.RuneLen(r)
		if i < unit+n {
			if n == 2 {
				return "\uFFFD", true
			}
			return string(r), true
		}
		unit += n
	}
	return nil, false
}

// arrayIndex parses key as a canonical array index ("0", "17", not "01" or "-1") below n.
func arrayIndex(key string, n int) (int, bool) {
	if key == "" || (len(key) > 1 && key[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(key)
	if err != nil || i >= n {
		return 0, false
	}
	return i, true
}

// ResolveBounded is Resolve charging m for the steps through strings.
func (s Scope) ResolveBounded(path string, m *Meter) (any, bool, error) {
	return s.resolve(path, m)
}
