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

// An HTTP request's duration carries the trace id of its sampled server span as the exemplar,
// so a slow point of the request latency panel opens the request's trace; an unsampled request
// has none (its trace was never exported).
func TestRouteMetricsExemplarIsTheRequestTrace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		sampler sdktrace.Sampler
		want    bool
	}{
		{"sampled", sdktrace.AlwaysSample(), true},
		{"not sampled", sdktrace.NeverSample(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := telemetry.NewMetrics()
			spans := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(tc.sampler), sdktrace.WithSpanProcessor(spans))
			r := chi.NewRouter()
			r.Use(telemetry.RouteMetrics(m))
			r.Get("/known/{id}", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
			telemetry.HTTPServer(r, tp, telemetry.Propagator(), nil).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/known/7", nil))

			families, err := m.Registry.Gather()
			if err != nil {
				t.Fatal(err)
			}
			var exemplars []string
			for _, f := range families {
				if f.GetName() != "sequenceflow_http_request_duration_seconds" {
					continue
				}
				for _, metric := range f.GetMetric() {
					for _, b := range metric.GetHistogram().GetBucket() {
						for _, l := range b.GetExemplar().GetLabel() {
							exemplars = append(exemplars, l.GetName()+"="+l.GetValue())
						}
					}
				}
			}
			var want []string
			if tc.want {
				ended := spans.Ended()
				if len(ended) != 1 {
					t.Fatalf("%d spans ended, want the request's", len(ended))
				}
				want = []string{"trace_id=" + ended[0].SpanContext().TraceID().String()}
			}
			if diff := cmp.Diff(want, exemplars); diff != "" {
				t.Errorf("exemplars of sequenceflow_http_request_duration_seconds (-want +got):\n%s", diff)
			}
		})
	}
}
