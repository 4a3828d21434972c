package loadgen

import (
	"math"
	"slices"
	"time"
)

// Summary describes a sample of durations.
type Summary struct {
	N   int           `json:"n"`
	P50 time.Duration `json:"p50"`
	P95 time.Duration `json:"p95"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// Summarize returns the nearest-rank percentiles of a sample; the sample is not modified.
func Summarize(sample []time.Duration) Summary {
	if len(sample) == 0 {
		return Summary{}
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	return Summary{N: len(s), P50: Percentile(s, 50), P95: Percentile(s, 95), P99: Percentile(s, 99), Max: s[len(s)-1]}
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of a sorted sample: the
// smallest value such that at least p % of the sample is less than or equal to it. It returns
// 0 for an empty sample.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// perSecond is count per second of d, 0 when d is not positive.
func perSecond(count int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(count) / d.Seconds()
}
