package httpapi_test

// Contract tests: the REST API of API-CONTRACT.md sections 1-5 against a whole process
// (API + worker on a fresh database), over real HTTP. Each top-level test starts its own
// process, so seeded data (7 workflows, 9 templates) is predictable.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

const isoLayout = "2006-01-02T15:04:05.000Z"

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

const missingID = "00000000-0000-4000-8000-000000000000"

// start runs a fresh process for the calling test and returns its base URL.
func start(t *testing.T) string {
	t.Helper()
	return apptest.Start(t, nil).URL
}

// resp is an HTTP response with its body read.
type resp struct {
	status int
	header http.Header
	raw    []byte
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a request. body is sent as is when it is a string or []byte, JSON-encoded
// otherwise, and left out when nil. hdr is a list of header name/value pairs.
func call(t *testing.T, method, url string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp{status: res.StatusCode, header: res.Header, raw: raw}
}

// expect fails unless the response has the status and a JSON body, which it returns decoded.
func (r resp) expect(t *testing.T, status int) any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q, want application/json; charset=utf-8", ct)
	}
	var v any
	if err := json.Unmarshal(r.raw, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.raw)
	}
	return v
}

func (r resp) object(t *testing.T, status int) map[string]any {
	t.Helper()
	m, ok := r.expect(t, status).(map[string]any)
	if !ok {
		t.Fatalf("body is not a JSON object: %s", r.raw)
	}
	return m
}

func (r resp) array(t *testing.T, status int) []any {
	t.Helper()
	a, ok := r.expect(t, status).([]any)
	if !ok {
		t.Fatalf("body is not a JSON array: %s", r.raw)
	}
	return a
}

// wantError checks an error body exactly: {"statusCode", "message", "error"}.
func (r resp) wantError(t *testing.T, status int, message, errText string) {
	t.Helper()
	got := r.object(t, status)
	want := map[string]any{"statusCode": float64(status), "message": message, "error": errText}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error body (-want +got):\n%s", diff)
	}
}

// wantProblem checks a 400 validation body whose message is an array of strings, one of
// which contains every part (case-insensitive). It returns the messages.
func (r resp) wantProblem(t *testing.T, parts ...string) []string {
	t.Helper()
	got := r.object(t, http.StatusBadRequest)
	if got["statusCode"] != float64(400) || got["error"] != "Bad Request" {
		t.Errorf("statusCode/error = %v/%v, want 400/Bad Request: %s", got["statusCode"], got["error"], r.raw)
	}
	list, ok := got["message"].([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("message is not a non-empty array: %s", r.raw)
	}
	msgs := make([]string, len(list))
	for i, m := range list {
		s, ok := m.(string)
		if !ok {
			t.Fatalf("message[%d] is not a string: %s", i, r.raw)
		}
		msgs[i] = s
	}
	for _, m := range msgs {
		if containsAll(m, parts...) {
			return msgs
		}
	}
	t.Errorf("no message mentions all of %q: %q", parts, msgs)
	return msgs
}

func containsAll(s string, parts ...string) bool {
	s = strings.ToLower(s)
	for _, p := range parts {
		if !strings.Contains(s, strings.ToLower(p)) {
			return false
		}
	}
	return true
}

// Field type checks: each fails the test unless m[key] exists with the JSON type.

func str(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Errorf("%s = %#v, want a string", key, m[key])
	}
	return s
}

func num(t *testing.T, m map[string]any, key string) float64 {
	t.Helper()
	n, ok := m[key].(float64)
	if !ok {
		t.Errorf("%s = %#v, want a number", key, m[key])
	}
	return n
}

func uuidField(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	s := str(t, m, key)
	if !uuidRE.MatchString(s) {
		t.Errorf("%s = %q, want a UUID", key, s)
	}
	return s
}

// iso checks an ISO-8601 string with milliseconds and Z and returns the time.
func iso(t *testing.T, m map[string]any, key string) time.Time {
	t.Helper()
	s := str(t, m, key)
	tm, err := time.Parse(isoLayout, s)
	if err != nil || len(s) != len(isoLayout) {
		t.Errorf("%s = %q, want the format %s", key, s, isoLayout)
	}
	return tm
}

// isoOrNull checks that key is present and is null or an ISO string; it reports which.
func isoOrNull(t *testing.T, m map[string]any, key string) (time.Time, bool) {
	t.Helper()
	v, present := m[key]
	if !present {
		t.Errorf("%s is missing, want an ISO string or an explicit null", key)
		return time.Time{}, false
	}
	if v == nil {
		return time.Time{}, false
	}
	return iso(t, m, key), true
}

func objectField(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := m[key].(map[string]any)
	if !ok {
		t.Errorf("%s = %#v, want an object", key, m[key])
	}
	return o
}

func arrayField(t *testing.T, m map[string]any, key string) []any {
	t.Helper()
	a, ok := m[key].([]any)
	if !ok {
		t.Errorf("%s = %#v, want an array", key, m[key])
	}
	return a
}

// asObjects converts an array of objects.
func asObjects(t *testing.T, list []any) []map[string]any {
	t.Helper()
	out := make([]map[string]any, len(list))
	for i, v := range list {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("item %d = %#v, want an object", i, v)
		}
		out[i] = m
	}
	return out
}

// createWorkflow posts a definition and returns the new workflow's id.
func createWorkflow(t *testing.T, base, name string, def workflow.Definition) string {
	t.Helper()
	got := call(t, "POST", base+"/workflows", map[string]any{"name": name, "workflow": def}).object(t, http.StatusCreated)
	return uuidField(t, got, "id")
}

// smallDef is inputText -> notification rendering {{city}}.
func smallDef() workflow.Definition {
	return workflowtest.New().Input("in").Notify("note", "Hello {{city}}").Chain("in", "note").Build()
}

// parkedDef waits an hour in a delay node, so its runs stay running.
func parkedDef() workflow.Definition {
	return workflowtest.New().Input("in").Node("wait", workflow.TypeDelay, map[string]any{"delayType": "hours", "delayValue": 1}).
		Notify("note", "late").Chain("in", "wait", "note").Build()
}

// startRun starts a run with execute-async and returns its id.
func startRun(t *testing.T, base, workflowID string, input map[string]any) string {
	t.Helper()
	var body any
	if input != nil {
		body = map[string]any{"input": input}
	}
	got := call(t, "POST", base+"/workflows/"+workflowID+"/execute-async", body).object(t, http.StatusCreated)
	return uuidField(t, got, "runId")
}

func runStatus(t *testing.T, base, runID string) map[string]any {
	t.Helper()
	return call(t, "GET", base+"/workflows/runs/"+runID+"/status", nil).object(t, http.StatusOK)
}

// waitRun polls the run status route until the run is terminal and returns the status object.
func waitRun(t *testing.T, base, runID string) map[string]any {
	t.Helper()
	var run map[string]any
	testenv.WaitFor(t, 30*time.Second, "run "+runID+" to finish", func() bool {
		run = runStatus(t, base, runID)
		switch run["status"] {
		case "succeeded", "failed", "cancelled":
			return true
		}
		return false
	})
	return run
}

// waitParked waits until the run's delay task is parked (waiting).
func waitParked(t *testing.T, base, runID string) map[string]any {
	t.Helper()
	var run map[string]any
	testenv.WaitFor(t, 10*time.Second, "run "+runID+" to park in its delay", func() bool {
		run = runStatus(t, base, runID)
		for _, task := range asObjects(t, arrayField(t, run, "tasks")) {
			if task["nodeId"] == "wait" && task["status"] == "waiting" {
				return true
			}
		}
		return false
	})
	return run
}

func TestContractHealth(t *testing.T) {
	t.Parallel()
	base := start(t)
	before := time.Now().Add(-time.Second)
	got := call(t, "GET", base+"/health", nil).object(t, http.StatusOK)
	if got["status"] != "ok" {
		t.Errorf("status = %#v, want \"ok\"", got["status"])
	}
	if ts := iso(t, got, "timestamp"); ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("timestamp %v is not now", ts)
	}
}

func TestContractUnknownRoute(t *testing.T) {
	t.Parallel()
	base := start(t)
	call(t, "GET", base+"/nope", nil).wantError(t, http.StatusNotFound, "Cannot GET /nope", "Not Found")
	call(t, "POST", base+"/nope/deeper", "{}").wantError(t, http.StatusNotFound, "Cannot POST /nope/deeper", "Not Found")
	call(t, "PATCH", base+"/workflows", "{}").wantError(t, http.StatusNotFound, "Cannot PATCH /workflows", "Not Found")
}

func TestContractBodyLimit(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "limit", smallDef())
	tmpl := call(t, "GET", base+"/api-templates", nil).array(t, http.StatusOK)
	tmplID := tmpl[0].(map[string]any)["id"].(string)
	big := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
	for _, tc := range []struct{ method, path string }{
		{"POST", "/workflows"},
		{"PUT", "/workflows/" + id},
		{"POST", "/workflows/" + id + "/execute-async"},
		{"POST", "/api-templates"},
		{"PUT", "/api-templates/" + tmplID},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			got := call(t, tc.method, base+tc.path, big).object(t, http.StatusRequestEntityTooLarge)
			if got["statusCode"] != float64(413) {
				t.Errorf("statusCode = %v, want 413", got["statusCode"])
			}
			if msg, _ := got["message"].(string); !strings.Contains(msg, "1048576") {
				t.Errorf("message %q does not name the limit (1048576 bytes)", got["message"])
			}
		})
	}
	t.Run("just under 1 MB is accepted", func(t *testing.T) {
		def := smallDef()
		def.Nodes[0].Base.InputSchema = json.RawMessage(`{"description":"` + strings.Repeat("x", 1_000_000-2000) + `"}`)
		body, _ := json.Marshal(map[string]any{"name": "big but allowed", "workflow": def})
		if len(body) < 990_000 || len(body) > 1<<20 {
			t.Fatalf("body is %d bytes, want just under 1 MB", len(body))
		}
		call(t, "POST", base+"/workflows", body).object(t, http.StatusCreated)
	})
}

func TestContractMockSmoke(t *testing.T) {
	t.Parallel()
	base := start(t)
	weather := call(t, "GET", base+"/workflows/api/test-weather?city=Dubai", nil).object(t, http.StatusOK)
	if num(t, weather, "temperature") != 35 || weather["city"] != "Dubai" {
		t.Errorf("test-weather Dubai = %v, want temperature 35 and city Dubai", weather)
	}
	score := call(t, "POST", base+"/workflows/api/mock/lead-scoring/analyze",
		map[string]any{"lead_source": "LinkedIn", "title": "CEO"}).object(t, http.StatusCreated)
	if s := num(t, score, "score"); s < 50 || s > 100 {
		t.Errorf("score = %v, want 50..100", s)
	}
}
