package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/httpapi"
	"github.com/sequenceflow/sequenceflow/internal/mockapi"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/telemetry/telemetrytest"
)

// Through the API's router, what a client invents (methods, paths, spellings, paths under the
// mounted mock router) lands on the fixed label values: only routed patterns, OTHER and
// unmatched appear, and another spelling of a route is counted as that route.
func TestHTTPMetricsFoldClientChosenValues(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	h := httpapi.New(httpapi.Config{APIKeys: []string{"k"}}, httpapi.Deps{
		Mock:       mockapi.New(mockapi.Config{}),
		Middleware: []func(http.Handler) http.Handler{telemetry.RouteMetrics(m)},
	})
	send := func(method, target string) {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		req.Method = method
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for i := range 20 {
		send("GET", "/health/")
		send("GET", fmt.Sprintf("/%%77orkflows/runs/r%d/status", i)) // 401, on its route
		send(fmt.Sprintf("BREW%d", i), "/health")
		send("GET", fmt.Sprintf("/invented/%d", i))
		send("GET", fmt.Sprintf("/workflows/a/b/c/%d", i))
		send("GET", fmt.Sprintf("/workflows/api/nowhere/%d", i))
		send("GET", fmt.Sprintf("/workflows/api%%2F%d", i)) // refused before routing
	}
	series := telemetrytest.Series(t, m.Registry, "sequenceflow_http_request_duration_seconds", "method", "route", "code")
	want := []string{
		"GET /health 200",
		"GET /workflows/runs/{runID}/status 401",
		"GET unmatched 400",
		"GET unmatched 404",
		"OTHER unmatched 404",
	}
	if diff := cmp.Diff(want, series); diff != "" {
		t.Errorf("HTTP series (-want +got):\n%s", diff)
	}
}
