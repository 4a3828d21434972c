package queue_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/queue"
)

// TestNewServerRefusesInvalidConfig: asynq would silently replace these with its own
// defaults (a negative concurrency becomes one slot per CPU).
func TestNewServerRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  queue.ServerConfig
		says string
	}{
		{queue.ServerConfig{Concurrency: -1}, "Concurrency"},
		{queue.ServerConfig{PollInterval: -time.Millisecond}, "PollInterval"},
		{queue.ServerConfig{DelayedCheckInterval: -time.Second}, "DelayedCheckInterval"},
		{queue.ServerConfig{ShutdownTimeout: -time.Second}, "ShutdownTimeout"},
	} {
		if _, err := queue.NewServer(nil, tc.cfg, nil, nil); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("NewServer(%+v): %v, want an error naming %s", tc.cfg, err, tc.says)
		}
	}
}
