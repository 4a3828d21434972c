package telemetry

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/hibiken/asynq"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// HTTPServer wraps the API in an OpenTelemetry server span per request, continuing a trace
// from an incoming traceparent (so mock endpoints called by apiCall nodes join the run's
// trace). Requests untraced reports true for (polls, probes) get no span; nil traces all.
func HTTPServer(h http.Handler, tp trace.TracerProvider, p propagation.TextMapPropagator, untraced func(*http.Request) bool) http.Handler {
	opts := []otelhttp.Option{otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(p),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return methodLabel(r.Method) })}
	if untraced != nil {
		opts = append(opts, otelhttp.WithFilter(func(r *http.Request) bool { return !untraced(r) }))
	}
	return otelhttp.NewHandler(h, "http.server", opts...)
}

// Label values clients cannot multiply: a method outside the standard ones is OTHER, and a
// request that matched no endpoint (an unknown path, a wrong method, a path refused before
// routing) is unmatched. With the route patterns of the router and the status codes of its
// handlers, the series of sequenceflow_http_request_duration_seconds are bounded by
// (9 methods + OTHER) x (routes + unmatched) x the status codes the API answers.
const (
	otherMethod    = "OTHER"
	unmatchedRoute = "unmatched"
)

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return otherMethod
}

// RouteMetrics is chi middleware that records request duration by method and route pattern,
// with the trace id of a sampled request span as the exemplar, and names the request's span
// after them once routing has resolved the route.
func RouteMetrics(m *Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			ww := &statusWriter{ResponseWriter: w, code: http.StatusOK}
			next.ServeHTTP(ww, r)
			method, route := methodLabel(r.Method), routeLabel(r)
			span := trace.SpanFromContext(r.Context())
			span.SetName(method + " " + route)
			span.SetAttributes(attribute.String("http.route", route))
			code := ww.code
			if (!ww.wrote || code >= 500) && errors.Is(r.Context().Err(), context.Canceled) {
				code = StatusClientClosed // the client went away before its answer: not a server error
			}
			observeWithTrace(m.HTTPDuration.WithLabelValues(method, route, strconv.Itoa(code)), time.Since(start).Seconds(), span.SpanContext())
		})
	}
}

// routeLabel is the pattern of the endpoint that served r, or unmatched. chi's pattern alone
// is not enough: a request a mounted router did not match still carries the mount's pattern
// ("/workflows/*"), so the endpoint is looked up again on the path that was routed.
func routeLabel(r *http.Request) string {
	rc := chi.RouteContext(r.Context())
	if rc == nil || rc.Routes == nil || rc.RoutePattern() == "" {
		return unmatchedRoute
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	if rc.Routes.Find(chi.NewRouteContext(), cmp.Or(rc.RouteMethod, r.Method), path) == "" {
		return unmatchedRoute
	}
	return rc.RoutePattern()
}

// StatusClientClosed is the code measured for a request whose client went away before it
// was answered (nginx's 499 "client closed request"), whatever the handler then wrote.
const StatusClientClosed = 499

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// TaskSpans is asynq middleware that runs every task in a consumer span whose parent is the
// span that released the task (its traceparent header), so a run's trace follows the DAG as
// executed, across delays, retries and worker restarts.
func TaskSpans(tp trace.TracerProvider, p propagation.TextMapPropagator) asynq.MiddlewareFunc {
	tracer := tp.Tracer("github.com/sequenceflow/sequenceflow/internal/queue")
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			ctx = p.Extract(ctx, propagation.MapCarrier(t.Headers()))
			attrs := []attribute.KeyValue{attribute.String("messaging.system", "asynq"), attribute.String("asynq.task_type", t.Type())}
			if id, ok := asynq.GetTaskID(ctx); ok {
				attrs = append(attrs, attribute.String("asynq.task_id", id))
			}
			if n, ok := asynq.GetRetryCount(ctx); ok {
				attrs = append(attrs, attribute.Int("asynq.retry_count", n))
			}
			ctx, span := tracer.Start(ctx, t.Type(), trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
			defer span.End()
			err := next.ProcessTask(ctx, t)
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			return err
		})
	}
}

// LogHandler stamps trace_id and span_id from the context on every log record.
type LogHandler struct{ slog.Handler }

// Handle adds the ids and passes the record on.
func (h LogHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper.
func (h LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper.
func (h LogHandler) WithGroup(name string) slog.Handler { return LogHandler{h.Handler.WithGroup(name)} }
