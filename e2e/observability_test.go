//go:build e2e

// Package e2e runs SequenceFlow as real processes against a real Jaeger and a real
// Prometheus: `make e2e-observability`.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A user searches Jaeger for a run id and sees the whole run as one trace; the dashboards'
// and alerts' expressions return data from Prometheus scraping the API and a worker during a
// short load; and the breaker alert goes off when a breaker opens.
func TestObservabilityEndToEnd(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	jaegerBin := filepath.Join(root, "bin", "jaeger")
	if _, err := os.Stat(jaegerBin); err != nil {
		t.Fatalf("%s missing: build it with `make tools` (Jaeger is built from the tools module)", jaegerBin)
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found: install Debian's prometheus package (apt-get install prometheus)")
	}
	sf := filepath.Join(t.TempDir(), "sequenceflow")
	build := exec.Command("go", "build", "-o", sf, "./cmd/sequenceflow")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	// Every listener on a port of its own, so the check runs beside anything else on the
	// machine (another Jaeger on 4318 or 16686 included).
	ports := freePorts(t, 9)
	apiPort, workerPort, promPort := ports[0], ports[1], ports[2]
	jaeger := startJaeger(t, jaegerBin, jaegerPorts{otlpHTTP: ports[3], otlpGRPC: ports[4], queryHTTP: ports[5], queryGRPC: ports[6]})
	alertmanager, alertLog := startAlerting(t, root, sf, ports[7], ports[8])
	api := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	env := []string{
		"DATABASE_URL=" + testenv.DatabaseConns(t, 4+1+12), // the pools of the api (and its run watcher's connection) and the worker below
		"REDIS_URL=" + testenv.RedisURL(), "QUEUE_NAME=" + testenv.QueueName(t),
		"API_BASE_URL=" + api, "SEED_SAMPLES=false", "OUTBOUND_ALLOW_PRIVATE=true", "LOG_LEVEL=warn",
		// A limited host no test calls, so the outbound-limit panels have series to show.
		"OUTBOUND_HOST_LIMITS=limited.e2e.invalid=100/s:100:10",
		// The breaker opens during the load and, with no traffic after it, leaves the open state
		// by itself 15 s later: its alert fires and then resolves.
		"BREAKER_FAILURES=2", "BREAKER_OPEN_TIMEOUT=15s", "RETRY_BASE_DELAY=100ms",
		// A killed worker's tasks are redelivered within seconds.
		"WORKER_HEARTBEAT_INTERVAL=1s", "WORKER_LEASE=3s", "RECONCILE_INTERVAL=1s", "RECONCILE_AFTER=2s",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + jaeger.otlpHTTP, "OTEL_BSP_SCHEDULE_DELAY=200",
		"JAEGER_UI_URL=" + jaeger.query,
	}
	start(t, "api", sf, append(env, fmt.Sprintf("PORT=%d", apiPort), "OTEL_SERVICE_NAME=sequenceflow-api",
		"WORKER_CONCURRENCY=1", "DB_MAX_CONNS=4"), "api")
	// The API exports over OTLP/HTTP (the default protocol), the worker over OTLP/gRPC: the
	// run's trace holds spans of both only if both protocols land in Jaeger.
	workerEnv := append(env, "OTEL_SERVICE_NAME=sequenceflow-worker",
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc", fmt.Sprintf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:%d", ports[4]),
		"WORKER_CONCURRENCY=10", "DB_MAX_CONNS=12")
	worker := start(t, "worker", sf, append(workerEnv, fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", workerPort)), "worker")
	waitHTTP(t, api+"/readyz", 30*time.Second)
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", workerPort), 30*time.Second)

	promDir := t.TempDir()
	rules, _ := filepath.Glob(filepath.Join(root, "deploy/prometheus/rules/*.yml"))
	if len(rules) == 0 {
		t.Fatal("no alert rules in deploy/prometheus/rules")
	}
	cfg := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%s]
alerting:
  alertmanagers: [{static_configs: [{targets: [%q]}]}]
scrape_configs:
  - job_name: sequenceflow-api
    static_configs: [{targets: ["127.0.0.1:%d"]}]
  - job_name: sequenceflow-worker
    static_configs: [{targets: ["127.0.0.1:%d"]}]
`, strings.Join(quoteAll(rules), ", "), alertmanager, apiPort, workerPort)
	if err := os.WriteFile(filepath.Join(promDir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	prom := fmt.Sprintf("http://127.0.0.1:%d", promPort)
	start(t, "prometheus", promBin, nil, "--config.file="+filepath.Join(promDir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(promDir, "data"), fmt.Sprintf("--web.listen-address=127.0.0.1:%d", promPort),
		"--enable-feature=exemplar-storage")
	waitHTTP(t, prom+"/-/ready", 60*time.Second)

	// A short load: a full run shape, and a failing target that opens its breaker.
	failing := failingServer(t)
	full := createWorkflow(t, api, "full", workflowtest.New().Input("in").
		APICall("api", "GET", api+"/workflows/api/test-weather?city={{city}}", nil).
		IfElse("hot", "data.temperature", map[string]any{">": []any{map[string]any{"var": "value"}, 25}}).
		Delay("wait", 1).Notify("tell", "{{data.city}} is hot").Notify("mild", "{{data.city}} is mild").
		Chain("in", "api", "hot").Edge("hot", "wait", "out-true").Chain("wait", "tell").Edge("hot", "mild", "out-false").JSON())
	broken := createWorkflow(t, api, "broken", workflowtest.New().Input("in").
		APICall("down", "GET", failing+"/down", map[string]any{"retries": 1}).Notify("after", "{{status}}").Chain("in", "down", "after").JSON())
	strict := createWorkflow(t, api, "strict", workflowtest.New().Input("in").
		APICall("gone", "GET", failing+"/gone", map[string]any{"onError": "fail"}).Chain("in", "gone").JSON())

	var runs []string
	for i := range 12 {
		city := []string{"Dubai", "London", "Tokyo"}[i%3]
		runs = append(runs, execute(t, api, full, map[string]any{"city": city}))
	}
	for range 3 {
		runs = append(runs, execute(t, api, broken, nil), execute(t, api, strict, nil))
	}
	for _, id := range runs {
		waitRun(t, api, id)
	}

	t.Run("jaeger", func(t *testing.T) { checkJaeger(t, jaeger.query, api, runs[0]) })
	t.Run("prometheus", func(t *testing.T) { checkPrometheus(t, root, prom) })
	t.Run("join links", func(t *testing.T) { checkJoinLinks(t, jaeger.query, api) })
	t.Run("failed nodes", func(t *testing.T) { checkFailedNodes(t, root, prom) })
	t.Run("kill -9", func(t *testing.T) {
		checkKilledAttempt(t, jaeger.query, api, func() {
			if err := worker.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = worker.Wait()
			// The replacement listens where the killed one did, so Prometheus keeps scraping a worker.
			start(t, "worker-2", sf, append(workerEnv, fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", workerPort)), "worker")
		})
	})
	t.Run("alert delivered", func(t *testing.T) { checkBreakerAlertDelivered(t, root, alertLog) })
}

// checkKilledAttempt runs a call that hangs, kills the worker executing it (kill -9, through
// kill) once the call is in flight, and checks the run still finishes and its trace shows the
// lost attempt: the task span of the next attempt has a task.redelivered event naming the
// killed worker.
func checkKilledAttempt(t *testing.T, jaeger, api string, kill func()) {
	target, calls := hangingServer(t)
	wf := createWorkflow(t, api, "hangs", workflowtest.New().Input("in").
		APICall("hang", "GET", target+"/hang", nil).Chain("in", "hang").JSON())
	runID := execute(t, api, wf, nil)
	testenv.WaitFor(t, 30*time.Second, "the call to be in flight", func() bool { return calls.Load() == 1 })
	kill()
	waitRun(t, api, runID)
	var status struct {
		Status  string `json:"status"`
		TraceID string `json:"traceId"`
		Tasks   []struct {
			NodeID       string `json:"nodeId"`
			Status       string `json:"status"`
			Redeliveries int    `json:"redeliveries"`
		} `json:"tasks"`
	}
	getJSON(t, api+"/workflows/runs/"+runID+"/status", &status)
	if status.Status != "succeeded" {
		t.Fatalf("run after the kill: %+v", status)
	}
	deadline := time.Now().Add(testenv.Scaled(30 * time.Second))
	for {
		var res struct {
			Data []struct {
				Spans []struct {
					OperationName string `json:"operationName"`
					Logs          []struct {
						Fields []struct {
							Key   string `json:"key"`
							Value any    `json:"value"`
						} `json:"fields"`
					} `json:"logs"`
				} `json:"spans"`
			} `json:"data"`
		}
		getJSON(t, jaeger+"/api/traces/"+status.TraceID, &res)
		var seen []string
		for _, tr := range res.Data {
			for _, s := range tr.Spans {
				for _, l := range s.Logs {
					f := map[string]string{}
					for _, kv := range l.Fields {
						f[kv.Key] = fmt.Sprint(kv.Value)
					}
					if f["event"] == "task.redelivered" {
						seen = append(seen, fmt.Sprintf("%s: %v", s.OperationName, f))
						if f["redelivery.cause"] == "lost" && f["redelivery.previous_worker"] != "" {
							return
						}
					}
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s has no task.redelivered event naming the killed worker; redelivery events: %v", status.TraceID, seen)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkJaeger finds the run's trace by run.id and checks it holds the run's spans from both
// processes: run.start, every task, the outbound call and the mock endpoint.
func checkJaeger(t *testing.T, jaeger, api, runID string) {
	var status struct {
		TraceID  string `json:"traceId"`
		TraceURL string `json:"traceUrl"`
	}
	getJSON(t, api+"/workflows/runs/"+runID+"/status", &status)
	if status.TraceID == "" || !strings.HasSuffix(status.TraceURL, "/trace/"+status.TraceID) {
		t.Fatalf("run status has traceId %q traceUrl %q", status.TraceID, status.TraceURL)
	}
	q := url.Values{"service": {"sequenceflow-api"}, "tags": {fmt.Sprintf(`{"run.id":%q}`, runID)}, "limit": {"5"}}
	want := []string{"POST /workflows/{id}/execute-async", "run.start", "task inputText", "task apiCall",
		"GET " + strings.TrimPrefix(api, "http://"), // the client span names its host
		"GET /workflows/api/test-weather", "task ifElse", "task delay", "task notification"}
	var names map[string]bool
	var services map[string]bool
	deadline := time.Now().Add(testenv.Scaled(30 * time.Second))
	for {
		var res struct {
			Data []struct {
				TraceID string `json:"traceID"`
				Spans   []struct {
					OperationName string `json:"operationName"`
					ProcessID     string `json:"processID"`
				} `json:"spans"`
				Processes map[string]struct {
					ServiceName string `json:"serviceName"`
				} `json:"processes"`
			} `json:"data"`
		}
		getJSON(t, jaeger+"/api/traces?"+q.Encode(), &res)
		names, services = map[string]bool{}, map[string]bool{}
		if len(res.Data) == 1 && res.Data[0].TraceID == status.TraceID {
			for _, s := range res.Data[0].Spans {
				names[s.OperationName] = true
				services[res.Data[0].Processes[s.ProcessID].ServiceName] = true
			}
		}
		missing := 0
		for _, w := range want {
			if !names[w] {
				missing++
			}
		}
		// Task spans are named by node type; the node is their node.id attribute.
		if missing == 0 && services["sequenceflow-worker"] {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Jaeger trace for run %s: spans %v from %v; want %v from api and worker", runID, keys(names), keys(services), want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

var exprFamily = regexp.MustCompile(`\b((?:sequenceflow|asynq)_[a-z0-9_]+)`)

// checkPrometheus evaluates every dashboard and alert expression: each must evaluate, every
// metric it names must have series, dashboard expressions must return data, and the breaker
// alert must be pending or firing.
func checkPrometheus(t *testing.T, root, prom string) {
	exprs := map[string]string{} // expression → where
	dashboards, _ := filepath.Glob(filepath.Join(root, "deploy/grafana/dashboards/*.json"))
	for _, f := range dashboards {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d any
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		walkExprs(d, func(e string) { exprs[grafanaVars(e)] = filepath.Base(f) })
	}
	alerts := map[string]string{}
	var rules struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name  string `json:"name"`
					Query string `json:"query"`
					Type  string `json:"type"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	getJSON(t, prom+"/api/v1/rules", &rules)
	for _, g := range rules.Data.Groups {
		for _, r := range g.Rules {
			alerts[r.Query] = r.Name
		}
	}
	if len(exprs) == 0 || len(alerts) == 0 {
		t.Fatalf("found %d dashboard and %d rule expressions", len(exprs), len(alerts))
	}
	// Wait until the families of the load are scraped and rates have two samples.
	deadline := time.Now().Add(testenv.Scaled(60 * time.Second))
	for !hasData(t, prom, `rate(sequenceflow_task_duration_seconds_count[1m])`) || !hasData(t, prom, `max_over_time(sequenceflow_breaker_state[10m]) == 2`) {
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus has no task rates or open breaker after %v", testenv.Scaled(60*time.Second))
		}
		time.Sleep(time.Second)
	}
	// Scrapes and rule evaluations land every second; give each expression a few of them.
	for e, where := range exprs {
		deadline := time.Now().Add(testenv.Scaled(20 * time.Second))
		for !hasData(t, prom, e) {
			if time.Now().After(deadline) {
				t.Errorf("dashboard %s: expression returns no data: %s", where, e)
				break
			}
			time.Sleep(time.Second)
		}
	}
	for e, name := range alerts {
		query(t, prom, e) // must evaluate
		for _, m := range exprFamily.FindAllString(e, -1) {
			m = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_count"), "_sum")
			if !hasData(t, prom, fmt.Sprintf(`{__name__=~"%s(_bucket|_count|_sum)?"}`, m)) {
				t.Errorf("alert %s: metric %s has no series", name, m)
			}
		}
	}
	var active struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	deadline = time.Now().Add(testenv.Scaled(30 * time.Second))
	for {
		getJSON(t, prom+"/api/v1/alerts", &active)
		for _, a := range active.Data.Alerts {
			if strings.Contains(strings.ToLower(a.Labels["alertname"]), "breaker") && (a.State == "pending" || a.State == "firing") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no breaker alert pending or firing; active alerts: %+v", active.Data.Alerts)
		}
		time.Sleep(time.Second)
	}
}

// grafanaVars replaces dashboard variables with values Prometheus accepts.
func grafanaVars(e string) string {
	r := strings.NewReplacer("$__rate_interval", "1m", "${__rate_interval}", "1m", "$__interval", "15s", "$__range", "5m",
		"${node_type}", "apiCall", "$node_type", "apiCall", `=~"apiCall"`, `=~"apiCall"`,
		"${instance}", ".*", "$instance", ".*",
		// The load's workflows: "broken" has runs with failed nodes, "strict" failed runs.
		`workflow=~"${workflow}"`, `workflow=~"broken|strict"`, `workflow=~"$workflow"`, `workflow=~"broken|strict"`,
		"${workflow}", "broken", "$workflow", "broken")
	return r.Replace(e)
}

func walkExprs(v any, fn func(string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "expr" || (k == "query" && strings.Contains(s, "_"))) && !strings.HasPrefix(s, "label_values(") {
				fn(s)
			}
			walkExprs(val, fn)
		}
	case []any:
		for _, val := range x {
			walkExprs(val, fn)
		}
	}
}

func query(t *testing.T, prom, expr string) []any {
	t.Helper()
	var res struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []any `json:"result"`
		} `json:"data"`
	}
	getJSON(t, prom+"/api/v1/query?"+url.Values{"query": {expr}}.Encode(), &res)
	if res.Status != "success" {
		t.Errorf("query %s: %s", expr, res.Error)
	}
	return res.Data.Result
}

func hasData(t *testing.T, prom, expr string) bool { return len(query(t, prom, expr)) > 0 }

func start(t *testing.T, name, bin string, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	logf, err := os.Create(filepath.Join(t.TempDir(), name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("%s log (tail):\n%s", name, tail(string(b), 3000))
		}
	})
	return cmd
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func waitHTTP(t *testing.T, u string, timeout time.Duration) {
	t.Helper()
	testenv.WaitFor(t, timeout, u+" to answer 200", func() bool {
		resp, err := http.Get(u)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", u, err, tail(string(b), 500))
	}
}

func createWorkflow(t *testing.T, api, name string, def json.RawMessage) string {
	t.Helper()
	resp, err := http.Post(api+"/workflows", "application/json", strings.NewReader(fmt.Sprintf(`{"name":%q,"workflow":%s}`, name, def)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 {
		t.Fatalf("create %s: %d %v", name, resp.StatusCode, err)
	}
	return out.ID
}

func execute(t *testing.T, api, wf string, input map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"input": input})
	resp, err := http.Post(api+"/workflows/"+wf+"/execute-async", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ RunID string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 {
		t.Fatalf("execute: %d %v", resp.StatusCode, err)
	}
	return out.RunID
}

func waitRun(t *testing.T, api, runID string) {
	t.Helper()
	testenv.WaitFor(t, 60*time.Second, "run "+runID+" to finish", func() bool {
		var st struct{ Status string }
		getJSON(t, api+"/workflows/runs/"+runID+"/status", &st)
		return workflow.RunTerminal(st.Status)
	})
}

// failingServer answers 500 on /down and 404 on /gone.
func failingServer(t *testing.T) string {
	t.Helper()
	var n atomic.Int64
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		if r.URL.Path == "/gone" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

// freePorts returns n distinct TCP ports of 127.0.0.1 that were free a moment ago (held
// together while they are picked, so they differ from each other).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// jaegerPorts are the ports a test's Jaeger listens on.
type jaegerPorts struct{ otlpHTTP, otlpGRPC, queryHTTP, queryGRPC int }

// jaegerURLs are where a started Jaeger takes spans (OTLP over HTTP) and answers queries.
type jaegerURLs struct{ otlpHTTP, query string }

// startJaeger runs an in-memory Jaeger (v2, an OpenTelemetry collector) that listens only on
// the given ports of 127.0.0.1 (its stock all-in-one configuration takes a dozen fixed
// ports, 4317, 4318, 16686 and 8888 among them), and waits until it answers queries.
func startJaeger(t *testing.T, bin string, p jaegerPorts) jaegerURLs {
	t.Helper()
	cfg := fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, p.queryHTTP, p.queryGRPC, p.otlpGRPC, p.otlpHTTP)
	path := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "jaeger", bin, nil, "--config="+path)
	urls := jaegerURLs{otlpHTTP: fmt.Sprintf("http://127.0.0.1:%d", p.otlpHTTP), query: fmt.Sprintf("http://127.0.0.1:%d", p.queryHTTP)}
	waitHTTP(t, urls.query+"/api/services", 60*time.Second)
	return urls
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
