package app_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Credentials never reach spans (names, attributes, events, status) or the process log across
// a whole run: a secret sent in Authorization and X-API-Key headers (and referenced in a URL,
// where it renders nothing), literal Cookie and Proxy-Authorization headers, the target's
// Set-Cookie, the password in a URL's userinfo and the Basic credentials made from it, the API
// key a client presents, a wrong key it tries and its cookie. The run calls a target that
// succeeds, answers 500, fails once with 503 (retried), is refused at connect, answers
// garbled JSON, cannot be built into a request, and the process's own mock API; the run's
// logs mask the URL password in every message. The target reflects what it receives (headers
// echoed in JSON bodies, in an HTML error page, in a redirect's location) and redirects to
// another host: the secret and the URL credentials, in any encoding, reach neither the run's
// stored outputs and logs, nor its spans, nor the process log, and the other host gets none
// of the node's headers.
func TestSecretsNeverLeakToSpansOrLogs(t *testing.T) {
	t.Parallel()
	secret, cookie, proxyAuth := distinct("secret"), distinct("cookie"), distinct("proxy")
	setCookie, urlPassword := distinct("setcookie"), distinct("urlpass")
	apiKey, wrongKey, clientCookie := distinct("apikey"), distinct("wrongkey"), distinct("clientcookie")
	basic := base64.StdEncoding.EncodeToString([]byte("robot:" + urlPassword))
	secretB64 := base64.StdEncoding.EncodeToString([]byte(secret))
	// What the run's stored record must not hold: the secrets of the execution, reflected or not.
	stored := map[string]string{"secret": secret, "secret in base64": secretB64, "URL password": urlPassword, "Basic credentials": basic}
	leaks := map[string]string{
		"secret": secret, "secret in base64": secretB64, "Cookie": cookie, "Proxy-Authorization": proxyAuth, "Set-Cookie": setCookie,
		"URL password": urlPassword, "Basic credentials": basic, "API key": apiKey, "wrong API key": wrongKey,
		"client Cookie": clientCookie,
	}

	other := newEchoTarget(t, setCookie, "")
	target := newEchoTarget(t, setCookie, other.url)
	rec, traceTo := traced(t)
	var logs procOutput
	srv := apptest.StartLogged(t, app.RoleDev, &logs, func(c *app.Config) {
		traceTo(c)
		c.APIKeys = []string{apiKey}
		c.Getenv = func(name string) string {
			if name == "SECRET_LEAKCHECK" {
				return secret
			}
			return ""
		}
	})
	client := &http.Client{Transport: withHeaders{"Authorization": "Bearer " + apiKey, "Cookie": "sid=" + clientCookie}}
	keyClient := &http.Client{Transport: withHeaders{"X-API-Key": apiKey}}

	headers := []any{
		map[string]any{"key": "Authorization", "value": "Bearer {{$secrets.LEAKCHECK}}", "enabled": true},
		map[string]any{"key": "X-API-Key", "value": "{{$secrets.LEAKCHECK}}", "enabled": true},
		map[string]any{"key": "Cookie", "value": "session=" + cookie, "enabled": true},
		map[string]any{"key": "Proxy-Authorization", "value": "Basic " + proxyAuth, "enabled": true},
	}
	withCreds := func(extra map[string]any) map[string]any {
		m := map[string]any{"headers": headers}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	closed := "127.0.0.1:" + freePort(t) // nothing listens there
	userinfo := strings.Replace(target.url, "http://", "http://robot:"+urlPassword+"@", 1)
	def := workflowtest.New().Input("in").
		APICall("call", "GET", target.url+"/echo?token={{$secrets.LEAKCHECK}}", withCreds(nil)).
		APICall("fails", "POST", target.url+"/fail", withCreds(map[string]any{"retries": 0, "onError": "continue", "bodyTemplate": `{"a":1}`})).
		APICall("flaky", "GET", target.url+"/flaky", withCreds(map[string]any{"retries": 2})).
		APICall("userinfo", "GET", userinfo+"/echo", nil).
		APICall("refused", "GET", "http://robot:"+urlPassword+"@"+closed+"/", map[string]any{"retries": 0, "onError": "continue"}).
		APICall("garbled", "GET", userinfo+"/garbled", map[string]any{"retries": 0, "onError": "continue"}).
		APICall("badport", "GET", "http://robot:"+urlPassword+"@127.0.0.1:{{$run.input.port}}/", map[string]any{"onError": "continue"}).
		APICall("errorpage", "GET", target.url+"/error-page", withCreds(map[string]any{"retries": 0, "onError": "continue"})).
		APICall("reflectredirect", "GET", target.url+"/reflect-redirect", withCreds(map[string]any{"retries": 0, "onError": "continue"})).
		APICall("crosshost", "GET", target.url+"/cross-host", withCreds(nil)).
		APICall("self", "GET", srv.URL+"/workflows/api/test-weather?city=Oslo", withCreds(nil)).
		Notify("tell", "done").
		Chain("in", "call", "fails", "flaky", "userinfo", "refused", "garbled", "badport", "errorpage", "reflectredirect", "crosshost", "self", "tell").JSON()

	// A wrong key is refused (and must not be logged either).
	resp, err := (&http.Client{Transport: withHeaders{"X-API-Key": wrongKey}}).Get(srv.URL + "/workflows")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a wrong API key got %s, want 401", resp.Status)
	}
	var wf struct{ ID string }
	if err := postJSON(client, srv.URL+"/workflows", map[string]any{"name": "leak check", "workflow": def}, &wf, http.StatusCreated); err != nil {
		t.Fatal(err)
	}
	var run struct{ RunID string }
	if err := postJSON(keyClient, srv.URL+"/workflows/"+wf.ID+"/execute-async", map[string]any{"input": map[string]any{"port": "none"}}, &run, http.StatusCreated); err != nil {
		t.Fatal(err)
	}
	runID := run.RunID
	if st := waitTerminal(t, keyClient, srv.URL, runID); st != workflow.RunSucceeded {
		t.Fatalf("run %s, want succeeded (failures are continued)", st)
	}
	waitSpan(t, rec, "tell")
	checkRunRecord(t, keyClient, srv.URL+"/workflows/runs/"+runID, stored)
	srv.Stop() // every span ended, every log line written

	// The target really got the credentials, so their absence below means something.
	for path, n := range map[string]int{"/echo": 2, "/fail": 1, "/flaky": 2, "/error-page": 1, "/reflect-redirect": 1, "/cross-host": 1} {
		if got := target.received(path, "Authorization"); len(got) < n {
			t.Errorf("%s received %d requests, want at least %d", path, len(got), n)
		}
	}
	for _, got := range append(target.received("/fail", "Authorization"), target.received("/flaky", "Authorization")...) {
		if got != "Bearer "+secret {
			t.Errorf("the target received Authorization %q, want the resolved secret", got)
		}
	}
	for header, want := range map[string]string{"Authorization": "Bearer " + secret, "X-Api-Key": secret,
		"Cookie": "session=" + cookie, "Proxy-Authorization": "Basic " + proxyAuth} {
		if got := target.received("/echo", header); !slices.Contains(got, want) {
			t.Errorf("/echo received %s %q, want %q", header, got, want)
		}
	}
	if got := target.received("/echo", "Authorization"); !slices.Contains(got, "Basic "+basic) {
		t.Errorf("/echo received Authorization %q, want the URL's Basic credentials among them", got)
	}
	if got := target.received("/landing", "Authorization"); len(got) != 0 {
		t.Errorf("the redirect carrying the secret was followed %d times, want never", len(got))
	}
	if got := other.received("/echo", "User-Agent"); len(got) != 1 {
		t.Errorf("the other host got %d requests, want the 1 redirected one", len(got))
	}
	for _, header := range []string{"Authorization", "X-Api-Key", "Cookie", "Proxy-Authorization"} {
		if got := other.received("/echo", header); len(got) != 1 || got[0] != "" {
			t.Errorf("the other host received %s %q after the cross-host redirect, want none", header, got)
		}
	}

	s := collect(t, rec)
	clientSpans := 0
	for _, node := range []string{"call", "fails", "flaky", "userinfo", "refused", "garbled", "errorpage", "reflectredirect", "crosshost", "self"} {
		for _, task := range s.tasks(node) {
			s.httpChild(task, trace.SpanKindClient)
			clientSpans++
		}
	}
	// The mock endpoint's server span saw the credentials arrive.
	s.httpChild(s.httpChild(s.one("self"), trace.SpanKindClient), trace.SpanKindServer)
	if len(s.tasks("flaky")) != 2 {
		t.Errorf("flaky has %d task spans, want 2 attempts", len(s.tasks("flaky")))
	}
	if len(s.all) == 0 || clientSpans == 0 {
		t.Fatalf("recorded %d spans, %d apiCall client spans: nothing to check", len(s.all), clientSpans)
	}
	for _, sp := range s.all {
		text := spanText(sp)
		for what, v := range leaks {
			if strings.Contains(text, v) {
				t.Errorf("span %q carries the %s: %s", sp.Name(), what, text)
			}
		}
	}

	out := logs.String()
	if !strings.Contains(out, `"msg":"schema migrated"`) || !strings.Contains(out, `"msg":"API listening"`) {
		t.Fatalf("the process log lacks its start-up lines, so the capture is broken:\n%s", out)
	}
	for what, v := range leaks {
		if strings.Contains(out, v) {
			t.Errorf("the process log carries the %s:\n%s", what, out)
		}
	}
}

// checkRunRecord checks that the run's status and logs (task outputs, errors and log
// lines, as the API serves them from PostgreSQL) hold none of the secrets, that reflections
// were replaced by [redacted], and that the URL password is masked in messages.
func checkRunRecord(t *testing.T, c *http.Client, runURL string, secrets map[string]string) {
	t.Helper()
	for _, path := range []string{"/status", "/logs"} {
		body := getBody(t, c, runURL+path)
		var decoded any // JSON escapes (\u0026, \") must not hide a value
		if err := json.Unmarshal([]byte(body), &decoded); err != nil {
			t.Fatalf("the run's %q is not JSON: %v", path, err)
		}
		text := body + fmt.Sprintf("%v", decoded)
		for what, v := range secrets {
			if strings.Contains(text, v) {
				t.Errorf("the run's %q carries the %s: %s", path, what, body)
			}
		}
	}
	logs := getBody(t, c, runURL+"/logs")
	for _, want := range []string{"GET http://robot:xxxxx@", "build request for", "decode response from http://robot:xxxxx@", "connection refused",
		"redirect refused", "[redacted]"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the run's logs lack %q: %s", want, logs)
		}
	}
}

// distinct returns a value that appears nowhere unless this test put it there.
func distinct(kind string) string { return kind + "-" + rand.Text()[:16] }

// spanText is everything a span exports that could carry text: name, attributes, status,
// events and links.
func spanText(sp sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name=%s status=%s", sp.Name(), sp.Status().Description)
	for _, kv := range sp.Attributes() {
		fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.String())
	}
	for _, ev := range sp.Events() {
		fmt.Fprintf(&b, " event=%s", ev.Name)
		for _, kv := range ev.Attributes {
			fmt.Fprintf(&b, " %s=%s", kv.Key, kv.Value.String())
		}
	}
	for _, l := range sp.Links() {
		for _, kv := range l.Attributes {
			fmt.Fprintf(&b, " link.%s=%s", kv.Key, kv.Value.String())
		}
	}
	return b.String()
}

// echoTarget is an endpoint that answers with the request's headers and body in its JSON body
// and a Set-Cookie: /echo answers 200, /fail 500, /flaky 503 the first time and 200 afterwards,
// /garbled 200 with a body that is not the JSON it claims, /error-page 400 with an HTML page
// that echoes the headers and body, /reflect-redirect a redirect to /landing with the X-Api-Key
// it got in the query, /cross-host a redirect to the other target. It records every request's
// headers by path.
type echoTarget struct {
	url  string
	mu   sync.Mutex
	seen map[string][]http.Header
}

func newEchoTarget(t *testing.T, setCookie, other string) *echoTarget {
	t.Helper()
	e := &echoTarget{seen: map[string][]http.Header{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.seen[r.URL.Path] = append(e.seen[r.URL.Path], r.Header.Clone())
		n := len(e.seen[r.URL.Path])
		e.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: setCookie})
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/fail":
			w.WriteHeader(http.StatusInternalServerError)
		case r.URL.Path == "/flaky" && n == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/garbled":
			io.WriteString(w, "{not json")
			return
		case r.URL.Path == "/error-page":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<html><body><h1>Bad credentials</h1><pre>%s</pre></body></html>", html.EscapeString(fmt.Sprint(r.Header, string(body))))
			return
		case r.URL.Path == "/reflect-redirect":
			http.Redirect(w, r, "/landing?key="+url.QueryEscape(r.Header.Get("X-Api-Key")), http.StatusFound)
			return
		case r.URL.Path == "/cross-host":
			http.Redirect(w, r, other+"/echo", http.StatusFound)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"headers": r.Header, "query": r.URL.RawQuery, "body": string(body)})
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	e.url = "http://" + ln.Addr().String()
	return e
}

// received returns the values of a header in the requests to path, one per request.
func (e *echoTarget) received(path, header string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, h := range e.seen[path] {
		out = append(out, h.Get(header))
	}
	return out
}

// withHeaders is a client transport that sets headers on every request.
type withHeaders map[string]string

func (h withHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func getBody(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %s", url, resp.Status, raw)
	}
	return string(raw)
}
