package telemetry_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/telemetry/telemetrytest"
)

// Clients cannot create HTTP series or span names: invented methods count as OTHER, paths
// that match no endpoint (including paths under a mounted router that the mounted router does
// not know) as unmatched, however many different ones arrive.
func TestRouteMetricsLabelsAreBounded(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }
	r := chi.NewRouter()
	r.Use(telemetry.RouteMetrics(m))
	r.Get("/known/{id}", ok)
	r.Route("/sub", func(r chi.Router) { r.Get("/leaf", ok) })
	r.Handle("/ui/*", http.HandlerFunc(ok))
	h := telemetry.HTTPServer(r, tp, telemetry.Propagator(), nil)
	send := func(method, path string) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Method = method
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for i := range 50 {
		send("GET", fmt.Sprintf("/known/%d", i))
		send("GET", "/sub/leaf")
		send("GET", fmt.Sprintf("/ui/page%d", i))
		send(fmt.Sprintf("INVENTED%d", i), "/known/1")
		send(fmt.Sprintf("X-%d", i), fmt.Sprintf("/nowhere/%d", i))
		send("GET", fmt.Sprintf("/nowhere/%d", i))
		send("GET", fmt.Sprintf("/sub/nowhere%d", i))
		send("DELETE", "/sub/leaf")
	}

	series := telemetrytest.Series(t, m.Registry, "sequenceflow_http_request_duration_seconds", "method", "route", "code")
	want := []string{
		"DELETE unmatched 405",
		"GET /known/{id} 200",
		"GET /sub/leaf 200",
		"GET /ui/* 200",
		"GET unmatched 404",
		"OTHER unmatched 405",
	}
	if diff := cmp.Diff(want, series); diff != "" {
		t.Errorf("HTTP series (-want +got):\n%s", diff)
	}

	wantNames := map[string]bool{}
	for _, w := range want {
		wantNames[w[:strings.LastIndexByte(w, ' ')]] = true
	}
	names := map[string]bool{}
	for _, s := range spans.Ended() {
		names[s.Name()] = true
	}
	if diff := cmp.Diff(wantNames, names); diff != "" {
		t.Errorf("span names (-want +got):\n%s", diff)
	}
}

// A request whose client went away before its answer is measured with code 499, whether the
// handler then wrote nothing or an error: it is not a server error. One answered in full
// keeps its code.
func TestRouteMetricsCountAbandonedRequestsAs499(t *testing.T) {
	t.Parallel()
	m := telemetry.NewMetrics()
	r := chi.NewRouter()
	r.Use(telemetry.RouteMetrics(m))
	r.Get("/silent", func(http.ResponseWriter, *http.Request) {})
	r.Get("/fails", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	r.Get("/answered", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	for _, path := range []string{"/silent", "/fails", "/answered"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // the client is gone
		r.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil).WithContext(ctx))
	}
	series := telemetrytest.Series(t, m.Registry, "sequenceflow_http_request_duration_seconds", "route", "code")
	if diff := cmp.Diff([]string{"/answered 200", "/fails 499", "/silent 499"}, series); diff != "" {
		t.Errorf("HTTP series (-want +got):\n%s", diff)
	}
}
