package deploy_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// monJaegerAlerts are the alerts whose cause has traces to show: failing or slow tasks, a
// breaker's failing calls, runs with failed nodes, the run success budget.
var monJaegerAlerts = []string{
	"SequenceFlowTaskFailureRatioHigh", "SequenceFlowTaskLatencyP99High", "SequenceFlowBreakerOpen",
	"SequenceFlowRunsWithFailedNodes", "SequenceFlowRunErrorBudgetBurn", "SequenceFlowRunErrorBudgetBurnSlow",
}

var monLabelRef = regexp.MustCompile(`\{\{ \$labels\.(\w+) \| urlquery \}\}`)

// TestAlertsLinkJaegerSearches: the jaeger_url annotation is a Jaeger UI search at the address
// the stacks give the service as JAEGER_UI_URL, for the service name the workers export their
// spans under, with JSON tags; a label it fills in is one the alert keeps.
func TestAlertsLinkJaegerSearches(t *testing.T) {
	t.Parallel()
	compose := loadCompose(t, devFile)
	jaegerUI := compose.Services["api"].Environment["JAEGER_UI_URL"]
	services := []string{compose.Services["worker"].Environment["OTEL_SERVICE_NAME"], compose.Services["api"].Environment["OTEL_SERVICE_NAME"]}
	if jaegerUI == "" || services[0] == "" {
		t.Fatalf("%s: JAEGER_UI_URL %q, worker OTEL_SERVICE_NAME %q", devFile, jaegerUI, services[0])
	}
	rules, err := monLoadRules(".")
	if err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, r := range rules {
		link := monStr(r.annotations["jaeger_url"])
		if !r.alert || link == "" {
			continue
		}
		linked[r.name] = true
		u, err := monAnalyze(r.expr)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, g := range u.groups {
			if g.keyword == "by" {
				kept = append(kept, g.labels...)
			}
		}
		rendered := monLabelRef.ReplaceAllStringFunc(link, func(ref string) string {
			label := monLabelRef.FindStringSubmatch(ref)[1]
			if !slices.Contains(kept, label) {
				t.Errorf("alert %s: jaeger_url uses label %s, which its expression does not keep (by %v)", r.name, label, kept)
			}
			return url.QueryEscape("api.example.com:8443")
		})
		if strings.Contains(rendered, "{{") {
			t.Errorf("alert %s: jaeger_url %q: fill labels in as {{ $labels.<name> | urlquery }}", r.name, link)
			continue
		}
		search, ok := strings.CutPrefix(rendered, jaegerUI+"/search?")
		if !ok {
			t.Errorf("alert %s: jaeger_url %q is not a search of the Jaeger UI at %s (JAEGER_UI_URL)", r.name, link, jaegerUI)
			continue
		}
		q, err := url.ParseQuery(search)
		if err != nil {
			t.Errorf("alert %s: jaeger_url query: %v", r.name, err)
			continue
		}
		if !slices.Contains(services, q.Get("service")) || q.Get("lookback") == "" {
			t.Errorf("alert %s: jaeger_url searches service %q over %q, want one of %v and a lookback", r.name, q.Get("service"), q.Get("lookback"), services)
		}
		var tags map[string]string
		if err := json.Unmarshal([]byte(q.Get("tags")), &tags); err != nil || len(tags) == 0 {
			t.Errorf("alert %s: jaeger_url tags %q are not a JSON object of strings: %v", r.name, q.Get("tags"), err)
		}
	}
	for _, name := range monJaegerAlerts {
		if !linked[name] {
			t.Errorf("alert %s has no jaeger_url annotation", name)
		}
	}
}
