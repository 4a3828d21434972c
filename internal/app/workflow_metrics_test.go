package app_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Runs of two workflows are told apart on /metrics by their workflow's name: runs started (on
// the API), finished, their duration, runs with failed nodes and failed nodes (on the worker).
// The worker reports where its tasks waited: released tasks in the queue wait, the retry's and
// the delay's wake-ups in timer lateness, and its task slots.
func TestMetricsPerWorkflowAndWaits(t *testing.T) {
	t.Parallel()
	srv := apptest.StartRole(t, app.RoleAPI, nil)
	worker := startWorker(t, srv)
	down := failingTarget(t)

	alpha := createNamedWorkflow(t, srv.URL, "alpha orders", workflowtest.New().Input("in").Notify("note", "hi").Chain("in", "note").JSON())
	beta := createNamedWorkflow(t, srv.URL, "beta invoices", workflowtest.New().
		APICall("call", "GET", down+"/down", map[string]any{"retries": 1}).Delay("wait", 0.1).Chain("call", "wait").JSON())
	for _, wf := range []string{alpha, alpha, beta} {
		waitTerminal(t, nil, srv.URL, execute(t, srv.URL, wf))
	}

	var s samples
	testenv.WaitFor(t, 10*time.Second, "the worker to report the runs' end", func() bool {
		s = scrapeSamples(t, worker+"/metrics")
		return s.sum("sequenceflow_runs_finished_total", nil) == 3
	})
	api := scrapeSamples(t, srv.URL+"/metrics")
	for _, c := range []struct {
		what  string
		got   float64
		want  float64
		where string
	}{
		{"runs started of alpha", api.sum("sequenceflow_runs_started_total", map[string]string{"workflow": "alpha orders"}), 2, "API"},
		{"runs started of beta", api.sum("sequenceflow_runs_started_total", map[string]string{"workflow": "beta invoices"}), 1, "API"},
		{"runs of alpha succeeded", s.sum("sequenceflow_runs_finished_total", map[string]string{"workflow": "alpha orders", "status": "succeeded"}), 2, "worker"},
		{"runs of beta succeeded", s.sum("sequenceflow_runs_finished_total", map[string]string{"workflow": "beta invoices", "status": "succeeded"}), 1, "worker"},
		{"run durations of alpha", s.sum("sequenceflow_run_duration_seconds_count", map[string]string{"workflow": "alpha orders"}), 2, "worker"},
		{"run durations of beta", s.sum("sequenceflow_run_duration_seconds_count", map[string]string{"workflow": "beta invoices"}), 1, "worker"},
		{"runs of beta with failed nodes", s.sum("sequenceflow_runs_with_failed_nodes_total", map[string]string{"workflow": "beta invoices", "status": "succeeded"}), 1, "worker"},
		{"runs of alpha with failed nodes", s.sum("sequenceflow_runs_with_failed_nodes_total", map[string]string{"workflow": "alpha orders"}), 0, "worker"},
		{"failed nodes of beta", s.sum("sequenceflow_workflow_failed_nodes_total", map[string]string{"workflow": "beta invoices", "outcome": "failed_continued"}), 1, "worker"},
		{"failed nodes of alpha", s.sum("sequenceflow_workflow_failed_nodes_total", map[string]string{"workflow": "alpha orders"}), 0, "worker"},
		// The apiCall's first attempt waited in the queue, its second for the retry's timer.
		{"apiCall queue waits", s.sum("sequenceflow_task_queue_wait_seconds_count", map[string]string{"node_type": "apiCall"}), 1, "worker"},
		{"apiCall retry lateness", s.sum("sequenceflow_timer_lateness_seconds_count", map[string]string{"node_type": "apiCall", "timer": "retry"}), 1, "worker"},
		{"delay wake-up lateness", s.sum("sequenceflow_timer_lateness_seconds_count", map[string]string{"node_type": "delay", "timer": "delay"}), 1, "worker"},
		{"delay retry lateness", s.sum("sequenceflow_timer_lateness_seconds_count", map[string]string{"node_type": "delay", "timer": "retry"}), 0, "worker"},
		{"notification queue waits", s.sum("sequenceflow_task_queue_wait_seconds_count", map[string]string{"node_type": "notification"}), 2, "worker"},
	} {
		if c.got != c.want {
			t.Errorf("%s on the %s = %v, want %v", c.what, c.where, c.got, c.want)
		}
	}

	gauges := scrapeGauges(t, worker+"/metrics")
	if got, want := gauges["sequenceflow_worker_slots_total"], float64(srv.Cfg.WorkerConcurrency); got != want {
		t.Errorf("worker slots total = %v, want WORKER_CONCURRENCY %v", got, want)
	}
	if busy, ok := gauges["sequenceflow_worker_slots_busy"]; !ok || busy != 0 {
		t.Errorf("worker slots busy = %v (exported %v), want 0 once every run finished", busy, ok)
	}
	if _, ok := scrapeGauges(t, srv.URL+"/metrics")["sequenceflow_worker_slots_total"]; ok {
		t.Error("the API process exports worker slots; it has none")
	}
}

// createNamedWorkflow creates a workflow with a name and returns its id.
func createNamedWorkflow(t *testing.T, base, name string, def json.RawMessage) string {
	t.Helper()
	var out struct{ ID string }
	procPost(t, base+"/workflows", map[string]any{"name": name, "workflow": def}, &out, http.StatusCreated)
	return out.ID
}

// scrapeGauges returns the value of each unlabelled gauge family on /metrics.
func scrapeGauges(t *testing.T, url string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for name, f := range scrapeFamilies(t, url) {
		for _, m := range f.GetMetric() {
			if g := m.GetGauge(); g != nil && len(m.GetLabel()) == 0 {
				out[name] = g.GetValue()
			}
		}
	}
	return out
}
