package outbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// BreakerConfig tunes the per-host circuit breakers.
type BreakerConfig struct {
	// Failures is how many consecutive failures (transport errors, timeouts, 5xx, a body cut
	// off or stalled) open a host's breaker (default 5).
	Failures uint32
	// OpenTimeout is how long a breaker stays open before letting a probe through (default 30 s).
	OpenTimeout time.Duration
	// HalfOpenRequests is how many probes may run while half-open (default 1).
	HalfOpenRequests uint32
	// OnStateChange observes transitions ("closed", "half-open", "open").
	OnStateChange func(host, state string)
	// OnOutcome observes each request: "success", "failure" or "rejected".
	OnOutcome func(host, outcome string)
}

// WithDefaults fills unset fields.
func (c BreakerConfig) WithDefaults() BreakerConfig {
	c.Failures = cmp.Or(c.Failures, 5)
	c.OpenTimeout = cmp.Or(c.OpenTimeout, 30*time.Second)
	c.HalfOpenRequests = cmp.Or(c.HalfOpenRequests, 1)
	if c.OnStateChange == nil {
		c.OnStateChange = func(string, string) {}
	}
	if c.OnOutcome == nil {
		c.OnOutcome = func(string, string) {}
	}
	return c
}

// BreakerOpenError is returned without sending the request while a host's breaker is open.
type BreakerOpenError struct{ Host string }

func (e *BreakerOpenError) Error() string {
	return fmt.Sprintf("circuit breaker open for %s: the target failed repeatedly; not calling it for now", e.Host)
}

// errServerError marks a 5xx response as a breaker failure; the response itself still goes
// back to the caller.
var errServerError = errors.New("server error")

// breakerTransport guards each target host with its own circuit breaker. A request's outcome
// is settled when its response body is closed, so a target that sends headers and then stalls
// or breaks off mid-body counts as failing too.
type breakerTransport struct {
	next     http.RoundTripper
	cfg      BreakerConfig
	mu       sync.Mutex
	breakers map[string]*gobreaker.TwoStepCircuitBreaker[*http.Response]
}

func newBreakerTransport(next http.RoundTripper, cfg BreakerConfig) *breakerTransport {
	return &breakerTransport{next: next, cfg: cfg.WithDefaults(), breakers: map[string]*gobreaker.TwoStepCircuitBreaker[*http.Response]{}}
}

func (t *breakerTransport) breaker(host string) *gobreaker.TwoStepCircuitBreaker[*http.Response] {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cb, ok := t.breakers[host]; ok {
		return cb
	}
	cb := gobreaker.NewTwoStepCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:        host,
		MaxRequests: t.cfg.HalfOpenRequests,
		Timeout:     t.cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= t.cfg.Failures },
		OnStateChange: func(name string, _, to gobreaker.State) {
			t.cfg.OnStateChange(name, to.String())
		},
		// A request the caller cancelled says nothing about the target.
		IsExcluded: func(err error) bool { return errors.Is(err, context.Canceled) },
	})
	t.breakers[host] = cb
	t.cfg.OnStateChange(host, gobreaker.StateClosed.String())
	return cb
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Host
	cb := t.breaker(host)
	done, err := cb.Allow()
	if err != nil {
		t.cfg.OnOutcome(host, "rejected")
		trace.SpanFromContext(req.Context()).AddEvent("circuit breaker open", trace.WithAttributes(
			attribute.String("server.address", host), attribute.String("breaker.state", cb.State().String())))
		return nil, &BreakerOpenError{Host: host}
	}
	settle := func(err error) {
		done(err)
		switch {
		case err == nil:
			t.cfg.OnOutcome(host, "success")
		case !errors.Is(err, context.Canceled):
			t.cfg.OnOutcome(host, "failure")
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		settle(err)
		return nil, err
	}
	if resp.StatusCode >= 500 {
		settle(errServerError)
		return resp, nil
	}
	resp.Body = &settledBody{ReadCloser: resp.Body, settle: settle}
	return resp, nil
}

// settledBody reports its request's outcome to the breaker once, on Close: a failure if a
// read failed (a stalled body hitting its deadline, a connection cut mid-body), else a success.
type settledBody struct {
	io.ReadCloser
	settle  func(error)
	readErr error
	once    sync.Once
}

func (b *settledBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.readErr == nil {
		b.readErr = err
	}
	return n, err
}

func (b *settledBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.settle(b.readErr) })
	return err
}
