package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The queue UI (Asynqmon) under /monitoring is a browser application, and a browser cannot
// add an X-API-Key header to the pages it navigates to. When API keys are set, a login page
// trades a key for a session cookie that only /monitoring accepts; API clients still send the
// header. The cookie is HttpOnly, SameSite=Strict, scoped to Path=/monitoring, Secure when
// the request came over TLS (directly or, by X-Forwarded-Proto, through a proxy), and expires
// after MonitoringSessionLifetime. Its value is an expiry and a fingerprint of the key,
// HMAC-signed with a secret drawn at random when the process starts: it never holds the key,
// it cannot be forged or extended, and every session ends when the process restarts.
//
// Cross-site requests: SameSite=Strict keeps browsers from sending the cookie with requests
// that another site starts, which protects Asynqmon's mutating API calls (when
// MONITORING_WRITABLE is set); because sibling subdomains count as the same site, a request
// authenticated by the cookie that may change something (any method but GET, HEAD and
// OPTIONS), and the login form's POST, must also come from this origin when the browser names
// one (Origin).
const (
	// MonitoringSessionLifetime bounds a /monitoring session.
	MonitoringSessionLifetime = 12 * time.Hour
	// MonitoringCookie names the session cookie.
	MonitoringCookie = "sequenceflow_monitoring"

	monitoringPath   = "/monitoring"
	monitoringLogin  = "/monitoring/login"
	monitoringLogout = "/monitoring/logout"
	// loginFormBytes bounds the login form's body.
	loginFormBytes = 8 << 10
	sessionVersion = "sequenceflow monitoring session v1\x00"
)

// monitoringAuth guards the queue UI and serves its login and logout.
type monitoringAuth struct {
	keys keyring
	// fingerprints[i] identifies keys[i] in a session without revealing it.
	fingerprints [][fingerprintLen]byte
	secret       []byte
	now          func() time.Time
}

const (
	fingerprintLen = 16
	expiryLen      = 8
	macLen         = sha256.Size
	sessionLen     = expiryLen + fingerprintLen + macLen
)

// newMonitoringAuth draws the signing secret; a nil secret means a random one.
func newMonitoringAuth(keys []string, now func() time.Time, secret []byte) *monitoringAuth {
	if secret == nil {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails: crypto/rand aborts the process instead
	}
	m := &monitoringAuth{keys: newKeyring(keys), secret: secret, now: now}
	for _, k := range keys {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("key fingerprint\x00" + k))
		var fp [fingerprintLen]byte
		copy(fp[:], mac.Sum(nil))
		m.fingerprints = append(m.fingerprints, fp)
	}
	return m
}

// sessionMAC signs an expiry and a key fingerprint.
func (m *monitoringAuth) sessionMAC(payload []byte) []byte {
	mac := hmac.New(sha256.New, m.secret)
	mac.Write([]byte(sessionVersion))
	mac.Write(payload)
	return mac.Sum(nil)
}

// issue returns a session value for the key at keyIndex and when it expires.
func (m *monitoringAuth) issue(keyIndex int) (string, time.Time) {
	expires := m.now().Add(MonitoringSessionLifetime).Truncate(time.Second)
	b := make([]byte, expiryLen, sessionLen)
	binary.BigEndian.PutUint64(b, uint64(expires.Unix()))
	b = append(b, m.fingerprints[keyIndex][:]...)
	b = append(b, m.sessionMAC(b)...)
	return base64.RawURLEncoding.EncodeToString(b), expires
}

// valid reports whether a session value is one this process signed, not expired, for a
// configured key.
func (m *monitoringAuth) valid(value string) bool {
	b, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil || len(b) != sessionLen {
		return false
	}
	payload, mac := b[:expiryLen+fingerprintLen], b[expiryLen+fingerprintLen:]
	if !hmac.Equal(mac, m.sessionMAC(payload)) {
		return false
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(payload[:expiryLen])), 0)
	if !m.now().Before(expires) || expires.After(m.now().Add(MonitoringSessionLifetime)) {
		return false
	}
	known := 0
	for i := range m.fingerprints {
		known |= subtleEqual(payload[expiryLen:], m.fingerprints[i][:])
	}
	return known == 1
}

func subtleEqual(a, b []byte) int {
	if hmac.Equal(a, b) {
		return 1
	}
	return 0
}

// guard lets a request through to the queue UI with a valid key header or session cookie.
// Without either, a browser navigating to a page is sent to the login page; anything else
// gets 401, as on every other protected route.
func (m *monitoringAuth) guard(next http.Handler) http.Handler {
	if m.keys.empty() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if presented := apiKey(r); presented != "" {
			if _, ok := m.keys.match(presented); ok {
				next.ServeHTTP(w, r)
				return
			}
			unauthorized(w)
			return
		}
		if c, err := r.Cookie(MonitoringCookie); err == nil && m.valid(c.Value) {
			if !safeMethod(r.Method) && !sameOrigin(r) {
				writeJSON(w, http.StatusForbidden, errorBody{StatusCode: http.StatusForbidden,
					Message: "Origin: a request from another origin cannot use the monitoring session", Error: "Forbidden"})
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if (r.Method == http.MethodGet || r.Method == http.MethodHead) && acceptsHTML(r) {
			http.Redirect(w, r, monitoringLogin+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		unauthorized(w)
	})
}

// login serves the login form (GET) and checks a key posted from it (POST): a valid key sets
// the session cookie and returns the browser to where it was going, anything else shows the
// form again (400 without a key, 401 with a wrong one). Without configured keys it just
// forwards to the UI.
func (m *monitoringAuth) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if m.keys.empty() {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if r.Method != http.MethodPost {
		showLogin(w, http.StatusOK, next, "")
		return
	}
	if !sameOrigin(r) {
		showLogin(w, http.StatusForbidden, next, "This form was sent from another site.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, loginFormBytes)
	if err := r.ParseForm(); err != nil {
		showLogin(w, http.StatusBadRequest, next, "The form could not be read.")
		return
	}
	if v := r.PostForm.Get("next"); v != "" {
		next = safeNext(v)
	}
	key := r.PostForm.Get("key")
	if key == "" {
		showLogin(w, http.StatusBadRequest, next, "Enter an API key.")
		return
	}
	i, ok := m.keys.match(key)
	if !ok {
		showLogin(w, http.StatusUnauthorized, next, "That is not a valid API key.")
		return
	}
	value, expires := m.issue(i)
	http.SetCookie(w, m.cookie(r, value, expires))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// logout clears the session cookie and shows the login page.
func (m *monitoringAuth) logout(w http.ResponseWriter, r *http.Request) {
	c := m.cookie(r, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
	http.Redirect(w, r, monitoringLogin, http.StatusSeeOther)
}

func (m *monitoringAuth) cookie(r *http.Request, value string, expires time.Time) *http.Cookie {
	c := &http.Cookie{Name: MonitoringCookie, Value: value, Path: monitoringPath, Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: overTLS(r)}
	if value != "" {
		c.MaxAge = int(expires.Sub(m.now()).Seconds())
	}
	return c
}

// overTLS reports whether the browser reached us over TLS: directly, or through a proxy that
// says so. A client that claims it falsely only loses its own cookie.
func overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}

func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// sameOrigin reports whether a browser request comes from this service's own pages: its
// Origin, when it sends one, names the host the request was sent to (or the one a proxy in
// front of us received, X-Forwarded-Host). Requests without Origin are not from another
// site's page: browsers send it with every cross-origin request and every POST.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	fwd, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ",")
	return fwd != "" && strings.EqualFold(u.Host, strings.TrimSpace(fwd))
}

func acceptsHTML(r *http.Request) bool {
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/html")
}

// safeNext is where to go after logging in: a path of the queue UI, else its start page. It
// never leaves /monitoring, so the login page cannot send anyone to another site.
func safeNext(next string) string {
	const home = monitoringPath + "/"
	u, err := url.Parse(next)
	if err != nil || next == "" || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		strings.ContainsAny(next, "\\\r\n\t") || strings.HasPrefix(next, "//") {
		return home
	}
	if u.Path != monitoringPath && !strings.HasPrefix(u.Path, monitoringPath+"/") ||
		u.Path == monitoringLogin || u.Path == monitoringLogout {
		return home
	}
	return u.RequestURI()
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SequenceFlow queue monitoring: sign in</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 24rem; margin: 4rem auto; padding: 0 1rem; }
label, input, button { display: block; width: 100%; box-sizing: border-box; }
input { margin: .4rem 0 1rem; padding: .5rem; font-size: 1rem; }
button { padding: .5rem; font-size: 1rem; }
.error { color: #b00020; }
</style>
</head>
<body>
<h1>Queue monitoring</h1>
<p>Sign in with one of the service's API keys. The session lasts {{.Lifetime}} and is kept in a cookie for /monitoring only.</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/monitoring/login">
<input type="hidden" name="next" value="{{.Next}}">
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`))

// showLogin writes the login page with an optional error.
func showLogin(w http.ResponseWriter, status int, next, problem string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginPage.Execute(w, struct{ Next, Error, Lifetime string }{next, problem, fmt.Sprintf("%g hours", MonitoringSessionLifetime.Hours())})
}
