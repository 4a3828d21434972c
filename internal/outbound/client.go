// Package outbound is the HTTP client of API-call nodes: one shared transport with connection
// reuse, bounded response bodies and a redirect limit.
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
)

// Config tunes the shared client.
type Config struct {
	// MaxResponseBytes bounds a response body (default 10 MiB).
	MaxResponseBytes int64
	// MaxRedirects bounds followed redirects (default 5).
	MaxRedirects int
	// DialTimeout bounds connection set-up (default 5 s).
	DialTimeout time.Duration
	// MaxIdleConnsPerHost sizes the keep-alive pool per target (default 64).
	MaxIdleConnsPerHost int
	// AllowPrivate lets requests reach loopback and private addresses (the mock endpoints on
	// a laptop or in compose). Link-local and cloud metadata addresses are refused regardless.
	AllowPrivate bool
	// Breaker tunes the per-host circuit breakers.
	Breaker BreakerConfig
	// Instrument wraps the transport, outermost (e.g. an OpenTelemetry client transport that
	// injects traceparent); nil leaves it as is.
	Instrument func(http.RoundTripper) http.RoundTripper
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.MaxResponseBytes = cmp.Or(c.MaxResponseBytes, 10<<20)
	c.MaxRedirects = cmp.Or(c.MaxRedirects, 5)
	c.DialTimeout = cmp.Or(c.DialTimeout, 5*time.Second)
	c.MaxIdleConnsPerHost = cmp.Or(c.MaxIdleConnsPerHost, 64)
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
}

// NewClient returns a client with its own transport.
func NewClient(cfg Config) *Client {
	cfg = cfg.WithDefaults()
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second, Control: dialControl(cfg.AllowPrivate)}
	transport := &http.Transport{
		// No proxy: the SSRF guard must see the real target's address.
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ExpectContinueTimeout: time.Second,
	}
	var rt http.RoundTripper = newBreakerTransport(transport, cfg.Breaker)
	if cfg.Instrument != nil {
		rt = cfg.Instrument(rt)
	}
	return &Client{cfg: cfg, transport: transport, http: &http.Client{
		Transport: rt,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("stopped after %d redirects", cfg.MaxRedirects)
			}
			return nil
		},
	}}
}

// Do sends req and reads the whole body, up to MaxResponseBytes. The request's context bounds
// the whole exchange.
func (c *Client) Do(req *http.Request) (*Response, error) {
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
