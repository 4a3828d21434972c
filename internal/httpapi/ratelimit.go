package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// runLimiter limits run creation per API key (or client IP without one) with token buckets.
type runLimiter struct {
	perSecond rate.Limit
	burst     int
	now       func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	limiter *rate.Limiter
	seen    time.Time
}

func newRunLimiter(perSecond float64, burst int, now func() time.Time) *runLimiter {
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &runLimiter{perSecond: rate.Limit(perSecond), burst: burst, now: now, buckets: map[string]*bucket{}}
}

// client identifies who is starting runs: a digest of their API key, or their IP.
func client(r *http.Request) string {
	if k := apiKey(r); k != "" {
		sum := sha256.Sum256([]byte(k))
		return "key:" + hex.EncodeToString(sum[:8])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

// allow takes a token for the client; when none is left it returns how long to wait.
func (l *runLimiter) allow(who string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute { // forget idle clients so the map stays bounded
		for k, b := range l.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b, ok := l.buckets[who]
	if !ok {
		b = &bucket{limiter: rate.NewLimiter(l.perSecond, l.burst)}
		l.buckets[who] = b
	}
	b.seen = now
	res := b.limiter.ReserveN(now, 1)
	if delay := res.DelayFrom(now); delay > 0 {
		res.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// limitRuns wraps a run-creating handler with the limiter (nil: no limit).
func (a *API) limitRuns(next http.HandlerFunc) http.HandlerFunc {
	if a.limiter == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if ok, wait := a.limiter.allow(client(r)); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeJSON(w, http.StatusTooManyRequests, errorBody{StatusCode: http.StatusTooManyRequests,
				Message: "too many runs started: the limit is " + strconv.FormatFloat(float64(a.limiter.perSecond), 'f', -1, 64) +
					" per second per API key or client; retry after the Retry-After delay", Error: "Too Many Requests"})
			return
		}
		next(w, r)
	}
}
