package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestCanonicalize(t *testing.T) {
	t.Parallel()
	same := map[string]string{
		"/":                                      "/",
		"/health":                                "/health",
		"/health/":                               "/health",
		"/%68%65alth":                            "/health",
		"/%7e%2D%2e%5F":                          "/~-._",
		"/workflows/api/mock/weather/New%20York": "/workflows/api/mock/weather/New%20York",
		"/w/a%2bb%3a":                            "/w/a%2Bb%3A",
		"/w/a+b:c@d;e=f!$&'()*,":                 "/w/a+b:c@d;e=f!$&'()*,",
		`/w/a"b<c>{d}|^` + "`":                   "/w/a%22b%3Cc%3E%7Bd%7D%7C%5E%60",
		"/w/%00%ff":                              "/w/%00%FF",
		"/w/..a/a..":                             "/w/..a/a..",
		"*":                                      "*",
	}
	for in, want := range same {
		if got, err := canonicalize(in); err != nil || got != want {
			t.Errorf("canonicalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	ambiguous := map[string]string{
		"//health":  "empty segment",
		"/health//": "empty segment",
		"/a//b":     "empty segment",
		"/a/%2F":    `encoded "/"`,
		"/a%2fb":    `encoded "/"`,
		`/a\b`:      `"\"`,
		"/a%5cb":    `"\"`,
		"/./a":      `"." or ".."`,
		"/a/..":     `"." or ".."`,
		"/a/%2e%2E": `"." or ".."`,
		"/a/.%2e/":  `"." or ".."`,
		"/a/%2":     "malformed",
		"/a/%zz":    "malformed",
		"/a%":       "malformed",
	}
	for in, reason := range ambiguous {
		if got, err := canonicalize(in); err == nil || !strings.Contains(err.Error(), reason) {
			t.Errorf("canonicalize(%q) = %q, %v; want an error about %s", in, got, err, reason)
		}
	}
}

// A refused spelling answers 400 naming the path and what is wrong with it; an equivalent one
// reaches the handler with the canonical URL.
func TestCanonicalPathMiddleware(t *testing.T) {
	t.Parallel()
	var seen string
	h := canonicalPath(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.URL.EscapedPath() }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/workflows/api%2Fx/runs/r/status", nil))
	if body := rec.Body.String(); rec.Code != 400 || !strings.Contains(body, `"message":"path: an encoded \"/\" (%2F) inside a segment is ambiguous`) {
		t.Errorf("encoded slash: %d %s", rec.Code, body)
	}
	if seen != "" {
		t.Errorf("the handler saw %q", seen)
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/%77orkflows/a%20b/", nil))
	if seen != "/workflows/a%20b" {
		t.Errorf("the handler saw %q, want /workflows/a%%20b", seen)
	}
}
