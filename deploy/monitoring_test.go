package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Dashboards and alerts are code (ARCHITECTURE.md, "Observability contract"): every PromQL
// expression in them parses and names only metric families, labels and label values the
// service exports (internal/app/testdata/metrics.golden), and promtool accepts the Prometheus
// configuration, the rules and the rules' unit tests.

// TestMonitoringExpressions checks every expression of deploy/grafana/dashboards and
// deploy/prometheus/rules against the exported metrics, and has promtool parse them.
func TestMonitoringExpressions(t *testing.T) {
	t.Parallel()
	promtool := monPromtool(t)
	catalog := monCatalogFor(t, ".")
	exprs, err := monCollect(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) < 40 {
		t.Fatalf("found only %d expressions; is the extraction missing some?", len(exprs))
	}
	for _, e := range exprs {
		for _, err := range catalog.check(e.promql) {
			t.Errorf("%s: %v\n    %s", e.where, err, e.promql)
		}
	}
	if err := monPromtoolParse(t, promtool, exprs); err != nil {
		t.Error(err)
	}
}

// TestMonitoringCatchesMistakes shows that the checks above fail on the mistakes they are for.
func TestMonitoringCatchesMistakes(t *testing.T) {
	t.Parallel()
	catalog := monCatalogFor(t, ".")
	for _, tc := range []struct{ expr, want string }{
		{`sum(rate(sequenceflow_task_retry_total[5m]))`, `"sequenceflow_task_retry_total" is not exported`},
		{`sum by (node_typ) (rate(sequenceflow_task_retries_total[5m]))`, `label "node_typ"`},
		{`sum(rate(sequenceflow_task_retries_total[5m])) by (reasn)`, `label "reasn"`},
		{`sum by (host) (rate(sequenceflow_task_retries_total[5m]))`, `label "host"`},
		{`sequenceflow_task_failures_total{nodetype="apiCall"}`, `no label "nodetype"`},
		{`sequenceflow_runs_in_flight_count`, `not a histogram`},
		{`histogram_quantile(0.9, sum by (le) (rate(sequenceflow_task_failures_total[5m])))`, `label "le"`},
		{`sequenceflow_db_pool_acquired_connections / on (instanse) sequenceflow_db_pool_max_connections`, `label "instanse"`},
		{`sequenceflow_task_duration_seconds_count{outcome="sucess"}`, `"sucess" is not a value of outcome`},
		{`sequenceflow_breaker_requests_total{outcome="completed"}`, `"completed" is not a value of outcome`},
		{`sequenceflow_runs_finished_total{status=~"succeded|failed"}`, `"succeded" is not a value of status`},
		{`asynq_tasks_enqueued_total{state=~"pend.*x"}`, `matches none`},
		{`up{job="sequenceflow-workers"}`, `not a value of job`},
		{`{__name__="up"}`, `without a metric name`},
	} {
		errs := catalog.check(tc.expr)
		if !slices.ContainsFunc(errs, func(err error) bool { return strings.Contains(err.Error(), tc.want) }) {
			t.Errorf("%s: errors %v, want one containing %q", tc.expr, errs, tc.want)
		}
	}
	for _, ok := range []string{
		`histogram_quantile(0.99, sum by (node_type, le) (rate(sequenceflow_task_duration_seconds_bucket{outcome!~"waiting|dropped"}[5m])))`,
		`sum(rate(sequenceflow_runs_finished_total[5m])) by (status)`,
		`(sum(up{job="sequenceflow-worker"}) or vector(0)) < 1`,
		`max by (queue, state) (asynq_tasks_enqueued_total{state!="completed"}) offset 5m`,
	} {
		if errs := catalog.check(ok); len(errs) > 0 {
			t.Errorf("%s: unexpected errors %v", ok, errs)
		}
	}
	if _, err := monSubstitute(`rate(x{node_type="$nodetype"}[$__rate_interval])`, []string{"node_type"}); err == nil {
		t.Error("an undefined dashboard variable was accepted")
	}

	// A copy of the real files with one typo each: the collection finds both. (The copy's
	// deploy/ sits in a directory of its own, as metrics.golden is read from ../internal.)
	dir := filepath.Join(t.TempDir(), "deploy")
	monCopy(t, ".", dir, monGolden, monPromConfig, filepath.Join(monRulesDir, "sequenceflow.yml"),
		filepath.Join(monDashboardsDir, "overview.json"), filepath.Join(monDashboardsDir, "node-types.json"))
	monReplace(t, filepath.Join(dir, monDashboardsDir, "node-types.json"), "sequenceflow_task_retries_total", "sequenceflow_task_retrys_total")
	monReplace(t, filepath.Join(dir, monRulesDir, "sequenceflow.yml"), "max by (host) (max_over_time(sequenceflow_breaker_state[5m]))", "max by (hots) (max_over_time(sequenceflow_breaker_state[5m]))")
	exprs, err := monCollect(dir)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	copyCatalog := monCatalogFor(t, dir)
	for _, e := range exprs {
		for _, err := range copyCatalog.check(e.promql) {
			found = append(found, e.where+": "+err.Error())
		}
	}
	for _, want := range []string{`node-types.json panel "Retries per second" target A: metric "sequenceflow_task_retrys_total"`,
		`alert: SequenceFlowBreakerOpen: by (hots): no metric in its scope has label "hots"`} {
		if !slices.ContainsFunc(found, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("the typo was not caught: want %q among %q", want, found)
		}
	}

	// promtool names the expression it cannot parse.
	err = monPromtoolParse(t, monPromtool(t), []monExpr{
		{"ok", `sum(rate(sequenceflow_task_retries_total[5m]))`},
		{"bad duration", `sum(rate(sequenceflow_task_retries_total[5x]))`},
	})
	if err == nil || !strings.Contains(err.Error(), "bad duration: sum(") || strings.Contains(err.Error(), "  ok:") {
		t.Errorf("promtool parse error = %v, want it to name only the bad expression", err)
	}
}

func monCopy(t *testing.T, from, to string, files ...string) {
	t.Helper()
	for _, f := range files {
		raw, err := os.ReadFile(filepath.Join(from, f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(to, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func monReplace(t *testing.T, file, old, repl string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(raw), old, repl, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestMonitoringPromtool runs promtool check config, check rules and test rules.
func TestMonitoringPromtool(t *testing.T) {
	t.Parallel()
	promtool := monPromtool(t)
	rulesDir, err := filepath.Abs(monRulesDir)
	if err != nil {
		t.Fatal(err)
	}
	ruleFiles, _ := filepath.Glob(filepath.Join(monRulesDir, "*.yml"))
	t.Run("check config", func(t *testing.T) {
		// rule_files names the container path; check a copy that points at the repository.
		raw, err := os.ReadFile(monPromConfig)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), monRulesMount) {
			t.Fatalf("%s does not load its rules from %s, where the compose file mounts deploy/prometheus/rules", monPromConfig, monRulesMount)
		}
		cfg := filepath.Join(t.TempDir(), "prometheus.yml")
		if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(raw), monRulesMount, rulesDir+"/")), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := monRun(t, promtool, "check", "config", cfg)
		if err != nil {
			t.Fatalf("promtool check config: %v\n%s", err, out)
		}
		if want := fmt.Sprintf("SUCCESS: %d rule files found", len(ruleFiles)); !strings.Contains(out, want) {
			t.Errorf("promtool check config did not report %q:\n%s", want, out)
		}
	})
	t.Run("check rules", func(t *testing.T) {
		out, err := monRun(t, promtool, append([]string{"check", "rules"}, ruleFiles...)...)
		if err != nil {
			t.Fatalf("promtool check rules: %v\n%s", err, out)
		}
		// promtool's count and this package's YAML reading agree, so no rule escapes the
		// expression checks.
		rules, err := monLoadRules(".")
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, m := range monRulesFound.FindAllStringSubmatch(out, -1) {
			var n int
			fmt.Sscan(m[1], &n)
			total += n
		}
		if total != len(rules) {
			t.Errorf("promtool found %d rules, the expression checks read %d:\n%s", total, len(rules), out)
		}
	})
	t.Run("test rules", func(t *testing.T) {
		tests, _ := filepath.Glob(filepath.Join(monTestsDir, "*.yml"))
		if len(tests) == 0 {
			t.Fatalf("no rule tests in %s", monTestsDir)
		}
		out, err := monRun(t, promtool, append([]string{"test", "rules"}, tests...)...)
		if err != nil {
			t.Fatalf("promtool test rules: %v\n%s", err, out)
		}
	})
}

// TestMonitoringAlertRules: every alert says how bad it is and what to do, waits before
// firing, and has a rule test where it fires and one where it stays quiet.
func TestMonitoringAlertRules(t *testing.T) {
	t.Parallel()
	rules, err := monLoadRules(".")
	if err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	tested := map[string]bool{}
	tests, _ := filepath.Glob(filepath.Join(monTestsDir, "*.yml"))
	for _, f := range tests {
		doc := monYAMLFile(t, f)
		for _, rf := range monList(doc["rule_files"]) {
			tested[filepath.Clean(filepath.Join(filepath.Dir(f), monStr(rf)))] = true
		}
		for _, tc := range monList(doc["tests"]) {
			for _, at := range monList(monMap(tc)["alert_rule_test"]) {
				name := monStr(monMap(at)["alertname"])
				if len(monList(monMap(at)["exp_alerts"])) > 0 {
					fires[name] = true
				} else {
					quiet[name] = true
				}
			}
		}
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if !tested[filepath.Join(monRulesDir, r.file)] {
			t.Errorf("%s is not loaded by any rule test in %s", r.file, monTestsDir)
		}
		if !r.alert {
			continue
		}
		if seen[r.name] {
			t.Errorf("alert %s is defined twice", r.name)
		}
		seen[r.name] = true
		if !regexp.MustCompile(`^[1-9][0-9]*[smh]$`).MatchString(r.forDur) {
			t.Errorf("alert %s: for = %q, want a duration so one bad scrape does not page", r.name, r.forDur)
		}
		if s := monStr(r.labels["severity"]); s != "warning" && s != "critical" {
			t.Errorf("alert %s: severity label %q, want warning or critical", r.name, s)
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(monStr(r.annotations[a])) == "" {
				t.Errorf("alert %s has no %s annotation", r.name, a)
			}
		}
		if !fires[r.name] || !quiet[r.name] {
			t.Errorf("alert %s: rule tests where it fires: %v, where it stays quiet: %v; want both", r.name, fires[r.name], quiet[r.name])
		}
	}
	if len(seen) == 0 {
		t.Fatal("no alerts found")
	}
}
