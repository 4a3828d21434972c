package outbound_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/outbound/outboundtest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// durationCounts is host+" "+outcome -> requests, from c.RequestDurations(), checking that each
// histogram's buckets are cumulative and end at its count.
func durationCounts(t *testing.T, c *outbound.Client, bounds []float64) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, d := range c.RequestDurations() {
		if len(d.Buckets) != len(bounds) {
			t.Fatalf("%s %s has %d buckets, want %d", d.Host, d.Outcome, len(d.Buckets), len(bounds))
		}
		prev := uint64(0)
		for _, b := range bounds {
			if d.Buckets[b] < prev || d.Buckets[b] > d.Count {
				t.Fatalf("%s %s: bucket %v holds %d after %d, count %d", d.Host, d.Outcome, b, d.Buckets[b], prev, d.Count)
			}
			prev = d.Buckets[b]
		}
		if d.Sum < 0 {
			t.Fatalf("%s %s: sum %v", d.Host, d.Outcome, d.Sum)
		}
		out[d.Host+" "+d.Outcome] += d.Count
	}
	return out
}

// Every request made by Do is observed once, under its host and the outcome its caller saw:
// success, http_4xx, http_5xx, rejected (open breaker), timeout, network and refused (guard).
func TestRequestDurationsPerHostAndOutcome(t *testing.T) {
	t.Parallel()
	bounds := []float64{.01, .1, 1, 10}
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: outboundtest.LoopbackResolver{},
		Breaker: outbound.BreakerConfig{Failures: 1, OpenTimeout: time.Hour, DurationBuckets: bounds}})
	defer c.CloseIdle()
	hosts := outboundtest.EveryOutcome(t, c)
	want := map[string]uint64{}
	for outcome, host := range hosts {
		want[host+" "+outcome] = 1
	}
	if diff := cmp.Diff(want, durationCounts(t, c, bounds)); diff != "" {
		t.Fatalf("request durations (-want +got):\n%s", diff)
	}
}

// A request with a header that cannot be sent, or cancelled by its caller, is refused; a
// redirect is part of its first request: one observation under the first host.
func TestRequestDurationsCountRedirectsAndRefusalsOnce(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer target.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/there", http.StatusFound)
	}))
	defer redirect.Close()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	defer c.CloseIdle()
	if err := get(c, redirect.URL); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(context.Background(), "GET", target.URL, nil)
	req.Header.Set("X-Bad", "a\r\nb")
	if _, err := c.Do(req); err == nil {
		t.Fatal("a header with CR LF was sent")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ = http.NewRequestWithContext(ctx, "GET", target.URL, nil)
	if _, err := c.Do(req); err == nil {
		t.Fatal("a cancelled request succeeded")
	}
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	want := map[string]uint64{host(redirect) + " success": 1, host(target) + " refused": 2}
	if diff := cmp.Diff(want, durationCounts(t, c, outbound.DefaultDurationBuckets)); diff != "" {
		t.Fatalf("request durations (-want +got):\n%s", diff)
	}
}

// Many distinct hosts keep durations for at most MaxHosts of them plus "other": a host whose
// breaker is dropped loses its histograms, and requests beyond the cap while every breaker is
// busy are counted under "other".
func TestRequestDurationsAreBoundedWithTheBreakers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	const maxHosts = 4
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: outboundtest.LoopbackResolver{},
		Breaker: outbound.BreakerConfig{MaxHosts: maxHosts}})
	defer c.CloseIdle()
	for i := range 50 {
		if err := get(c, fmt.Sprintf("http://h%d.test:%s/", i, port)); err != nil {
			t.Fatal(err)
		}
	}
	got := durationCounts(t, c, outbound.DefaultDurationBuckets)
	want := map[string]uint64{}
	for i := 50 - maxHosts; i < 50; i++ {
		want[fmt.Sprintf("h%d.test:%s success", i, port)] = 1
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("request durations after 50 hosts (-want +got):\n%s", diff)
	}

	hang := outboundtest.NewHostile(t, outboundtest.Hang)
	_, hangPort, _ := net.SplitHostPort(strings.TrimPrefix(hang.URL, "http://"))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := range maxHosts {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://busy%d.test:%s/", i, hangPort), nil)
			_, _ = c.Do(req)
		})
	}
	testenv.WaitFor(t, 10*time.Second, "every breaker to have a request in flight", func() bool { return len(hang.Requests()) == maxHosts })
	if err := get(c, srv.URL); err != nil {
		t.Fatal(err)
	}
	if got := durationCounts(t, c, outbound.DefaultDurationBuckets); got[outbound.OtherHost+" success"] != 1 || len(got) != 1 {
		t.Fatalf("request durations with every breaker busy: %v, want only the overflow request under %q", got, outbound.OtherHost)
	}
	cancel()
	wg.Wait()
	closeAndCheckConns(t, c, hang)
}

// A client span is named "<METHOD> <host>", with the method folded as the server folds it and
// the host as the breaker labels it ("other" beyond the cap); the host stays in server.address,
// and a secret in the host name is scrubbed from the name.
func TestClientSpansNameTheHost(t *testing.T) {
	t.Parallel()
	const secret = "hostsecret7"
	ok := outboundtest.NewHostile(t, outboundtest.Status(http.StatusOK))
	hang := outboundtest.NewHostile(t, outboundtest.Hang)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ok.URL, "http://"))
	_, hangPort, _ := net.SplitHostPort(strings.TrimPrefix(hang.URL, "http://"))
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: outboundtest.LoopbackResolver{}, TracerProvider: tp,
		Breaker: outbound.BreakerConfig{MaxHosts: 2}})
	send := func(ctx context.Context, method, url string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, url, nil)
		if _, err := c.Do(req); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	send(context.Background(), "GET", "http://a.test:"+port+"/")
	send(context.Background(), "PROPFIND", "http://a.test:"+port+"/")
	send(outbound.WithSecrets(context.Background(), outbound.NewSecrets(secret)), "POST", "http://"+secret+".test:"+port+"/")

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, h := range []string{"busy1.test", "busy2.test"} {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+h+":"+hangPort+"/", nil)
			_, _ = c.Do(req)
		})
	}
	testenv.WaitFor(t, 10*time.Second, "both hanging requests to arrive", func() bool { return len(hang.Requests()) == 2 })
	send(context.Background(), "GET", "http://c.test:"+port+"/")
	cancel()
	wg.Wait()

	var got []string
	for _, sp := range rec.Ended() {
		addr := ""
		for _, kv := range sp.Attributes() {
			if kv.Key == attribute.Key("server.address") {
				addr = kv.Value.AsString()
			}
		}
		got = append(got, sp.Name()+" | "+addr)
	}
	slices.Sort(got)
	want := []string{
		"GET a.test:" + port + " | a.test",
		"GET busy1.test:" + hangPort + " | busy1.test",
		"GET busy2.test:" + hangPort + " | busy2.test",
		"GET other | c.test",
		"OTHER a.test:" + port + " | a.test",
		"POST " + outbound.Redacted + ".test:" + port + " | " + outbound.Redacted + ".test",
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("client spans (-want +got):\n%s", diff)
	}
	closeAndCheckConns(t, c, ok, hang)
}

// contextKey marks the request whose outcome caused a transition.
type contextKey struct{}

// capture is a JSON slog handler that also records the contextKey value of each record's
// context.
type capture struct {
	slog.Handler
	mu       sync.Mutex
	contexts []any
}

func (h *capture) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	h.contexts = append(h.contexts, ctx.Value(contextKey{}))
	h.mu.Unlock()
	return h.Handler.Handle(ctx, r)
}

// Each breaker transition is one JSON line: WARN when it opens, INFO when it turns half-open
// or closes, with host, from, to and the target's consecutive failures, in the context of the
// request that caused it.
func TestBreakerTransitionsAreLogged(t *testing.T) {
	t.Parallel()
	var healthy atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer srv.Close()
	var buf syncBuffer
	h := &capture{Handler: slog.NewJSONHandler(&buf, nil)}
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Breaker: outbound.BreakerConfig{
		Failures: 3, OpenTimeout: 50 * time.Millisecond, Log: slog.New(h)}})
	defer c.CloseIdle()
	call := func(mark string) error {
		req, _ := http.NewRequestWithContext(context.WithValue(context.Background(), contextKey{}, mark), "GET", srv.URL, nil)
		_, err := c.Do(req)
		return err
	}
	for i := range 3 {
		if err := call(fmt.Sprintf("failure %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 10*time.Second, "the breaker to turn half-open", func() bool {
		return c.BreakerStates()[0].State == "half-open"
	})
	healthy.Store(true)
	if err := call("probe"); err != nil {
		t.Fatal(err)
	}
	if err := call("after"); err != nil {
		t.Fatal(err)
	}

	host := strings.TrimPrefix(srv.URL, "http://")
	type line struct {
		Level               string `json:"level"`
		Msg                 string `json:"msg"`
		Host                string `json:"host"`
		From                string `json:"from"`
		To                  string `json:"to"`
		ConsecutiveFailures *int   `json:"consecutive_failures"`
	}
	var got []line
	for _, raw := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var l line
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		got = append(got, l)
	}
	n := func(v int) *int { return &v }
	want := []line{
		{Level: "WARN", Msg: "circuit breaker open", Host: host, From: "closed", To: "open", ConsecutiveFailures: n(3)},
		{Level: "INFO", Msg: "circuit breaker half-open", Host: host, From: "open", To: "half-open", ConsecutiveFailures: n(3)},
		{Level: "INFO", Msg: "circuit breaker closed", Host: host, From: "half-open", To: "closed", ConsecutiveFailures: n(0)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("transition log (-want +got):\n%s", diff)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.contexts[0] != "failure 3" || h.contexts[2] != "probe" {
		t.Fatalf("transitions logged in the contexts %v, want those of the third failure and of the probe", h.contexts)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
