package outbound

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// scrubbingTracerProvider wraps tp so that a span started in a context carrying Secrets has
// them scrubbed from its name, attributes (url.full, user_agent.original, ...), status, events
// and links, whatever the instrumentation puts there. Spans started without secrets are tp's
// own.
func scrubbingTracerProvider(tp trace.TracerProvider) trace.TracerProvider {
	return scrubbingProvider{tp: tp}
}

type scrubbingProvider struct {
	embedded.TracerProvider
	tp trace.TracerProvider
}

func (p scrubbingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return scrubbingTracer{tracer: p.tp.Tracer(name, opts...), provider: p}
}

type scrubbingTracer struct {
	embedded.Tracer
	tracer   trace.Tracer
	provider scrubbingProvider
}

func (t scrubbingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	s := secretsFrom(ctx)
	if s == nil {
		return t.tracer.Start(ctx, name, opts...)
	}
	cfg := trace.NewSpanStartConfig(opts...)
	scrubbed := []trace.SpanStartOption{trace.WithSpanKind(cfg.SpanKind()), trace.WithAttributes(s.attributes(cfg.Attributes())...),
		trace.WithLinks(s.links(cfg.Links())...)}
	if !cfg.Timestamp().IsZero() {
		scrubbed = append(scrubbed, trace.WithTimestamp(cfg.Timestamp()))
	}
	if cfg.NewRoot() {
		scrubbed = append(scrubbed, trace.WithNewRoot())
	}
	ctx, span := t.tracer.Start(ctx, s.Scrub(name), scrubbed...)
	wrapped := &scrubbingSpan{Span: span, secrets: s, provider: t.provider}
	return trace.ContextWithSpan(ctx, wrapped), wrapped
}

// scrubbingSpan scrubs everything written to the span it wraps.
type scrubbingSpan struct {
	trace.Span
	secrets  *Secrets
	provider scrubbingProvider
}

func (sp *scrubbingSpan) SetName(name string) { sp.Span.SetName(sp.secrets.Scrub(name)) }

func (sp *scrubbingSpan) SetAttributes(kv ...attribute.KeyValue) {
	sp.Span.SetAttributes(sp.secrets.attributes(kv)...)
}

func (sp *scrubbingSpan) SetStatus(code codes.Code, description string) {
	sp.Span.SetStatus(code, sp.secrets.Scrub(description))
}

func (sp *scrubbingSpan) RecordError(err error, opts ...trace.EventOption) {
	sp.Span.RecordError(sp.secrets.ScrubError(err), sp.secrets.eventOptions(opts)...)
}

func (sp *scrubbingSpan) AddEvent(name string, opts ...trace.EventOption) {
	sp.Span.AddEvent(sp.secrets.Scrub(name), sp.secrets.eventOptions(opts)...)
}

func (sp *scrubbingSpan) AddLink(link trace.Link) {
	sp.Span.AddLink(sp.secrets.links([]trace.Link{link})[0])
}

func (sp *scrubbingSpan) TracerProvider() trace.TracerProvider { return sp.provider }

func (s *Secrets) eventOptions(opts []trace.EventOption) []trace.EventOption {
	cfg := trace.NewEventConfig(opts...)
	out := []trace.EventOption{trace.WithAttributes(s.attributes(cfg.Attributes())...), trace.WithStackTrace(cfg.StackTrace())}
	if !cfg.Timestamp().IsZero() {
		out = append(out, trace.WithTimestamp(cfg.Timestamp()))
	}
	return out
}

func (s *Secrets) links(links []trace.Link) []trace.Link {
	out := make([]trace.Link, len(links))
	for i, l := range links {
		out[i] = trace.Link{SpanContext: l.SpanContext, Attributes: s.attributes(l.Attributes)}
	}
	return out
}

// attributes scrubs string and string-slice values.
func (s *Secrets) attributes(kvs []attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, len(kvs))
	for i, kv := range kvs {
		switch kv.Value.Type() {
		case attribute.STRING:
			kv.Value = attribute.StringValue(s.Scrub(kv.Value.AsString()))
		case attribute.STRINGSLICE:
			values := kv.Value.AsStringSlice()
			for j := range values {
				values[j] = s.Scrub(values[j])
			}
			kv.Value = attribute.StringSliceValue(values)
		}
		out[i] = kv
	}
	return out
}
