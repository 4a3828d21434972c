package app_test

import (
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
)

// RUN_RETENTION defaults to 30 days, reads Go durations and whole days, and keeps 0 as a value
// of its own (keep forever), not as the default; the pruner's other settings have defaults.
func TestConfigRetention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value string
		want  time.Duration
	}{
		{"", 30 * 24 * time.Hour},
		{"0", 0},
		{"30d", 30 * 24 * time.Hour},
		{" 7d ", 7 * 24 * time.Hour},
		{"12h", 12 * time.Hour},
		{"36h30m", 36*time.Hour + 30*time.Minute},
		{"2160h", 90 * 24 * time.Hour},
	} {
		cfg, err := app.ConfigFromEnv(env(map[string]string{"RUN_RETENTION": tc.value}), app.RoleWorker)
		if err != nil {
			t.Errorf("RUN_RETENTION=%q: %v", tc.value, err)
			continue
		}
		if cfg.RunRetention == nil || *cfg.RunRetention != tc.want {
			t.Errorf("RUN_RETENTION=%q: got %v, want %v", tc.value, cfg.RunRetention, tc.want)
		}
	}
	cfg, err := app.ConfigFromEnv(env(nil), app.RoleWorker)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RetentionInterval != time.Minute || cfg.RetentionBatch != 500 || cfg.RetentionPause != 100*time.Millisecond {
		t.Errorf("retention defaults: interval %v, batch %d, pause %v; want 1m, 500, 100ms", cfg.RetentionInterval, cfg.RetentionBatch, cfg.RetentionPause)
	}
	cfg, err = app.ConfigFromEnv(env(map[string]string{"RETENTION_INTERVAL": "10s", "RETENTION_BATCH": "50", "RETENTION_BATCH_PAUSE": "1s"}), app.RoleWorker)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RetentionInterval != 10*time.Second || cfg.RetentionBatch != 50 || cfg.RetentionPause != time.Second {
		t.Errorf("retention from env: interval %v, batch %d, pause %v", cfg.RetentionInterval, cfg.RetentionBatch, cfg.RetentionPause)
	}
}
