package outbound

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Reasons a limited host refuses a request for now (ThrottledError.Reason).
const (
	// ThrottleRate: the host's request rate (with its burst) is used up.
	ThrottleRate = "rate_limited"
	// ThrottleConcurrency: the host has its maximum of calls in flight.
	ThrottleConcurrency = "concurrency_limited"
	// ThrottlePaused: the host answered 429 or 503 with Retry-After, which pauses it for
	// every worker.
	ThrottlePaused = "host_paused"
	// ThrottleUnavailable: the shared limiter could not be asked (Redis unreachable); the
	// call waits rather than go unlimited.
	ThrottleUnavailable = "limiter_unavailable"
)

// ThrottleReasons lists every ThrottledError.Reason.
var ThrottleReasons = []string{ThrottleRate, ThrottleConcurrency, ThrottlePaused, ThrottleUnavailable}

// HostLimiter holds the limits of target hosts shared by every worker. Hosts it does not
// limit cost nothing: Admit lets them through without asking anyone.
type HostLimiter interface {
	// Admit asks to send one request to host now. A refused request gets a *ThrottledError
	// with how long to wait. An admitted one gets a release to call when its response has
	// been read; lease bounds how long its in-flight slot is held should release never come
	// (a worker that crashed).
	Admit(ctx context.Context, host string, lease time.Duration) (release func(), err error)
	// Pause refuses every worker's requests to host for d (an upstream Retry-After). It does
	// nothing for a host without limits.
	Pause(ctx context.Context, host string, d time.Duration)
}

// ThrottledError is a request that was not sent because its host's limits say not now.
type ThrottledError struct {
	Host   string
	Reason string // one of ThrottleReasons
	Wait   time.Duration
}

func (e *ThrottledError) Error() string {
	switch e.Reason {
	case ThrottleConcurrency:
		return fmt.Sprintf("%s has its maximum of calls in flight; trying again in %s", e.Host, e.Wait.Round(time.Millisecond))
	case ThrottlePaused:
		return fmt.Sprintf("%s asked to wait (Retry-After); trying again in %s", e.Host, e.Wait.Round(time.Millisecond))
	case ThrottleUnavailable:
		return fmt.Sprintf("the rate limiter of %s is unavailable; trying again in %s", e.Host, e.Wait.Round(time.Millisecond))
	}
	return fmt.Sprintf("rate limit of %s reached; trying again in %s", e.Host, e.Wait.Round(time.Millisecond))
}

// IsThrottled reports whether err is a request held back by its host's limits.
func IsThrottled(err error) bool {
	var t *ThrottledError
	return errors.As(err, &t)
}

// DefaultLeaseMargin is added to a request's deadline to make the lease of its in-flight slot.
const DefaultLeaseMargin = 5 * time.Second

// defaultLease is the lease of a request without a deadline.
const defaultLease = 10 * time.Minute

// admit asks the limiter, if any, to let a request to host go, and records a refusal on the
// span of ctx (the task's).
func (c *Client) admit(ctx context.Context, host string) (func(), error) {
	if c.cfg.Limiter == nil {
		return func() {}, nil
	}
	lease := defaultLease
	if d, ok := ctx.Deadline(); ok {
		lease = time.Until(d)
	}
	release, err := c.cfg.Limiter.Admit(ctx, host, max(lease, 0)+DefaultLeaseMargin)
	var t *ThrottledError
	if errors.As(err, &t) {
		trace.SpanFromContext(ctx).AddEvent("outbound call throttled", trace.WithAttributes(
			attribute.String("server.address", t.Host), attribute.String("throttle.reason", t.Reason),
			attribute.Int64("throttle.wait_ms", t.Wait.Milliseconds())))
	}
	return release, err
}

// pauseOnRetryAfter pauses host for every worker when a 429 or 503 answer asks to retry later.
func (c *Client) pauseOnRetryAfter(ctx context.Context, host string, resp *Response) {
	if c.cfg.Limiter == nil || resp == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return
	}
	if d := RetryAfter(resp.Header.Get("Retry-After"), time.Now()); d > 0 {
		c.cfg.Limiter.Pause(context.WithoutCancel(ctx), host, d)
	}
}

// MaxRetryAfter caps the wait a Retry-After header may ask for.
const MaxRetryAfter = time.Hour

// RetryAfter parses a Retry-After value (delay-seconds or an HTTP date) into a wait from now,
// capped at MaxRetryAfter; 0 when it is empty, invalid or past.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(min(secs, int(MaxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, MaxRetryAfter))
}
