// Package telemetrytest reads what a Prometheus registry exports, for tests that count series.
package telemetrytest

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Series returns one entry per series of the named family in g, sorted: the values of the
// given labels joined by spaces (an absent label reads as "").
func Series(t testing.TB, g prometheus.Gatherer, family string, labels ...string) []string {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var series []string
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			values := map[string]string{}
			for _, l := range m.GetLabel() {
				values[l.GetName()] = l.GetValue()
			}
			picked := make([]string, len(labels))
			for i, name := range labels {
				picked[i] = values[name]
			}
			series = append(series, strings.Join(picked, " "))
		}
	}
	slices.Sort(series)
	return series
}
