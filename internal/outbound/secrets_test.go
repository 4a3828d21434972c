package outbound_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// headerLog records the headers each path of a server received.
type headerLog struct {
	mu   sync.Mutex
	seen map[string][]http.Header
}

func (l *headerLog) record(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]http.Header{}
	}
	l.seen[r.Host+r.URL.Path] = append(l.seen[r.Host+r.URL.Path], r.Header.Clone())
}

func (l *headerLog) at(hostPath string) []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seen[hostPath]
}

// Once a redirect chain leaves the first request's origin (scheme, host and port, a subdomain
// included) none of the caller's headers is sent again, on that hop or any later one, even back
// on the first origin; within the origin they are kept. net/http alone forwards every header
// but Authorization, Cookie and their proxy variants to other hosts, and those too to
// subdomains and other ports.
func TestRedirectsAcrossOriginsDropCallerHeaders(t *testing.T) {
	t.Parallel()
	var log headerLog
	var a, b *httptest.Server
	b = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		if r.URL.Path == "/back" {
			http.Redirect(w, r, a.URL+"/echo", http.StatusFound)
		}
	}))
	defer b.Close()
	a = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, "/echo", http.StatusFound)
		case "/cross":
			http.Redirect(w, r, b.URL+"/echo", http.StatusTemporaryRedirect)
		case "/bounce":
			http.Redirect(w, r, b.URL+"/back", http.StatusFound)
		case "/sub":
			http.Redirect(w, r, "http://sub."+r.Host+"/echo", http.StatusFound)
		}
	}))
	defer a.Close()
	aHost, bHost := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	_, aPort, _ := net.SplitHostPort(aHost)
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: anyHost{}})
	defer c.CloseIdle()
	caller := http.Header{"Authorization": {"Bearer tok"}, "X-Api-Key": {"key"}, "Cookie": {"sid=1"}, "X-Custom": {"templated"}}
	do := func(method, u string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), method, u, strings.NewReader(`{"a":1}`))
		req.Header = caller.Clone()
		if _, err := c.Do(req); err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
	}
	do("GET", a.URL+"/same")
	do("POST", a.URL+"/cross")
	do("GET", a.URL+"/bounce")
	do("GET", "http://api.test:"+aPort+"/sub")

	sent := func(h http.Header) []string {
		var names []string
		for name := range caller {
			if h.Get(name) != "" {
				names = append(names, name)
			}
		}
		return names
	}
	checks := []struct {
		what, at string
		hop      int
		keeps    bool
	}{
		{"same origin", aHost + "/echo", 0, true},
		{"another port", bHost + "/echo", 0, false},
		{"another port, on the way", bHost + "/back", 0, false},
		{"back on the first origin", aHost + "/echo", 1, false},
		{"a subdomain", "sub.api.test:" + aPort + "/echo", 0, false},
	}
	for _, ch := range checks {
		hops := log.at(ch.at)
		if len(hops) <= ch.hop {
			t.Fatalf("%s: %s received %d requests, want more than %d", ch.what, ch.at, len(hops), ch.hop)
		}
		got := sent(hops[ch.hop])
		if ch.keeps && len(got) != len(caller) {
			t.Errorf("%s: %s received %v of the caller's headers, want all", ch.what, ch.at, got)
		}
		if !ch.keeps && len(got) != 0 {
			t.Errorf("%s: %s received the caller's %v, want none", ch.what, ch.at, got)
		}
	}
}

// A redirect whose location carries a secret of the request, in any of its usual encodings, is
// refused before anything is sent to it.
func TestRedirectCarryingSecretIsRefused(t *testing.T) {
	t.Parallel()
	const secret = "tok/en+=?"
	var log headerLog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.record(r)
		switch r.URL.Path {
		case "/query":
			http.Redirect(w, r, "/landing?t="+url.QueryEscape(secret), http.StatusFound)
		case "/path":
			http.Redirect(w, r, "/landing/"+url.PathEscape(secret), http.StatusFound)
		case "/plain":
			http.Redirect(w, r, "/landing#"+secret, http.StatusFound)
		}
	}))
	defer srv.Close()
	c := outbound.NewClient(outbound.Config{AllowPrivate: true})
	defer c.CloseIdle()
	ctx := outbound.WithSecrets(context.Background(), outbound.NewSecrets(secret))
	for _, path := range []string{"/query", "/path", "/plain"} {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+path, nil)
		if _, err := c.Do(req); err == nil || !strings.Contains(err.Error(), outbound.ErrRedirectCarriesSecret.Error()) {
			t.Errorf("%s: %v, want the redirect refused", path, err)
		}
	}
	for host := range log.seen {
		if strings.Contains(host, "/landing") {
			t.Errorf("the redirect target %s was called", host)
		}
	}
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/query", nil)
	if _, err := c.Do(req); err != nil {
		t.Errorf("without secrets the redirect is followed: %v", err)
	}
}

// The client span of a request whose context carries secrets has them scrubbed from every
// attribute and its status (url.full, user_agent.original, the error), while a request
// without secrets is traced as it is.
func TestClientSpansAreScrubbedOfSecrets(t *testing.T) {
	t.Parallel()
	const secret = "span-secret-9f2c"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, TracerProvider: tp})
	defer c.CloseIdle()
	send := func(ctx context.Context, u string) {
		req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
		req.Header.Set("User-Agent", "agent "+secret)
		_, _ = c.Do(req)
	}
	ctx := outbound.WithSecrets(context.Background(), outbound.NewSecrets(secret))
	send(ctx, srv.URL+"/"+secret)
	send(ctx, "http://127.0.0.1:1/"+secret) // connection refused: the status carries the error
	send(context.Background(), srv.URL+"/"+secret)
	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans, want 3", len(spans))
	}
	for i, sp := range spans {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", sp.Name(), sp.Status().Description)
		for _, kv := range sp.Attributes() {
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.String())
		}
		for _, ev := range sp.Events() {
			fmt.Fprintf(&b, " %s %v", ev.Name, ev.Attributes)
		}
		text := b.String()
		if scrubbed := i < 2; scrubbed == strings.Contains(text, secret) || scrubbed != strings.Contains(text, outbound.Redacted) {
			t.Errorf("span %d (scrubbed: %v): %s", i, scrubbed, text)
		}
	}
}

// Secrets are scrubbed in the forms a target is likely to reflect them in, the longest first,
// and a base64 secret such as Basic credentials also in its decoded text and password.
func TestSecretsScrubTheirForms(t *testing.T) {
	t.Parallel()
	const secret = `p&ss<w>"rd/+`
	basic := base64.StdEncoding.EncodeToString([]byte("robot:hunter22"))
	s := outbound.NewSecrets(secret, basic, "")
	reflections := []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		html.EscapeString(secret),
		`p\u0026ss\u003cw\u003e\"rd/+`, // JSON, HTML-safe
		`p&ss<w>\"rd/+`,                // JSON
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
		basic,
		"robot:hunter22",
		"hunter22",
	}
	for _, r := range reflections {
		text := "before " + r + " after"
		if got := s.Scrub(text); got != "before "+outbound.Redacted+" after" || !s.Contains(text) {
			t.Errorf("Scrub(%q) = %q (contains: %v), want the reflection replaced whole", text, got, s.Contains(text))
		}
	}
	if got := s.Scrub("nothing secret here"); got != "nothing secret here" || s.Contains(got) {
		t.Errorf("Scrub changed text without a secret: %q", got)
	}
	none := outbound.NewSecrets("")
	if none != nil || none.Scrub("x") != "x" || none.Contains("x") {
		t.Error("an empty set scrubs something")
	}
}
