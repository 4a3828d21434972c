package queue

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// Orphan detection bounds.
const (
	// orphanAfter is how long a delivery must have been active before no live server listing
	// it makes it orphaned: a live asynq server lists the deliveries it took at its next
	// heartbeat (every 5 s), so one taken a moment ago is not listed yet.
	orphanAfter = 7 * time.Second
	// sightingTTL is how long a sighting of an active delivery counts: an older one is taken to
	// be of an earlier delivery under the same id, long finished.
	sightingTTL = time.Minute
	// maxSightings bounds the deliveries a client remembers (the least recently seen dropped).
	maxSightings = 10_000
)

// activeWatch remembers when a client first found each delivery active, so that a delivery no
// live server lists counts as orphaned only once it has been active for orphanAfter.
type activeWatch struct {
	mu    sync.Mutex
	since *simplelru.LRU[string, time.Time]
}

func newActiveWatch() *activeWatch {
	since, err := simplelru.NewLRU[string, time.Time](maxSightings, nil)
	if err != nil { // only for a size < 1
		panic(err)
	}
	return &activeWatch{since: since}
}

// orphaned records a sighting at now of delivery id, active, and reports whether it is
// orphaned: active long enough (activeLong) and not listed by a live server. listed (a Redis
// round trip) is asked only for a delivery active that long. An orphaned delivery is
// forgotten, so the next delivery under its id starts afresh.
func (w *activeWatch) orphaned(id string, listed func() bool, now time.Time) bool {
	if !w.activeLong(id, now) || listed() {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.since.Remove(id)
	return true
}

// activeLong records a sighting at now of delivery id, active, and reports whether it was
// first seen active between orphanAfter and sightingTTL ago.
func (w *activeWatch) activeLong(id string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	first, ok := w.since.Get(id)
	if !ok || now.Sub(first) > sightingTTL {
		w.since.Add(id, now)
		return false
	}
	return now.Sub(first) >= orphanAfter
}
