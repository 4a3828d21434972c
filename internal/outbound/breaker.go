package outbound

import (
	"cmp"
	"container/list"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/net/http/httpguts"
)

// DefaultMaxHosts is how many target hosts have their own breaker and metric series unless
// BreakerConfig.MaxHosts says otherwise.
const DefaultMaxHosts = 256

// DefaultIdleExpiry is how long a host's breaker is kept with no request unless
// BreakerConfig.IdleExpiry says otherwise.
const DefaultIdleExpiry = 10 * time.Minute

// OtherHost is the host label of requests to hosts beyond the cap (see BreakerConfig.MaxHosts).
const OtherHost = "other"

// BreakerConfig tunes the per-host circuit breakers.
type BreakerConfig struct {
	// Failures is how many consecutive failures (transport errors, timeouts, 5xx, a body cut
	// off or stalled) open a host's breaker (default 5).
	Failures uint32
	// OpenTimeout is how long a breaker stays open before letting a probe through (default 30 s).
	OpenTimeout time.Duration
	// HalfOpenRequests is how many probes may run while half-open (default 1).
	HalfOpenRequests uint32
	// MaxHosts bounds the hosts that have a breaker of their own, and so the host label values
	// of the callbacks below (default DefaultMaxHosts). When a new host comes and every slot is
	// taken, the least recently used breaker with no request in flight is dropped (OnEvict); if
	// every breaker has a request in flight, the new host's request goes out without a breaker
	// and is reported under the host OtherHost. A host label therefore takes at most MaxHosts+1
	// values at any time.
	MaxHosts int
	// IdleExpiry drops the breaker of a host that has had no request for this long (default
	// DefaultIdleExpiry), with OnEvict, so a host no longer called stops being reported: an open
	// breaker of a host nobody calls is not an outage to page about.
	IdleExpiry time.Duration
	// Now is the clock of IdleExpiry (default time.Now).
	Now func() time.Time
	// OnStateChange observes transitions ("closed", "half-open", "open"); a new breaker reports
	// "closed".
	OnStateChange func(host, state string)
	// OnOutcome observes each request: "success", "failure" or "rejected".
	OnOutcome func(host, outcome string)
	// OnEvict observes a host's breaker being dropped to make room, so that its series can go.
	OnEvict func(host string)
	// DurationBuckets are the upper bounds (seconds, ascending) of the request duration
	// histograms kept with each host's breaker (default DefaultDurationBuckets).
	DurationBuckets []float64
	// Log receives one line per breaker transition: WARN when a breaker opens, INFO when it
	// turns half-open or closes, with host, from, to and consecutive_failures (default: none).
	Log *slog.Logger
}

// WithDefaults fills unset fields.
func (c BreakerConfig) WithDefaults() BreakerConfig {
	c.Failures = cmp.Or(c.Failures, 5)
	c.OpenTimeout = cmp.Or(c.OpenTimeout, 30*time.Second)
	c.HalfOpenRequests = cmp.Or(c.HalfOpenRequests, 1)
	c.MaxHosts = cmp.Or(c.MaxHosts, DefaultMaxHosts)
	c.IdleExpiry = cmp.Or(c.IdleExpiry, DefaultIdleExpiry)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.OnStateChange == nil {
		c.OnStateChange = func(string, string) {}
	}
	if c.OnOutcome == nil {
		c.OnOutcome = func(string, string) {}
	}
	if c.OnEvict == nil {
		c.OnEvict = func(string) {}
	}
	if c.DurationBuckets == nil {
		c.DurationBuckets = DefaultDurationBuckets
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// BreakerOpenError is returned without sending the request while a host's breaker is open.
type BreakerOpenError struct{ Host string }

func (e *BreakerOpenError) Error() string {
	return fmt.Sprintf("circuit breaker open for %s: the target failed repeatedly; not calling it for now", e.Host)
}

// InvalidHeaderError is a request header that cannot be sent (a name that is not a token, a
// value with CR, LF, NUL or another control character). It names the header, never its value.
type InvalidHeaderError struct{ Name string }

func (e *InvalidHeaderError) Error() string {
	return fmt.Sprintf("header %q has an invalid name or a value with a control character (CR, LF, NUL, ...)", e.Name)
}

// errServerError marks a 5xx response as a breaker failure; the response itself still goes
// back to the caller.
var errServerError = errors.New("server error")

// hostBreaker is one host's breaker, how many of its requests are in flight, when it was last
// used and the durations of its requests; only breakers with nothing in flight are evicted or
// expired, and their durations go with them.
type hostBreaker struct {
	host      string
	inFlight  int           // guarded by breakerTransport.mu
	lastUsed  time.Time     // guarded by breakerTransport.mu
	lru       *list.Element // guarded by breakerTransport.mu
	durations durationStats // guarded by breakerTransport.mu

	// mu serialises the calls into cb, so that a transition it reports is logged with the
	// context of the request that caused it (trigger) and the failure streak it ended.
	mu      sync.Mutex
	cb      *gobreaker.TwoStepCircuitBreaker[*http.Response]
	trigger context.Context
	streak  uint32 // consecutive failures of the target
}

// allow asks the breaker to let a request for ctx through.
func (b *hostBreaker) allow(ctx context.Context) (func(error), error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trigger = ctx
	defer func() { b.trigger = nil }()
	done, err := b.cb.Allow()
	if err != nil {
		return nil, err
	}
	return func(err error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch {
		case err == nil:
			b.streak = 0
		case !notTheTargets(err):
			b.streak++
		}
		b.trigger = ctx
		done(err)
		b.trigger = nil
	}, nil
}

// state reads the breaker's state now (an open breaker past its timeout turns half-open).
func (b *hostBreaker) state() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cb.State().String()
}

// BreakerState is one host's breaker state as read now: "closed", "half-open" or "open".
type BreakerState struct {
	Host  string
	State string
}

// breakerTransport guards each target host with its own circuit breaker, keeping at most
// MaxHosts of them (least recently used idle ones are dropped). A request's outcome is settled
// when its response body is closed, so a target that sends headers and then stalls or breaks
// off mid-body counts as failing too. Requests the target never saw because of the caller
// (cancelled, refused by the SSRF guard, an invalid header) do not count.
type breakerTransport struct {
	next     http.RoundTripper
	cfg      BreakerConfig
	mu       sync.Mutex
	breakers map[string]*hostBreaker
	lru      *list.List    // of *hostBreaker, most recently used (acquired or released) first
	other    durationStats // requests to hosts beyond the cap
}

func newBreakerTransport(next http.RoundTripper, cfg BreakerConfig) *breakerTransport {
	return &breakerTransport{next: next, cfg: cfg.WithDefaults(), breakers: map[string]*hostBreaker{}, lru: list.New()}
}

// acquire returns host's breaker with one more request in flight, creating it (and evicting an
// idle one if the map is full); nil when every kept breaker is busy.
func (t *breakerTransport) acquire(host string) *hostBreaker {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.cfg.Now()
	t.expireIdle(now)
	if b, ok := t.breakers[host]; ok {
		b.inFlight++
		b.lastUsed = now
		t.lru.MoveToFront(b.lru)
		return b
	}
	if len(t.breakers) >= t.cfg.MaxHosts && !t.evictIdle() {
		return nil
	}
	b := &hostBreaker{host: host, inFlight: 1, lastUsed: now}
	b.cb = gobreaker.NewTwoStepCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:        host,
		MaxRequests: t.cfg.HalfOpenRequests,
		Timeout:     t.cfg.OpenTimeout,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= t.cfg.Failures },
		OnStateChange: func(name string, from, to gobreaker.State) {
			t.cfg.OnStateChange(name, to.String())
			t.logTransition(b, from, to) // b.mu is held
		},
		IsExcluded: notTheTargets,
	})
	b.lru = t.lru.PushFront(b)
	t.breakers[host] = b
	t.cfg.OnStateChange(host, gobreaker.StateClosed.String())
	return b
}

// evictIdle drops the least recently used breaker with no request in flight. t.mu is held, so
// OnEvict is ordered with the OnStateChange of a breaker made for the same host again.
func (t *breakerTransport) evictIdle() bool {
	for e := t.lru.Back(); e != nil; e = e.Prev() {
		b := e.Value.(*hostBreaker)
		if b.inFlight == 0 {
			t.lru.Remove(e)
			delete(t.breakers, b.host)
			t.cfg.OnEvict(b.host)
			return true
		}
	}
	return false
}

// expireIdle drops, with OnEvict, the breakers that have had nothing in flight for
// IdleExpiry. t.mu is held.
func (t *breakerTransport) expireIdle(now time.Time) {
	for e := t.lru.Back(); e != nil; {
		b := e.Value.(*hostBreaker)
		if now.Sub(b.lastUsed) < t.cfg.IdleExpiry {
			return // the list is ordered by last use: the rest are newer
		}
		prev := e.Prev()
		if b.inFlight == 0 {
			t.lru.Remove(e)
			delete(t.breakers, b.host)
			t.cfg.OnEvict(b.host)
		}
		e = prev
	}
}

// logTransition writes one line for a breaker's transition, with the context of the request
// that caused it (its trace id) when there is one. b.mu is held.
func (t *breakerTransport) logTransition(b *hostBreaker, from, to gobreaker.State) {
	ctx, level := b.trigger, slog.LevelInfo
	if ctx == nil {
		ctx = context.Background() // a timeout that passed, noticed by a scrape
	}
	if to == gobreaker.StateOpen {
		level = slog.LevelWarn
	}
	t.cfg.Log.Log(ctx, level, "circuit breaker "+to.String(), slog.String("host", b.host), slog.String("from", from.String()),
		slog.String("to", to.String()), slog.Uint64("consecutive_failures", uint64(b.streak)))
}

// observe records one request's duration under b's host, or under OtherHost when b is nil.
func (t *breakerTransport) observe(b *hostBreaker, outcome string, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	stats := &t.other
	if b != nil {
		stats = &b.durations
	}
	stats.observe(t.cfg.DurationBuckets, outcome, took)
}

// durations expires idle breakers and returns the request duration histograms of every kept
// host and of OtherHost.
func (t *breakerTransport) durations() []RequestDurations {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireIdle(t.cfg.Now())
	var out []RequestDurations
	for e := t.lru.Front(); e != nil; e = e.Next() {
		b := e.Value.(*hostBreaker)
		out = b.durations.appendTo(out, b.host, t.cfg.DurationBuckets)
	}
	return t.other.appendTo(out, OtherHost, t.cfg.DurationBuckets)
}

func (t *breakerTransport) release(b *hostBreaker) {
	t.mu.Lock()
	b.inFlight--
	b.lastUsed = t.cfg.Now()
	if _, kept := t.breakers[b.host]; kept {
		t.lru.MoveToFront(b.lru)
	}
	t.mu.Unlock()
}

// states expires idle breakers and reads the state of every kept one now: gobreaker moves an
// open breaker to half-open when its OpenTimeout has passed, without waiting for a request.
func (t *breakerTransport) states() []BreakerState {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireIdle(t.cfg.Now())
	out := make([]BreakerState, 0, len(t.breakers))
	for e := t.lru.Front(); e != nil; e = e.Next() {
		b := e.Value.(*hostBreaker)
		out = append(out, BreakerState{Host: b.host, State: b.state()})
	}
	return out
}

// hosts is how many breakers are kept.
func (t *breakerTransport) hosts() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.breakers)
}

// notTheTargets reports errors that say nothing about the target: the caller cancelled, or the
// request was refused before anything was sent.
func notTheTargets(err error) bool {
	var invalid *InvalidHeaderError
	return errors.Is(err, context.Canceled) || IsBlocked(err) || errors.As(err, &invalid)
}

// checkHeaders refuses what net/http would refuse to send, before the breaker counts it.
func checkHeaders(h http.Header) error {
	for name, values := range h {
		if !httpguts.ValidHeaderFieldName(name) {
			return &InvalidHeaderError{Name: name}
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return &InvalidHeaderError{Name: name}
			}
		}
	}
	return nil
}

// RoundTrip sends req through its host's breaker and names the client span in req's context
// "<METHOD> <host>", host being the label the breaker reports it under (OtherHost beyond the
// cap), so span names are as bounded as the metric series.
func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := hostKey(req.URL)
	b := t.acquire(host)
	label := host
	if b == nil {
		label = OtherHost
	}
	span := trace.SpanFromContext(req.Context())
	span.SetName(methodName(req.Method) + " " + label)
	if err := checkHeaders(req.Header); err != nil {
		if b != nil {
			t.release(b)
		}
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	if b == nil {
		return t.unguarded(req)
	}
	done, err := b.allow(req.Context())
	if err != nil {
		state := gobreaker.StateOpen.String()
		if errors.Is(err, gobreaker.ErrTooManyRequests) {
			state = gobreaker.StateHalfOpen.String()
		}
		t.cfg.OnOutcome(host, "rejected") // before the release: an evicted host gets no series back
		t.release(b)
		span.AddEvent("circuit breaker open", trace.WithAttributes(
			attribute.String("server.address", host), attribute.String("breaker.state", state)))
		return nil, &BreakerOpenError{Host: host}
	}
	return t.send(req, host, func(err error) {
		done(err)
		t.release(b)
	})
}

// methodName is a request method as span names carry it: the standard methods, else OTHER,
// as the server's HTTP spans and metrics fold them.
func methodName(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	case "":
		return http.MethodGet
	}
	return "OTHER"
}

// unguarded sends a request to a host beyond the cap while every kept breaker is busy.
func (t *breakerTransport) unguarded(req *http.Request) (*http.Response, error) {
	return t.send(req, OtherHost, func(error) {})
}

// send makes the request and reports its outcome through settle and OnOutcome once.
func (t *breakerTransport) send(req *http.Request, label string, settle func(error)) (*http.Response, error) {
	report := func(err error) {
		// OnOutcome comes first: until settle releases the breaker it cannot be evicted, so an
		// evicted host never gets a series back.
		switch {
		case err == nil:
			t.cfg.OnOutcome(label, "success")
		case !notTheTargets(err):
			t.cfg.OnOutcome(label, "failure")
		}
		settle(err)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		report(err)
		return nil, err
	}
	if resp.StatusCode >= 500 {
		report(errServerError)
		return resp, nil
	}
	resp.Body = &settledBody{ReadCloser: resp.Body, settle: report}
	return resp, nil
}

// hostKey is a URL's host in one spelling: lower case, without the scheme's default port.
func hostKey(u *url.URL) string {
	host := strings.ToLower(u.Host)
	if p := u.Port(); (p == "80" && u.Scheme == "http") || (p == "443" && u.Scheme == "https") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return host
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
