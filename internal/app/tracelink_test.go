package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// TestTraceURLOnlyForExportedSampledTraces reads a finished run through the API: it links
// its trace in Jaeger only when the process exports spans and the run's trace was sampled;
// the trace id, which its log lines carry, is shown either way.
func TestTraceURLOnlyForExportedSampledTraces(t *testing.T) {
	t.Parallel()
	// A loopback OTLP/HTTP endpoint that accepts every batch.
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(collector.Close)
	const jaeger = "http://127.0.0.1:16686"
	cases := []struct {
		name     string
		env      map[string]string
		wantLink bool
	}{
		{"no exporter", map[string]string{}, false},
		{"sampling off", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_TRACES_SAMPLER": "always_off"}, false},
		{"ratio dropped it", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, false},
		{"exported and sampled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := apptest.StartRole(t, app.RoleDev, func(c *app.Config) {
				c.JaegerUIURL = jaeger
				c.Getenv = func(k string) string { return tc.env[k] }
			})
			def := workflowtest.New().Input("in").
				APICall("call", "GET", srv.URL+"/workflows/api/test-weather?city=Oslo", nil).
				Chain("in", "call").JSON()
			wfID := createWorkflow(t, srv.URL, def)
			runID := execute(t, srv.URL, wfID)
			waitTerminal(t, nil, srv.URL, runID)
			resp, err := http.Get(srv.URL + "/workflows/" + wfID + "/runs/" + runID)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var run struct {
				TraceID  string  `json:"traceId"`
				TraceURL *string `json:"traceUrl"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&run); err != nil {
				t.Fatal(err)
			}
			if len(run.TraceID) != 32 {
				t.Errorf("traceId %q, want the run's trace id", run.TraceID)
			}
			switch {
			case tc.wantLink && (run.TraceURL == nil || *run.TraceURL != jaeger+"/trace/"+run.TraceID):
				t.Errorf("traceUrl %v, want %s/trace/%s", run.TraceURL, jaeger, run.TraceID)
			case !tc.wantLink && run.TraceURL != nil:
				t.Errorf("traceUrl %q links a trace that was never exported", *run.TraceURL)
			}
		})
	}
}
