package telemetry

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// Defaults of LogLimitConfig.
const (
	DefaultLogRepeatInterval = 10 * time.Second
	DefaultLogRepeatBurst    = 5
	// DefaultLogLimitKeys bounds the keys a LogLimit remembers; past it the least recently
	// logged key is forgotten (its next line passes, and its suppressed count is lost).
	DefaultLogLimitKeys = 1000
	// logKeyBytes bounds the part of a message that makes its key (messages of asynq and
	// go-redis are formatted text).
	logKeyBytes = 200
)

// LogLimitConfig tunes a LogLimit.
type LogLimitConfig struct {
	// Interval is the least time between two lines of one key once its burst is spent
	// (default DefaultLogRepeatInterval).
	Interval time.Duration
	// Burst is how many lines of one key pass at once (default DefaultLogRepeatBurst).
	Burst int
	// MinLevel is the least level that is limited (default Warn): debug and info lines pass.
	MinLevel *slog.Level
	// MaxKeys bounds the keys remembered (default DefaultLogLimitKeys).
	MaxKeys int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WithDefaults fills unset fields.
func (c LogLimitConfig) WithDefaults() LogLimitConfig {
	c.Interval = cmp.Or(c.Interval, DefaultLogRepeatInterval)
	c.Burst = cmp.Or(c.Burst, DefaultLogRepeatBurst)
	c.MaxKeys = cmp.Or(c.MaxKeys, DefaultLogLimitKeys)
	if c.MinLevel == nil {
		l := slog.LevelWarn
		c.MinLevel = &l
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// LogLimit is a slog handler that keeps a failing dependency from flooding the log: records
// at MinLevel or above pass at most Burst at once and then one per Interval per key (a token
// bucket, golang.org/x/time/rate); the next line of a key that passes carries `suppressed`,
// the number of its lines dropped since the previous one. A key is the record's level and
// message (its first 200 bytes), as in zap's sampler: the same failure repeating in a loop is
// one key, whatever its error says. Every logger derived from it (With, WithGroup) shares its
// limits.
type LogLimit struct {
	next  slog.Handler
	state *logLimitState
}

type logLimitState struct {
	cfg LogLimitConfig
	mu  sync.Mutex
	// keys holds a limiter and the dropped count per key.
	keys *simplelru.LRU[string, *logKey]
}

type logKey struct {
	limiter    *rate.Limiter
	suppressed int
}

// NewLogLimit limits the records passed to next.
func NewLogLimit(next slog.Handler, cfg LogLimitConfig) *LogLimit {
	cfg = cfg.WithDefaults()
	keys, err := simplelru.NewLRU[string, *logKey](cfg.MaxKeys, nil)
	if err != nil {
		panic(err) // MaxKeys is positive after WithDefaults
	}
	return &LogLimit{next: next, state: &logLimitState{cfg: cfg, keys: keys}}
}

// Enabled asks the wrapped handler.
func (h *LogLimit) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle passes r on unless its key is over its limit.
func (h *LogLimit) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < *h.state.cfg.MinLevel {
		return h.next.Handle(ctx, r)
	}
	suppressed, pass := h.state.admit(logKeyOf(r))
	if !pass {
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs keeps the limits.
func (h *LogLimit) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &LogLimit{next: h.next.WithAttrs(attrs), state: h.state}
}

// WithGroup keeps the limits.
func (h *LogLimit) WithGroup(name string) slog.Handler {
	return &LogLimit{next: h.next.WithGroup(name), state: h.state}
}

// admit reports whether a line of key passes now, and how many lines of it were dropped
// since the last one that passed.
func (s *logLimitState) admit(key string) (suppressed int, pass bool) {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys.Get(key)
	if !ok {
		k = &logKey{limiter: rate.NewLimiter(rate.Every(s.cfg.Interval), s.cfg.Burst)}
		s.keys.Add(key, k)
	}
	if !k.limiter.AllowN(now, 1) {
		k.suppressed++
		return 0, false
	}
	suppressed, k.suppressed = k.suppressed, 0
	return suppressed, true
}

func logKeyOf(r slog.Record) string {
	msg := r.Message
	if len(msg) > logKeyBytes {
		msg = msg[:logKeyBytes]
	}
	return r.Level.String() + " " + msg
}
