package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// logLines parses a process's JSON log, skipping what is not a JSON object.
func logLines(out string) []map[string]any {
	var lines []map[string]any
	for line := range strings.Lines(out) {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil {
			lines = append(lines, rec)
		}
	}
	return lines
}

// linesWith returns the lines with message msg whose fields include every pair of match.
func linesWith(lines []map[string]any, msg string, match map[string]string) []map[string]any {
	var out []map[string]any
	for _, l := range lines {
		if l["msg"] != msg {
			continue
		}
		ok := true
		for k, v := range match {
			if fmt.Sprint(l[k]) != v {
				ok = false
			}
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// requireTaskFields checks that a task's log line names it: trace, run, workflow, node and task.
func requireTaskFields(t *testing.T, line map[string]any, want map[string]string) {
	t.Helper()
	for _, k := range []string{"trace_id", "run.id", "workflow.id", "node.id", "node.type", "task.id"} {
		if s, _ := line[k].(string); s == "" {
			t.Errorf("line %v has no %s", line, k)
		}
	}
	for k, v := range want {
		if got := fmt.Sprint(line[k]); got != v {
			t.Errorf("line %q: %s = %q, want %q", line["msg"], k, got, v)
		}
	}
}

// An apiCall failing for good writes one ERROR line, and its retry one WARN line, each naming
// the trace, run, workflow, node and task, with the error; never the node's headers.
func TestTaskFailureIsOneLogLine(t *testing.T) {
	t.Parallel()
	var logs procOutput
	srv := apptest.StartLogged(t, app.RoleDev, &logs, nil)
	down := failingTarget(t)
	wf := createWorkflow(t, srv.URL, workflowtest.New().Input("in").
		APICall("call", "GET", down+"/down", map[string]any{"retries": 1, "onError": "fail",
			"headers": []any{map[string]any{"key": "X-Token", "value": "header-value-never-logged"}}}).
		Chain("in", "call").JSON())
	runID := execute(t, srv.URL, wf)
	if status := waitTerminal(t, nil, srv.URL, runID); status != "failed" {
		t.Fatalf("run %s, want failed", status)
	}
	var failed, retried []map[string]any
	testenv.WaitFor(t, 10*time.Second, "the failure's log line", func() bool {
		lines := logLines(logs.String())
		failed = linesWith(lines, "task failed", map[string]string{"run.id": runID})
		retried = linesWith(lines, "task attempt failed; retrying", map[string]string{"run.id": runID})
		return len(failed) > 0
	})
	if len(failed) != 1 || len(retried) != 1 {
		t.Fatalf("%d \"task failed\" and %d retry lines for the run, want 1 and 1:\n%s", len(failed), len(retried), logs.String())
	}
	want := map[string]string{"level": "ERROR", "workflow.id": wf, "node.id": "call", "node.type": "apiCall", "attempt": "2", "reason": "http_5xx"}
	requireTaskFields(t, failed[0], want)
	want["level"], want["attempt"] = "WARN", "1"
	requireTaskFields(t, retried[0], want)
	for _, l := range []map[string]any{failed[0], retried[0]} {
		if e, _ := l["error"].(string); !strings.Contains(e, "500") {
			t.Errorf("line %q: error %q, want the call's 500", l["msg"], e)
		}
	}
	if strings.Contains(logs.String(), "header-value-never-logged") {
		t.Error("a node's header value reached the process log")
	}
}

// A delay whose wake-up the queue lost is recovered by the reconciler: one log line naming the
// task and the cause, in the run's trace, and the recovery counted by cause.
func TestReconcilerRecoveryIsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	var logs procOutput
	srv := apptest.StartLogged(t, app.RoleDev, &logs, func(c *app.Config) { c.ReconcileAfter = 500 * time.Millisecond })
	wf := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Delay("wait", 2).Notify("after", "woke").Chain("in", "wait", "after").JSON())
	runID := execute(t, srv.URL, wf)
	var waitTask string
	testenv.WaitFor(t, 10*time.Second, "the delay to park its task", func() bool {
		run := getRun(t, srv.URL, runID)
		for _, task := range run.Tasks {
			if task.NodeID == "wait" && task.Status == "waiting" {
				waitTask = task.ID
			}
		}
		return waitTask != ""
	})
	// The queue loses the scheduled wake-up.
	if err := srv.App.Queue().Inspector().DeleteTask(srv.Cfg.Queue, waitTask+":wake"); err != nil {
		t.Fatalf("delete the wake-up: %v", err)
	}
	if status := waitTerminal(t, nil, srv.URL, runID); status != "succeeded" {
		t.Fatalf("run %s, want succeeded once the wake-up is recovered", status)
	}
	recovered := linesWith(logLines(logs.String()), "reconciler re-enqueued a task", map[string]string{"task.id": waitTask})
	if len(recovered) != 1 {
		t.Fatalf("%d recovery lines for the delay's task, want 1:\n%s", len(recovered), logs.String())
	}
	requireTaskFields(t, recovered[0], map[string]string{"run.id": runID, "workflow.id": wf, "node.id": "wait", "node.type": "delay", "cause": "waiting"})
	series := seriesValues(t, srv, "sequenceflow_reconciler_recovered_total", "cause")
	if series["waiting"] < 1 {
		t.Errorf("sequenceflow_reconciler_recovered_total by cause %v, want waiting counted", series)
	}
	if passes := seriesValues(t, srv, "sequenceflow_reconciler_passes_total", "result"); passes["ok"] < 1 {
		t.Errorf("sequenceflow_reconciler_passes_total by result %v, want ok passes counted", passes)
	}
}

// seriesValues reads a counter family from the process's registry: value by the given label.
func seriesValues(t *testing.T, srv *apptest.Server, family, label string) map[string]float64 {
	t.Helper()
	families, err := srv.App.Metrics().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return out
}

// procTask is what the tests read of a run's task.
type procTask struct {
	ID, NodeID, Status string
}

func getRun(t *testing.T, base, runID string) struct{ Tasks []procTask } {
	t.Helper()
	var out struct{ Tasks []procTask }
	status, body, err := procHTTP(base + "/workflows/runs/" + runID + "/status")
	if err != nil || status != http.StatusOK {
		t.Fatalf("run %s: %d %s %v", runID, status, body, err)
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A client that goes away while a synchronous execute waits for its run is not a server
// error: no ERROR line, and the request is measured with code 499, not 5xx.
func TestClientDisconnectIsNotAnError(t *testing.T) {
	t.Parallel()
	var logs procOutput
	srv := apptest.StartLogged(t, app.RoleDev, &logs, nil)
	wf := createWorkflow(t, srv.URL, workflowtest.New().Input("in").Delay("wait", 3600).Chain("in", "wait").JSON())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/workflows/"+wf+"/execute", strings.NewReader(`{"input":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	done := make(chan error, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		done <- err
	}()
	// Once the run waits on its delay, the request waits on the run: the client leaves.
	testenv.WaitFor(t, 10*time.Second, "the run to park its delay", func() bool {
		var runs []struct{ Status string }
		status, body, err := procHTTP(srv.URL + "/workflows/" + wf + "/runs")
		if err != nil || status != http.StatusOK || json.Unmarshal([]byte(body), &runs) != nil {
			return false
		}
		return len(runs) == 1 && runs[0].Status == "running"
	})
	cancel()
	<-done
	codes := func() map[string]float64 {
		return seriesValues(t, srv, "sequenceflow_http_request_duration_seconds", "code")
	}
	testenv.WaitFor(t, 10*time.Second, "the abandoned request to be measured", func() bool {
		return codes()[fmt.Sprint(telemetryClientClosed)] > 0
	})
	for code := range codes() {
		if strings.HasPrefix(code, "5") {
			t.Errorf("a request was measured with code %s: %v", code, codes())
		}
	}
	for _, l := range logLines(logs.String()) {
		if l["level"] == "ERROR" {
			t.Errorf("ERROR line after a client disconnect: %v", l)
		}
	}
}

// telemetryClientClosed is the status code of a request whose client went away.
const telemetryClientClosed = 499

// When Redis goes away, the loops that use it (asynq's processor, forwarder, heartbeater and
// janitor, the run starts, the probe) fail over and over: each repeated warning or error line
// is limited to a burst and then one per interval, the next line saying how many were
// suppressed, instead of several lines a second.
func TestRedisOutageDoesNotFloodTheLog(t *testing.T) {
	t.Parallel()
	rs := startRedisServer(t)
	var logs procOutput
	srv := apptest.StartLogged(t, app.RoleDev, &logs, func(c *app.Config) { c.RedisURL = rs.url() })
	if res, err := http.Get(srv.URL + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("readyz before the outage: %v %v", res, err)
	}
	rs.stop(t)
	killed, before := time.Now(), len(logs.String())
	since := func() []map[string]any { return logLines(logs.String()[before:]) }
	testenv.WaitFor(t, 3*telemetry.DefaultLogRepeatInterval, "a repeated line to say how many were suppressed", func() bool {
		for _, l := range since() {
			if n, _ := l["suppressed"].(float64); n > 0 {
				return true
			}
		}
		return false
	})
	window := time.Since(killed)
	// A token bucket of Burst lines refilled one per interval lets at most this many lines of
	// one key through in the window.
	bound := telemetry.DefaultLogRepeatBurst + int(window/telemetry.DefaultLogRepeatInterval) + 1
	perKey := map[string]int{}
	for _, l := range since() {
		if l["level"] == "WARN" || l["level"] == "ERROR" {
			perKey[fmt.Sprint(l["level"], " ", l["msg"])]++
		}
	}
	for key, n := range perKey {
		if n > bound {
			t.Errorf("%d lines of %q in %v after Redis went away, want at most %d", n, key, window.Round(time.Millisecond), bound)
		}
	}
	if len(perKey) > 20 {
		t.Errorf("%d distinct warning and error lines in %v, want a handful: %v", len(perKey), window, perKey)
	}
	t.Logf("%v after Redis went away: lines per message %v (bound %d)", window.Round(time.Millisecond), perKey, bound)
}
