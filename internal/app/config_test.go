package app_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := app.ConfigFromEnv(env(nil), app.RoleDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != app.DefaultDatabaseURL || cfg.RedisURL != app.DefaultRedisURL || cfg.Port != 3000 ||
		cfg.WorkerConcurrency != 10 || cfg.APIBaseURL != "http://localhost:3000" || cfg.Queue != "sequenceflow" || !cfg.SeedSamples ||
		cfg.WorkerHeartbeatInterval != 5*time.Second || cfg.WorkerLease != 30*time.Second || cfg.MaxRedeliveries != 5 || cfg.MaxInvokeDepth != 8 || cfg.InvokePollInterval != 30*time.Second ||
		cfg.EvalSteps != 1_000_000 || cfg.EvalBytes != 16<<20 || cfg.PreparedVersions != 256 || cfg.MetricsWorkflowLabels == nil || *cfg.MetricsWorkflowLabels != 100 {
		t.Fatalf("defaults: %+v", cfg)
	}
	// 0 is a value of its own: the workflow dimension off, not the default.
	if off, err := app.ConfigFromEnv(env(map[string]string{"METRICS_WORKFLOW_LABELS": "0"}), app.RoleDev); err != nil || off.MetricsWorkflowLabels == nil || *off.MetricsWorkflowLabels != 0 {
		t.Fatalf("METRICS_WORKFLOW_LABELS=0: %v, %v", off.MetricsWorkflowLabels, err)
	}
	// The components' own defaults show through, so the rules between them see real values.
	if cfg.DBMaxConns != 20 || cfg.NodeTimeout != 30*time.Second || cfg.RetryBaseDelay != time.Second || cfg.RetryMaxDelay != 5*time.Minute ||
		cfg.ReconcileInterval != 5*time.Second || cfg.ReconcileAfter != 15*time.Second || cfg.ReconcileStaleAfter != 15*time.Minute ||
		cfg.PollInterval != 2*time.Millisecond || cfg.ShutdownTimeout != 10*time.Second || cfg.BreakerFailures != 5 ||
		cfg.SyncWaitTimeout != time.Minute || cfg.SyncWaitPoll != time.Second || cfg.MaxBodyBytes != 1<<20 || cfg.MaxResponseBytes != 10<<20 ||
		cfg.MaxWorkflowNodes != 500 || cfg.MaxWorkflowEdges != 2000 {
		t.Fatalf("component defaults: %+v", cfg)
	}
	cfg, err = app.ConfigFromEnv(env(map[string]string{"PORT": "8080", "WORKER_CONCURRENCY": "3", "QUEUE_POLL_INTERVAL": "5ms", "SEED_SAMPLES": "false", "API_BASE_URL": "http://api:8080/",
		"MAX_WORKFLOW_NODES": "1100"}), app.RoleDev)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.WorkerConcurrency != 3 || cfg.PollInterval != 5*time.Millisecond || cfg.SeedSamples || cfg.APIBaseURL != "http://api:8080" ||
		cfg.MaxWorkflowNodes != 1100 || cfg.MaxWorkflowEdges != 2000 ||
		cfg.DBMaxConns != 13 { // WORKER_CONCURRENCY + 10
		t.Fatalf("from env: %+v", cfg)
	}
}

// TestConfigRules gives each rule a bad value and checks that the error is one line naming
// the variable, with nothing else reported.
func TestConfigRules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		role app.Role // default dev
		bad  string   // the variable the one line must name; "" when the environment is valid
		says string   // and a part of what it says
	}{
		// Values that do not parse.
		{name: "port not a number", env: map[string]string{"PORT": "abc"}, bad: "PORT", says: "whole number"},
		{name: "duration not a duration", env: map[string]string{"RETRY_BASE_DELAY": "soon"}, bad: "RETRY_BASE_DELAY", says: "duration"},
		{name: "bool not a bool", env: map[string]string{"SEED_SAMPLES": "maybe"}, bad: "SEED_SAMPLES", says: "true or false"},
		{name: "rate not a number", env: map[string]string{"RATE_LIMIT_RUNS_PER_SECOND": "fast"}, bad: "RATE_LIMIT_RUNS_PER_SECOND", says: "number"},
		{name: "count out of int range", env: map[string]string{"WORKER_CONCURRENCY": "99999999999999999999"}, bad: "WORKER_CONCURRENCY", says: "whole number"},

		// Connections.
		{name: "database URL", env: map[string]string{"DATABASE_URL": "postgres://u:pw@host:notaport/db"}, bad: "DATABASE_URL", says: "valid PostgreSQL URL"},
		{name: "redis URL", env: map[string]string{"REDIS_URL": "http://localhost:6379"}, bad: "REDIS_URL", says: "valid Redis URL"},
		{name: "pool empty", env: map[string]string{"DB_MAX_CONNS": "-1"}, role: app.RoleAPI, bad: "DB_MAX_CONNS", says: "from 1 to"},
		{name: "pool beyond int32", env: map[string]string{"DB_MAX_CONNS": "3000000000"}, role: app.RoleAPI, bad: "DB_MAX_CONNS", says: "from 1 to"},
		{name: "pool below concurrency plus headroom", env: map[string]string{"WORKER_CONCURRENCY": "10", "DB_MAX_CONNS": "11"}, role: app.RoleWorker, bad: "DB_MAX_CONNS", says: "WORKER_CONCURRENCY + 2 = 12"},
		{name: "pool at concurrency plus headroom", env: map[string]string{"WORKER_CONCURRENCY": "10", "DB_MAX_CONNS": "12"}, role: app.RoleWorker},
		{name: "pool rule in dev", env: map[string]string{"WORKER_CONCURRENCY": "10", "DB_MAX_CONNS": "10"}, role: app.RoleDev, bad: "DB_MAX_CONNS", says: "task slot"},
		{name: "pool rule not for the api", env: map[string]string{"WORKER_CONCURRENCY": "10", "DB_MAX_CONNS": "4"}, role: app.RoleAPI},

		// HTTP API.
		{name: "port zero", env: map[string]string{"PORT": "-1"}, bad: "PORT", says: "1 to 65535"},
		{name: "port too high", env: map[string]string{"PORT": "70000"}, bad: "PORT", says: "1 to 65535"},
		{name: "base URL scheme", env: map[string]string{"API_BASE_URL": "ftp://x"}, bad: "API_BASE_URL", says: "http(s) URL"},
		{name: "base URL without host", env: map[string]string{"API_BASE_URL": "http://"}, bad: "API_BASE_URL", says: "http(s) URL"},
		{name: "body limit negative", env: map[string]string{"MAX_BODY_BYTES": "-5"}, bad: "MAX_BODY_BYTES", says: "from 1 to"},
		{name: "CORS origin with a path", env: map[string]string{"CORS_ORIGIN": "https://app.example.com/"}, bad: "CORS_ORIGIN", says: "no path or trailing slash"},
		{name: "CORS origins", env: map[string]string{"CORS_ORIGIN": "https://app.example.com, http://localhost:5173"}},
		{name: "API key with a space", env: map[string]string{"API_KEYS": "good-key-0123456789,bad key 0123456789"}, bad: "API_KEYS", says: "key 2"},
		{name: "API key too short", env: map[string]string{"API_KEYS": "0123456789abcdef0123,changeme"}, bad: "API_KEYS", says: "key 2 is 8 characters long, shorter than 16"},
		{name: "API key of 16 characters", env: map[string]string{"API_KEYS": "0123456789abcdef"}},
		{name: "rate negative", env: map[string]string{"RATE_LIMIT_RUNS_PER_SECOND": "-1"}, bad: "RATE_LIMIT_RUNS_PER_SECOND", says: "from 0"},
		{name: "rate NaN", env: map[string]string{"RATE_LIMIT_RUNS_PER_SECOND": "NaN"}, bad: "RATE_LIMIT_RUNS_PER_SECOND", says: "from 0"},
		{name: "rate infinite", env: map[string]string{"RATE_LIMIT_RUNS_PER_SECOND": "+Inf"}, bad: "RATE_LIMIT_RUNS_PER_SECOND", says: "from 0"},
		{name: "burst negative", env: map[string]string{"RATE_LIMIT_RUNS_PER_SECOND": "5", "RATE_LIMIT_RUNS_BURST": "-1"}, bad: "RATE_LIMIT_RUNS_BURST", says: "from 1"},
		{name: "burst without a rate", env: map[string]string{"RATE_LIMIT_RUNS_BURST": "10"}, bad: "RATE_LIMIT_RUNS_BURST", says: "RATE_LIMIT_RUNS_PER_SECOND"},
		{name: "rate and burst", env: map[string]string{"RATE_LIMIT_RUNS_PER_SECOND": "0.5", "RATE_LIMIT_RUNS_BURST": "10"}},
		{name: "sync timeout negative", env: map[string]string{"SYNC_EXECUTE_TIMEOUT": "-1s"}, bad: "SYNC_EXECUTE_TIMEOUT", says: "positive"},
		{name: "sync poll negative", env: map[string]string{"SYNC_EXECUTE_POLL": "-1s"}, bad: "SYNC_EXECUTE_POLL", says: "positive"},
		{name: "sync poll beyond the timeout", env: map[string]string{"SYNC_EXECUTE_TIMEOUT": "5s", "SYNC_EXECUTE_POLL": "10s"}, bad: "SYNC_EXECUTE_POLL", says: "SYNC_EXECUTE_TIMEOUT"},
		{name: "Jaeger URL", env: map[string]string{"JAEGER_UI_URL": "localhost:16686"}, bad: "JAEGER_UI_URL", says: "http(s) URL"},

		// Queue and worker.
		{name: "queue name with a space", env: map[string]string{"QUEUE_NAME": "my queue"}, bad: "QUEUE_NAME", says: "letters, digits"},
		{name: "concurrency negative", env: map[string]string{"WORKER_CONCURRENCY": "-1"}, bad: "WORKER_CONCURRENCY", says: "from 1 to 1000"},
		{name: "concurrency too high", env: map[string]string{"WORKER_CONCURRENCY": "5000", "DB_MAX_CONNS": "9000"}, bad: "WORKER_CONCURRENCY", says: "from 1 to 1000"},
		{name: "poll interval negative", env: map[string]string{"QUEUE_POLL_INTERVAL": "-2ms"}, bad: "QUEUE_POLL_INTERVAL", says: "positive"},
		{name: "delayed check negative", env: map[string]string{"QUEUE_DELAYED_CHECK_INTERVAL": "-1s"}, bad: "QUEUE_DELAYED_CHECK_INTERVAL", says: "positive"},
		{name: "shutdown negative", env: map[string]string{"SHUTDOWN_TIMEOUT": "-10s"}, bad: "SHUTDOWN_TIMEOUT", says: "positive"},
		{name: "metrics address", env: map[string]string{"METRICS_ADDR": "9091"}, bad: "METRICS_ADDR", says: "host:port"},
		{name: "metrics off", env: map[string]string{"METRICS_ADDR": "off"}, role: app.RoleWorker},
		{name: "workflow labels not a number", env: map[string]string{"METRICS_WORKFLOW_LABELS": "all"}, bad: "METRICS_WORKFLOW_LABELS", says: "whole number"},
		{name: "workflow labels negative", env: map[string]string{"METRICS_WORKFLOW_LABELS": "-1"}, bad: "METRICS_WORKFLOW_LABELS", says: "from 0 (no workflow label) to 10000"},
		{name: "workflow labels too many", env: map[string]string{"METRICS_WORKFLOW_LABELS": "10001"}, bad: "METRICS_WORKFLOW_LABELS", says: "from 0"},
		{name: "workflow labels off", env: map[string]string{"METRICS_WORKFLOW_LABELS": "0"}, role: app.RoleWorker},

		// Engine.
		{name: "node timeout negative", env: map[string]string{"NODE_TIMEOUT": "-1s"}, bad: "NODE_TIMEOUT", says: "positive"},
		{name: "node timeout beyond a node's limit", env: map[string]string{"NODE_TIMEOUT": "20m", "RECONCILE_STALE_AFTER": "1h"}, bad: "NODE_TIMEOUT", says: "at most 10m0s"},
		{name: "retry base negative", env: map[string]string{"RETRY_BASE_DELAY": "-1s"}, bad: "RETRY_BASE_DELAY", says: "positive"},
		{name: "retry max negative", env: map[string]string{"RETRY_MAX_DELAY": "-1s", "RETRY_BASE_DELAY": "1ms"}, bad: "RETRY_MAX_DELAY", says: "positive"},
		{name: "retry max beyond a day", env: map[string]string{"RETRY_MAX_DELAY": "48h"}, bad: "RETRY_MAX_DELAY", says: "at most 24h"},
		{name: "retry base beyond max", env: map[string]string{"RETRY_BASE_DELAY": "10m"}, bad: "RETRY_BASE_DELAY", says: "RETRY_MAX_DELAY (5m0s)"},
		{name: "run timeout negative", env: map[string]string{"RUN_TIMEOUT": "-1h"}, bad: "RUN_TIMEOUT", says: "from 0"},
		{name: "run timeout beyond 30 days", env: map[string]string{"RUN_TIMEOUT": "1000h"}, bad: "RUN_TIMEOUT", says: "from 0"},

		// Reconciler.
		{name: "reconcile interval negative", env: map[string]string{"RECONCILE_INTERVAL": "-1s"}, bad: "RECONCILE_INTERVAL", says: "positive"},
		{name: "reconcile after negative", env: map[string]string{"RECONCILE_AFTER": "-1s"}, bad: "RECONCILE_AFTER", says: "positive"},
		{name: "stale after negative", env: map[string]string{"RECONCILE_STALE_AFTER": "-1s"}, bad: "RECONCILE_STALE_AFTER", says: "positive"},
		{name: "stale after within a node's timeout", env: map[string]string{"RECONCILE_STALE_AFTER": "5m"}, bad: "RECONCILE_STALE_AFTER", says: "longest node timeout (10m0s"},
		{name: "stale after equal to a node's timeout", env: map[string]string{"RECONCILE_STALE_AFTER": "10m"}, bad: "RECONCILE_STALE_AFTER", says: "longer than"},
		{name: "stale after above every timeout", env: map[string]string{"RECONCILE_STALE_AFTER": "11m", "NODE_TIMEOUT": "10m"}},
		{name: "reconcile after beyond stale after", env: map[string]string{"RECONCILE_AFTER": "20m"}, bad: "RECONCILE_AFTER", says: "RECONCILE_STALE_AFTER"},

		// Retention.
		{name: "retention not a duration", env: map[string]string{"RUN_RETENTION": "a month"}, role: app.RoleWorker, bad: "RUN_RETENTION", says: "30d"},
		{name: "retention without a unit", env: map[string]string{"RUN_RETENTION": "30"}, role: app.RoleWorker, bad: "RUN_RETENTION", says: "or 0 to keep runs forever"},
		{name: "retention in fractional days", env: map[string]string{"RUN_RETENTION": "1.5d"}, bad: "RUN_RETENTION", says: "whole number of days"},
		{name: "retention negative", env: map[string]string{"RUN_RETENTION": "-1h"}, bad: "RUN_RETENTION", says: "negative"},
		{name: "retention negative days", env: map[string]string{"RUN_RETENTION": "-3d"}, bad: "RUN_RETENTION", says: "days"},
		{name: "retention days overflow", env: map[string]string{"RUN_RETENTION": "99999999999d"}, bad: "RUN_RETENTION", says: "too long"},
		{name: "retention below an hour", env: map[string]string{"RUN_RETENTION": "30m"}, bad: "RUN_RETENTION", says: "at least 1h0m0s"},
		{name: "retention in days", env: map[string]string{"RUN_RETENTION": "7d"}, role: app.RoleWorker},
		{name: "retention in hours", env: map[string]string{"RUN_RETENTION": "12h"}, role: app.RoleWorker},
		{name: "retention off", env: map[string]string{"RUN_RETENTION": "0"}, role: app.RoleWorker},
		{name: "retention interval negative", env: map[string]string{"RETENTION_INTERVAL": "-1m"}, bad: "RETENTION_INTERVAL", says: "positive"},
		{name: "retention batch negative", env: map[string]string{"RETENTION_BATCH": "-1"}, bad: "RETENTION_BATCH", says: "from 1 to 10000"},
		{name: "retention batch too large", env: map[string]string{"RETENTION_BATCH": "20000"}, bad: "RETENTION_BATCH", says: "from 1 to 10000"},
		{name: "retention pause negative", env: map[string]string{"RETENTION_BATCH_PAUSE": "-1ms"}, bad: "RETENTION_BATCH_PAUSE", says: "positive"},

		// Liveness.
		{name: "heartbeat negative", env: map[string]string{"WORKER_HEARTBEAT_INTERVAL": "-1s"}, bad: "WORKER_HEARTBEAT_INTERVAL", says: "positive"},
		{name: "lease not beyond heartbeat", env: map[string]string{"WORKER_HEARTBEAT_INTERVAL": "5s", "WORKER_LEASE": "4s"}, bad: "WORKER_LEASE", says: "WORKER_HEARTBEAT_INTERVAL"},
		{name: "redeliveries negative", env: map[string]string{"MAX_REDELIVERIES": "-2"}, bad: "MAX_REDELIVERIES", says: "from 1 to"},
		{name: "invoke depth negative", env: map[string]string{"MAX_INVOKE_DEPTH": "-1"}, bad: "MAX_INVOKE_DEPTH", says: "from 1 to"},
		{name: "invoke depth beyond the cap", env: map[string]string{"MAX_INVOKE_DEPTH": "101"}, bad: "MAX_INVOKE_DEPTH", says: "from 1 to"},
		{name: "invoke depth 1", env: map[string]string{"MAX_INVOKE_DEPTH": "1"}},
		{name: "invoke poll interval negative", env: map[string]string{"INVOKE_POLL_INTERVAL": "-1s"}, bad: "INVOKE_POLL_INTERVAL", says: "positive"},
		{name: "invoke poll interval too long", env: map[string]string{"INVOKE_POLL_INTERVAL": "25h"}, bad: "INVOKE_POLL_INTERVAL", says: "at most 24h"},
		{name: "invoke poll interval 2s", env: map[string]string{"INVOKE_POLL_INTERVAL": "2s"}},
		{name: "workflow nodes negative", env: map[string]string{"MAX_WORKFLOW_NODES": "-5"}, bad: "MAX_WORKFLOW_NODES", says: "from 1 to"},
		{name: "workflow nodes beyond the cap", env: map[string]string{"MAX_WORKFLOW_NODES": "10001"}, bad: "MAX_WORKFLOW_NODES", says: "from 1 to"},
		{name: "workflow edges beyond the cap", env: map[string]string{"MAX_WORKFLOW_EDGES": "50001"}, bad: "MAX_WORKFLOW_EDGES", says: "from 1 to"},
		{name: "workflow limits raised", env: map[string]string{"MAX_WORKFLOW_NODES": "1100", "MAX_WORKFLOW_EDGES": "2200"}},
		{name: "budget steps negative", env: map[string]string{"EVAL_BUDGET_STEPS": "-1"}, bad: "EVAL_BUDGET_STEPS", says: "from 1 to"},
		{name: "budget bytes beyond a GiB", env: map[string]string{"EVAL_BUDGET_BYTES": "2147483648"}, bad: "EVAL_BUDGET_BYTES", says: "from 1 to"},
		{name: "prepared versions negative", env: map[string]string{"PREPARED_VERSIONS": "-5"}, bad: "PREPARED_VERSIONS", says: "from 1 to"},
		{name: "budget and cache set", env: map[string]string{"EVAL_BUDGET_STEPS": "5000", "EVAL_BUDGET_BYTES": "65536", "PREPARED_VERSIONS": "16"}},

		// Outbound calls.
		{name: "response limit negative", env: map[string]string{"OUTBOUND_MAX_RESPONSE_BYTES": "-1"}, bad: "OUTBOUND_MAX_RESPONSE_BYTES", says: "from 1"},
		{name: "breaker failures negative", env: map[string]string{"BREAKER_FAILURES": "-1"}, bad: "BREAKER_FAILURES", says: "from 1"},
		{name: "breaker failures beyond uint32", env: map[string]string{"BREAKER_FAILURES": "5000000000"}, bad: "BREAKER_FAILURES", says: "from 1"},
		{name: "breaker open negative", env: map[string]string{"BREAKER_OPEN_TIMEOUT": "-30s"}, bad: "BREAKER_OPEN_TIMEOUT", says: "positive"},
		{name: "host limits bad entry", env: map[string]string{"OUTBOUND_HOST_LIMITS": "a.example=1/s, b.example=10"}, bad: "OUTBOUND_HOST_LIMITS", says: `entry 2 "b.example=10": rate must be N/s, N/m or none`},
		{name: "host limits duplicate", env: map[string]string{"OUTBOUND_HOST_LIMITS": "a.example=1/s,A.example=2/s"}, bad: "OUTBOUND_HOST_LIMITS", says: "already limited by entry 1"},
		{name: "throttle max wait negative", env: map[string]string{"THROTTLE_MAX_WAIT": "-1s"}, bad: "THROTTLE_MAX_WAIT", says: "positive"},
		{name: "throttle max wait too long", env: map[string]string{"THROTTLE_MAX_WAIT": "25h"}, bad: "THROTTLE_MAX_WAIT", says: "at most 24h"},

		// Tracing.
		{name: "db spans mode", env: map[string]string{"TRACE_DB_SPANS": "some"}, bad: "TRACE_DB_SPANS", says: "off, slow or all"},
		{name: "db spans mode case", env: map[string]string{"TRACE_DB_SPANS": "ALL"}},
		{name: "db slow threshold negative", env: map[string]string{"TRACE_DB_SLOW": "-1ms"}, bad: "TRACE_DB_SLOW", says: "positive"},
		{name: "db slow threshold unparsable", env: map[string]string{"TRACE_DB_SLOW": "fast"}, bad: "TRACE_DB_SLOW", says: "duration"},
		{name: "poll tracing not a bool", env: map[string]string{"TRACE_POLL_REQUESTS": "often"}, bad: "TRACE_POLL_REQUESTS", says: "true or false"},
		{name: "tracing set", env: map[string]string{"TRACE_DB_SPANS": "slow", "TRACE_DB_SLOW": "250ms", "TRACE_POLL_REQUESTS": "true"}},

		// Process.
		{name: "log level", env: map[string]string{"LOG_LEVEL": "loud"}, bad: "LOG_LEVEL", says: "debug, info, warn or error"},
		{name: "log level case", env: map[string]string{"LOG_LEVEL": "WARN"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			role := tc.role
			if role == "" {
				role = app.RoleDev
			}
			_, err := app.ConfigFromEnv(env(tc.env), role)
			if tc.bad == "" {
				if err != nil {
					t.Fatalf("%v as %s: %v, want it accepted", tc.env, role, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%v as %s accepted, want an error naming %s", tc.env, role, tc.bad)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tc.bad+" ") || !strings.Contains(lines[0], tc.says) {
				t.Fatalf("%v as %s: error\n%v\nwant one line starting with %s and saying %q", tc.env, role, err, tc.bad, tc.says)
			}
		})
	}
}

// TestConfigReportsEveryProblemTogether: an operator fixes everything in one go.
func TestConfigReportsEveryProblemTogether(t *testing.T) {
	t.Parallel()
	_, err := app.ConfigFromEnv(env(map[string]string{
		"RECONCILE_INTERVAL": "-1s", "PORT": "abc", "LOG_LEVEL": "loud", "WORKER_CONCURRENCY": "20", "DB_MAX_CONNS": "5",
		"RECONCILE_STALE_AFTER": "1m",
	}), app.RoleWorker)
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"RECONCILE_INTERVAL", "PORT", "LOG_LEVEL", "DB_MAX_CONNS", "RECONCILE_STALE_AFTER"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want one per bad variable (%v):\n%v", len(lines), want, err)
	}
	for _, name := range want {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, name+" ") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s is named on %d lines, want 1:\n%v", name, n, err)
		}
	}
}

// TestNewRefusesInvalidConfig: a configuration built in code is checked like the
// environment, before any connection is attempted (the database here does not exist).
func TestNewRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := app.New(context.Background(), app.Config{DatabaseURL: "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable",
		ReconcileInterval: -time.Second, WorkerConcurrency: 8, DBMaxConns: 4}, app.RoleWorker, log)
	if err == nil || !strings.Contains(err.Error(), "RECONCILE_INTERVAL") || !strings.Contains(err.Error(), "DB_MAX_CONNS") ||
		strings.Contains(err.Error(), "PostgreSQL at") {
		t.Fatalf("New: %v; want the configuration refused, naming RECONCILE_INTERVAL and DB_MAX_CONNS, before connecting", err)
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

// TestProcessRefusesBadConfiguration runs the binary with bad variables: it exits non-zero
// with one line per variable before it starts anything (its PostgreSQL does not exist, and
// it never says so).
func TestProcessRefusesBadConfiguration(t *testing.T) {
	bin := processBinaryPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "worker")
	cmd.Env = []string{"PATH=/usr/bin:/bin",
		"DATABASE_URL=postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable", "REDIS_URL=redis://127.0.0.1:1/0",
		"RECONCILE_INTERVAL=-1s", "WORKER_CONCURRENCY=10", "DB_MAX_CONNS=4", "NODE_TIMEOUT=soon"}
	out, err := cmd.CombinedOutput()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() == 0 {
		t.Fatalf("worker with a bad configuration: %v, output %q; want a non-zero exit", err, out)
	}
	text := string(out)
	for _, want := range []string{"configuration:", "RECONCILE_INTERVAL must be a positive duration, got -1s", "DB_MAX_CONNS must be at least WORKER_CONCURRENCY + 2 = 12",
		"NODE_TIMEOUT must be a duration"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "PostgreSQL at") || strings.Contains(text, "panic") {
		t.Errorf("the process went on past its configuration:\n%s", text)
	}
}

// TestEveryVariableIsDocumented: each variable the binary reads has a row in the README's
// configuration table.
func TestEveryVariableIsDocumented(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	_, _ = app.ConfigFromEnv(func(name string) string { read[name] = true; return "" }, app.RoleDev)
	if len(read) < 20 {
		t.Fatalf("ConfigFromEnv read only %v", read)
	}
	for name := range read {
		if !strings.Contains(string(readme), "| `"+name+"` |") {
			t.Errorf("%s is read by ConfigFromEnv but has no row in README.md's configuration table", name)
		}
	}
}

// OUTBOUND_HOST_LIMITS is read into the limits the workers share; no limits and a five-minute
// THROTTLE_MAX_WAIT by default.
func TestConfigHostLimits(t *testing.T) {
	t.Parallel()
	cfg, err := app.ConfigFromEnv(env(nil), app.RoleWorker)
	if err != nil || len(cfg.OutboundHostLimits) != 0 || cfg.ThrottleMaxWait != 5*time.Minute {
		t.Fatalf("defaults: limits %v, throttle max wait %v, %v", cfg.OutboundHostLimits, cfg.ThrottleMaxWait, err)
	}
	cfg, err = app.ConfigFromEnv(env(map[string]string{"OUTBOUND_HOST_LIMITS": "api.example.com=10/s:20, localhost:3000=none::2", "THROTTLE_MAX_WAIT": "90s"}), app.RoleWorker)
	if err != nil {
		t.Fatal(err)
	}
	want := []hostlimit.Limit{{Host: "api.example.com", Rate: 10, Per: time.Second, Burst: 20}, {Host: "localhost:3000", MaxInFlight: 2}}
	if !slices.Equal(cfg.OutboundHostLimits, want) || cfg.ThrottleMaxWait != 90*time.Second {
		t.Fatalf("limits %+v, throttle max wait %v; want %+v and 90s", cfg.OutboundHostLimits, cfg.ThrottleMaxWait, want)
	}
}
