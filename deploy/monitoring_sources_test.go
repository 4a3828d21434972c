package deploy_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Paths relative to deploy/, the tests' working directory, and the container paths the
// compose file mounts them at.
const (
	monGolden          = "../internal/app/testdata/metrics.golden"
	monPromConfig      = "prometheus/prometheus.yml"
	monRulesDir        = "prometheus/rules"
	monTestsDir        = "prometheus/tests"
	monDashboardsDir   = "grafana/dashboards"
	monDatasourcesDir  = "grafana/provisioning/datasources"
	monProvidersDir    = "grafana/provisioning/dashboards"
	monRulesMount      = "/etc/prometheus/rules/"
	monDashboardsMount = "/var/lib/grafana/dashboards"
)

// monExpr is one PromQL expression of a dashboard or rule file.
type monExpr struct {
	where  string // file and panel or rule
	promql string // Grafana variables replaced: what promtool parses
}

// monCatalogFor builds the catalog from metrics.golden, the telemetry package's histograms,
// the engine's label values and the job and alert names of dir's Prometheus files.
func monCatalogFor(t testing.TB, dir string) *monCatalog {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, monGolden))
	if err != nil {
		t.Fatalf("%v (generate it: go test ./internal/app -run TestMetricsFamilies -update)", err)
	}
	c := &monCatalog{families: map[string][]string{}, histograms: monHistograms(t)}
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	for sc.Scan() {
		name, labels, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if name == "" {
			continue
		}
		c.families[name] = nil
		if labels != "" {
			c.families[name] = strings.Split(labels, ",")
		}
	}
	for h := range c.histograms {
		if _, ok := c.families[h]; !ok {
			t.Fatalf("histogram %s is not in %s: regenerate it (go test ./internal/app -run TestMetricsFamilies -update)", h, monGolden)
		}
	}
	rules, err := monLoadRules(dir)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, r := range rules {
		if r.alert {
			alerts = append(alerts, r.name)
			continue
		}
		// A recording rule's series carry the labels its aggregations keep and its own labels.
		if _, ok := c.families[r.name]; ok {
			t.Fatalf("recording rule %s shadows a metric of the service", r.name)
		}
		if !monRecordName.MatchString(r.name) {
			t.Errorf("recording rule %s: want a level:metric:operations name (sequenceflow:...:...)", r.name)
		}
		labels, err := monRecordedLabels(r)
		if err != nil {
			t.Fatalf("recording rule %s: %v", r.name, err)
		}
		c.families[r.name] = labels
	}
	c.families["up"] = nil
	c.families["ALERTS"] = []string{"alertname", "alertstate", "severity"}
	statuses := []string{workflow.RunSucceeded, workflow.RunFailed, workflow.RunCancelled}
	c.values = map[string]map[string][]string{
		"sequenceflow_task_duration_seconds": {"outcome": {engine.OutcomeCompleted, engine.OutcomeWaiting, engine.OutcomeRetry,
			engine.OutcomeContinued, engine.OutcomeFailed, engine.OutcomeDropped}},
		// internal/outbound's breaker transport reports these outcomes.
		"sequenceflow_breaker_requests_total":      {"outcome": {"success", "failure", "rejected"}},
		"sequenceflow_runs_finished_total":         {"status": statuses},
		"sequenceflow_run_duration_seconds":        {"status": statuses},
		"sequenceflow_workflow_failed_nodes_total": {"outcome": {engine.TaskOutcomeFailed, engine.TaskOutcomeFailedContinued}},
		"sequenceflow_timer_lateness_seconds":      {"timer": {engine.WaitDelay, engine.WaitRetry}},
		"sequenceflow_outbound_request_duration_seconds": {"outcome": {outbound.OutcomeSuccess, outbound.OutcomeHTTP4xx, outbound.OutcomeHTTP5xx,
			outbound.OutcomeTimeout, outbound.OutcomeNetwork, outbound.OutcomeRefused, outbound.OutcomeRejected}},
		"sequenceflow_reconciler_passes_total":    {"result": {"ok", "error"}},
		"sequenceflow_reconciler_recovered_total": {"cause": {"queued", "waiting", "lost_worker", "stale"}},
		// The task states asynq's x/metrics collector reports.
		"asynq_tasks_enqueued_total": {"state": {"active", "pending", "scheduled", "retry", "archived", "completed"}},
		"ALERTS":                     {"alertname": alerts, "alertstate": {"pending", "firing"}},
		"*":                          {"job": monJobs(t, dir)},
	}
	return c
}

var monRecordName = regexp.MustCompile(`^sequenceflow:[a-z0-9_]+:[a-z0-9_]+$`)

// monRecordedLabels returns the labels of a recording rule's series: those its by (...)
// clauses keep, and those of its labels field.
func monRecordedLabels(r monRule) ([]string, error) {
	u, err := monAnalyze(r.expr)
	if err != nil {
		return nil, err
	}
	var labels []string
	for _, g := range u.groups {
		if g.keyword == "by" {
			labels = append(labels, g.labels...)
		}
	}
	for l := range r.labels {
		labels = append(labels, l)
	}
	slices.Sort(labels)
	return slices.Compact(labels), nil
}

// monHistograms lists the histogram families of telemetry.Metrics, the only histograms the
// service exports, so that _bucket, _sum and _count are accepted for exactly those.
func monHistograms(t testing.TB) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	m := reflect.ValueOf(telemetry.NewMetrics()).Elem()
	for i := range m.NumField() {
		var c prometheus.Collector
		switch v := m.Field(i).Interface().(type) {
		case *prometheus.HistogramVec:
			c = v
		case prometheus.Histogram:
			c = v
		default:
			continue
		}
		ch := make(chan *prometheus.Desc, 8)
		c.Describe(ch)
		close(ch)
		for d := range ch {
			if m := fqName.FindStringSubmatch(d.String()); m != nil {
				out[m[1]] = true
			}
		}
	}
	// Histograms made at scrape time by a collector: the outbound request durations.
	reg := prometheus.NewRegistry()
	reg.MustRegister(telemetry.NewMetrics().NewBreakerCollector(oneOutboundRequest{}))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetType() == dto.MetricType_HISTOGRAM {
			out[f.GetName()] = true
		}
	}
	if len(out) == 0 {
		t.Fatal("found no histogram in telemetry.Metrics")
	}
	return out
}

// oneOutboundRequest is a breaker source with one request's duration and no breaker.
type oneOutboundRequest struct{}

func (oneOutboundRequest) BreakerStates() []outbound.BreakerState { return nil }

func (oneOutboundRequest) RequestDurations() []outbound.RequestDurations {
	return []outbound.RequestDurations{{Host: "h", Outcome: outbound.OutcomeSuccess, Count: 1, Sum: 0.1, Buckets: map[float64]uint64{1: 1}}}
}

// monJobs returns the scrape job names of prometheus.yml.
func monJobs(t testing.TB, dir string) []string {
	t.Helper()
	cfg := monYAMLFile(t, filepath.Join(dir, monPromConfig))
	var jobs []string
	for _, sc := range monList(cfg["scrape_configs"]) {
		jobs = append(jobs, monStr(monMap(sc)["job_name"]))
	}
	return jobs
}

// monRule is one recording or alerting rule.
type monRule struct {
	file, name, expr, forDur string
	alert                    bool
	labels, annotations      map[string]any
}

func monLoadRules(dir string) ([]monRule, error) {
	files, _ := filepath.Glob(filepath.Join(dir, monRulesDir, "*.yml"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no rule files in %s", filepath.Join(dir, monRulesDir))
	}
	var rules []monRule
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := monParseYAML(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, g := range monList(monMap(doc)["groups"]) {
			for _, r := range monList(monMap(g)["rules"]) {
				rm := monMap(r)
				rule := monRule{file: filepath.Base(f), name: monStr(rm["alert"]), alert: true, expr: monStr(rm["expr"]),
					forDur: monStr(rm["for"]), labels: monMap(rm["labels"]), annotations: monMap(rm["annotations"])}
				if rule.name == "" {
					rule.name, rule.alert = monStr(rm["record"]), false
				}
				rules = append(rules, rule)
			}
		}
	}
	return rules, nil
}

// monCollect returns every PromQL expression of dir's rule files and dashboards.
func monCollect(dir string) ([]monExpr, error) {
	rules, err := monLoadRules(dir)
	if err != nil {
		return nil, err
	}
	var out []monExpr
	for _, r := range rules {
		out = append(out, monExpr{fmt.Sprintf("%s %s: %s", r.file, map[bool]string{true: "alert", false: "record"}[r.alert], r.name), r.expr})
	}
	files, _ := filepath.Glob(filepath.Join(dir, monDashboardsDir, "*.json"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboards in %s", filepath.Join(dir, monDashboardsDir))
	}
	for _, f := range files {
		exprs, err := monDashboardExprs(f)
		if err != nil {
			return nil, err
		}
		out = append(out, exprs...)
	}
	return out, nil
}

func monLoadDashboard(file string) (map[string]any, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var d map[string]any
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}

// monPanels returns the dashboard's panels, those nested in collapsed rows included.
func monPanels(d map[string]any) []map[string]any {
	var out []map[string]any
	var walk func([]any)
	walk = func(ps []any) {
		for _, p := range ps {
			out = append(out, monMap(p))
			walk(monList(monMap(p)["panels"]))
		}
	}
	walk(monList(d["panels"]))
	return out
}

func monDashboardExprs(file string) ([]monExpr, error) {
	d, err := monLoadDashboard(file)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(file)
	var vars []string
	for _, v := range monList(monMap(d["templating"])["list"]) {
		vars = append(vars, monStr(monMap(v)["name"]))
	}
	var out []monExpr
	add := func(where, expr string) error {
		q, err := monSubstitute(expr, vars)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		out = append(out, monExpr{where, q})
		return nil
	}
	for _, p := range monPanels(d) {
		for _, tg := range monList(p["targets"]) {
			tm := monMap(tg)
			where := fmt.Sprintf("%s panel %q target %s", base, monStr(p["title"]), monStr(tm["refId"]))
			if monStr(tm["expr"]) == "" {
				return nil, fmt.Errorf("%s has no expr", where)
			}
			if err := add(where, monStr(tm["expr"])); err != nil {
				return nil, err
			}
		}
	}
	for _, v := range monList(monMap(d["templating"])["list"]) {
		vm := monMap(v)
		if monStr(vm["type"]) != "query" {
			continue
		}
		queries := []string{monStr(vm["query"]), monStr(monMap(vm["query"])["query"]), monStr(vm["definition"])}
		for _, q := range queries {
			if q == "" {
				continue
			}
			where := fmt.Sprintf("%s variable %s", base, monStr(vm["name"]))
			expr, err := monVariableQuery(q)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			if err := add(where, expr); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

var monLabelValues = regexp.MustCompile(`^label_values\((.+),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)$`)

// monVariableQuery turns a Prometheus template variable query into the PromQL it stands for:
// label_values(sel, l) into count by (l) (sel), so the label is checked against sel's metric.
func monVariableQuery(q string) (string, error) {
	q = strings.TrimSpace(q)
	if m := monLabelValues.FindStringSubmatch(q); m != nil {
		return fmt.Sprintf("count by (%s) (%s)", m[2], m[1]), nil
	}
	if inner, ok := strings.CutPrefix(q, "query_result("); ok && strings.HasSuffix(inner, ")") {
		return strings.TrimSuffix(inner, ")"), nil
	}
	return "", fmt.Errorf("variable query %q: use label_values(metric, label) or query_result(expr)", q)
}

// Grafana's built-in interval variables, replaced by typical values before parsing.
var monBuiltins = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1h",
	"__interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000"}

var monVarRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// monSubstitute replaces Grafana's built-in variables; dashboard variables stay (they are
// label values inside strings) and any other variable is an error.
func monSubstitute(expr string, vars []string) (string, error) {
	var unknown []string
	out := monVarRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := monVarRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		if v, ok := monBuiltins[name]; ok {
			return v
		}
		if !slices.Contains(vars, name) {
			unknown = append(unknown, ref)
		}
		return ref
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("%q uses undefined variables %v", expr, unknown)
	}
	return out, nil
}

// monPromtool returns promtool's path; its absence fails the test.
func monPromtool(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is not installed (%v): install Debian's prometheus package, apt-get install -y prometheus (.ci/run installs it when missing)", err)
	}
	return p
}

func monRun(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}

var monRulesFound = regexp.MustCompile(`SUCCESS: (\d+) rules found`)

// monPromtoolParse has promtool parse every expression, as recording rules of a temporary
// rule file, and names the expressions it rejects.
func monPromtoolParse(t testing.TB, promtool string, exprs []monExpr) error {
	t.Helper()
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	for i, e := range exprs {
		rules = append(rules, rule{fmt.Sprintf("mon_expr_%d", i), e.promql})
	}
	doc, err := json.Marshal(map[string]any{"groups": []any{map[string]any{"name": "monitoring_expressions", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "expressions.json") // JSON is YAML
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := monRun(t, promtool, "check", "rules", "--lint=none", file)
	if err != nil {
		var bad []string
		for i, e := range exprs {
			if strings.Contains(out, fmt.Sprintf("%q:", fmt.Sprintf("mon_expr_%d", i))) {
				bad = append(bad, fmt.Sprintf("  %s: %s", e.where, e.promql))
			}
		}
		sort.Strings(bad)
		return fmt.Errorf("promtool rejects expressions:\n%s\npromtool said: %v\n%s", strings.Join(bad, "\n"), err, out)
	}
	if m := monRulesFound.FindStringSubmatch(out); m == nil || m[1] != fmt.Sprint(len(exprs)) {
		return fmt.Errorf("promtool checked %v expressions, want %d:\n%s", m, len(exprs), out)
	}
	return nil
}
