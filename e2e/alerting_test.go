//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// startAlerting runs the stacks' default alert path: an Alertmanager on the shipped
// configuration, with only its receiver's URL pointed at a local `sequenceflow alert-log` and
// its grouping waits shortened so a test sees notifications within seconds. It returns the
// Alertmanager's address (for prometheus.yml's alerting section) and the alert-log's URL.
func startAlerting(t *testing.T, root, sf string, amPort, logPort int) (alertmanager, alertLog string) {
	t.Helper()
	amBin := "prometheus-alertmanager"
	raw, err := os.ReadFile(filepath.Join(root, "deploy/alertmanager/alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	alertLog = fmt.Sprintf("http://127.0.0.1:%d", logPort)
	cfg := string(raw)
	for old, repl := range map[string]string{
		"http://alert-webhook:8080/alerts": alertLog + "/alerts",
		"group_wait: 30s":                  "group_wait: 1s",
		"group_interval: 5m":               "group_interval: 1s",
	} {
		if !strings.Contains(cfg, old) {
			t.Fatalf("deploy/alertmanager/alertmanager.yml no longer has %q: update this test with it", old)
		}
		cfg = strings.ReplaceAll(cfg, old, repl)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	start(t, "alert-log", sf, []string{"LOG_LEVEL=info"}, "alert-log", fmt.Sprintf("127.0.0.1:%d", logPort))
	start(t, "alertmanager", amBin, nil, "--config.file="+path, "--storage.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", amPort), "--cluster.listen-address=")
	waitHTTP(t, alertLog+"/healthz", 30*time.Second)
	waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d/-/ready", amPort), 30*time.Second)
	return fmt.Sprintf("127.0.0.1:%d", amPort), alertLog
}

type deliveredAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// checkBreakerAlertDelivered waits until the alert-log received the breaker alert firing, with
// a runbook link to a section that exists in docs/RUNBOOKS.md, and then resolved: the
// breaker's host got no traffic after the load, its breaker left the open state by itself,
// and the alert must follow without anything else happening.
func checkBreakerAlertDelivered(t *testing.T, root, alertLog string) {
	runbooks, err := os.ReadFile(filepath.Join(root, "docs/RUNBOOKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	var firing *deliveredAlert
	// The rule's max_over_time window (5m) and its for (1m) bound how long the round trip takes.
	testenv.WaitFor(t, 12*time.Minute, "the breaker alert to be delivered firing and then resolved", func() bool {
		var got []deliveredAlert
		getJSON(t, alertLog+"/alerts", &got)
		resolved := false
		for i := range got {
			a := got[i]
			if a.Labels["alertname"] != "SequenceFlowBreakerOpen" {
				continue
			}
			switch a.Status {
			case "firing":
				firing = &got[i]
			case "resolved":
				resolved = true
			}
		}
		return firing != nil && resolved
	})
	anchor := firing.Annotations["runbook_url"]
	i := strings.LastIndex(anchor, "#")
	if i < 0 || !strings.Contains(strings.ToLower(string(runbooks)), "## "+strings.ToLower(firing.Labels["alertname"])) ||
		anchor[i+1:] != strings.ToLower(firing.Labels["alertname"]) {
		t.Errorf("delivered alert's runbook_url %q does not name its section in docs/RUNBOOKS.md", anchor)
	}
	if firing.Labels["host"] == "" || firing.Annotations["summary"] == "" {
		t.Errorf("delivered alert lacks its host or summary: %+v", *firing)
	}
}

// hangingServer holds its first request until the client goes away (the worker executing it
// is killed) and answers every later one at once.
func hangingServer(t *testing.T) (url string, calls *atomic.Int64) {
	t.Helper()
	calls = new(atomic.Int64)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Minute):
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), calls
}

// jaegerTrace is the part of Jaeger's trace JSON the checks read.
type jaegerTrace struct {
	Spans []jaegerSpan `json:"spans"`
}

type jaegerSpan struct {
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	Tags []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
}

func (s jaegerSpan) tag(key string) string {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return fmt.Sprint(kv.Value)
		}
	}
	return ""
}

// checkJoinLinks runs a fan-out of three branches into a join and checks, in Jaeger, that the
// join's task span references the task spans of all three parents (as its parent or as links).
func checkJoinLinks(t *testing.T, jaeger, api string) {
	wf := createWorkflow(t, api, "joins", workflowtest.New().Input("in").
		Notify("a", "a").Notify("b", "b").Notify("c", "c").Notify("all", "joined").
		Edge("in", "a", "out").Edge("in", "b", "out").Edge("in", "c", "out").
		Edge("a", "all", "out").Edge("b", "all", "out").Edge("c", "all", "out").JSON())
	runID := execute(t, api, wf, nil)
	waitRun(t, api, runID)
	var status struct {
		TraceID string `json:"traceId"`
	}
	getJSON(t, api+"/workflows/runs/"+runID+"/status", &status)
	deadline := time.Now().Add(testenv.Scaled(30 * time.Second))
	for {
		var res struct {
			Data []jaegerTrace `json:"data"`
		}
		getJSON(t, jaeger+"/api/traces/"+status.TraceID, &res)
		byNode := map[string]jaegerSpan{}
		for _, tr := range res.Data {
			for _, s := range tr.Spans {
				if n := s.tag("node.id"); n != "" && strings.HasPrefix(s.OperationName, "task ") {
					byNode[n] = s
				}
			}
		}
		join, ok := byNode["all"]
		var missing []string
		if ok {
			refs := map[string]bool{}
			for _, r := range join.References {
				refs[r.SpanID] = true
			}
			for _, p := range []string{"a", "b", "c"} {
				if ps, ok := byNode[p]; !ok || !refs[ps.SpanID] {
					missing = append(missing, p)
				}
			}
			if len(missing) == 0 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: join span found %v, its references %+v miss the parents %v", status.TraceID, ok, join.References, missing)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkFailedNodes checks that the runs of "broken", whose only call failed and continued,
// count as runs with failed nodes under their workflow's name, and that every dashboard panel
// about failed nodes shows them (over a window that covers the load).
func checkFailedNodes(t *testing.T, root, prom string) {
	testenv.WaitFor(t, 30*time.Second, `runs with failed nodes counted for workflow "broken"`, func() bool {
		return hasData(t, prom, `sum(sequenceflow_runs_with_failed_nodes_total{workflow="broken"}) >= 3`) &&
			hasData(t, prom, `sum(sequenceflow_workflow_failed_nodes_total{workflow="broken",outcome="failed_continued"}) >= 3`)
	})
	dashboards, _ := filepath.Glob(filepath.Join(root, "deploy/grafana/dashboards/*.json"))
	panels := 0
	for _, f := range dashboards {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct {
					Expr string `json:"expr"`
				} `json:"targets"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			if !strings.Contains(strings.ToLower(p.Title), "failed nodes") {
				continue
			}
			for _, tg := range p.Targets {
				if !strings.Contains(tg.Expr, "failed_nodes") {
					continue
				}
				panels++
				// The panel must select the workflow's series (a rate over a series that appeared
				// with its final value reads 0, so the value itself is checked above), without
				// the fallback to 0 that makes every stat return data.
				e := grafanaVars(strings.NewReplacer("$__rate_interval", "10m", "${__rate_interval}", "10m", " or vector(0)", "").Replace(tg.Expr))
				if !hasData(t, prom, e) {
					t.Errorf("%s panel %q shows no failed nodes: %s", filepath.Base(f), p.Title, e)
				}
			}
		}
	}
	if panels == 0 {
		t.Error("no dashboard panel about failed nodes")
	}
}
