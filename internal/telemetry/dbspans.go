package telemetry

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Modes of TRACE_DB_SPANS: which PostgreSQL statements become spans.
const (
	DBSpansOff  = "off"  // none
	DBSpansSlow = "slow" // statements that failed or took at least TRACE_DB_SLOW (the default)
	DBSpansAll  = "all"  // every statement, batch, connect and pool acquire
)

// SlowSpans returns a tracer provider whose spans are kept only when they end with an error
// (an error status or a recorded error) or last at least threshold; the others are dropped
// without being exported. It decides when a span ends, so nothing is started on the real
// provider before then: a kept span is created at its end with its original start time,
// attributes, links, events and status. A span that is dropped has no span context of its
// own: spans started under it become children of its parent.
//
// It serves the pgx tracer, whose statements are the most numerous spans of a run: with it a
// trace shows the statements worth looking at and stays readable.
func SlowSpans(tp trace.TracerProvider, threshold time.Duration) trace.TracerProvider {
	return &slowProvider{tp: tp, threshold: threshold}
}

type slowProvider struct {
	embedded.TracerProvider
	tp        trace.TracerProvider
	threshold time.Duration
}

func (p *slowProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return &slowTracer{provider: p, real: p.tp.Tracer(name, opts...)}
}

type slowTracer struct {
	embedded.Tracer
	provider *slowProvider
	real     trace.Tracer
}

func (t *slowTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	cfg := trace.NewSpanStartConfig(opts...)
	start := cfg.Timestamp()
	if start.IsZero() {
		start = time.Now()
	}
	s := &deferredSpan{tracer: t, parent: ctx, name: name, kind: cfg.SpanKind(), attrs: cfg.Attributes(), links: cfg.Links(), start: start}
	return trace.ContextWithSpan(ctx, s), s
}

// deferredSpan records what a span would carry until it ends, then replays it on the real
// tracer if it is worth keeping.
type deferredSpan struct {
	embedded.Span
	tracer *slowTracer
	parent context.Context
	kind   trace.SpanKind
	start  time.Time
	links  []trace.Link

	mu      sync.Mutex
	name    string
	attrs   []attribute.KeyValue
	replay  []func(trace.Span)
	errored bool
	ended   bool
}

func (s *deferredSpan) End(opts ...trace.SpanEndOption) {
	cfg := trace.NewSpanEndConfig(opts...)
	end := cfg.Timestamp()
	if end.IsZero() {
		end = time.Now()
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	keep := s.errored || end.Sub(s.start) >= s.tracer.provider.threshold
	s.mu.Unlock()
	if !keep {
		return
	}
	_, span := s.tracer.real.Start(s.parent, s.name, trace.WithTimestamp(s.start), trace.WithSpanKind(s.kind),
		trace.WithAttributes(s.attrs...), trace.WithLinks(s.links...))
	for _, r := range s.replay {
		r(span)
	}
	span.End(trace.WithTimestamp(end))
}

// record keeps one change for the replay, unless the span has ended.
func (s *deferredSpan) record(r func(trace.Span)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.replay = append(s.replay, r)
	}
}

func (s *deferredSpan) AddEvent(name string, opts ...trace.EventOption) {
	opts = append(opts, trace.WithTimestamp(time.Now()))
	s.record(func(sp trace.Span) { sp.AddEvent(name, opts...) })
}

func (s *deferredSpan) AddLink(l trace.Link) { s.record(func(sp trace.Span) { sp.AddLink(l) }) }

func (s *deferredSpan) IsRecording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended
}

func (s *deferredSpan) RecordError(err error, opts ...trace.EventOption) {
	if err == nil {
		return
	}
	opts = append(opts, trace.WithTimestamp(time.Now()))
	s.mu.Lock()
	if !s.ended {
		s.errored = true
	}
	s.mu.Unlock()
	s.record(func(sp trace.Span) { sp.RecordError(err, opts...) })
}

// SpanContext is the parent's: a span that may be dropped cannot give children a parent that
// might never exist.
func (s *deferredSpan) SpanContext() trace.SpanContext { return trace.SpanContextFromContext(s.parent) }

func (s *deferredSpan) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	if !s.ended && code == codes.Error {
		s.errored = true
	}
	s.mu.Unlock()
	s.record(func(sp trace.Span) { sp.SetStatus(code, description) })
}

func (s *deferredSpan) SetName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.name = name
	}
}

func (s *deferredSpan) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.attrs = append(s.attrs, kv...)
	}
}

func (s *deferredSpan) TracerProvider() trace.TracerProvider { return s.tracer.provider }
