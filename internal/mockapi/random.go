package mockapi

import (
	"math"
	"math/rand/v2"
	"sync"
)

// lockedRand serialises access to a *rand.Rand, which is not safe for
// concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

// float is Math.random(): uniform in [0, 1).
func (l *lockedRand) float() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// between is a uniform integer in [lo, hi], both ends included; it stands for
// the seed's Math.floor(Math.random() * (hi-lo+1)) + lo.
func (l *lockedRand) between(lo, hi int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return lo + l.r.IntN(hi-lo+1)
}

// pick returns a uniformly chosen element of xs.
func pick[T any](l *lockedRand, xs []T) T {
	return xs[l.between(0, len(xs)-1)]
}

// round1 is Math.round(x * 10) / 10: rounding to 0.1, halves upwards.
func round1(x float64) float64 { return math.Floor(x*10+0.5) / 10 }
