package deploy_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// monExemplarLabel is the exemplar label internal/telemetry puts the trace id in.
const monExemplarLabel = "trace_id"

// TestMonitoringPrometheusConfig: the API and every worker replica are scraped under the job
// names the alerts use, and the rules are loaded from their mount.
func TestMonitoringPrometheusConfig(t *testing.T) {
	t.Parallel()
	cfg := monYAMLFile(t, monPromConfig)
	if got := monList(cfg["rule_files"]); len(got) != 1 || monStr(got[0]) != monRulesMount+"*.yml" {
		t.Errorf("rule_files = %v, want [%s*.yml]", got, monRulesMount)
	}
	if monStr(monMap(cfg["global"])["scrape_interval"]) == "" {
		t.Error("global.scrape_interval is not set")
	}
	jobs := map[string]map[string]any{}
	for _, sc := range monList(cfg["scrape_configs"]) {
		jobs[monStr(monMap(sc)["job_name"])] = monMap(sc)
	}
	var apiTargets []string
	for _, sc := range monList(jobs["sequenceflow-api"]["static_configs"]) {
		for _, tg := range monList(monMap(sc)["targets"]) {
			apiTargets = append(apiTargets, monStr(tg))
		}
	}
	if !slices.Equal(apiTargets, []string{"api:3000"}) {
		t.Errorf("job sequenceflow-api scrapes %v, want [api:3000]", apiTargets)
	}
	dns := monList(jobs["sequenceflow-worker"]["dns_sd_configs"])
	if len(dns) != 1 {
		t.Fatalf("job sequenceflow-worker has %d dns_sd_configs, want one discovering every worker replica", len(dns))
	}
	d := monMap(dns[0])
	if names := monList(d["names"]); len(names) != 1 || monStr(names[0]) != "worker" || monStr(d["type"]) != "A" || monStr(d["port"]) != "9091" {
		t.Errorf("job sequenceflow-worker dns_sd_configs = %v, want names [worker], type A, port 9091", d)
	}
}

// TestMonitoringGrafana: provisioning parses, dashboards refer to provisioned datasources by
// uid, exemplars lead to Jaeger, and dashboard links point at dashboards that exist.
func TestMonitoringGrafana(t *testing.T) {
	t.Parallel()
	dsTypes, dsURLs := map[string]string{}, map[string]string{} // uid -> type, url
	var prom map[string]any
	files, _ := filepath.Glob(filepath.Join(monDatasourcesDir, "*.yml"))
	if len(files) == 0 {
		t.Fatalf("no datasources in %s", monDatasourcesDir)
	}
	for _, f := range files {
		doc := monYAMLFile(t, f)
		if monStr(doc["apiVersion"]) != "1" {
			t.Errorf("%s: apiVersion %q, want 1", f, monStr(doc["apiVersion"]))
		}
		for _, ds := range monList(doc["datasources"]) {
			m := monMap(ds)
			uid := monStr(m["uid"])
			if uid == "" || dsTypes[uid] != "" {
				t.Errorf("%s: datasource %q has an empty or duplicate uid %q", f, monStr(m["name"]), uid)
			}
			dsTypes[uid], dsURLs[uid] = monStr(m["type"]), monStr(m["url"])
			if uid == "prometheus" {
				prom = m
			}
		}
	}
	for uid, url := range map[string]string{"prometheus": "http://prometheus:9090", "jaeger": "http://jaeger:16686"} {
		if dsTypes[uid] != uid || dsURLs[uid] != url {
			t.Errorf("datasource uid %q: type %q url %q, want type %q url %q", uid, dsTypes[uid], dsURLs[uid], uid, url)
		}
	}
	var linked bool
	for _, dest := range monList(monMap(prom["jsonData"])["exemplarTraceIdDestinations"]) {
		m := monMap(dest)
		if monStr(m["name"]) == monExemplarLabel && dsTypes[monStr(m["datasourceUid"])] == "jaeger" {
			linked = true
		}
	}
	if !linked {
		t.Errorf("the prometheus datasource does not link exemplar label %s to a jaeger datasource", monExemplarLabel)
	}

	providers, _ := filepath.Glob(filepath.Join(monProvidersDir, "*.yml"))
	var paths []string
	for _, f := range providers {
		for _, p := range monList(monYAMLFile(t, f)["providers"]) {
			if monStr(monMap(p)["type"]) != "file" {
				t.Errorf("%s: provider %q is not of type file", f, monStr(monMap(p)["name"]))
			}
			paths = append(paths, monStr(monMap(monMap(p)["options"])["path"]))
		}
	}
	if !slices.Equal(paths, []string{monDashboardsMount}) {
		t.Errorf("dashboard providers load %v, want [%s] where the compose file mounts deploy/grafana/dashboards", paths, monDashboardsMount)
	}

	dashboards := map[string]map[string]any{} // file -> dashboard
	uids := map[string]bool{}
	files, _ = filepath.Glob(filepath.Join(monDashboardsDir, "*.json"))
	for _, f := range files {
		d, err := monLoadDashboard(f)
		if err != nil {
			t.Fatal(err)
		}
		uid := monStr(d["uid"])
		if uid == "" || uids[uid] || monStr(d["title"]) == "" {
			t.Errorf("%s: uid %q (empty or duplicate) or no title", f, uid)
		}
		uids[uid] = true
		dashboards[filepath.Base(f)] = d
	}
	for name, d := range dashboards {
		monCheckDashboard(t, name, d, dsTypes, uids)
	}
	if d := dashboards["overview.json"]; d == nil || !monHasExemplars(d, "sequenceflow_task_duration_seconds_bucket") {
		t.Error("overview.json: no task latency target with exemplars enabled")
	}
	monCheckNodeTypes(t, dashboards["node-types.json"])
}

var monDashboardLink = regexp.MustCompile(`/d/([A-Za-z0-9_-]+)`)

func monCheckDashboard(t *testing.T, name string, d map[string]any, dsTypes map[string]string, uids map[string]bool) {
	t.Helper()
	if v, _ := d["schemaVersion"].(float64); v < 36 {
		t.Errorf("%s: schemaVersion %v, want 36 or later", name, d["schemaVersion"])
	}
	// A reference to the dashboard's datasource variable stands for the provisioned datasource
	// the variable selects by default.
	dsVars := map[string]string{} // "${name}" -> uid of its default
	for _, v := range monList(monMap(d["templating"])["list"]) {
		if vm := monMap(v); monStr(vm["type"]) == "datasource" {
			dsVars["${"+monStr(vm["name"])+"}"] = monStr(monMap(vm["current"])["value"])
			if uid := monStr(monMap(vm["current"])["value"]); dsTypes[uid] != monStr(vm["query"]) {
				t.Errorf("%s: datasource variable %s of type %q defaults to %q, not a provisioned datasource of that type", name, monStr(vm["name"]), monStr(vm["query"]), uid)
			}
		}
	}
	checkRef := func(where string, ref any) {
		m, ok := ref.(map[string]any)
		uid := monStr(m["uid"])
		if def, isVar := dsVars[uid]; isVar {
			uid = def
		}
		if !ok || dsTypes[uid] == "" || dsTypes[uid] != monStr(m["type"]) {
			t.Errorf("%s: %s datasource %v is not a provisioned datasource referred to by uid and type", name, where, ref)
		}
	}
	ids := map[float64]bool{}
	for _, p := range monPanels(d) {
		title := monStr(p["title"])
		id, _ := p["id"].(float64)
		if id == 0 || ids[id] {
			t.Errorf("%s: panel %q has a missing or duplicate id", name, title)
		}
		ids[id] = true
		g := monMap(p["gridPos"])
		x, _ := g["x"].(float64)
		w, _ := g["w"].(float64)
		if h, _ := g["h"].(float64); w <= 0 || h <= 0 || x < 0 || x+w > 24 {
			t.Errorf("%s: panel %q gridPos %v", name, title, g)
		}
		if monStr(p["type"]) == "row" {
			continue
		}
		checkRef(fmt.Sprintf("panel %q", title), p["datasource"])
		refIDs := map[string]bool{}
		for _, tg := range monList(p["targets"]) {
			checkRef(fmt.Sprintf("panel %q target", title), monMap(tg)["datasource"])
			ref := monStr(monMap(tg)["refId"])
			if ref == "" || refIDs[ref] {
				t.Errorf("%s: panel %q has an empty or duplicate refId %q", name, title, ref)
			}
			refIDs[ref] = true
		}
		if len(refIDs) == 0 {
			t.Errorf("%s: panel %q has no query", name, title)
		}
	}
	for _, v := range monList(monMap(d["templating"])["list"]) {
		if monStr(monMap(v)["type"]) == "query" {
			checkRef("variable "+monStr(monMap(v)["name"]), monMap(v)["datasource"])
		}
	}
	raw, _ := json.Marshal(d)
	for _, m := range monDashboardLink.FindAllStringSubmatch(string(raw), -1) {
		if !uids[m[1]] {
			t.Errorf("%s links to dashboard %s, which does not exist", name, m[1])
		}
	}
}

func monHasExemplars(d map[string]any, series string) bool {
	for _, p := range monPanels(d) {
		for _, tg := range monList(p["targets"]) {
			if ex, _ := monMap(tg)["exemplar"].(bool); ex && strings.Contains(monStr(monMap(tg)["expr"]), series) {
				return true
			}
		}
	}
	return false
}

// monCheckNodeTypes: the drill-down has a node_type variable fed by the task metrics, and
// every query is filtered by it.
func monCheckNodeTypes(t *testing.T, d map[string]any) {
	t.Helper()
	if d == nil {
		t.Fatal("no node-types.json dashboard")
	}
	var found bool
	for _, v := range monList(monMap(d["templating"])["list"]) {
		m := monMap(v)
		if monStr(m["name"]) == "node_type" {
			found = true
			q := monStr(monMap(m["query"])["query"]) + monStr(m["query"])
			if q != "label_values(sequenceflow_task_duration_seconds_count, node_type)" {
				t.Errorf("node-types.json: variable node_type query %q", q)
			}
		}
	}
	if !found {
		t.Error("node-types.json has no node_type variable")
	}
	for _, p := range monPanels(d) {
		for _, tg := range monList(p["targets"]) {
			if expr := monStr(monMap(tg)["expr"]); !strings.Contains(expr, `node_type="$node_type"`) {
				t.Errorf("node-types.json panel %q is not filtered by $node_type: %s", monStr(p["title"]), expr)
			}
		}
	}
}
