package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/time/rate"
)

// maxRunBuckets bounds how many clients the run limiter remembers. Past it the least recently
// seen client's bucket is dropped (it starts full again when that client returns), so inventing
// clients costs at most this many buckets (about 220 bytes each, 2 MiB in all).
const maxRunBuckets = 10_000

// runLimiter limits run starts per client with token buckets (golang.org/x/time/rate). A
// client is its API key when keys are enforced (the key was checked before the limiter runs),
// otherwise the IP address the connection comes from, an IPv6 client by its /64 (one host may
// use any address of it). Headers a client chooses (X-API-Key without enforcement,
// X-Forwarded-For, X-Real-IP) are never read, so a client cannot get a fresh bucket by
// inventing them; behind a reverse proxy every client of the proxy shares its bucket unless
// keys are enforced.
type runLimiter struct {
	perSecond rate.Limit
	burst     int
	byKey     bool
	now       func() time.Time

	mu      sync.Mutex
	buckets *simplelru.LRU[string, *rate.Limiter]
}

func newRunLimiter(perSecond float64, burst int, byKey bool, now func() time.Time) *runLimiter {
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	buckets, err := simplelru.NewLRU[string, *rate.Limiter](maxRunBuckets, nil)
	if err != nil { // only for a size < 1
		panic(err)
	}
	return &runLimiter{perSecond: rate.Limit(perSecond), burst: burst, byKey: byKey, now: now, buckets: buckets}
}

// client identifies who is starting runs: a digest of their API key when keys are enforced,
// else their address.
func (l *runLimiter) client(r *http.Request) string {
	if l.byKey {
		sum := sha256.Sum256([]byte(apiKey(r)))
		return "key:" + hex.EncodeToString(sum[:8])
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil { // not a TCP peer (a test or a unix socket): one bucket per what it says
		return "peer:" + r.RemoteAddr
	}
	addr := ap.Addr().Unmap()
	if addr.Is6() {
		return "ip:" + netip.PrefixFrom(addr, 64).Masked().String()
	}
	return "ip:" + addr.String()
}

// allow takes a token for the client; when none is left it returns how long to wait.
func (l *runLimiter) allow(who string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets.Get(who)
	if !ok {
		b = rate.NewLimiter(l.perSecond, l.burst)
		l.buckets.Add(who, b)
	}
	res := b.ReserveN(now, 1)
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
		if a.rateRefused(w, a.limiter.client(r)) {
			return
		}
		next(w, r)
	}
}

// rateRefused takes a token of who's bucket, or answers 429 with Retry-After and returns true
// when none is left (never without a limiter).
func (a *API) rateRefused(w http.ResponseWriter, who string) bool {
	if a.limiter == nil {
		return false
	}
	ok, wait := a.limiter.allow(who)
	if ok {
		return false
	}
	per := "client address"
	switch {
	case strings.HasPrefix(who, hookBucket):
		per = "hook"
	case a.limiter.byKey:
		per = "API key"
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	writeJSON(w, http.StatusTooManyRequests, errorBody{StatusCode: http.StatusTooManyRequests,
		Message: "too many runs started: the limit is " + strconv.FormatFloat(float64(a.limiter.perSecond), 'f', -1, 64) +
			" per second per " + per + "; retry after the Retry-After delay", Error: "Too Many Requests"})
	return true
}

// hookBucket prefixes the limiter bucket of a hook: its triggers carry no API key, so each
// hook has its own bucket.
const hookBucket = "hook:"
