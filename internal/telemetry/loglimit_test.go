package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// logClock is a clock the test moves.
type logClock struct{ now time.Time }

func (c *logClock) Now() time.Time { return c.now }

func records(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		out = append(out, rec)
	}
	buf.Reset()
	return out
}

// A warning repeated in a loop passes Burst times, then once per Interval, and the line that
// passes says how many were dropped; other messages, and lines below the limited level, are
// not affected; loggers derived with With share the limit.
func TestLogLimitPassesABurstThenOnePerInterval(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := &logClock{now: time.Unix(1_800_000_000, 0)}
	log := slog.New(telemetry.NewLogLimit(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}),
		telemetry.LogLimitConfig{Interval: 10 * time.Second, Burst: 3, Now: clock.Now}))
	derived := log.With("component", "asynq")
	refused := func() { derived.Error("dequeue error: connection refused") }
	for i := range 100 { // a failing loop: 3 pass, 97 dropped
		refused()
		log.Info("request served", "i", i)
	}
	log.Warn("another failure")
	clock.now = clock.now.Add(10*time.Second + time.Millisecond)
	refused() // passes, saying 97 were dropped
	refused() // dropped
	clock.now = clock.now.Add(10*time.Second + time.Millisecond)
	refused() // passes, saying 1 was dropped

	var errs, infos, others int
	var suppressed []float64
	for _, r := range records(t, &buf) {
		switch r["msg"] {
		case "dequeue error: connection refused":
			errs++
			if n, ok := r["suppressed"].(float64); ok {
				suppressed = append(suppressed, n)
			}
			if r["component"] != "asynq" {
				t.Errorf("line lost its logger's attributes: %v", r)
			}
		case "request served":
			infos++
		case "another failure":
			others++
		}
	}
	if errs != 5 || infos != 100 || others != 1 {
		t.Errorf("passed %d errors, %d infos, %d other warnings; want 5, 100, 1", errs, infos, others)
	}
	if len(suppressed) != 2 || suppressed[0] != 97 || suppressed[1] != 1 {
		t.Errorf("suppressed counts %v, want [97 1]", suppressed)
	}
}

// However many different messages arrive, the limiter remembers at most MaxKeys of them.
func TestLogLimitKeysAreBounded(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	clock := &logClock{now: time.Unix(1_800_000_000, 0)}
	log := slog.New(telemetry.NewLogLimit(slog.NewJSONHandler(&buf, nil), telemetry.LogLimitConfig{Burst: 1, MaxKeys: 2, Now: clock.Now}))
	// a, b, c: c evicts a, so a passes again (its history forgotten); b stays limited.
	for _, msg := range []string{"a", "b", "c", "b", "a"} {
		log.Warn(msg)
	}
	var got []string
	for _, r := range records(t, &buf) {
		got = append(got, r["msg"].(string))
	}
	if strings.Join(got, ",") != "a,b,c,a" {
		t.Errorf("passed %v, want a,b,c,a", got)
	}
}

// The limit sits in front of the trace stamping: a line that passes still carries the ids.
func TestLogLimitKeepsTraceIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(telemetry.NewLogLimit(telemetry.LogHandler{Handler: slog.NewJSONHandler(&buf, nil)}, telemetry.LogLimitConfig{}))
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	log.WarnContext(trace.ContextWithSpanContext(context.Background(), sc), "with a span")
	if r := records(t, &buf); len(r) != 1 || r[0]["trace_id"] != sc.TraceID().String() || r[0]["span_id"] != sc.SpanID().String() {
		t.Errorf("lines %v, want one with trace %s", r, sc.TraceID())
	}
}
