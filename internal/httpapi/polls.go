package httpapi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// pollRoutes are the routes clients and probes call over and over: liveness, readiness,
// metrics and a run's status. They are left out of tracing by default (their spans would
// outnumber the runs'); they stay in the HTTP metrics.
var pollRoutes = []string{
	"/health",
	"/healthz",
	"/readyz",
	"/metrics",
	"/workflows/runs/{runID}/status",
	"/workflows/{id}/runs/{runID}",
	"/workflows/{id}/runs/{runID}/status",
}

// PollMatcher returns a function that reports whether a request is a GET or HEAD of a poll
// route, matched on its path the way the router matches it.
func PollMatcher() func(*http.Request) bool {
	m := chi.NewRouter()
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, p := range pollRoutes {
		m.Get(p, nop)
	}
	return func(r *http.Request) bool {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			return false
		}
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		return m.Match(chi.NewRouteContext(), http.MethodGet, path)
	}
}
