package engine

import (
	"testing"
	"time"
)

// TestBackoffDoesNotOverflow: a long base delay doubled per attempt once overflowed into a
// negative backoff, which retried at once instead of after RetryMaxDelay.
func TestBackoffDoesNotOverflow(t *testing.T) {
	t.Parallel()
	e, err := New(Config{RetryBaseDelay: 20 * time.Hour, RetryMaxDelay: MaxRetryDelay}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 30; attempt++ {
		d := e.backoff(attempt, 0)
		lo, hi := time.Duration(0.8*float64(20*time.Hour)), time.Duration(1.2*float64(MaxRetryDelay))
		if d < lo || d > hi {
			t.Fatalf("attempt %d: backoff %v, want between %v and %v", attempt, d, lo, hi)
		}
	}
}
