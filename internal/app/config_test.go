package app_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := app.ConfigFromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != app.DefaultDatabaseURL || cfg.RedisURL != app.DefaultRedisURL || cfg.Port != 3000 ||
		cfg.WorkerConcurrency != 10 || cfg.APIBaseURL != "http://localhost:3000" || cfg.Queue != "sequenceflow" || !cfg.SeedSamples ||
		cfg.WorkerHeartbeatInterval != 5*time.Second || cfg.WorkerLease != 30*time.Second || cfg.MaxRedeliveries != 5 {
		t.Fatalf("defaults: %+v", cfg)
	}
	cfg, err = app.ConfigFromEnv(env(map[string]string{"PORT": "8080", "WORKER_CONCURRENCY": "3", "QUEUE_POLL_INTERVAL": "5ms", "SEED_SAMPLES": "false", "API_BASE_URL": "http://api:8080/"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.WorkerConcurrency != 3 || cfg.PollInterval != 5*time.Millisecond || cfg.SeedSamples || cfg.APIBaseURL != "http://api:8080" {
		t.Fatalf("from env: %+v", cfg)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	for name, value := range map[string]string{
		"PORT": "abc", "WORKER_CONCURRENCY": "-1", "RETRY_BASE_DELAY": "soon", "SEED_SAMPLES": "maybe", "API_BASE_URL": "ftp://x",
		"WORKER_LEASE": "4s", "WORKER_HEARTBEAT_INTERVAL": "-1s", "MAX_REDELIVERIES": "-2",
	} {
		_, err := app.ConfigFromEnv(env(map[string]string{name: value}))
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v, want one naming %s", name, value, err, name)
		}
	}
}

func TestUnreachableServicesGiveOneClearLine(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := app.New(ctx, app.Config{DatabaseURL: "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable"}, app.RoleAPI, log)
	if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "127.0.0.1:1/nowhere") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("unreachable PostgreSQL: %v; want one line naming the address and DATABASE_URL", err)
	}
	if _, err := app.ParseRole("janitor"); err == nil || !strings.Contains(err.Error(), "api, worker, migrate or dev") {
		t.Fatalf("unknown role: %v", err)
	}
}
