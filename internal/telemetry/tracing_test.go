package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// otlpReceiver records the span names and the authorization header of what it is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []string
	auth  []string
}

func (r *otlpReceiver) add(req *collectortrace.ExportTraceServiceRequest, auth string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				r.spans = append(r.spans, sp.GetName())
				r.auth = append(r.auth, auth)
			}
		}
	}
}

func (r *otlpReceiver) received() (spans, auth []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.spans...), append([]string(nil), r.auth...)
}

// grpcReceiver implements the OTLP collector's TraceService on a loopback port.
type grpcReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	rec *otlpReceiver
}

func (g grpcReceiver) Export(ctx context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	g.rec.add(req, strings.Join(md.Get("authorization"), ","))
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

func startGRPCReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rec := &otlpReceiver{}
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, grpcReceiver{rec: rec})
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return rec, lis.Addr().String()
}

func startHTTPReceiver(t *testing.T) (*otlpReceiver, string) {
	t.Helper()
	rec := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || err != nil || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "not an OTLP traces request", http.StatusBadRequest)
			return
		}
		rec.add(&req, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.Listener.Addr().String()
}

// TestOTLPExportHonoursProtocol sends one span through SetupTracing to a loopback OTLP
// receiver of each protocol: the protocol variables pick the exporter, http/protobuf by
// default, and the endpoint and header variables reach it.
func TestOTLPExportHonoursProtocol(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		grpc bool
		env  map[string]string
	}{
		{"default is http/protobuf", false, map[string]string{}},
		{"http/protobuf", false, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}},
		{"grpc", true, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}},
		{"traces protocol wins", true, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}},
		{"grpc scheme-less insecure", true, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_INSECURE": "true"}},
		{"http traces endpoint", false, map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec *otlpReceiver
			var addr string
			if tc.grpc {
				rec, addr = startGRPCReceiver(t)
			} else {
				rec, addr = startHTTPReceiver(t)
			}
			env := map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20token-1"}
			for k, v := range tc.env {
				env[k] = v
			}
			switch {
			case tc.name == "grpc scheme-less insecure":
				env["OTEL_EXPORTER_OTLP_ENDPOINT"] = addr
			case tc.name == "http traces endpoint":
				env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "http://" + addr + "/v1/traces"
			default:
				env["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://" + addr
			}
			reg := prometheus.NewRegistry()
			tr, err := telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{
				ServiceName: "svc", Getenv: func(k string) string { return env[k] }, Registerer: reg,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			})
			if err != nil {
				t.Fatal(err)
			}
			if !tr.Exporting {
				t.Fatal("not exporting with an endpoint")
			}
			_, span := tr.Provider.Tracer("t").Start(context.Background(), "exported-op")
			span.End()
			if err := tr.Shutdown(context.Background()); err != nil {
				t.Fatalf("flush: %v", err)
			}
			spans, auth := rec.received()
			if len(spans) != 1 || spans[0] != "exported-op" {
				t.Fatalf("receiver got spans %q, want [exported-op]; export failures %v", spans, failureCount(t, reg))
			}
			if auth[0] != "Bearer token-1" {
				t.Errorf("authorization header %q, want the decoded OTEL_EXPORTER_OTLP_HEADERS value", auth[0])
			}
		})
	}
}

func failureCount(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sequenceflow_trace_export_failures_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("sequenceflow_trace_export_failures_total is not registered")
	return 0
}

// syncBuffer is a log sink safe for the exporter's goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestOTLPExportFailuresCountedAndLoggedOncePerInterval exports to a loopback port nobody
// listens on: every failed batch is counted, and the WARN line comes at most once per
// interval, with the number of failures it stands for.
func TestOTLPExportFailuresCountedAndLoggedOncePerInterval(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{"http/protobuf", "grpc"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := lis.Addr().String()
			lis.Close()
			env := map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + addr,
				"OTEL_EXPORTER_OTLP_TIMEOUT": "200"}
			reg := prometheus.NewRegistry()
			logs := &syncBuffer{}
			clk := &clock{now: time.Unix(1_000_000, 0)}
			tr, err := telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{
				ServiceName: "svc", Getenv: func(k string) string { return env[k] }, Registerer: reg,
				Log: slog.New(slog.NewJSONHandler(logs, nil)), FailureLogInterval: 30 * time.Second, Now: clk.Now,
			})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Shutdown(context.Background())
			export := func() {
				_, span := tr.Provider.Tracer("t").Start(context.Background(), "lost-op")
				span.End()
				if err := tr.ForceFlush(context.Background()); err != nil {
					t.Fatalf("flush: %v", err)
				}
			}
			for range 3 {
				export()
			}
			if got := failureCount(t, reg); got != 3 {
				t.Fatalf("export failures %v after 3 failed batches, want 3", got)
			}
			lines := logs.lines(t)
			if len(lines) != 1 {
				t.Fatalf("%d log lines within one interval, want 1: %v", len(lines), lines)
			}
			if lines[0]["level"] != "WARN" || lines[0]["failures"] != float64(1) || lines[0]["error"] == "" {
				t.Errorf("first line %v, want WARN with failures 1 and the error", lines[0])
			}
			clk.Add(31 * time.Second)
			export()
			lines = logs.lines(t)
			if len(lines) != 2 || lines[1]["failures"] != float64(3) {
				t.Fatalf("after the interval: lines %v, want a second line counting the 3 failures since the first", lines)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sequenceflow_trace_export_failures_total Span batches the OTLP exporter could not deliver (their spans are dropped).
# TYPE sequenceflow_trace_export_failures_total counter
sequenceflow_trace_export_failures_total 4
`), "sequenceflow_trace_export_failures_total"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestOTLPSettingsRefusedWithTheirVariable checks that a value the exporter cannot use stops
// start-up with the variable named, and never echoes a header value.
func TestOTLPSettingsRefusedWithTheirVariable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env     map[string]string
		wantVar string
	}{
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "thrift"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "127.0.0.1:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "collector"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "secret-without-equals"}, "OTEL_EXPORTER_OTLP_HEADERS"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TIMEOUT": "10s"}, "OTEL_EXPORTER_OTLP_TIMEOUT"},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_INSECURE": "yes please"}, "OTEL_EXPORTER_OTLP_TRACES_INSECURE"},
		{map[string]string{"OTEL_EXPORTER_OTLP_COMPRESSION": "zstd"}, "OTEL_EXPORTER_OTLP_COMPRESSION"},
		{map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER"},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG"},
		{map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER"},
	}
	for _, tc := range cases {
		_, err := telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{Getenv: func(k string) string { return tc.env[k] }})
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantVar+":") {
			t.Errorf("env %v: error %v, want one starting with %s", tc.env, err, tc.wantVar)
		}
		if err != nil && strings.Contains(err.Error(), "secret-without-equals") {
			t.Errorf("error %q echoes a header value", err)
		}
	}
}

func resourceAttrs(t *testing.T, tr *telemetry.Tracing) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, kv := range tr.Resource.Attributes() {
		out[string(kv.Key)] = kv.Value.String()
	}
	return out
}

// TestTraceResourceIdentifiesTheProcess checks the resource on every exported span: the
// detectors' host, process and SDK attributes, the service's name, namespace, version,
// instance and role, and OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME winning over them.
func TestTraceResourceIdentifiesTheProcess(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	setup := func(env map[string]string, instance string) map[string]string {
		tr, err := telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{
			ServiceName: "sequenceflow-worker", ServiceVersion: "1.2.3", Role: "worker", InstanceID: instance,
			Getenv: func(k string) string { return env[k] },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { tr.Shutdown(context.Background()) })
		return resourceAttrs(t, tr)
	}
	got := setup(nil, "worker-a")
	for k, want := range map[string]string{
		"service.name": "sequenceflow-worker", "service.namespace": "sequenceflow", "service.version": "1.2.3",
		"service.instance.id": "worker-a", "sequenceflow.role": "worker", "host.name": host,
		"process.pid": strconv.Itoa(os.Getpid()), "telemetry.sdk.language": "go",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %q (resource %v)", k, got[k], want, got)
		}
	}
	if got["process.runtime.name"] == "" || got["telemetry.sdk.version"] == "" {
		t.Errorf("runtime or SDK attributes missing: %v", got)
	}

	got = setup(map[string]string{
		"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod,service.namespace=team%20a,service.name=from-attrs",
		"OTEL_SERVICE_NAME":        "billing-flows",
	}, "worker-a")
	for k, want := range map[string]string{
		"deployment.environment.name": "prod", "service.namespace": "team a", "service.name": "billing-flows",
		"service.instance.id": "worker-a", "sequenceflow.role": "worker",
	} {
		if got[k] != want {
			t.Errorf("with OTEL_RESOURCE_ATTRIBUTES: %s = %q, want %q", k, got[k], want)
		}
	}

	a, b := setup(nil, ""), setup(nil, "")
	if a["service.instance.id"] == "" || a["service.instance.id"] == b["service.instance.id"] {
		t.Errorf("default service.instance.id %q and %q: want unique per process", a["service.instance.id"], b["service.instance.id"])
	}

	_, err = telemetry.SetupTracing(context.Background(), telemetry.TracingConfig{
		Getenv: func(k string) string { return map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "just-a-word"}[k] },
	})
	if err == nil || !strings.Contains(err.Error(), "OTEL_RESOURCE_ATTRIBUTES") {
		t.Errorf("malformed OTEL_RESOURCE_ATTRIBUTES: error %v, want one naming the variable", err)
	}
}
