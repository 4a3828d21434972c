package queue

import (
	"testing"
	"time"
)

// A delivery no live server lists is orphaned only once it has been active for orphanAfter
// since this client first saw it active: one a live server took a moment ago, and will list at
// its next heartbeat, is not; a sighting older than sightingTTL is of an earlier delivery.
func TestActiveWatchOrphansOnlyLongActiveDeliveries(t *testing.T) {
	t.Parallel()
	w := newActiveWatch()
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		at     time.Duration
		id     string
		listed bool
		want   bool
	}{
		{0, "a", false, false}, // just taken: not listed yet
		{orphanAfter - time.Millisecond, "a", false, false},
		{orphanAfter, "b", true, false},                                // another delivery, listed
		{orphanAfter, "a", true, false},                                // listed: alive
		{orphanAfter + time.Second, "a", false, true},                  // active that long and unlisted: orphaned
		{orphanAfter + 2*time.Second, "a", false, false},               // forgotten: a new sighting
		{orphanAfter + sightingTTL + 3*time.Second, "b", false, false}, // b's sighting is stale
		{2*orphanAfter + sightingTTL + 3*time.Second, "b", false, true},
	}
	for i, s := range steps {
		if got := w.orphaned(s.id, func() bool { return s.listed }, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %v, listed %v): orphaned %v, want %v", i, s.id, s.at, s.listed, got, s.want)
		}
	}
}
