package loadgen

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func msList(vals ...int) []time.Duration {
	out := make([]time.Duration, len(vals))
	for i, v := range vals {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func seqMs(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(n-i) * time.Millisecond // descending: Summarize must sort
	}
	return out
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	tests := []struct {
		name   string
		sample []time.Duration
		want   Summary
	}{
		{"empty", nil, Summary{}},
		{"one value", msList(7), Summary{N: 1, P50: 7 * ms, P95: 7 * ms, P99: 7 * ms, Max: 7 * ms}},
		{"two values", msList(9, 1), Summary{N: 2, P50: 1 * ms, P95: 9 * ms, P99: 9 * ms, Max: 9 * ms}},
		{"1..10", seqMs(10), Summary{N: 10, P50: 5 * ms, P95: 10 * ms, P99: 10 * ms, Max: 10 * ms}},
		{"1..100", seqMs(100), Summary{N: 100, P50: 50 * ms, P95: 95 * ms, P99: 99 * ms, Max: 100 * ms}},
		{"1..1000", seqMs(1000), Summary{N: 1000, P50: 500 * ms, P95: 950 * ms, P99: 990 * ms, Max: 1000 * ms}},
		{"outlier", msList(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 500),
			Summary{N: 20, P50: 1 * ms, P95: 1 * ms, P99: 500 * ms, Max: 500 * ms}},
		{"negative values sort first", msList(3, -2, 1), Summary{N: 3, P50: 1 * ms, P95: 3 * ms, P99: 3 * ms, Max: 3 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, Summarize(tt.sample)); diff != "" {
				t.Errorf("Summarize (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummarizeLeavesSampleAlone(t *testing.T) {
	t.Parallel()
	sample := msList(3, 1, 2)
	Summarize(sample)
	if diff := cmp.Diff(msList(3, 1, 2), sample); diff != "" {
		t.Errorf("sample modified (-want +got):\n%s", diff)
	}
}

func TestPercentileBounds(t *testing.T) {
	t.Parallel()
	s := msList(1, 2, 3, 4)
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.1, time.Millisecond}, {25, time.Millisecond}, {25.1, 2 * time.Millisecond},
		{75, 3 * time.Millisecond}, {100, 4 * time.Millisecond}, {150, 4 * time.Millisecond}} {
		if got := Percentile(s, tt.p); got != tt.want {
			t.Errorf("Percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("Percentile of empty sample = %v, want 0", got)
	}
}

func TestPerSecond(t *testing.T) {
	t.Parallel()
	if got := perSecond(500, 2*time.Second); got != 250 {
		t.Errorf("perSecond(500, 2s) = %v, want 250", got)
	}
	if got := perSecond(10, 0); got != 0 {
		t.Errorf("perSecond(10, 0) = %v, want 0", got)
	}
}
