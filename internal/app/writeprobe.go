package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// writeProbeKey is the one key the probe writes (with a short expiry).
const writeProbeKey = "sequenceflow:write-probe"

// writeProbe tells whether Redis accepts writes. A ping is not enough: a replica answers
// READONLY, a server at maxmemory OOM and one that cannot persist MISCONF, while still
// answering pings. Answers are cached for ttl so run starts can consult it cheaply.
type writeProbe struct {
	rc  redis.UniversalClient
	ttl time.Duration
	now func() time.Time

	mu        sync.Mutex
	checkedAt time.Time
	refusal   error
}

// refused returns an error while Redis answers writes with an error reply (it is reachable but
// refuses them); an unreachable Redis is not a refusal (see ready).
func (p *writeProbe) refused(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); p.checkedAt.IsZero() || now.Sub(p.checkedAt) >= p.ttl {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		err := p.rc.Set(ctx, writeProbeKey, now.UnixMilli(), time.Minute).Err()
		var reply redis.Error
		p.refusal = nil
		if errors.As(err, &reply) {
			p.refusal = fmt.Errorf("redis refuses writes: %w", err)
		}
		if err == nil || p.refusal != nil {
			p.checkedAt = now // a network error is not cached: the next call asks again
		}
	}
	return p.refusal
}
