package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
)

func do(t *testing.T, method, url string, headers map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// With API_KEYS set every route but health, metrics and the mock endpoints needs a key, as a
// Bearer token or X-API-Key, in every spelling of its path; public routes are public with or
// without a trailing slash; ambiguous spellings are refused; CORS preflights still pass.
// TestAuthEveryRouteEverySpelling covers every route; this checks the process as served.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, func(c *app.Config) { c.APIKeys = []string{"key-one-0123456789", "key-two-0123456789"} })
	tests := []struct {
		method, path string
		headers      map[string]string
		want         int
	}{
		{"GET", "/workflows", nil, 401},
		{"GET", "/workflows", map[string]string{"Authorization": "Bearer wrong"}, 401},
		{"GET", "/workflows", map[string]string{"Authorization": "Bearer key-one-0123456789"}, 200},
		{"GET", "/workflows", map[string]string{"X-API-Key": "key-two-0123456789"}, 200},
		{"GET", "/api-templates/grouped", map[string]string{"X-API-Key": "k-on"}, 401},
		{"POST", "/workflows/runs/00000000-0000-0000-0000-000000000000/cancel", nil, 401},
		{"GET", "/monitoring/", nil, 401},
		{"GET", "/health", nil, 200},
		{"GET", "/readyz", nil, 200},
		{"GET", "/metrics", nil, 200},
		{"GET", "/workflows/api/test-weather?city=Dubai", nil, 200},
		{"GET", "/health/", nil, 200},
		{"GET", "/%68ealthz/", nil, 200},
		{"GET", "/metrics/", nil, 200},
		{"GET", "/workflows/api/test-weather/?city=Dubai", nil, 200},
		{"GET", "/workflows/", nil, 401},
		{"GET", "/%77orkflows/runs/" + missingID + "/status", nil, 401},
		{"POST", "/workflows/runs/" + missingID + "/cancel/", nil, 401},
		{"GET", "/workflows/api%2Fx/runs/" + missingID + "/status", nil, 400},
		{"POST", "/workflows/api%2F" + missingID + "/runs/" + missingID + "/cancel", nil, 400},
		{"GET", "/workflows/api/../runs/" + missingID + "/logs", nil, 400},
		{"GET", "//workflows", nil, 400},
		{"OPTIONS", "/workflows", map[string]string{"Origin": "http://ui", "Access-Control-Request-Method": "GET"}, 204},
	}
	for _, tc := range tests {
		if got := do(t, tc.method, srv.URL+tc.path, tc.headers, "").StatusCode; got != tc.want {
			t.Errorf("%s %s with %v: %d, want %d", tc.method, tc.path, tc.headers, got, tc.want)
		}
	}
}

// Run creation is limited per client: past the burst it answers 429 with Retry-After, and
// other routes are not limited. Without enforced keys a client is its address, so a key it
// invents does not buy a fresh bucket; with enforced keys each key has its own.
func TestRunRateLimit(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, func(c *app.Config) { c.RunsPerSecond, c.RunBurst = 0.01, 3 }) // one token per 100 s: none refills during the test
	id := createWorkflow(t, srv.URL, "limited", smallDef())
	var codes []int
	for range 5 {
		resp := do(t, "POST", srv.URL+"/workflows/"+id+"/execute-async", map[string]string{"Content-Type": "application/json"}, `{"input":{}}`)
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if want := []int{201, 201, 201, 429, 429}; !equalInts(codes, want) {
		t.Fatalf("statuses %v, want %v", codes, want)
	}
	for _, h := range []map[string]string{{"X-API-Key": "invented"}, {"Authorization": "Bearer invented"}, {"X-Forwarded-For": "198.51.100.7"}} {
		if got := do(t, "POST", srv.URL+"/workflows/"+id+"/trigger", h, `{}`).StatusCode; got != 429 {
			t.Errorf("the same address with %v: %d, want 429", h, got)
		}
	}
	if got := do(t, "GET", srv.URL+"/workflows/"+id+"/runs", nil, "").StatusCode; got != 200 {
		t.Fatalf("reads: %d, want 200", got)
	}

	keyed := apptest.Start(t, func(c *app.Config) {
		c.RunsPerSecond, c.RunBurst, c.APIKeys = 0.01, 1, []string{"key-one-0123456789", "key-two-0123456789"}
	})
	keyedID := createWorkflowWithKey(t, keyed.URL, "key-one-0123456789")
	start := func(key string) int {
		return do(t, "POST", keyed.URL+"/workflows/"+keyedID+"/trigger", map[string]string{"X-API-Key": key}, `{}`).StatusCode
	}
	if got := []int{start("key-one-0123456789"), start("key-one-0123456789"), start("key-two-0123456789")}; !equalInts(got, []int{201, 429, 201}) {
		t.Fatalf("with keys enforced, key-one, key-one, key-two: %v, want [201 429 201]", got)
	}
}

func createWorkflowWithKey(t *testing.T, base, key string) string {
	t.Helper()
	r := call(t, "POST", base+"/workflows", map[string]any{"name": "limited", "workflow": smallDef()}, "X-API-Key", key)
	return uuidField(t, r.object(t, 201), "id")
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
