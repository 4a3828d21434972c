package app_test

import (
	"strings"
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

// The schedulers poll every second by default and count a tick missed past 10 s; a misfire
// threshold shorter than the poll interval is refused, naming both variables.
func TestConfigSchedules(t *testing.T) {
	t.Parallel()
	cfg, err := app.ConfigFromEnv(env(nil), app.RoleWorker)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SchedulePoll != time.Second || cfg.ScheduleMisfire != 10*time.Second {
		t.Errorf("schedule defaults: poll %v, misfire %v; want 1s, 10s", cfg.SchedulePoll, cfg.ScheduleMisfire)
	}
	cfg, err = app.ConfigFromEnv(env(map[string]string{"SCHEDULE_POLL_INTERVAL": "250ms", "SCHEDULE_MISFIRE_THRESHOLD": "1m"}), app.RoleWorker)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SchedulePoll != 250*time.Millisecond || cfg.ScheduleMisfire != time.Minute {
		t.Errorf("schedule from env: poll %v, misfire %v", cfg.SchedulePoll, cfg.ScheduleMisfire)
	}
	for _, bad := range []map[string]string{
		{"SCHEDULE_POLL_INTERVAL": "-1s"},
		{"SCHEDULE_POLL_INTERVAL": "30s", "SCHEDULE_MISFIRE_THRESHOLD": "5s"},
	} {
		_, err := app.ConfigFromEnv(env(bad), app.RoleWorker)
		if err == nil {
			t.Errorf("%v accepted", bad)
			continue
		}
		for name := range bad {
			if name == "SCHEDULE_POLL_INTERVAL" && len(bad) > 1 {
				name = "SCHEDULE_MISFIRE_THRESHOLD"
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%v: error %q does not name %s", bad, err, name)
			}
		}
	}
}
