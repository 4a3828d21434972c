package httpapi_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/webhook"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

const hookSecret = "whsec-0123456789abcdef-contract"

// signed returns the headers of a request signed with secret at time at.
func signed(secret string, at time.Time, body string, hdr ...string) []string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return append([]string{webhook.DefaultTimestampHeader, ts, webhook.DefaultSignatureHeader, webhook.Sign([]byte(secret), ts, []byte(body))}, hdr...)
}

// createHook creates a hook of a workflow and returns its view.
func createHook(t *testing.T, base, workflowID string, body any) map[string]any {
	t.Helper()
	return call(t, "POST", base+"/workflows/"+workflowID+"/hooks", body).object(t, http.StatusCreated)
}

// runCount is how many runs a workflow has.
func runCount(t *testing.T, base, workflowID string) int {
	t.Helper()
	return len(listIDs(t, base, "/workflows/"+workflowID+"/runs", ""))
}

// A signed hook: created once (its secret never shown again), a valid signature starts a run
// whose input is the request (body, headers without credentials, query), and every refused
// signature answers 401 naming the header, with no run.
func TestContractHookSigned(t *testing.T) {
	t.Parallel()
	base := start(t)
	wfID := createWorkflow(t, base, "hooked", smallDef())
	hook := createHook(t, base, wfID, map[string]any{"name": "github", "signature": map[string]any{"secret": hookSecret}})
	id := str(t, hook, "id")
	if !webhook.ValidID(id) || len(id) < 22 {
		t.Fatalf("hook id %q is not a random URL-safe id of at least 128 bits", id)
	}
	if hook["url"] != "/hooks/"+id || hook["workflowId"] != wfID || hook["signed"] != true || hook["version"] != "current" {
		t.Errorf("hook view: %v", hook)
	}
	sig := objectField(t, hook, "signature")
	if sig["header"] != webhook.DefaultSignatureHeader || sig["timestampHeader"] != webhook.DefaultTimestampHeader || sig["toleranceSeconds"] != float64(300) {
		t.Errorf("signature defaults: %v", sig)
	}
	second := call(t, "POST", base+"/workflows/"+wfID+"/hooks", map[string]any{"signature": map[string]any{"secret": hookSecret}})
	list := call(t, "GET", base+"/workflows/"+wfID+"/hooks", nil)
	for _, r := range []resp{second, list} {
		if strings.Contains(string(r.raw), hookSecret) {
			t.Errorf("a hook view shows the secret: %s", r.raw)
		}
	}
	if got := asObjects(t, list.array(t, http.StatusOK)); len(got) != 2 || got[0]["id"] != id || got[0]["signed"] != true {
		t.Errorf("hook list: %s", list.raw)
	}

	body := `{"event":{"id":"evt_1","type":"push"},"city":"Oslo"}`
	now := time.Now()
	started := call(t, "POST", base+"/hooks/"+id+"?ref=main&tag=a&tag=b", body, signed(hookSecret, now, body,
		"Authorization", "Bearer caller-token", "Cookie", "session=1", "X-Delivery", "d-1", "X-Gitlab-Token", "glt")...).object(t, http.StatusAccepted)
	runID := uuidField(t, started, "runId")
	if started["workflowId"] != wfID || started["status"] != "queued" || started["created"] != true {
		t.Errorf("trigger answer: %v", started)
	}
	run := waitRun(t, base, runID)
	input := objectField(t, run, "input")
	if b := objectField(t, input, "body"); b["city"] != "Oslo" || objectField(t, b, "event")["id"] != "evt_1" {
		t.Errorf("input.body: %v", input["body"])
	}
	headers := objectField(t, input, "headers")
	if headers["x-delivery"] != "d-1" || headers[strings.ToLower(webhook.DefaultTimestampHeader)] == nil {
		t.Errorf("input.headers lacks the request's headers: %v", headers)
	}
	for _, h := range []string{"authorization", "cookie", "x-gitlab-token", strings.ToLower(webhook.DefaultSignatureHeader)} {
		if _, ok := headers[h]; ok {
			t.Errorf("input.headers keeps the credential header %s: %v", h, headers)
		}
	}
	if q := objectField(t, input, "query"); q["ref"] != "main" || len(q["tag"].([]any)) != 2 {
		t.Errorf("input.query: %v", input["query"])
	}

	refused := []struct {
		name    string
		hdr     []string
		mention string
	}{
		{"missing signature", []string{webhook.DefaultTimestampHeader, strconv.FormatInt(now.Unix(), 10)}, webhook.DefaultSignatureHeader},
		{"malformed signature", []string{webhook.DefaultTimestampHeader, strconv.FormatInt(now.Unix(), 10), webhook.DefaultSignatureHeader, "md5=abc"}, webhook.DefaultSignatureHeader},
		{"wrong secret", signed("another-secret-of-16-bytes", now, body), webhook.DefaultSignatureHeader},
		{"missing timestamp", signed(hookSecret, now, body)[2:], webhook.DefaultTimestampHeader},
		{"unparseable timestamp", []string{webhook.DefaultTimestampHeader, "yesterday", webhook.DefaultSignatureHeader, webhook.Sign([]byte(hookSecret), "yesterday", []byte(body))}, webhook.DefaultTimestampHeader},
		{"replayed (stale timestamp)", signed(hookSecret, now.Add(-10*time.Minute), body), "replay"},
		{"body changed after signing", signed(hookSecret, now, body+" "), webhook.DefaultSignatureHeader},
	}
	for _, c := range refused {
		got := call(t, "POST", base+"/hooks/"+id, body, c.hdr...).object(t, http.StatusUnauthorized)
		if msg, _ := got["message"].(string); !strings.Contains(msg, c.mention) {
			t.Errorf("%s: message %q does not mention %q", c.name, msg, c.mention)
		}
	}
	if n := runCount(t, base, wfID); n != 1 {
		t.Errorf("%d runs after the refused requests, want only the signed one", n)
	}
}

// An unsigned hook needs no header; an unknown hook is 404 without detail; a deleted hook is
// gone; deleting the workflow deletes its hooks.
func TestContractHookUnsignedAndLifecycle(t *testing.T) {
	t.Parallel()
	base := start(t)
	wfID := createWorkflow(t, base, "hooked", smallDef())
	hook := createHook(t, base, wfID, map[string]any{})
	id := str(t, hook, "id")
	if hook["signed"] != false || hook["signature"] != nil || hook["name"] != "" {
		t.Errorf("unsigned hook view: %v", hook)
	}
	got := call(t, "POST", base+"/hooks/"+id, "plain text, not JSON").object(t, http.StatusAccepted)
	run := waitRun(t, base, uuidField(t, got, "runId"))
	if b := objectField(t, run, "input")["body"]; b != "plain text, not JSON" {
		t.Errorf("a text body is the input's body string: %v", b)
	}

	for _, path := range []string{"/hooks/" + strings.Repeat("A", 32), "/hooks/short", "/hooks/" + missingID} {
		call(t, "POST", base+path, "{}").wantError(t, http.StatusNotFound, "Hook not found", "Not Found")
		call(t, "DELETE", base+path, nil).wantError(t, http.StatusNotFound, "Hook not found", "Not Found")
	}
	call(t, "GET", base+"/workflows/"+missingID+"/hooks", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	call(t, "POST", base+"/workflows/"+missingID+"/hooks", map[string]any{}).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")

	if r := call(t, "DELETE", base+"/hooks/"+id, nil); r.status != http.StatusNoContent || len(r.raw) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	call(t, "POST", base+"/hooks/"+id, "{}").wantError(t, http.StatusNotFound, "Hook not found", "Not Found")
	if got := call(t, "GET", base+"/workflows/"+wfID+"/hooks", nil).array(t, http.StatusOK); len(got) != 0 {
		t.Errorf("hooks after delete: %v", got)
	}

	other := str(t, createHook(t, base, wfID, map[string]any{}), "id")
	call(t, "DELETE", base+"/workflows/"+wfID+"?force=true", nil).object(t, http.StatusOK)
	call(t, "POST", base+"/hooks/"+other, "{}").wantError(t, http.StatusNotFound, "Hook not found", "Not Found")
}

// Bad settings are refused with 400 naming the field.
func TestContractHookValidation(t *testing.T) {
	t.Parallel()
	base := start(t)
	wfID := createWorkflow(t, base, "hooked", smallDef())
	cases := []struct {
		body  any
		parts []string
	}{
		{map[string]any{"version": 7}, []string{"version", "no version 7"}},
		{map[string]any{"version": "latest"}, []string{"version", "current"}},
		{map[string]any{"signature": map[string]any{}}, []string{"signature", "secretRef"}},
		{map[string]any{"signature": map[string]any{"secret": "short"}}, []string{"signature.secret", "16"}},
		{map[string]any{"signature": map[string]any{"secretRef": "NOT_SET_ANYWHERE"}}, []string{"signature.secretRef", "SECRET_NOT_SET_ANYWHERE"}},
		{map[string]any{"signature": map[string]any{"secretRef": "bad name"}}, []string{"signature.secretRef"}},
		{map[string]any{"signature": map[string]any{"secret": hookSecret, "header": "Bad Header"}}, []string{"signature.header"}},
		{map[string]any{"signature": map[string]any{"secret": hookSecret, "toleranceSeconds": 3601}}, []string{"signature.toleranceSeconds", "3600"}},
		{map[string]any{"dedup": map[string]any{"bodyField": "event..id"}}, []string{"dedup.bodyField"}},
		{map[string]any{"respond": map[string]any{"mode": "sync"}}, []string{"respond.mode"}},
		{map[string]any{"respond": map[string]any{"mode": "node"}}, []string{"respond.nodeId"}},
		{map[string]any{"respond": map[string]any{"mode": "node", "nodeId": "nope"}}, []string{"respond.nodeId", "nope"}},
		{map[string]any{"respond": map[string]any{"mode": "node", "nodeId": "note", "timeoutMs": 60001}}, []string{"respond.timeoutMs", "60000"}},
		{map[string]any{"colour": "red"}, []string{"colour"}},
	}
	for _, c := range cases {
		r := call(t, "POST", base+"/workflows/"+wfID+"/hooks", c.body)
		r.wantProblem(t, c.parts...)
		if strings.Contains(string(r.raw), hookSecret) {
			t.Errorf("an error echoes the secret: %s", r.raw)
		}
	}
	if got := call(t, "GET", base+"/workflows/"+wfID+"/hooks", nil).array(t, http.StatusOK); len(got) != 0 {
		t.Errorf("refused settings created hooks: %v", got)
	}
	pinned := createHook(t, base, wfID, map[string]any{"version": 1, "signature": map[string]any{"secret": hookSecret, "header": "X-Hub-Signature-256", "toleranceSeconds": 60},
		"dedup": map[string]any{"header": "X-Delivery", "bodyField": "event.id"}, "respond": map[string]any{"mode": "node", "nodeId": "note", "timeoutMs": 5000}})
	if pinned["version"] != float64(1) || objectField(t, pinned, "signature")["header"] != "X-Hub-Signature-256" ||
		objectField(t, pinned, "dedup")["bodyField"] != "event.id" || objectField(t, pinned, "respond")["timeoutMs"] != float64(5000) {
		t.Errorf("pinned hook view: %v", pinned)
	}
}

// A dedup key (the Idempotency-Key header, or a body field) names one run: a repeat answers
// 200 with the same run and created false, even with a new timestamp and signature.
func TestContractHookDedup(t *testing.T) {
	t.Parallel()
	base := start(t)
	wfID := createWorkflow(t, base, "hooked", smallDef())
	byHeader := str(t, createHook(t, base, wfID, map[string]any{"signature": map[string]any{"secret": hookSecret}}), "id")
	byField := str(t, createHook(t, base, wfID, map[string]any{"dedup": map[string]any{"bodyField": "event.id"}}), "id")

	body := `{"n":1}`
	first := call(t, "POST", base+"/hooks/"+byHeader, body, signed(hookSecret, time.Now(), body, "Idempotency-Key", "k-1")...).object(t, http.StatusAccepted)
	again := call(t, "POST", base+"/hooks/"+byHeader, body, signed(hookSecret, time.Now().Add(-time.Minute), body, "Idempotency-Key", "k-1")...).object(t, http.StatusOK)
	if again["runId"] != first["runId"] || again["created"] != false || again["workflowId"] != wfID || again["status"] == nil {
		t.Errorf("repeat by header: %v, first %v", again, first)
	}
	other := `{"n":2}`
	call(t, "POST", base+"/hooks/"+byHeader, other, signed(hookSecret, time.Now(), other, "Idempotency-Key", "k-1")...).object(t, http.StatusUnprocessableEntity)

	ev := func(id string, n int) string { return `{"event":{"id":"` + id + `"},"n":` + strconv.Itoa(n) + `}` }
	a := call(t, "POST", base+"/hooks/"+byField, ev("evt_9", 1)).object(t, http.StatusAccepted)
	b := call(t, "POST", base+"/hooks/"+byField, ev("evt_9", 1), "X-Attempt", "2").object(t, http.StatusOK)
	c := call(t, "POST", base+"/hooks/"+byField, ev("evt_10", 1)).object(t, http.StatusAccepted)
	if b["runId"] != a["runId"] || b["created"] != false || c["runId"] == a["runId"] {
		t.Errorf("dedup by body field: %v %v %v", a, b, c)
	}
	// The same value through another hook is another key: hooks do not share runs.
	d := call(t, "POST", base+"/hooks/"+byHeader, body, signed(hookSecret, time.Now(), body, "Idempotency-Key", "evt_9")...).object(t, http.StatusAccepted)
	if d["runId"] == a["runId"] {
		t.Errorf("two hooks share a dedup key")
	}
	if n := runCount(t, base, wfID); n != 4 {
		t.Errorf("%d runs, want 4 (k-1, evt_9, evt_10, evt_9 on the other hook)", n)
	}
}

// Respond mode node waits for the run and answers with the node's output.
func TestContractHookRespondNode(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	base := srv.URL
	def := workflowtest.New().Input("in").
		APICall("weather", "GET", base+"/workflows/api/test-weather?city={{$run.input.body.city}}", nil).
		Notify("note", "{{data.city}}").Chain("in", "weather", "note").Build()
	wfID := createWorkflow(t, base, "weather hook", def)
	id := str(t, createHook(t, base, wfID, map[string]any{"respond": map[string]any{"mode": "node", "nodeId": "weather"}}), "id")
	got := call(t, "POST", base+"/hooks/"+id, `{"city":"Dubai"}`)
	out := got.object(t, http.StatusOK)
	if out["status"] != float64(200) || objectField(t, out, "data")["city"] != "Dubai" {
		t.Errorf("the answer is not the weather node's output: %s", got.raw)
	}
	if !uuidRE.MatchString(got.header.Get("X-Run-Id")) {
		t.Errorf("X-Run-Id %q", got.header.Get("X-Run-Id"))
	}

	// A run still going when the timeout passes answers 202 with the run.
	parked := createWorkflow(t, base, "parked", parkedDef())
	slow := str(t, createHook(t, base, parked, map[string]any{"respond": map[string]any{"mode": "node", "nodeId": "note", "timeoutMs": 50}}), "id")
	late := call(t, "POST", base+"/hooks/"+slow, `{}`).object(t, http.StatusAccepted)
	if late["status"] != workflow.RunRunning && late["status"] != workflow.RunQueued {
		t.Errorf("unfinished run answer: %v", late)
	}
	call(t, "POST", base+"/workflows/runs/"+str(t, late, "runId")+"/cancel", nil).object(t, http.StatusCreated)

	// A run that fails answers 502 naming the failure.
	failing := workflowtest.New().Input("in").APICall("boom", "GET", base+"/workflows/api/missing-endpoint", map[string]any{"onError": "fail", "retries": 0}).
		Chain("in", "boom").Build()
	failWf := createWorkflow(t, base, "failing", failing)
	fh := str(t, createHook(t, base, failWf, map[string]any{"respond": map[string]any{"mode": "node", "nodeId": "boom"}}), "id")
	bad := call(t, "POST", base+"/hooks/"+fh, `{}`).object(t, http.StatusBadGateway)
	if bad["status"] != workflow.RunFailed || !strings.Contains(bad["message"].(string), "failed") {
		t.Errorf("failed run answer: %v", bad)
	}
}

// With API_KEYS set, the trigger needs no key (the signature is its authentication) while
// creating, listing and deleting hooks do.
func TestContractHookAuth(t *testing.T) {
	t.Parallel()
	const key = "hook-key-0123456789"
	srv := apptest.Start(t, func(c *app.Config) { c.APIKeys = []string{key} })
	base := srv.URL
	wf := call(t, "POST", base+"/workflows", map[string]any{"name": "keyed", "workflow": smallDef()}, "X-API-Key", key).object(t, http.StatusCreated)
	wfID := uuidField(t, wf, "id")
	call(t, "POST", base+"/workflows/"+wfID+"/hooks", map[string]any{}).object(t, http.StatusUnauthorized)
	call(t, "GET", base+"/workflows/"+wfID+"/hooks", nil).object(t, http.StatusUnauthorized)
	hook := call(t, "POST", base+"/workflows/"+wfID+"/hooks", map[string]any{"signature": map[string]any{"secret": hookSecret}}, "X-API-Key", key).object(t, http.StatusCreated)
	id := str(t, hook, "id")
	body := `{"ok":true}`
	call(t, "POST", base+"/hooks/"+id, body, signed(hookSecret, time.Now(), body)...).object(t, http.StatusAccepted)
	call(t, "POST", base+"/hooks/"+id, body).object(t, http.StatusUnauthorized) // the signature, not a key
	call(t, "DELETE", base+"/hooks/"+id, nil).object(t, http.StatusUnauthorized)
	if r := call(t, "DELETE", base+"/hooks/"+id, nil, "X-API-Key", key); r.status != http.StatusNoContent {
		t.Errorf("keyed delete: %d %s", r.status, r.raw)
	}
}
