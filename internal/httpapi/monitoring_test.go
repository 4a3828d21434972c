package httpapi_test

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/httpapi"
)

const monitorKey = "monitor-key"

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// monitoringAPI is the API with API keys and a stand-in queue UI that answers "queues".
func monitoringAPI(t *testing.T, keys ...string) (http.Handler, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	h := httpapi.New(httpapi.Config{APIKeys: keys}, httpapi.Deps{
		Monitoring: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "queues") }),
		Now:        c.now,
	})
	return h, c
}

// serve sends one request; hdr is a list of header name/value pairs.
func serve(h http.Handler, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

const formType = "application/x-www-form-urlencoded"

// login posts the login form and returns the answer.
func login(h http.Handler, key, next string, hdr ...string) *httptest.ResponseRecorder {
	form := url.Values{"key": {key}}
	if next != "" {
		form.Set("next", next)
	}
	return serve(h, "POST", "/monitoring/login", form.Encode(), append([]string{"Content-Type", formType}, hdr...)...)
}

func sessionCookie(t *testing.T, rec *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range rec.Result().Cookies() {
		if c.Name == httpapi.MonitoringCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie set (status %d, Set-Cookie %q)", httpapi.MonitoringCookie, rec.Code, rec.Header().Values("Set-Cookie"))
	return nil
}

func withCookie(c *http.Cookie) []string { return []string{"Cookie", c.Name + "=" + c.Value} }

func TestMonitoringLoginSetsASessionCookie(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t, "other-key", monitorKey)

	page := serve(h, "GET", "/monitoring/login?next=/monitoring/queues/default", "")
	if page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `name="key"`) ||
		!strings.Contains(page.Body.String(), `value="/monitoring/queues/default"`) {
		t.Fatalf("login page: %d %s, want the form keeping where to go next", page.Code, page.Body)
	}
	for _, bad := range []struct {
		name, key string
		want      int
	}{{"wrong key", "not-a-key", 401}, {"key prefix", "monitor-ke", 401}, {"no key", "", 400}} {
		rec := login(h, bad.key, "")
		if rec.Code != bad.want || !strings.Contains(rec.Body.String(), `name="key"`) || len(rec.Result().Cookies()) != 0 {
			t.Errorf("login with %s: %d, cookies %v; want %d with the form again and no cookie", bad.name, rec.Code, rec.Result().Cookies(), bad.want)
		}
	}

	rec := login(h, monitorKey, "/monitoring/queues/default?state=active")
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/monitoring/queues/default?state=active" {
		t.Fatalf("good login: %d to %q, want 303 to where the browser was going", rec.Code, rec.Header().Get("Location"))
	}
	c := sessionCookie(t, rec)
	switch {
	case !c.HttpOnly, c.SameSite != http.SameSiteStrictMode, c.Path != "/monitoring", c.Secure:
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/monitoring, not Secure over plain HTTP", c)
	case c.MaxAge != int(httpapi.MonitoringSessionLifetime.Seconds()):
		t.Errorf("cookie Max-Age %d, want %v", c.MaxAge, httpapi.MonitoringSessionLifetime)
	case strings.Contains(c.Value, monitorKey) || strings.Contains(c.Value, base64.RawURLEncoding.EncodeToString([]byte(monitorKey))):
		t.Errorf("cookie value %q holds the key", c.Value)
	}
	for _, path := range []string{"/monitoring", "/monitoring/", "/monitoring/api/queues"} {
		if got := serve(h, "GET", path, "", withCookie(c)...); got.Code != http.StatusOK || got.Body.String() != "queues" {
			t.Errorf("GET %s with the session: %d %q, want the queue UI", path, got.Code, got.Body)
		}
	}
	// The other key logs in too.
	if rec := login(h, "other-key", ""); rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/monitoring/" {
		t.Errorf("login with the other key: %d to %q, want 303 to /monitoring/", rec.Code, rec.Header().Get("Location"))
	}

	// Over TLS, directly or through a proxy that says so, the cookie is Secure.
	req := httptest.NewRequest("POST", "/monitoring/login", strings.NewReader(url.Values{"key": {monitorKey}}.Encode()))
	req.Header.Set("Content-Type", formType)
	req.TLS = &tls.ConnectionState{}
	tlsRec := httptest.NewRecorder()
	h.ServeHTTP(tlsRec, req)
	if c := sessionCookie(t, tlsRec); !c.Secure {
		t.Errorf("cookie set over TLS is not Secure: %+v", c)
	}
	if c := sessionCookie(t, login(h, monitorKey, "", "X-Forwarded-Proto", "https")); !c.Secure {
		t.Errorf("cookie set behind a TLS proxy is not Secure: %+v", c)
	}
}

// After login the browser goes back only to a page of the queue UI.
func TestMonitoringLoginStaysOnTheQueueUI(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t, monitorKey)
	for next, want := range map[string]string{
		"/monitoring/servers":      "/monitoring/servers",
		"/monitoring":              "/monitoring",
		"https://evil.example/":    "/monitoring/",
		"//evil.example/x":         "/monitoring/",
		"/\\evil.example":          "/monitoring/",
		"/workflows":               "/monitoring/",
		"/monitoringx":             "/monitoring/",
		"/monitoring/login":        "/monitoring/",
		"javascript:alert(1)":      "/monitoring/",
		"/monitoring/a\r\nSet-X:1": "/monitoring/",
	} {
		if got := login(h, monitorKey, next).Header().Get("Location"); got != want {
			t.Errorf("login with next %q goes to %q, want %q", next, got, want)
		}
	}
}

func TestMonitoringRefusesBadSessions(t *testing.T) {
	t.Parallel()
	h, clk := monitoringAPI(t, monitorKey)
	c := sessionCookie(t, login(h, monitorKey, ""))
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		t.Fatal(err)
	}
	tampered := func(i int) string {
		b := append([]byte(nil), raw...)
		b[i] ^= 1
		return base64.RawURLEncoding.EncodeToString(b)
	}
	// Another process (another secret) signs sessions this one does not accept.
	otherProcess, _ := monitoringAPI(t, monitorKey)
	foreign := sessionCookie(t, login(otherProcess, monitorKey, ""))
	for name, value := range map[string]string{
		"expiry changed":       tampered(7),
		"fingerprint changed":  tampered(10),
		"signature changed":    tampered(len(raw) - 1),
		"truncated":            c.Value[:len(c.Value)-4],
		"garbage":              "not-a-session",
		"the key itself":       monitorKey,
		"empty":                "",
		"from another process": foreign.Value,
	} {
		if got := serve(h, "GET", "/monitoring/api/queues", "", "Cookie", httpapi.MonitoringCookie+"="+value); got.Code != http.StatusUnauthorized {
			t.Errorf("session %s: %d, want 401", name, got.Code)
		}
	}
	if got := serve(h, "GET", "/monitoring/api/queues", "", withCookie(c)...); got.Code != http.StatusOK {
		t.Fatalf("the untampered session: %d, want 200", got.Code)
	}
	clk.add(httpapi.MonitoringSessionLifetime - time.Second)
	if got := serve(h, "GET", "/monitoring/api/queues", "", withCookie(c)...); got.Code != http.StatusOK {
		t.Errorf("session a second before it expires: %d, want 200", got.Code)
	}
	clk.add(time.Second)
	if got := serve(h, "GET", "/monitoring/api/queues", "", withCookie(c)...); got.Code != http.StatusUnauthorized {
		t.Errorf("expired session: %d, want 401", got.Code)
	}
}

// The session is only for the queue UI: every other protected route still needs the key.
func TestMonitoringSessionIsOnlyForMonitoring(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t, monitorKey)
	c := sessionCookie(t, login(h, monitorKey, ""))
	for _, r := range []struct{ method, path string }{
		{"GET", "/workflows"},
		{"POST", "/workflows"},
		{"GET", "/workflows/5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7/runs"},
		{"POST", "/workflows/runs/5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7/cancel"},
		{"GET", "/api-templates/grouped"},
	} {
		got := serve(h, r.method, r.path, "", append(withCookie(c), "Accept", "text/html")...)
		if got.Code != http.StatusUnauthorized {
			t.Errorf("%s %s with the monitoring session: %d, want 401", r.method, r.path, got.Code)
		}
	}
}

func TestMonitoringWithoutASession(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t, monitorKey)
	// API clients: the header works as before, a wrong one or none is 401.
	if got := serve(h, "GET", "/monitoring/api/queues", "", "X-API-Key", monitorKey); got.Code != http.StatusOK || got.Body.String() != "queues" {
		t.Errorf("with the key header: %d %q, want the queue UI", got.Code, got.Body)
	}
	if got := serve(h, "GET", "/monitoring/api/queues", "", "Authorization", "Bearer "+monitorKey); got.Code != http.StatusOK {
		t.Errorf("with a bearer key: %d, want 200", got.Code)
	}
	for _, hdr := range [][]string{nil, {"X-API-Key", "wrong"}, {"Accept", "application/json"}, {"X-API-Key", "wrong", "Accept", "text/html"}} {
		if got := serve(h, "GET", "/monitoring/api/queues", "", hdr...); got.Code != http.StatusUnauthorized {
			t.Errorf("headers %q: %d, want 401", hdr, got.Code)
		}
	}
	// A browser opening a page is sent to the login form, and back afterwards.
	got := serve(h, "GET", "/monitoring/queues/default?tab=active", "", "Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if got.Code != http.StatusSeeOther || got.Header().Get("Location") != "/monitoring/login?next="+url.QueryEscape("/monitoring/queues/default?tab=active") {
		t.Errorf("browser without a session: %d to %q, want 303 to the login page", got.Code, got.Header().Get("Location"))
	}
	if got := serve(h, "POST", "/monitoring/api/queues/default:pause", "", "Accept", "text/html"); got.Code != http.StatusUnauthorized {
		t.Errorf("POST from a browser without a session: %d, want 401", got.Code)
	}
}

// Requests that use the session to change something, and the login form, must come from the
// service's own origin when the browser names one.
func TestMonitoringRefusesOtherOrigins(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t, monitorKey)
	c := sessionCookie(t, login(h, monitorKey, ""))
	const pause = "/monitoring/api/queues/default:pause"
	for _, tc := range []struct {
		name string
		hdr  []string
		want int
	}{
		{"same origin", []string{"Origin", "http://example.com"}, 200}, // httptest requests go to example.com
		{"no origin", nil, 200},
		{"origin of the proxy's host", []string{"Origin", "https://queues.example.org", "X-Forwarded-Host", "queues.example.org"}, 200},
		{"sibling subdomain", []string{"Origin", "http://evil.example.com"}, 403},
		{"other site", []string{"Origin", "https://evil.example"}, 403},
		{"opaque origin", []string{"Origin", "null"}, 403},
	} {
		if got := serve(h, "POST", pause, "", append(withCookie(c), tc.hdr...)...); got.Code != tc.want {
			t.Errorf("POST with the session, %s: %d, want %d", tc.name, got.Code, tc.want)
		}
	}
	if got := serve(h, "GET", "/monitoring/api/queues", "", append(withCookie(c), "Origin", "https://evil.example")...); got.Code != 200 {
		t.Errorf("GET with the session from another origin: %d, want 200 (reads are safe)", got.Code)
	}
	if got := serve(h, "POST", pause, "", "X-API-Key", monitorKey, "Origin", "https://evil.example"); got.Code != 200 {
		t.Errorf("POST with the key header from another origin: %d, want 200 (a header is not ambient)", got.Code)
	}
	if got := login(h, monitorKey, "", "Origin", "https://evil.example"); got.Code != http.StatusForbidden || len(got.Result().Cookies()) != 0 {
		t.Errorf("login posted from another site: %d, cookies %v; want 403 and no cookie", got.Code, got.Result().Cookies())
	}
}

func TestMonitoringLogout(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t, monitorKey)
	for _, method := range []string{"GET", "POST"} {
		rec := serve(h, method, "/monitoring/logout", "")
		c := sessionCookie(t, rec)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/monitoring/login" || c.MaxAge >= 0 || c.Value != "" || c.Path != "/monitoring" {
			t.Errorf("%s logout: %d to %q, cookie %+v; want 303 to the login page clearing the cookie", method, rec.Code, rec.Header().Get("Location"), c)
		}
	}
}

// Without API keys the queue UI is open and its login page just forwards to it.
func TestMonitoringWithoutKeys(t *testing.T) {
	t.Parallel()
	h, _ := monitoringAPI(t)
	if got := serve(h, "GET", "/monitoring/api/queues", "", "Accept", "text/html"); got.Code != http.StatusOK {
		t.Errorf("queue UI without keys: %d, want 200", got.Code)
	}
	if got := serve(h, "GET", "/monitoring/login?next=/monitoring/servers", ""); got.Code != http.StatusSeeOther || got.Header().Get("Location") != "/monitoring/servers" {
		t.Errorf("login page without keys: %d to %q, want 303 to the queue UI", got.Code, got.Header().Get("Location"))
	}
}
