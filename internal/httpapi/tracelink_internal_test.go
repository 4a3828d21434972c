package httpapi

import "testing"

func TestTraceSampledReadsTheFlag(t *testing.T) {
	t.Parallel()
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	for tp, want := range map[string]bool{
		"00-" + id + "-00f067aa0ba902b7-01": true,
		"00-" + id + "-00f067aa0ba902b7-03": true,
		"00-" + id + "-00f067aa0ba902b7-00": false,
		"00-" + id + "-00f067aa0ba902b7-02": false,
		"00-" + id + "-00f067aa0ba902b7-1":  false,
		"00-" + id + "-00f067aa0ba902b7-zz": false,
		"00-short-00f067aa0ba902b7-01":      false,
		"":                                  false,
	} {
		if got := traceSampled(tp); got != want {
			t.Errorf("traceSampled(%q) = %v, want %v", tp, got, want)
		}
	}
}
