package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/webhook"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// createHook creates a hook of a workflow and returns its id.
func createHook(t *testing.T, base, wfID string, body any) string {
	t.Helper()
	var out struct{ ID string }
	procPost(t, base+"/workflows/"+wfID+"/hooks", body, &out, http.StatusCreated)
	return out.ID
}

// triggerHook posts body to a hook with the header pairs and returns the status and answer.
func triggerHook(t *testing.T, base, hookID, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/hooks/"+hookID, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func runIDOf(t *testing.T, answer string) string {
	t.Helper()
	_, rest, ok := strings.Cut(answer, `"runId":"`)
	if !ok || len(rest) < 36 {
		t.Fatalf("no runId in %s", answer)
	}
	return rest[:36]
}

// A trigger carrying a W3C traceparent continues the caller's trace: the API's server span
// is a child of the caller's span and the run's run.start span a child of that server span,
// so the run and all its tasks are in the caller's trace.
func TestWebhookContinuesCallerTrace(t *testing.T) {
	t.Parallel()
	rec, configure := traced(t)
	srv := apptest.Start(t, configure)
	wfID := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Notify("tell", "{{$run.input.body.msg}}").Chain("in", "tell").JSON())
	hookID := createHook(t, srv.URL, wfID, map[string]any{})

	const callerTrace, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	status, answer := triggerHook(t, srv.URL, hookID, `{"msg":"hi"}`, "traceparent", "00-"+callerTrace+"-"+callerSpan+"-01")
	if status != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", status, answer)
	}
	runID := runIDOf(t, answer)
	if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	waitSpan(t, rec, "tell")
	s := collect(t, rec)
	var runStart sdktrace.ReadOnlySpan
	for _, sp := range s.all {
		if v, ok := attr(sp, "run.id"); ok && sp.Name() == "run.start" && v.AsString() == runID {
			runStart = sp
		}
	}
	if runStart == nil {
		t.Fatal("no run.start span for the run")
	}
	if got := runStart.SpanContext().TraceID().String(); got != callerTrace {
		t.Fatalf("run.start is in trace %s, want the caller's %s", got, callerTrace)
	}
	server := s.parent(runStart)
	if server == nil || server.SpanKind() != trace.SpanKindServer || server.Name() != "POST /hooks/{hookID}" {
		t.Fatalf("run.start's parent is %v, want the trigger's server span", server)
	}
	if got := server.Parent().SpanID().String(); got != callerSpan || !server.Parent().IsRemote() {
		t.Errorf("the trigger's server span has parent %s, want the caller's span %s", got, callerSpan)
	}
	wantParent(t, s, s.one("in"), runStart)
	if strings.Contains(server.Name(), hookID) {
		t.Errorf("span name %q carries the hook id", server.Name())
	}
}

// A hook's secret, inline or configured, appears in no answer, log line or run; every
// trigger is counted by result, never by hook.
func TestWebhookSecretsStayHiddenAndResultsAreCounted(t *testing.T) {
	t.Parallel()
	const inline, configured = "inline-secret-never-shown-0001", "configured-secret-never-shown-2"
	var logs procOutput
	srv := apptest.StartLogged(t, app.RoleDev, &logs, func(c *app.Config) {
		c.Getenv = func(name string) string {
			if name == "SECRET_HOOKREF" {
				return configured
			}
			return ""
		}
	})
	wfID := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Notify("tell", "{{$run.input.headers}}").Chain("in", "tell").JSON())
	inlineHook := createHook(t, srv.URL, wfID, map[string]any{"signature": map[string]any{"secret": inline}})
	refHook := createHook(t, srv.URL, wfID, map[string]any{"signature": map[string]any{"secretRef": "HOOKREF", "header": "X-Hub-Signature-256"}})

	sign := func(secret, header, body string) []string {
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		return []string{webhook.DefaultTimestampHeader, ts, header, webhook.Sign([]byte(secret), ts, []byte(body))}
	}
	body := `{"event":"ping"}`
	var runs []string
	for _, c := range []struct {
		hook, secret, header string
		want                 int
	}{
		{inlineHook, inline, webhook.DefaultSignatureHeader, http.StatusAccepted},
		{refHook, configured, "X-Hub-Signature-256", http.StatusAccepted},
		{refHook, inline, "X-Hub-Signature-256", http.StatusUnauthorized},
	} {
		status, answer := triggerHook(t, srv.URL, c.hook, body, sign(c.secret, c.header, body)...)
		if status != c.want {
			t.Fatalf("trigger: %d %s, want %d", status, answer, c.want)
		}
		if status == http.StatusAccepted {
			runs = append(runs, runIDOf(t, answer))
		}
	}
	triggerHook(t, srv.URL, strings.Repeat("x", 32), body)
	var seen []string
	for _, runID := range runs {
		if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
			t.Fatalf("run %s", st)
		}
		res, err := http.Get(srv.URL + "/workflows/runs/" + runID + "/status")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		seen = append(seen, string(raw))
	}
	res, err := http.Get(srv.URL + "/workflows/" + wfID + "/hooks")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	seen = append(seen, string(raw), logs.String())
	for _, text := range seen {
		for _, secret := range []string{inline, configured} {
			if strings.Contains(text, secret) {
				t.Errorf("a secret appears in: %.300s", text)
			}
		}
	}
	if !strings.Contains(string(raw), `"signed":true`) || !strings.Contains(string(raw), `"secretRef":"HOOKREF"`) {
		t.Errorf("hook list: %s", raw)
	}

	want := map[string]float64{webhook.ResultAccepted: 2, webhook.ResultSignatureInvalid: 1, webhook.ResultNotFound: 1, webhook.ResultDuplicate: 0}
	var got map[string]float64
	testenv.WaitFor(t, 10*time.Second, "the webhook counters", func() bool {
		got = map[string]float64{}
		mf := scrapeFamilies(t, srv.URL+"/metrics")["sequenceflow_webhook_requests_total"]
		if mf == nil {
			return false
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() != "result" {
					t.Fatalf("label %s on sequenceflow_webhook_requests_total", lp.GetName())
				}
				got[lp.GetValue()] = m.GetCounter().GetValue()
			}
		}
		return got[webhook.ResultNotFound] == 1
	})
	for result, n := range want {
		if got[result] != n {
			t.Errorf("result %s counted %v, want %v (all: %v)", result, got[result], n, got)
		}
	}
	if len(got) != len(webhook.Results) {
		t.Errorf("%d result series, want the fixed %d", len(got), len(webhook.Results))
	}
}

// The seeded sample automation-02 is meant for a hook: a large order posted to it takes the
// review branch, reading the order from {{$run.input.body...}}.
func TestWebhookSampleTriagesOrders(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, nil)
	var list []struct{ ID, Name string }
	res, err := http.Get(srv.URL + "/workflows")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(res.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var wfID string
	for _, w := range list {
		if strings.Contains(w.Name, "Webhook Order Triage") {
			wfID = w.ID
		}
	}
	if wfID == "" {
		t.Fatalf("the webhook sample is not seeded: %v", list)
	}
	hookID := createHook(t, srv.URL, wfID, map[string]any{"dedup": map[string]any{"bodyField": "event.id"}})
	status, answer := triggerHook(t, srv.URL, hookID, `{"event":{"id":"evt_1","type":"order.created"},"order":{"id":"o-7","total":900,"customer":"Ada"}}`)
	if status != http.StatusAccepted {
		t.Fatalf("trigger: %d %s", status, answer)
	}
	runID := runIDOf(t, answer)
	if st := waitTerminal(t, nil, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s", st)
	}
	run, err := srv.App.Store().RunView(context.Background(), workflow.RunKey{RunID: runID}, workflow.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]string{}
	for _, task := range run.Tasks {
		statuses[task.NodeID] = task.Status
	}
	if statuses["review-order"] != workflow.TaskCompleted || statuses["accept-order"] != workflow.TaskSkipped {
		t.Errorf("task statuses %v, want review-order completed and accept-order skipped", statuses)
	}
	var review string
	for _, l := range run.Logs {
		if l.NodeID != nil && *l.NodeID == "review-order" && l.Type == workflow.LogNodeOutput {
			review = l.Message
		}
	}
	if !strings.Contains(review, "o-7") || !strings.Contains(review, "Ada") || !strings.Contains(review, "evt_1") {
		t.Errorf("review notification %q does not read the webhook body", review)
	}
}
