package hostlimit

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// Config tunes a Limiter.
type Config struct {
	// Limits are the limited hosts; requests to any other host are let through untouched.
	Limits []Limit
	// Prefix starts every Redis key of the limiter (default "sequenceflow:hostlimit:"); keys
	// carry the host in a hash tag, so one host's keys stay on one Redis Cluster slot.
	Prefix string
	// InFlightWait is how long a call refused for the in-flight maximum waits before it asks
	// again (default 1 s): a slot usually frees when a call ends, long before its lease.
	InFlightWait time.Duration
	// UnavailableWait is how long a call waits when Redis could not be asked (default 2 s).
	UnavailableWait time.Duration
	// OnThrottle observes every refusal: the host (always one of Limits), the reason (one of
	// outbound.ThrottleReasons) and the wait asked.
	OnThrottle func(host, reason string, wait time.Duration)
	// Log receives one WARN line per refusal because Redis could not be asked (default none).
	Log *slog.Logger
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.Prefix = cmp.Or(c.Prefix, "sequenceflow:hostlimit:")
	c.InFlightWait = cmp.Or(c.InFlightWait, time.Second)
	c.UnavailableWait = cmp.Or(c.UnavailableWait, 2*time.Second)
	if c.OnThrottle == nil {
		c.OnThrottle = func(string, string, time.Duration) {}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Limiter enforces Limits across every process sharing its Redis. It satisfies
// outbound.HostLimiter.
type Limiter struct {
	cfg    Config
	rc     redis.UniversalClient
	rate   *redis_rate.Limiter
	limits map[string]Limit
}

// New returns a limiter of cfg.Limits on rc.
func New(rc redis.UniversalClient, cfg Config) *Limiter {
	cfg = cfg.WithDefaults()
	limits := make(map[string]Limit, len(cfg.Limits))
	for _, l := range cfg.Limits {
		limits[l.Host] = l
	}
	return &Limiter{cfg: cfg, rc: rc, rate: redis_rate.NewLimiter(rc), limits: limits}
}

// Limit returns host's limit.
func (l *Limiter) Limit(host string) (Limit, bool) {
	lim, ok := l.limits[host]
	return lim, ok
}

func (l *Limiter) key(host, what string) string { return l.cfg.Prefix + "{" + host + "}:" + what }

// admitScript refuses while the host is paused (KEYS[1] lives), then, with an in-flight
// maximum (ARGV[1] > 0), evicts the holders whose lease ended (a crashed worker's) and takes a
// slot of the sorted set KEYS[2] for ARGV[3] until now + ARGV[2] ms if one is free. It returns
// {0, 0} when admitted, {1, pause left in ms} when paused, {2, ms until the oldest lease ends}
// when every slot is held. Time is Redis's, the same for every worker.
var admitScript = redis.NewScript(`
local paused = redis.call('PTTL', KEYS[1])
if paused > 0 then return {1, paused} end
local max = tonumber(ARGV[1])
if max == 0 then return {0, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= max then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, tonumber(oldest[2]) - now}
end
redis.call('ZADD', KEYS[2], now + lease, ARGV[3])
if redis.call('PTTL', KEYS[2]) < lease then redis.call('PEXPIRE', KEYS[2], lease) end
return {0, 0}
`)

// pauseScript sets the pause KEYS[1] to ARGV[1] ms unless it already lasts longer.
var pauseScript = redis.NewScript(`
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 0
`)

// Admit lets a request to host go, or refuses it with a *outbound.ThrottledError. Hosts
// without a limit are admitted without a Redis round trip.
func (l *Limiter) Admit(ctx context.Context, host string, lease time.Duration) (func(), error) {
	lim, ok := l.limits[host]
	if !ok {
		return func() {}, nil
	}
	token := newToken()
	res, err := admitScript.Run(ctx, l.rc, []string{l.key(host, "paused"), l.key(host, "inflight")},
		lim.MaxInFlight, max(lease.Milliseconds(), 1), token).Int64Slice()
	if err != nil {
		return nil, l.unavailable(ctx, host, err)
	}
	switch res[0] {
	case 1:
		return nil, l.throttled(host, outbound.ThrottlePaused, time.Duration(res[1])*time.Millisecond)
	case 2:
		return nil, l.throttled(host, outbound.ThrottleConcurrency, min(l.cfg.InFlightWait, max(time.Duration(res[1])*time.Millisecond, time.Millisecond)))
	}
	release := func() {}
	if lim.MaxInFlight > 0 {
		release = func() { l.release(ctx, host, token) }
	}
	if lim.Rate == 0 {
		return release, nil
	}
	r, err := l.rate.Allow(ctx, l.key(host, "rate"), redis_rate.Limit{Rate: lim.Rate, Burst: lim.Burst, Period: lim.Per})
	if err != nil {
		release()
		return nil, l.unavailable(ctx, host, err)
	}
	if r.Allowed == 0 {
		release()
		return nil, l.throttled(host, outbound.ThrottleRate, max(r.RetryAfter, time.Millisecond))
	}
	return release, nil
}

// release gives an in-flight slot back, even when the request's context has ended.
func (l *Limiter) release(ctx context.Context, host, token string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := l.rc.ZRem(ctx, l.key(host, "inflight"), token).Err(); err != nil {
		// The lease gives the slot back when it ends.
		l.cfg.Log.WarnContext(ctx, "release outbound in-flight slot", slog.String("host", host), slog.String("error", err.Error()))
	}
}

// Pause refuses every worker's requests to a limited host for d.
func (l *Limiter) Pause(ctx context.Context, host string, d time.Duration) {
	if _, ok := l.limits[host]; !ok || d <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := pauseScript.Run(ctx, l.rc, []string{l.key(host, "paused")}, max(d.Milliseconds(), 1)).Err(); err != nil {
		l.cfg.Log.WarnContext(ctx, "pause outbound host", slog.String("host", host), slog.String("error", err.Error()))
	}
}

func (l *Limiter) throttled(host, reason string, wait time.Duration) error {
	l.cfg.OnThrottle(host, reason, wait)
	return &outbound.ThrottledError{Host: host, Reason: reason, Wait: wait}
}

func (l *Limiter) unavailable(ctx context.Context, host string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ask the rate limiter of %s: %w", host, err)
	}
	l.cfg.Log.WarnContext(ctx, "outbound rate limiter unavailable", slog.String("host", host), slog.String("error", err.Error()))
	return l.throttled(host, outbound.ThrottleUnavailable, l.cfg.UnavailableWait)
}

// InFlight counts, per limited host with an in-flight maximum, the calls in flight across
// every worker now (holders whose lease has not ended), in one round trip.
func (l *Limiter) InFlight(ctx context.Context) (map[string]int64, error) {
	var hosts []string
	for h, lim := range l.limits {
		if lim.MaxInFlight > 0 {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 {
		return nil, nil
	}
	now, err := l.rc.Time(ctx).Result()
	if err != nil {
		return nil, err
	}
	cmds := make([]*redis.IntCmd, len(hosts))
	_, err = l.rc.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, h := range hosts {
			cmds[i] = p.ZCount(ctx, l.key(h, "inflight"), fmt.Sprint(now.UnixMilli()), "+inf")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(hosts))
	for i, h := range hosts {
		out[h] = cmds[i].Val()
	}
	return out, nil
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
