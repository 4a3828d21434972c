package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

// goldenPath lists every metric family the service exports with its label names; dashboard
// and alert tests check their PromQL against it.
const goldenPath = "testdata/metrics.golden"

// After runs that complete, retry, fail and call out, the API's and a worker's /metrics carry
// every metric family of the observability contract with the expected labels.
func TestMetricsFamilies(t *testing.T) {
	t.Parallel()
	// An API-only process and a worker: every task runs on the worker, so each family shows
	// up on the process that owns it.
	// A limited host that is never called: its limiter series exist from the start.
	srv := apptest.StartRole(t, app.RoleAPI, func(c *app.Config) {
		c.OutboundHostLimits = []hostlimit.Limit{{Host: "limited.example.com", Rate: 10, Per: time.Second, Burst: 10, MaxInFlight: 2}}
	})
	worker := startWorker(t, srv)

	flaky := httpTarget(t)
	def := workflowtest.New().Input("in").
		APICall("ok", "GET", srv.URL+"/workflows/api/test-weather?city=Oslo", nil).
		APICall("flaky", "GET", flaky+"/flaky", map[string]any{"retries": 2}).
		APICall("soft", "GET", flaky+"/missing", nil).
		APICall("broken", "GET", flaky+"/missing", map[string]any{"onError": "fail"}).
		Chain("in", "ok", "flaky", "soft", "broken").JSON()
	wfID := createWorkflow(t, srv.URL, def)
	runID := execute(t, srv.URL, wfID)
	waitTerminal(t, nil, srv.URL, runID)

	api := scrape(t, srv.URL+"/metrics")
	wrk := scrape(t, worker+"/metrics")
	all := merge(api, wrk)
	for _, want := range []string{
		"sequenceflow_task_duration_seconds", "sequenceflow_task_scheduling_delay_seconds", "sequenceflow_task_retries_total",
		"sequenceflow_task_failures_total", "sequenceflow_runs_started_total", "sequenceflow_runs_finished_total",
		"sequenceflow_run_duration_seconds", "sequenceflow_runs_in_flight", "sequenceflow_oldest_run_in_flight_seconds",
		"sequenceflow_db_pool_acquired_connections", "sequenceflow_db_pool_idle_connections", "sequenceflow_db_pool_total_connections",
		"sequenceflow_db_pool_max_connections", "sequenceflow_db_pool_acquires_total", "sequenceflow_db_pool_acquire_wait_seconds_total",
		"sequenceflow_http_request_duration_seconds", "sequenceflow_breaker_state", "sequenceflow_breaker_requests_total",
		"sequenceflow_outbound_request_duration_seconds",
		"sequenceflow_reconciler_recovered_total", "asynq_queue_size", "asynq_queue_latency_seconds",
		"sequenceflow_tasks_finished_total", "sequenceflow_runs_with_failed_nodes_total",
		"sequenceflow_outbound_throttled_total", "sequenceflow_outbound_throttle_wait_seconds",
		"sequenceflow_outbound_in_flight", "sequenceflow_outbound_in_flight_limit",
	} {
		if _, ok := all[want]; !ok {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, want := range []string{"sequenceflow_runs_in_flight", "sequenceflow_http_request_duration_seconds", "asynq_queue_size", "sequenceflow_runs_started_total"} {
		if _, ok := api[want]; !ok {
			t.Errorf("API /metrics lacks %s", want)
		}
	}
	for _, want := range []string{"sequenceflow_db_pool_acquired_connections", "sequenceflow_reconciler_recovered_total", "sequenceflow_task_duration_seconds"} {
		if _, ok := wrk[want]; !ok {
			t.Errorf("worker /metrics lacks %s", want)
		}
	}
	if _, ok := wrk["asynq_queue_size"]; ok {
		t.Error("worker /metrics exports the queue collector; only the API should, so N workers do not multiply Redis load")
	}
	for name, labels := range api {
		for _, l := range labels {
			if strings.Contains(l, "run") && strings.Contains(l, "id") || l == "task_id" || l == "trace_id" {
				t.Errorf("%s has high-cardinality label %q", name, l)
			}
		}
	}
	golden := render(all)
	if *update {
		if err := os.WriteFile(goldenPath, golden, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/app -run TestMetricsFamilies -update)", err)
	}
	if !bytes.Equal(golden, want) {
		t.Fatalf("metric families changed; review and run with -update:\n--- got\n%s\n--- want\n%s", golden, want)
	}
}

// startWorker runs a worker-role process on the same database and queue, returning its
// health/metrics base URL.
func startWorker(t *testing.T, srv *apptest.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := srv.Cfg
	cfg.Listener, cfg.MetricsListener = nil, ln
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.RoleWorker, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return "http://" + ln.Addr().String()
}

func httpTarget(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	calls := map[string]int{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls[r.URL.Path]++
		n := calls[r.URL.Path]
		mu.Unlock()
		switch {
		case r.URL.Path == "/flaky" && n == 1:
			w.WriteHeader(http.StatusBadGateway)
		case r.URL.Path == "/missing":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true}`)
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func createWorkflow(t *testing.T, base string, def json.RawMessage) string {
	t.Helper()
	var out struct{ ID string }
	procPost(t, base+"/workflows", map[string]any{"name": "metrics", "workflow": def}, &out, http.StatusCreated)
	return out.ID
}

func execute(t *testing.T, base, wfID string) string {
	t.Helper()
	var out struct{ RunID string }
	procPost(t, base+"/workflows/"+wfID+"/execute-async", map[string]any{"input": map[string]any{}}, &out, http.StatusCreated)
	return out.RunID
}

// waitTerminal polls a run's status through client c (nil: the default client) until it is
// terminal, and returns that status.
func waitTerminal(t *testing.T, c *http.Client, base, runID string) string {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	deadline := time.Now().Add(testenv.Scaled(30 * time.Second))
	for time.Now().Before(deadline) {
		resp, err := c.Get(base + "/workflows/runs/" + runID + "/status")
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Status string }
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if workflow.RunTerminal(out.Status) {
			return out.Status
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("run %s did not finish", runID)
	return ""
}

// scrape returns metric family name → sorted label names (without le/quantile).
func scrape(t *testing.T, url string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, mf := range scrapeFamilies(t, url) {
		labels := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		var names []string
		for l := range labels {
			names = append(names, l)
		}
		sort.Strings(names)
		out[name] = names
	}
	return out
}

// scrapeFamilies reads a /metrics endpoint in the Prometheus text format.
func scrapeFamilies(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}

func merge(a, b map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, m := range []map[string][]string{a, b} {
		for k, v := range m {
			out[k] = slices.Compact(slices.Sorted(slices.Values(append(out[k], v...))))
		}
	}
	return out
}

// render writes the families of our own and asynq's metrics (Go runtime and process
// families vary by platform and are left out).
func render(families map[string][]string) []byte {
	var names []string
	for n := range families {
		if strings.HasPrefix(n, "sequenceflow_") || strings.HasPrefix(n, "asynq_") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var b bytes.Buffer
	for _, n := range names {
		fmt.Fprintln(&b, strings.TrimSpace(n+" "+strings.Join(families[n], ",")))
	}
	return b.Bytes()
}
