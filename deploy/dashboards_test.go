package deploy_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// monFilterVars are the dashboard variables that filter by a label of the same name: wherever
// a dashboard defines one, every selector of a metric with that label applies it.
var monFilterVars = []string{"workflow", "instance", "node_type"}

// monDashboardVars says which filter variables each dashboard must offer.
var monDashboardVars = map[string][]string{
	"overview.json":   {"workflow", "instance", "node_type"},
	"node-types.json": {"instance", "node_type"},
	"workflow.json":   {"workflow", "instance"},
}

func monDashboards(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(monDashboardsDir, "*.json"))
	out := map[string]map[string]any{}
	for _, f := range files {
		d, err := monLoadDashboard(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = d
	}
	if len(out) == 0 {
		t.Fatal("no dashboards")
	}
	return out
}

func monVariables(d map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, v := range monList(monMap(d["templating"])["list"]) {
		out[monStr(monMap(v)["name"])] = monMap(v)
	}
	return out
}

// TestDashboardVariables: every dashboard lets the operator pick the Prometheus datasource and
// every query uses the pick; the filter variables are applied to every selector of a metric
// that has their label.
func TestDashboardVariables(t *testing.T) {
	t.Parallel()
	catalog := monCatalogFor(t, ".")
	for name, d := range monDashboards(t) {
		vars := monVariables(d)
		ds := vars["datasource"]
		if monStr(ds["type"]) != "datasource" || monStr(ds["query"]) != "prometheus" {
			t.Errorf("%s: no datasource variable of Prometheus datasources (got %v)", name, ds)
		}
		for _, want := range monDashboardVars[name] {
			if vars[want] == nil {
				t.Errorf("%s: no %s variable", name, want)
			}
		}
		for _, v := range monFilterVars {
			if vm := vars[v]; vm != nil && (monStr(vm["type"]) != "query" || !strings.Contains(monStr(vm["definition"]), ", "+v+")")) {
				t.Errorf("%s: variable %s is not label_values(..., %s): %v", name, v, v, vm["definition"])
			}
		}
		for _, p := range monPanels(d) {
			if monStr(p["type"]) == "row" {
				continue
			}
			title := monStr(p["title"])
			refs := []any{p["datasource"]}
			for _, tg := range monList(p["targets"]) {
				refs = append(refs, monMap(tg)["datasource"])
			}
			for _, ref := range refs {
				if m := monMap(ref); monStr(m["type"]) == "prometheus" && monStr(m["uid"]) != "${datasource}" {
					t.Errorf("%s: panel %q queries datasource %q, not the ${datasource} variable", name, title, monStr(m["uid"]))
				}
			}
			for _, tg := range monList(p["targets"]) {
				expr := monStr(monMap(tg)["expr"])
				for _, missing := range monUnfiltered(t, catalog, expr, vars) {
					t.Errorf("%s: panel %q: %s\n    %s", name, title, missing, expr)
				}
			}
		}
	}
}

// monUnfiltered lists the selectors of expr that do not apply a filter variable defined in
// vars although their metric has its label.
func monUnfiltered(t *testing.T, catalog *monCatalog, expr string, vars map[string]map[string]any) []string {
	t.Helper()
	var names []string
	for n := range vars {
		names = append(names, n)
	}
	expr, err := monSubstitute(expr, names)
	if err != nil {
		return []string{err.Error()}
	}
	u, err := monAnalyze(expr)
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	for _, m := range u.metrics {
		_, labels, err := catalog.labelsOf(m.name)
		if err != nil {
			continue // TestMonitoringExpressions reports it
		}
		for _, v := range monFilterVars {
			if vars[v] == nil || !slices.Contains(labels, v) {
				continue
			}
			applied := slices.ContainsFunc(u.matchers, func(mt monMatcher) bool {
				return mt.tok == m.tok && mt.label == v && (mt.op == "=" || mt.op == "=~") && (mt.value == "$"+v || mt.value == "${"+v+"}")
			})
			if !applied {
				out = append(out, fmt.Sprintf("%s is not filtered by %s=~\"$%s\"", m.name, v, v))
			}
		}
	}
	return out
}

// TestDashboardVariablesCatchMissingFilters: the check above fails on a selector that forgets
// a variable.
func TestDashboardVariablesCatchMissingFilters(t *testing.T) {
	t.Parallel()
	catalog := monCatalogFor(t, ".")
	vars := map[string]map[string]any{"instance": {}, "node_type": {}}
	got := monUnfiltered(t, catalog, `sum(rate(sequenceflow_task_failures_total{node_type=~"$node_type", instance=~"$instance"}[5m])) / sum(rate(sequenceflow_task_failures_total{node_type=~"$node_type"}[5m]))`, vars)
	if len(got) != 1 || !strings.Contains(got[0], "not filtered by instance") {
		t.Errorf("got %q, want the second selector reported for instance", got)
	}
	if got := monUnfiltered(t, catalog, `max(sequenceflow_runs_in_flight{instance=~"$instance"}) or vector(0)`, vars); len(got) != 0 {
		t.Errorf("a filtered selector was reported: %q", got)
	}
}

// TestDashboardStatsShowZero: no stat panel reads "No data": a count falls back to 0 (or
// vector(0), so the sparkline has points too), a ratio or latency of nothing says what is
// missing.
func TestDashboardStatsShowZero(t *testing.T) {
	t.Parallel()
	stats := 0
	for name, d := range monDashboards(t) {
		for _, p := range monPanels(d) {
			if monStr(p["type"]) != "stat" {
				continue
			}
			stats++
			title := monStr(p["title"])
			noValue := monStr(monMap(monMap(p["fieldConfig"])["defaults"])["noValue"])
			if noValue == "" {
				t.Errorf("%s: stat %q has no noValue: it would read No data", name, title)
			}
			if noValue != "0" {
				continue
			}
			for _, tg := range monList(p["targets"]) {
				if expr := monStr(monMap(tg)["expr"]); !strings.HasSuffix(strings.TrimSpace(expr), "or vector(0)") {
					t.Errorf("%s: stat %q shows 0 for no data, but its query %s has no `or vector(0)`", name, title, expr)
				}
			}
		}
	}
	if stats == 0 {
		t.Fatal("no stat panels")
	}
}

// monExemplarPanels: the series whose points link to their trace, per dashboard.
var monExemplarPanels = map[string][]string{
	"overview.json": {"sequenceflow_task_duration_seconds_bucket", "sequenceflow_run_duration_seconds_bucket", "sequenceflow_http_request_duration_seconds_bucket"},
	"workflow.json": {"sequenceflow_run_duration_seconds_bucket"},
}

// TestDashboardExemplars: run duration, task and HTTP latency panels show exemplars.
func TestDashboardExemplars(t *testing.T) {
	t.Parallel()
	dashboards := monDashboards(t)
	for name, series := range monExemplarPanels {
		for _, s := range series {
			if !monHasExemplars(dashboards[name], s) {
				t.Errorf("%s: no %s target with exemplars enabled", name, s)
			}
		}
	}
}

// monJaegerPanels are panels that must link to a Jaeger search of their failing or slow spans.
var monJaegerPanels = map[string][]string{
	"overview.json": {"Failures per second by node type and reason", "Task failure ratio by node type",
		"Runs with failed nodes beside failed runs", "Breaker state by host", "Breaker outcomes by host",
		"Outbound request p95 by host", "Outbound requests per second by host and outcome"},
	"node-types.json": {"Failures per second by reason"},
	"workflow.json": {"Runs started and finished per second by status", "Success ratio", "Failed nodes per second by outcome",
		"Runs with failed nodes beside failed runs"},
}

var monFieldLabel = regexp.MustCompile(`\$\{__field\.labels\.(\w+)\}`)

// TestDashboardJaegerLinks: data links into Jaeger are searches on the provisioned Jaeger
// datasource, for a service the stacks export spans under, and name only labels their panel's
// series carry.
func TestDashboardJaegerLinks(t *testing.T) {
	t.Parallel()
	compose := loadCompose(t, devFile)
	services := []string{compose.Services["worker"].Environment["OTEL_SERVICE_NAME"], compose.Services["api"].Environment["OTEL_SERVICE_NAME"]}
	jaegerUIDs := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(monDatasourcesDir, "*.yml"))
	for _, f := range files {
		for _, ds := range monList(monYAMLFile(t, f)["datasources"]) {
			if monStr(monMap(ds)["type"]) == "jaeger" {
				jaegerUIDs[monStr(monMap(ds)["uid"])] = true
			}
		}
	}
	for name, d := range monDashboards(t) {
		vars := monVariables(d)
		linked := map[string]bool{}
		for _, p := range monPanels(d) {
			title := monStr(p["title"])
			var kept []string
			for _, tg := range monList(p["targets"]) {
				expr, _ := monSubstitute(monStr(monMap(tg)["expr"]), slices.Collect(maps.Keys(vars)))
				if u, err := monAnalyze(expr); err == nil {
					for _, g := range u.groups {
						if g.keyword == "by" {
							kept = append(kept, g.labels...)
						}
					}
				}
			}
			for _, l := range monList(monMap(monMap(p["fieldConfig"])["defaults"])["links"]) {
				lm := monMap(l)
				internal := monMap(lm["internal"])
				if internal == nil {
					continue
				}
				q := monMap(internal["query"])
				where := fmt.Sprintf("%s panel %q link %q", name, title, monStr(lm["title"]))
				if !jaegerUIDs[monStr(internal["datasourceUid"])] {
					continue
				}
				linked[title] = true
				if monStr(q["queryType"]) != "search" || !slices.Contains(services, monStr(q["service"])) || strings.TrimSpace(monStr(q["tags"])) == "" {
					t.Errorf("%s: query %v, want a search with tags in service %v", where, q, services)
				}
				for _, ref := range monFieldLabel.FindAllStringSubmatch(monStr(lm["title"])+" "+monStr(q["tags"]), -1) {
					if !slices.Contains(kept, ref[1]) {
						t.Errorf("%s: uses label %s, which the panel's queries do not keep (by %v)", where, ref[1], kept)
					}
				}
				for _, ref := range monVarRef.FindAllStringSubmatch(monStr(q["tags"]), -1) {
					if n := ref[1] + ref[2] + ref[3]; !strings.HasPrefix(n, "__") && vars[n] == nil {
						t.Errorf("%s: uses undefined variable %s", where, n)
					}
				}
			}
		}
		for _, want := range monJaegerPanels[name] {
			if !linked[want] {
				t.Errorf("%s: panel %q has no data link to a Jaeger search", name, want)
			}
		}
	}
}
