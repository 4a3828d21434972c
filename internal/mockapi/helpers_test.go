package mockapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// testNow is the fixed clock of every test; testMS is its Unix milliseconds.
var testNow = time.Date(2025, 3, 1, 10, 15, 30, 123e6, time.UTC)

const (
	testMS      = "1740824130123"
	testNowISO  = "2025-03-01T10:15:30.123Z"
	jsonCT      = "application/json; charset=utf-8"
	manyRequest = 2000
)

// newTestHandler serves the package standalone with the fixed clock and a
// seeded random source.
func newTestHandler(seed uint64) http.Handler {
	return New(Config{
		Now:  func() time.Time { return testNow },
		Rand: rand.New(rand.NewPCG(seed, seed+1)),
	})
}

// isoAt is the fixed clock moved by d, as the mocks format it.
func isoAt(d time.Duration) string { return testNow.Add(d).UTC().Format(isoLayout) }

type response struct {
	status int
	ctype  string
	raw    string
	obj    map[string]any // nil unless the body is a JSON object
}

// send serves one request; a non-empty body is sent as application/json.
func send(t testing.TB, h http.Handler, method, target, body string) response {
	t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return sendCT(t, h, method, target, body, ct)
}

func sendCT(t testing.TB, h http.Handler, method, target, body, contentType string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := response{status: rec.Code, ctype: rec.Header().Get("Content-Type"), raw: rec.Body.String()}
	if strings.HasPrefix(strings.TrimSpace(res.raw), "{") {
		dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
		if err := dec.Decode(&res.obj); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, target, err, res.raw)
		}
	}
	return res
}

// mustStatus fails unless the answer has the given status and the JSON content type.
func (r response) mustStatus(t testing.TB, want int) response {
	t.Helper()
	if r.status != want || r.ctype != jsonCT {
		t.Fatalf("status %d, content type %q; want %d, %q\n%s", r.status, r.ctype, want, jsonCT, r.raw)
	}
	return r
}

// at reads a dotted path ("person.organization.domain", "companies.0.id").
func (r response) at(t testing.TB, path string) any {
	t.Helper()
	v, ok := lookup(r.obj, path)
	if !ok {
		t.Fatalf("no %q in %s", path, r.raw)
	}
	return v
}

func (r response) has(path string) bool {
	_, ok := lookup(r.obj, path)
	return ok
}

func (r response) str(t testing.TB, path string) string {
	t.Helper()
	s, ok := r.at(t, path).(string)
	if !ok {
		t.Fatalf("%q is %T, want string: %s", path, r.at(t, path), r.raw)
	}
	return s
}

func (r response) num(t testing.TB, path string) float64 {
	t.Helper()
	f, ok := r.at(t, path).(float64)
	if !ok {
		t.Fatalf("%q is %T, want number: %s", path, r.at(t, path), r.raw)
	}
	return f
}

func (r response) boolean(t testing.TB, path string) bool {
	t.Helper()
	b, ok := r.at(t, path).(bool)
	if !ok {
		t.Fatalf("%q is %T, want bool: %s", path, r.at(t, path), r.raw)
	}
	return b
}

func lookup(v any, path string) (any, bool) {
	for _, part := range strings.Split(path, ".") {
		switch node := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = node[part]; !ok {
				return nil, false
			}
		case []any:
			var i int
			if _, err := fmt.Sscan(part, &i); err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			v = node[i]
		default:
			return nil, false
		}
	}
	return v, true
}

// shapeOf flattens an object into dotted path → JSON type. Objects are
// listed and descended into; arrays are listed with their element type
// ("array<string>") and not descended, except arrays of objects, whose
// elements are flattened as "path.0", "path.1", ...
func shapeOf(v any) map[string]string {
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		join := func(k string) string {
			if prefix == "" {
				return k
			}
			return prefix + "." + k
		}
		switch node := v.(type) {
		case map[string]any:
			for k, child := range node {
				out[join(k)] = jsonType(child)
				walk(join(k), child)
			}
		case []any:
			for i, child := range node {
				if _, isObj := child.(map[string]any); isObj {
					walk(join(fmt.Sprint(i)), child)
				}
			}
		}
	}
	walk("", v)
	return out
}

func jsonType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		types := map[string]bool{}
		for _, e := range x {
			types[jsonType(e)] = true
		}
		names := make([]string, 0, len(types))
		for n := range types {
			names = append(names, n)
		}
		sort.Strings(names)
		return "array<" + strings.Join(names, "/") + ">"
	}
	return fmt.Sprintf("%T", v)
}

// checkShape compares the set of paths, then each type against the wanted
// alternatives ("string|null"). The alternative "absent" makes a path optional.
func checkShape(t testing.TB, got map[string]string, want map[string]string) {
	t.Helper()
	required := map[string]string{}
	for path, types := range want {
		if !strings.Contains(types, "absent") {
			required[path] = types
		}
	}
	present := map[string]string{}
	for path, typ := range got {
		if _, optional := want[path]; optional && required[path] == "" {
			continue // optional and present: type checked below
		}
		present[path] = typ
	}
	if diff := cmp.Diff(sortedKeys(required), sortedKeys(present)); diff != "" {
		t.Fatalf("fields differ (-want +got):\n%s", diff)
	}
	for path, typ := range got {
		if !slices.Contains(strings.Split(want[path], "|"), typ) {
			t.Errorf("%s: type %s, want %s", path, typ, want[path])
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// span records the smallest and largest value seen at a path.
type span struct{ lo, hi float64 }

func (s *span) add(v float64) {
	s.lo, s.hi = min(s.lo, v), max(s.hi, v)
}

func newSpan() *span { return &span{lo: 1e300, hi: -1e300} }

// checkInclusiveRange asserts that the seen values stayed in [lo, hi] and,
// the range being small next to the sample, that both ends were drawn.
func checkInclusiveRange(t testing.TB, name string, s *span, lo, hi float64) {
	t.Helper()
	if s.lo != lo || s.hi != hi {
		t.Errorf("%s: drew %v..%v over %d requests, want exactly %v..%v", name, s.lo, s.hi, manyRequest, lo, hi)
	}
}

// checkWithin asserts that the seen values stayed in [lo, hi] (ranges too
// wide for both ends to be drawn).
func checkWithin(t testing.TB, name string, s *span, lo, hi float64) {
	t.Helper()
	if s.lo < lo || s.hi > hi {
		t.Errorf("%s: drew %v..%v, want within %v..%v", name, s.lo, s.hi, lo, hi)
	}
}

// checkRate asserts that hits/n is within tol of p.
func checkRate(t testing.TB, name string, hits, n int, p, tol float64) {
	t.Helper()
	if got := float64(hits) / float64(n); got < p-tol || got > p+tol {
		t.Errorf("%s: rate %.3f over %d, want %.2f ± %.2f", name, got, n, p, tol)
	}
}
