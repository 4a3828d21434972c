package outbound

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Outcomes of one outbound request as the caller of Client.Do sees it, the outcome label of
// the request durations (RequestDurations).
const (
	OutcomeSuccess  = "success"  // a response below 400 (a 3xx that was not followed included)
	OutcomeHTTP4xx  = "http_4xx" // a 4xx response
	OutcomeHTTP5xx  = "http_5xx" // a 5xx response
	OutcomeTimeout  = "timeout"  // the request's deadline or a network timeout
	OutcomeNetwork  = "network"  // name resolution, connection refused or reset, a body cut off
	OutcomeRefused  = "refused"  // refused by the client: SSRF guard, invalid request, redirect policy, body too large, cancelled by the caller
	OutcomeRejected = "rejected" // not sent: the host's breaker is open (or half-open with its probes taken)
)

// DefaultDurationBuckets are the upper bounds (seconds) of the request duration histograms
// unless BreakerConfig.DurationBuckets says otherwise.
var DefaultDurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// outcomes is the order of the outcome slots of durationStats.
var outcomes = [...]string{OutcomeSuccess, OutcomeHTTP4xx, OutcomeHTTP5xx, OutcomeTimeout, OutcomeNetwork, OutcomeRefused, OutcomeRejected}

// errTooManyRedirects stops a redirect chain longer than Config.MaxRedirects.
var errTooManyRedirects = errors.New("too many redirects")

// RequestDurations is the histogram of one host's requests with one outcome since its breaker
// was created: Buckets maps each upper bound (seconds) to the cumulative count of requests
// that took at most that long.
type RequestDurations struct {
	Host    string
	Outcome string
	Count   uint64
	Sum     float64
	Buckets map[float64]uint64
}

// durationStats holds one host's request durations per outcome, non-cumulative per bucket
// (the last slot is +Inf). It is guarded by breakerTransport.mu.
type durationStats struct {
	byOutcome [len(outcomes)]*outcomeStats
}

type outcomeStats struct {
	counts []uint64
	sum    float64
}

func (d *durationStats) observe(bounds []float64, outcome string, took time.Duration) {
	i := outcomeIndex(outcome)
	s := d.byOutcome[i]
	if s == nil {
		s = &outcomeStats{counts: make([]uint64, len(bounds)+1)}
		d.byOutcome[i] = s
	}
	v := took.Seconds()
	s.counts[sort.SearchFloat64s(bounds, v)]++ // the first bound >= v; len(bounds) is +Inf
	s.sum += v
}

// outcomeIndex is outcome's slot; an unknown outcome counts as network.
func outcomeIndex(outcome string) int {
	for i, o := range outcomes {
		if o == outcome {
			return i
		}
	}
	return outcomeIndex(OutcomeNetwork)
}

// appendTo appends host's histograms, one per outcome seen, to out.
func (d *durationStats) appendTo(out []RequestDurations, host string, bounds []float64) []RequestDurations {
	for i, s := range d.byOutcome {
		if s == nil {
			continue
		}
		r := RequestDurations{Host: host, Outcome: outcomes[i], Sum: s.sum, Buckets: make(map[float64]uint64, len(bounds))}
		for j, b := range bounds {
			r.Count += s.counts[j]
			r.Buckets[b] = r.Count
		}
		r.Count += s.counts[len(bounds)]
		out = append(out, r)
	}
	return out
}

// outcomeOf classifies what Client.Do returned.
func outcomeOf(status int, err error) string {
	var invalid *InvalidHeaderError
	var ue *url.Error
	switch {
	case err == nil && status >= 500:
		return OutcomeHTTP5xx
	case err == nil && status >= 400:
		return OutcomeHTTP4xx
	case err == nil:
		return OutcomeSuccess
	case IsBreakerOpen(err):
		return OutcomeRejected
	case IsBlocked(err), errors.As(err, &invalid), errors.Is(err, ErrRedirectCarriesSecret), errors.Is(err, errTooManyRedirects),
		errors.Is(err, ErrResponseTooLarge), errors.Is(err, context.Canceled), errors.Is(err, errNoURL):
		return OutcomeRefused
	case IsTimeout(err):
		return OutcomeTimeout
	case errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "unsupported protocol scheme"):
		return OutcomeRefused
	}
	return OutcomeNetwork
}
