// Package outbound is the HTTP client of API-call nodes: one shared transport with connection
// reuse, bounded response bodies, a redirect policy (bounded, secret-free, headers dropped
// across origins), an SSRF guard over the IANA special-purpose ranges, a circuit breaker per
// target host (bounded in number), and client spans scrubbed of the request's secrets.
package outbound

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Config tunes the shared client.
type Config struct {
	// MaxResponseBytes bounds a response body (default 10 MiB).
	MaxResponseBytes int64
	// MaxRedirects bounds followed redirects (default 5).
	MaxRedirects int
	// DialTimeout bounds connection set-up, name resolution and every address tried included
	// (default 5 s).
	DialTimeout time.Duration
	// MaxIdleConnsPerHost sizes the keep-alive pool per target (default 64).
	MaxIdleConnsPerHost int
	// AllowPrivate lets requests reach loopback and private addresses (the mock endpoints on
	// a laptop or in compose). Link-local, cloud metadata and the other special-purpose
	// addresses of the guard's table are refused regardless.
	AllowPrivate bool
	// Resolver looks up target hosts (default net.DefaultResolver). The guard judges every
	// address it returns before dialling.
	Resolver Resolver
	// Dial connects to an address the guard allowed (default a net.Dialer with DialTimeout
	// whose Control hook checks the address once more).
	Dial DialFunc
	// Breaker tunes the per-host circuit breakers.
	Breaker BreakerConfig
	// TracerProvider, when set, makes every request (every redirect hop) a client span that
	// injects the trace context with Propagator; secret values in the request's context are
	// scrubbed from those spans.
	TracerProvider trace.TracerProvider
	Propagator     propagation.TextMapPropagator
	// Limiter, when set, holds back requests to the hosts it limits (rate, calls in flight,
	// upstream Retry-After) with a *ThrottledError before anything is sent.
	Limiter HostLimiter
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.MaxResponseBytes = cmp.Or(c.MaxResponseBytes, 10<<20)
	c.MaxRedirects = cmp.Or(c.MaxRedirects, 5)
	c.DialTimeout = cmp.Or(c.DialTimeout, 5*time.Second)
	c.MaxIdleConnsPerHost = cmp.Or(c.MaxIdleConnsPerHost, 64)
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Dial == nil {
		dialer := &net.Dialer{Timeout: c.DialTimeout, KeepAlive: 30 * time.Second, Control: dialControl(c.AllowPrivate)}
		c.Dial = dialer.DialContext
	}
	if c.Propagator == nil {
		c.Propagator = propagation.TraceContext{}
	}
	return c
}

// ErrResponseTooLarge means a response body exceeded MaxResponseBytes.
var ErrResponseTooLarge = errors.New("response body too large")

// Response is a fully read response.
type Response struct {
	StatusCode int
	StatusText string
	Header     http.Header
	Body       []byte
}

// Client sends requests for API-call nodes. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	// transport is kept to close idle connections directly: the breaker and instrumentation
	// wrappers do not pass CloseIdleConnections through.
	transport *http.Transport
	breakers  *breakerTransport
}

// NewClient returns a client with its own transport.
func NewClient(cfg Config) *Client {
	cfg = cfg.WithDefaults()
	transport := &http.Transport{
		// No proxy: the SSRF guard must see the real target's address.
		DialContext:           guardedDial(cfg.Resolver, cfg.Dial, cfg.AllowPrivate, cfg.DialTimeout),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ExpectContinueTimeout: time.Second,
	}
	breakers := newBreakerTransport(transport, cfg.Breaker)
	var rt http.RoundTripper = breakers
	if cfg.TracerProvider != nil {
		// No otelhttp metrics: their server.address attribute is one series per target host,
		// unbounded; the breaker callbacks export per-host outcomes under the host cap.
		// The breaker names each span "<METHOD> <host>" once it knows the host's label; until
		// then it carries the folded method alone, never a client's invented one.
		rt = otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(scrubbingTracerProvider(cfg.TracerProvider)),
			otelhttp.WithPropagators(cfg.Propagator), otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return methodName(r.Method) }))
	}
	return &Client{cfg: cfg, transport: transport, breakers: breakers, http: &http.Client{
		Transport:     rt,
		CheckRedirect: checkRedirect(cfg.MaxRedirects),
	}}
}

// errNoURL is a request without a URL.
var errNoURL = errors.New("request has no URL")

// Do sends req and reads the whole body, up to MaxResponseBytes. The request's context bounds
// the whole exchange. Its duration, redirects and body included, is recorded once under the
// first host's label with the outcome (see RequestDurations); the host's breaker is kept for as
// long, so the series cannot be evicted under it. With a Limiter, a request its first host's
// limits hold back is not sent and fails with a *ThrottledError; a 429 or 503 with Retry-After
// pauses that host for every worker.
func (c *Client) Do(req *http.Request) (*Response, error) {
	if req.URL == nil {
		return nil, errNoURL
	}
	host := hostKey(req.URL)
	release, err := c.admit(req.Context(), host)
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	defer release()
	start := time.Now()
	b := c.breakers.acquire(host)
	resp, err := c.do(req)
	c.pauseOnRetryAfter(req.Context(), host, resp)
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	c.breakers.observe(b, outcomeOf(status, err), time.Since(start))
	if b != nil {
		c.breakers.release(b)
	}
	return resp, err
}

func (c *Client) do(req *http.Request) (*Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read response: %w", err)
	}
	if int64(len(body)) > c.cfg.MaxResponseBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, c.cfg.MaxResponseBytes)
	}
	return &Response{
		StatusCode: resp.StatusCode,
		StatusText: statusText(resp),
		Header:     resp.Header,
		Body:       body,
	}, nil
}

// CloseIdle closes idle keep-alive connections.
func (c *Client) CloseIdle() { c.transport.CloseIdleConnections() }

// BreakerStates reads the state of every kept host breaker now, after dropping those idle for
// BreakerConfig.IdleExpiry; at most BreakerConfig.MaxHosts entries.
func (c *Client) BreakerStates() []BreakerState { return c.breakers.states() }

// RequestDurations reads the duration histograms of the requests made by Do, per kept host and
// outcome (see the Outcome constants), after dropping the hosts idle for
// BreakerConfig.IdleExpiry; a host's histograms go with its breaker, and requests to hosts
// beyond BreakerConfig.MaxHosts are under OtherHost. At most (MaxHosts+1) x 7 entries.
func (c *Client) RequestDurations() []RequestDurations { return c.breakers.durations() }

// IsBlocked reports whether err is a request refused by the SSRF guard.
func IsBlocked(err error) bool {
	var b *BlockedAddressError
	return errors.As(err, &b)
}

// IsBreakerOpen reports whether err is a request refused by an open circuit breaker.
func IsBreakerOpen(err error) bool {
	var b *BreakerOpenError
	return errors.As(err, &b)
}

func statusText(resp *http.Response) string {
	if _, text, ok := strings.Cut(resp.Status, " "); ok && text != "" {
		return text
	}
	return http.StatusText(resp.StatusCode)
}

// IsTimeout reports whether err is a deadline or network timeout.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
