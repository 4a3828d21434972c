package app_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A node type failing on every attempt shows a 100 % failure ratio of final task outcomes
// (sequenceflow_tasks_finished_total), where the attempt ratio, with 3 retries, reads 25 %; a
// node that fails and continues is counted once as failed_continued, and its run among the
// runs with failed nodes although it succeeded.
func TestTaskFailureRatioCountsTasks(t *testing.T) {
	t.Parallel()
	srv := apptest.StartRole(t, app.RoleAPI, nil)
	worker := startWorker(t, srv)
	down := failingTarget(t)

	hard := createWorkflow(t, srv.URL, workflowtest.New().Input("in").
		APICall("api", "GET", down+"/down", map[string]any{"retries": 3, "onError": "fail"}).Chain("in", "api").JSON())
	soft := createWorkflow(t, srv.URL, workflowtest.New().
		APICall("api", "GET", down+"/down", map[string]any{"retries": 0}).Notify("after", "{{success}}").Chain("api", "after").JSON())
	for _, wf := range []string{hard, hard, soft} {
		runID := execute(t, srv.URL, wf)
		waitTerminal(t, nil, srv.URL, runID)
	}

	var s samples
	testenv.WaitFor(t, 10*time.Second, "the worker to report the runs' end", func() bool {
		s = scrapeSamples(t, worker+"/metrics")
		return s.sum("sequenceflow_runs_finished_total", nil) == 3
	})
	apiCall := map[string]string{"node_type": "apiCall"}
	if got := s.sum("sequenceflow_tasks_finished_total", map[string]string{"node_type": "apiCall", "outcome": "failed"}); got != 2 {
		t.Errorf("apiCall tasks finished failed = %v, want 2 (once per task, not per attempt)", got)
	}
	if got := s.sum("sequenceflow_tasks_finished_total", map[string]string{"node_type": "apiCall", "outcome": "failed_continued"}); got != 1 {
		t.Errorf("apiCall tasks finished failed_continued = %v, want 1", got)
	}
	if got := s.sum("sequenceflow_tasks_finished_total", map[string]string{"node_type": "notification", "outcome": "completed"}); got != 1 {
		t.Errorf("notification tasks finished completed = %v, want 1", got)
	}
	// The hard workflow's node type, alone: every one of its tasks failed.
	failed := s.sum("sequenceflow_tasks_finished_total", map[string]string{"node_type": "apiCall", "outcome": "failed"})
	ran := s.sum("sequenceflow_tasks_finished_total", apiCall) - s.sum("sequenceflow_tasks_finished_total", map[string]string{"node_type": "apiCall", "outcome": "failed_continued"})
	if ran != 2 || failed/ran != 1 {
		t.Errorf("task failure ratio of the always-failing runs = %v/%v, want 100%%", failed, ran)
	}
	attempts := s.sum("sequenceflow_task_duration_seconds_count", map[string]string{"node_type": "apiCall", "outcome": "failed"}) +
		s.sum("sequenceflow_task_duration_seconds_count", map[string]string{"node_type": "apiCall", "outcome": "retry"})
	if attempts != 8 {
		t.Errorf("apiCall attempts of the always-failing runs = %v, want 8 (2 tasks of 4 attempts)", attempts)
	}
	if got := s.sum("sequenceflow_runs_with_failed_nodes_total", map[string]string{"status": "succeeded"}); got != 1 {
		t.Errorf("runs with failed nodes (succeeded) = %v, want 1", got)
	}
	if got := s.sum("sequenceflow_runs_finished_total", map[string]string{"status": "succeeded"}); got != 1 {
		t.Errorf("runs finished succeeded = %v, want 1: the run's status stays succeeded", got)
	}
}

// failingTarget answers every request with a 500, on loopback.
func failingTarget(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// samples are the scraped sample values of counters and histogram counts.
type samples map[string][]labelledValue

type labelledValue struct {
	labels map[string]string
	value  float64
}

// sum adds the samples of family name whose labels include every pair of match.
func (s samples) sum(name string, match map[string]string) float64 {
	var total float64
	for _, v := range s[name] {
		ok := true
		for k, want := range match {
			if v.labels[k] != want {
				ok = false
			}
		}
		if ok {
			total += v.value
		}
	}
	return total
}

func scrapeSamples(t *testing.T, url string) samples {
	t.Helper()
	out := samples{}
	for name, f := range scrapeFamilies(t, url) {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch {
			case m.GetCounter() != nil:
				out[name] = append(out[name], labelledValue{labels, m.GetCounter().GetValue()})
			case m.GetHistogram() != nil:
				out[name+"_count"] = append(out[name+"_count"], labelledValue{labels, float64(m.GetHistogram().GetSampleCount())})
			}
		}
	}
	return out
}
