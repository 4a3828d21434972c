package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/httpapi"
	"github.com/sequenceflow/sequenceflow/internal/mockapi"
)

const walkKey = "walk-key-0123456789"

// publicRoute is this test's own list of what may be served without a key: liveness,
// readiness, metrics, the mock endpoints apiCall nodes call, the queue UI's login and logout
// (the form a browser sends the key from), and, for POST only, the webhook trigger (its
// signature is its authentication; deleting a hook, the same pattern, is keyed) and resume
// URLs (their token is the credential). Any other route the router has must need a key.
func publicRoute(method, pattern string) bool {
	if pattern == "/hooks/{hookID}" || pattern == "/resume/{token}" {
		return method == http.MethodPost
	}
	switch pattern {
	case "/health", "/healthz", "/readyz", "/metrics", "/monitoring/login", "/monitoring/logout":
		return true
	}
	return strings.HasPrefix(pattern, "/workflows/api/")
}

// spelling rewrites a route's canonical path into another spelling of it.
type spelling struct {
	name  string
	spell func(path string) string
}

// equivalent spellings mean the same path (RFC 3986 normalization): they must reach the
// route the canonical path reaches.
var equivalent = []spelling{
	{"canonical", func(p string) string { return p }},
	{"trailing slash", func(p string) string { return p + "/" }},
	{"percent-encoded first characters", func(p string) string { return encodeFirst(p, "%%%02X") }},
	{"lower-case percent-encoding", func(p string) string { return encodeFirst(p, "%%%02x") }},
}

// ambiguous spellings could mean more than one path (to a proxy, a decoder or a path
// cleaner): they must be refused before routing, whatever the route.
var ambiguous = []spelling{
	{"encoded slash in the segment after /workflows/", func(p string) string {
		if rest, ok := strings.CutPrefix(p, "/workflows/"); ok {
			return "/workflows/api%2F" + rest
		}
		return "/workflows/api%2F" + p[1:]
	}},
	{"smuggled under the mock prefix with encoded slashes", func(p string) string { return "/workflows/api%2F..%2F.." + p }},
	{"smuggled under the mock prefix with dot segments", func(p string) string { return "/workflows/api/../.." + p }},
	{"encoded slashes", func(p string) string { return "/" + strings.ReplaceAll(p[1:], "/", "%2F") + "%2F" }},
	{"lower-case encoded slash", func(p string) string { return p + "%2fx" }},
	{"encoded backslashes", func(p string) string { return "/x%5C..%5C" + p[1:] }},
	{"leading double slash", func(p string) string { return "/" + p }},
	{"inner empty segment", func(p string) string { i := strings.LastIndexByte(p, '/'); return p[:i] + "/" + p[i:] }},
	{"trailing double slash", func(p string) string { return p + "//" }},
	{"dot segment", func(p string) string { return "/." + p }},
	{"dot-dot segment", func(p string) string { return "/x/.." + p }},
	{"encoded dot-dot segment", func(p string) string { return "/x/%2E%2e" + p }},
	{"encoded dot segment", func(p string) string { return p + "/%2e" }},
}

// encodeFirst percent-encodes the first character of every segment with format.
func encodeFirst(p, format string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s != "" {
			segs[i] = fmt.Sprintf(format, s[0]) + s[1:]
		}
	}
	return strings.Join(segs, "/")
}

var routeParam = regexp.MustCompile(`\{[^}]*\}|\*$`)

// TestAuthEveryRouteEverySpelling walks every route of the API's router (built with the
// process's real store and engine) and requests it in every spelling, with and without a key.
// Equivalent spellings reach the route and need a key exactly when the route is not public;
// ambiguous ones are refused with 400 before anything is routed.
func TestAuthEveryRouteEverySpelling(t *testing.T) {
	t.Parallel()
	srv := apptest.Start(t, func(c *app.Config) { c.APIKeys = []string{walkKey} })
	var routed string // the route pattern of the last request, "" when nothing was routed
	recordRoute := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r)
			if rc := chi.RouteContext(r.Context()); rc != nil {
				routed = rc.RoutePattern()
			}
		})
	}
	handler := httpapi.New(httpapi.Config{APIKeys: []string{walkKey}}, httpapi.Deps{
		Workflows: srv.App.Store(), Runs: srv.App.Store(), Templates: srv.App.Store(), Hooks: srv.App.Store(), Engine: srv.App.Engine,
		Mock:       mockapi.New(mockapi.Config{}),
		Metrics:    promhttp.HandlerFor(srv.App.Metrics(), promhttp.HandlerOpts{}),
		Monitoring: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "queues") }),
		Middleware: []func(http.Handler) http.Handler{recordRoute},
	})
	routes, ok := handler.(chi.Routes)
	if !ok {
		t.Fatalf("httpapi.New returned %T, not a chi router", handler)
	}
	send := func(method, target string, withKey bool) int {
		req := httptest.NewRequest(method, target, nil)
		if withKey {
			req.Header.Set("X-API-Key", walkKey)
		}
		routed = ""
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		return rec.Code
	}

	var walked, public int
	seen := map[string]bool{}
	err := chi.Walk(routes, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		walked++
		seen[pattern] = true
		isPublic := publicRoute(method, pattern)
		if isPublic {
			public++
		}
		// Ids that exist nowhere: a keyed request reaches its handler and changes nothing.
		path := routeParam.ReplaceAllStringFunc(pattern, func(p string) string {
			if p == "*" {
				return "queues"
			}
			return "5b0f8a9e-0c4d-4e7a-9a51-d2b1a6c0e3f7"
		})
		if path = strings.TrimSuffix(path, "/"); path == "" {
			path = "/"
		}
		routedAs := strings.TrimSuffix(pattern, "/") // how chi reports the pattern of a Route's "/"
		for _, sp := range equivalent {
			target := sp.spell(path)
			for _, withKey := range []bool{false, true} {
				code := send(method, target, withKey)
				switch {
				case routed != routedAs:
					t.Errorf("%s %s (%s of %s, key %v): routed to %q, want %q (status %d)", method, target, sp.name, pattern, withKey, routed, routedAs, code)
				case !withKey && !isPublic && code != http.StatusUnauthorized:
					t.Errorf("%s %s (%s of protected %s) without a key: %d, want 401", method, target, sp.name, pattern, code)
				case (withKey || isPublic) && code == http.StatusUnauthorized:
					t.Errorf("%s %s (%s of %s, key %v): 401, want it served", method, target, sp.name, pattern, withKey)
				}
			}
		}
		for _, sp := range ambiguous {
			target := sp.spell(path)
			for _, withKey := range []bool{false, true} {
				if code := send(method, target, withKey); code != http.StatusBadRequest || routed != "" {
					t.Errorf("%s %s (%s of %s, key %v): %d routed to %q, want 400 before routing", method, target, sp.name, pattern, withKey, code, routed)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"/health", "/workflows/runs/{runID}/status", "/workflows/{id}/runs/{runID}/cancel",
		"/api-templates/{id}", "/monitoring/*", "/monitoring/login", "/workflows/api/test-weather", "/hooks/{hookID}", "/workflows/{id}/hooks"} {
		if !seen[want] {
			t.Errorf("the walk did not reach %s", want)
		}
	}
	t.Logf("%d routes walked (%d public), %d spellings each, with and without a key", walked, public, len(equivalent)+len(ambiguous))
}
