package deploy_test

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// monServiceBuckets returns the bucket bounds each latency histogram of the service exports.
func monServiceBuckets(t *testing.T) map[string]map[float64]bool {
	t.Helper()
	m := telemetry.NewMetrics()
	m.TaskDuration.WithLabelValues("apiCall", "completed").Observe(1)
	m.SchedulingDelay.WithLabelValues("apiCall").Observe(1)
	m.RunDuration.WithLabelValues("", "succeeded").Observe(1)
	m.HTTPDuration.WithLabelValues("GET", "/", "200").Observe(1)
	families, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[float64]bool{}
	for _, f := range families {
		for _, metric := range f.GetMetric() {
			if h := metric.GetHistogram(); h != nil {
				bounds := map[float64]bool{}
				for _, b := range h.GetBucket() {
					bounds[b.GetUpperBound()] = true
				}
				out[f.GetName()] = bounds
			}
		}
	}
	return out
}

var monBucketSeries = regexp.MustCompile(`^(sequenceflow_\w+)_bucket\{.*\ble="([^"]+)"`)

// TestRuleTestsUseTheServiceBuckets: the histogram series of the rule tests have the bounds the
// service really exports, so a quantile an alert reports in a test is the one it reports in
// production (a test with made-up 5 and 10 s buckets hid that 6 s calls read 9.95 s).
func TestRuleTestsUseTheServiceBuckets(t *testing.T) {
	t.Parallel()
	buckets := monServiceBuckets(t)
	tests, _ := filepath.Glob(filepath.Join(monTestsDir, "*.yml"))
	checked := 0
	for _, f := range tests {
		for _, tc := range monList(monYAMLFile(t, f)["tests"]) {
			for _, in := range monList(monMap(tc)["input_series"]) {
				series := monStr(monMap(in)["series"])
				m := monBucketSeries.FindStringSubmatch(series)
				if m == nil || m[2] == "+Inf" {
					continue
				}
				checked++
				le, err := strconv.ParseFloat(m[2], 64)
				bounds, known := buckets[m[1]]
				switch {
				case !known:
					t.Errorf("%s: %s is not a histogram of the service", f, m[1])
				case err != nil || !bounds[le]:
					t.Errorf("%s: %s has le=%q, not a bound the service exports", f, m[1], m[2])
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no histogram bucket series in the rule tests")
	}
}

// TestRuleTestsAssertAlertValues: every firing case of a rule test states the annotations it
// expects, so the values an alert reports (counts, durations, ratios) are checked by promtool.
func TestRuleTestsAssertAlertValues(t *testing.T) {
	t.Parallel()
	tests, _ := filepath.Glob(filepath.Join(monTestsDir, "*.yml"))
	for _, f := range tests {
		for _, tc := range monList(monYAMLFile(t, f)["tests"]) {
			name := monStr(monMap(tc)["name"])
			for _, at := range monList(monMap(tc)["alert_rule_test"]) {
				for _, exp := range monList(monMap(at)["exp_alerts"]) {
					if strings.TrimSpace(monStr(monMap(monMap(exp)["exp_annotations"])["summary"])) == "" {
						t.Errorf("%s: test %q expects %s without its summary annotation", f, name, monStr(monMap(at)["alertname"]))
					}
				}
			}
		}
	}
}

// TestRulesThresholdsAreBucketBounds: a rule that counts observations under a bound (the run
// latency SLO's le matcher) names a bound the histogram really has, in a form that matches both
// Prometheus 2 (le="30") and Prometheus 3 (le="30.0"); a bound between buckets would match
// no series and the ratio would read 100 % slow.
func TestRulesThresholdsAreBucketBounds(t *testing.T) {
	t.Parallel()
	buckets := monServiceBuckets(t)
	rules, err := monLoadRules(".")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, r := range rules {
		u, err := monAnalyze(r.expr)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range u.matchers {
			fam, isBucket := strings.CutSuffix(m.metric, "_bucket")
			if !isBucket || m.label != "le" {
				continue
			}
			checked++
			re, err := regexp.Compile("^(?:" + m.value + ")$")
			if m.op != "=~" || err != nil {
				t.Errorf("%s: le%s%q: match the bound as le=~\"<bound>(\\\\.0)?\" so both Prometheus 2 and 3 find it", r.name, m.op, m.value)
				continue
			}
			bound := strings.TrimSuffix(m.value, `(\.0)?`)
			le, err := strconv.ParseFloat(bound, 64)
			if err != nil || !buckets[fam][le] {
				t.Errorf("%s: le=~%q: %q is not a bucket bound of %s", r.name, m.value, bound, fam)
			}
			for _, form := range []string{bound, bound + ".0"} {
				if !re.MatchString(form) {
					t.Errorf("%s: le=~%q does not match %q", r.name, m.value, form)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no rule counts a histogram bucket")
	}
}
