// Package app composes SequenceFlow's processes: it reads configuration from the environment,
// connects PostgreSQL and Redis, builds the engine, API and worker, and runs the components of
// a role until its context ends.
package app

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/httpapi"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/retention"
	"github.com/sequenceflow/sequenceflow/internal/schedule"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Config is every setting of every role, grouped by the component that reads it.
// ConfigFromEnv reads it, WithDefaults fills what is unset with each component's own
// default, and validate (config_validate.go) checks every value and the rules between them.
type Config struct {
	// Connections.
	DatabaseURL string // DATABASE_URL
	RedisURL    string // REDIS_URL
	// DBMaxConns is the PostgreSQL pool size (DB_MAX_CONNS, default WORKER_CONCURRENCY + 10).
	DBMaxConns int

	// HTTP API (api, dev).
	Port int // PORT
	// ListenAddr is the host or IP address the API listens on, without the port (LISTEN_ADDR;
	// default: 127.0.0.1 for the dev role, every interface for api). See ListenAddress.
	ListenAddr string
	// APIBaseURL is where workers reach this service's mock endpoints; sample workflows and
	// templates use it and apiCall URLs on http://localhost:3000 are rewritten to it
	// (API_BASE_URL, default http://localhost:PORT). The resume URL of a task waiting for an
	// event (wait node) starts with it too.
	APIBaseURL   string
	MaxBodyBytes int64  // MAX_BODY_BYTES
	CORSOrigins  string // CORS_ORIGIN
	SeedSamples  bool   // SEED_SAMPLES
	// APIKeys are required on the API when set (API_KEYS, comma-separated).
	APIKeys []string
	// RunsPerSecond and RunBurst limit run creation per API key or client IP
	// (RATE_LIMIT_RUNS_PER_SECOND, default 0 = no limit; RATE_LIMIT_RUNS_BURST).
	RunsPerSecond float64
	RunBurst      int
	// SyncWaitTimeout bounds how long the legacy synchronous execute route waits for its run
	// (SYNC_EXECUTE_TIMEOUT, default 60s); SyncWaitPoll is the fallback check of waited runs
	// should a notification be lost (SYNC_EXECUTE_POLL, default 1s).
	SyncWaitTimeout time.Duration
	SyncWaitPoll    time.Duration
	// JaegerUIURL, when set, makes run responses carry a link to the run's trace
	// (JAEGER_UI_URL, e.g. http://localhost:16686).
	JaegerUIURL string
	// MonitoringWritable lets the /monitoring queue UI change queues (MONITORING_WRITABLE;
	// read-only by default).
	MonitoringWritable bool

	// Queue and worker (worker, dev).
	Queue             string        // QUEUE_NAME
	WorkerConcurrency int           // WORKER_CONCURRENCY
	PollInterval      time.Duration // QUEUE_POLL_INTERVAL
	DelayedInterval   time.Duration // QUEUE_DELAYED_CHECK_INTERVAL
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT
	// MetricsAddr is the worker's own HTTP server for /healthz, /readyz and /metrics
	// (METRICS_ADDR, default :9091 for the worker role; "off" disables it).
	MetricsAddr string
	// MetricsWorkflowLabels caps the workflow names that get their own value of the metrics'
	// workflow label per process; later names count as "other", and 0 turns the dimension off
	// (METRICS_WORKFLOW_LABELS, default 100; nil means the default).
	MetricsWorkflowLabels *int

	// Engine.
	NodeTimeout    time.Duration // NODE_TIMEOUT
	RetryBaseDelay time.Duration // RETRY_BASE_DELAY
	RetryMaxDelay  time.Duration // RETRY_MAX_DELAY
	RunTimeout     time.Duration // RUN_TIMEOUT (0: none)
	// EvalSteps and EvalBytes are the work budget of one node execution's rules and templates:
	// operations, and bytes of intermediate values (EVAL_BUDGET_STEPS, default 1,000,000;
	// EVAL_BUDGET_BYTES, default 16 MiB).
	EvalSteps int
	EvalBytes int
	// PreparedVersions caps the prepared workflow versions a worker keeps (PREPARED_VERSIONS,
	// default 256).
	PreparedVersions int

	// Reconciler (worker, dev).
	ReconcileInterval time.Duration // RECONCILE_INTERVAL
	ReconcileAfter    time.Duration // RECONCILE_AFTER
	// ReconcileStaleAfter is how long a task may be running before the reconciler presumes its
	// delivery lost (RECONCILE_STALE_AFTER, default 15m; above the longest node timeout).
	ReconcileStaleAfter time.Duration

	// Retention of run history (worker, dev).
	// RunRetention is how long a finished run (with its tasks and logs) is kept before the
	// workers' pruner deletes it (RUN_RETENTION: a duration such as 12h or whole days such as
	// 30d; 0 keeps runs forever; default 30d; nil means the default).
	RunRetention *time.Duration
	// RetentionInterval is the time between the pruner's passes (RETENTION_INTERVAL, default
	// 1m); RetentionBatch the runs one delete statement takes at most (RETENTION_BATCH,
	// default 500); RetentionPause the wait between two batches of a pass
	// (RETENTION_BATCH_PAUSE, default 100ms).
	RetentionInterval time.Duration
	RetentionBatch    int
	RetentionPause    time.Duration

	// Schedules (worker, dev).
	// SchedulePoll is the time between two claims of due schedules by a worker
	// (SCHEDULE_POLL_INTERVAL, default 1s); ScheduleMisfire how late a tick may be and still
	// fire whatever its catch-up policy (SCHEDULE_MISFIRE_THRESHOLD, default 10s, at least
	// the poll interval); later ticks count as missed.
	SchedulePoll    time.Duration
	ScheduleMisfire time.Duration

	// Liveness (worker, dev).
	// WorkerHeartbeatInterval is how often a worker records itself alive in PostgreSQL, with
	// the tasks it is executing (WORKER_HEARTBEAT_INTERVAL, default 5s).
	WorkerHeartbeatInterval time.Duration
	// WorkerLease is how long one heartbeat keeps a worker alive: once it expired, the other
	// workers' reconcilers re-deliver its running tasks (WORKER_LEASE, default 30s; a few
	// heartbeat intervals).
	WorkerLease time.Duration
	// MaxRedeliveries bounds the deliveries of a task that begin again after one ended without
	// an outcome (crash, lost lease, panic); one more fails the task (MAX_REDELIVERIES,
	// default 5).
	MaxRedeliveries int

	// Outbound calls of apiCall nodes (worker, dev).
	MaxResponseBytes int64 // OUTBOUND_MAX_RESPONSE_BYTES
	// OutboundAllowPrivate lets apiCall nodes reach loopback and private addresses
	// (OUTBOUND_ALLOW_PRIVATE; default true for the dev role, false otherwise).
	OutboundAllowPrivate *bool
	BreakerFailures      int           // BREAKER_FAILURES
	BreakerOpenTimeout   time.Duration // BREAKER_OPEN_TIMEOUT
	// OutboundHostLimits are the per-host rate and in-flight limits shared by every worker
	// through Redis (OUTBOUND_HOST_LIMITS, see hostlimit.ParseLimits and docs/RATE-LIMITS.md);
	// hosts not listed are not limited.
	OutboundHostLimits []hostlimit.Limit
	// ThrottleMaxWait bounds how long one attempt of a call may wait for its host's limits
	// before the node fails with reason throttle_timeout (THROTTLE_MAX_WAIT, default 5m).
	ThrottleMaxWait time.Duration
	// EagerDispatch lets a worker execute the tasks its own transitions release, on the slot
	// that released them or a free one, instead of sending them through the queue
	// (EAGER_DISPATCH, default true; ARCHITECTURE rule 11). EagerHopBudget bounds the hops one
	// slot runs that way per delivery (EAGER_HOP_BUDGET, default 32).
	EagerDispatch  bool
	EagerHopBudget int
	// MaxInvokeDepth bounds how deeply invokeWorkflow nodes nest child runs (MAX_INVOKE_DEPTH,
	// default 8); a node that would go deeper fails with reason invoke_depth.
	MaxInvokeDepth int
	// InvokePollInterval is how often a task waiting for its child run checks the child in
	// case the child's end notification was lost (INVOKE_POLL_INTERVAL, default 30s).
	InvokePollInterval time.Duration
	// MaxWorkflowNodes and MaxWorkflowEdges bound a workflow definition the API accepts
	// (MAX_WORKFLOW_NODES, default 500; MAX_WORKFLOW_EDGES, default 2000).
	MaxWorkflowNodes int
	MaxWorkflowEdges int

	// Tracing (beside the OpenTelemetry SDK's OTEL_* variables).
	// TraceDBSpans says which PostgreSQL statements become spans (TRACE_DB_SPANS: off, slow or
	// all; default slow): slow keeps the statements that failed or took at least TraceDBSlow
	// (TRACE_DB_SLOW, default 100ms).
	TraceDBSpans string
	TraceDBSlow  time.Duration
	// TracePollRequests traces health, readiness, metrics and run-status requests too
	// (TRACE_POLL_REQUESTS, default false); they are counted in the HTTP metrics either way.
	TracePollRequests bool

	// Process.
	AutoMigrate bool   // AUTO_MIGRATE
	LogLevel    string // LOG_LEVEL
	// Version is the binary's build version, service.version on its spans.
	Version string
	// Getenv reads the OpenTelemetry SDK's OTEL_* variables and SECRET_* values.
	Getenv func(string) string

	// Test hooks.
	// TracerProvider, when set, replaces the one built from OTEL_* (tests record spans).
	TracerProvider trace.TracerProvider
	// Listener, when set, serves the API instead of listening on PORT (tests).
	Listener net.Listener
	// MetricsListener, when set, serves the worker's health and metrics instead of
	// METRICS_ADDR (tests).
	MetricsListener net.Listener
	// QueryTracer, when set, observes every PostgreSQL statement besides the telemetry's own
	// tracer (tests count statements).
	QueryTracer pgx.QueryTracer
}

// Defaults for a laptop: local PostgreSQL and Redis.
const (
	DefaultDatabaseURL = "postgres://postgres:postgres@localhost:5432/sequenceflow?sslmode=disable"
	DefaultRedisURL    = "redis://localhost:6379/0"
)

// PoolHeadroom is how many PostgreSQL connections a worker needs besides one per task slot
// (the reconciler and the heartbeat; readiness and metrics wait their turn): DB_MAX_CONNS
// must be at least WORKER_CONCURRENCY + PoolHeadroom for the worker and dev roles.
const PoolHeadroom = 2

// WithDefaults fills unset fields. Where a component has a default of its own, the value
// comes from that component, so the configuration shows what will really run.
func (c Config) WithDefaults() Config {
	c.DatabaseURL = cmp.Or(c.DatabaseURL, DefaultDatabaseURL)
	c.RedisURL = cmp.Or(c.RedisURL, DefaultRedisURL)
	c.Port = cmp.Or(c.Port, 3000)
	c.APIBaseURL = strings.TrimRight(cmp.Or(c.APIBaseURL, fmt.Sprintf("http://localhost:%d", c.Port)), "/")
	c.LogLevel = cmp.Or(c.LogLevel, "info")
	if c.MetricsWorkflowLabels == nil {
		n := telemetry.DefaultWorkflowLabels
		c.MetricsWorkflowLabels = &n
	}
	c.TraceDBSpans = strings.ToLower(cmp.Or(c.TraceDBSpans, telemetry.DBSpansSlow))
	c.TraceDBSlow = cmp.Or(c.TraceDBSlow, 100*time.Millisecond)
	if c.Getenv == nil {
		c.Getenv = func(string) string { return "" }
	}

	srv := c.serverConfig().WithDefaults()
	c.Queue, c.WorkerConcurrency = srv.Queue, srv.Concurrency
	c.PollInterval, c.DelayedInterval, c.ShutdownTimeout = srv.PollInterval, srv.DelayedCheckInterval, srv.ShutdownTimeout
	c.DBMaxConns = cmp.Or(c.DBMaxConns, c.WorkerConcurrency+10)

	api := c.apiConfig().WithDefaults()
	c.MaxBodyBytes, c.SyncWaitTimeout, c.SyncWaitPoll = api.MaxBodyBytes, api.SyncTimeout, api.SyncPoll
	c.MaxWorkflowNodes, c.MaxWorkflowEdges = api.Limits.MaxNodes, api.Limits.MaxEdges

	eng := c.engineConfig().WithDefaults()
	c.NodeTimeout, c.RetryBaseDelay, c.RetryMaxDelay = eng.NodeTimeout, eng.RetryBaseDelay, eng.RetryMaxDelay
	c.MaxRedeliveries, c.ThrottleMaxWait, c.EagerHopBudget = eng.MaxRedeliveries, eng.ThrottleMaxWait, eng.EagerHopBudget
	c.MaxInvokeDepth, c.InvokePollInterval = eng.MaxInvokeDepth, eng.InvokePollInterval
	c.EvalSteps, c.EvalBytes, c.PreparedVersions = eng.EvalBudget.Steps, eng.EvalBudget.Bytes, eng.PreparedVersions

	beat := c.heartbeatConfig().WithDefaults()
	c.WorkerHeartbeatInterval, c.WorkerLease = beat.Interval, beat.Lease

	if c.RunRetention == nil {
		d := retention.DefaultRetention
		c.RunRetention = &d
	}
	ret := c.retentionConfig().WithDefaults()
	c.RetentionInterval, c.RetentionBatch, c.RetentionPause = ret.Interval, ret.Batch, ret.Pause

	sch := c.scheduleConfig().WithDefaults()
	c.SchedulePoll, c.ScheduleMisfire = sch.Poll, sch.MisfireThreshold

	rec := c.reconcilerConfig().WithDefaults()
	c.ReconcileInterval, c.ReconcileAfter, c.ReconcileStaleAfter = rec.Interval, rec.After, rec.StaleAfter

	out := outbound.Config{MaxResponseBytes: c.MaxResponseBytes}.WithDefaults()
	c.MaxResponseBytes = out.MaxResponseBytes
	br := outbound.BreakerConfig{OpenTimeout: c.BreakerOpenTimeout}.WithDefaults()
	c.BreakerOpenTimeout = br.OpenTimeout
	if c.BreakerFailures == 0 {
		c.BreakerFailures = int(br.Failures)
	}
	return c
}

// ListenAddress is where the API of role listens: LISTEN_ADDR and PORT. The dev role listens
// on 127.0.0.1 unless LISTEN_ADDR says otherwise, since it lets apiCall nodes reach private
// addresses and usually runs without API keys; the api role listens on every interface.
func (c Config) ListenAddress(role Role) string {
	host := strings.Trim(c.ListenAddr, "[]")
	if host == "" && role == RoleDev {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(c.Port))
}

// The components' configurations, built from this one.

func (c Config) serverConfig() queue.ServerConfig {
	return queue.ServerConfig{Queue: c.Queue, Concurrency: c.WorkerConcurrency, PollInterval: c.PollInterval,
		DelayedCheckInterval: c.DelayedInterval, ShutdownTimeout: c.ShutdownTimeout}
}

func (c Config) apiConfig() httpapi.Config {
	return httpapi.Config{MaxBodyBytes: c.MaxBodyBytes, CORSOrigins: splitList(c.CORSOrigins), JaegerUIURL: c.JaegerUIURL,
		APIKeys: c.APIKeys, RunsPerSecond: c.RunsPerSecond, RunBurst: c.RunBurst, SyncTimeout: c.SyncWaitTimeout, SyncPoll: c.SyncWaitPoll,
		Limits: workflow.Limits{MaxNodes: c.MaxWorkflowNodes, MaxEdges: c.MaxWorkflowEdges}}
}

func (c Config) engineConfig() engine.Config {
	return engine.Config{NodeTimeout: c.NodeTimeout, RetryBaseDelay: c.RetryBaseDelay, RetryMaxDelay: c.RetryMaxDelay, RunTimeout: c.RunTimeout,
		MaxRedeliveries: c.MaxRedeliveries, EvalBudget: expr.Budget{Steps: c.EvalSteps, Bytes: c.EvalBytes}, PreparedVersions: c.PreparedVersions,
		ThrottleMaxWait: c.ThrottleMaxWait, ResumeBaseURL: c.APIBaseURL, EagerDispatch: c.EagerDispatch, EagerHopBudget: c.EagerHopBudget,
		MaxInvokeDepth: c.MaxInvokeDepth, InvokePollInterval: c.InvokePollInterval}
}

func (c Config) heartbeatConfig() engine.HeartbeatConfig {
	return engine.HeartbeatConfig{Interval: c.WorkerHeartbeatInterval, Lease: c.WorkerLease}
}

func (c Config) reconcilerConfig() engine.ReconcilerConfig {
	return engine.ReconcilerConfig{Interval: c.ReconcileInterval, After: c.ReconcileAfter, StaleAfter: c.ReconcileStaleAfter}
}

func (c Config) scheduleConfig() schedule.Config {
	return schedule.Config{Poll: c.SchedulePoll, MisfireThreshold: c.ScheduleMisfire}
}

func (c Config) retentionConfig() retention.Config {
	var keep time.Duration
	if c.RunRetention != nil {
		keep = *c.RunRetention
	}
	return retention.Config{Retention: keep, Interval: c.RetentionInterval, Batch: c.RetentionBatch, Pause: c.RetentionPause}
}

// ConfigFromEnv reads the configuration of a role; every variable is optional. Its error
// lists every bad variable, one line each.
func ConfigFromEnv(getenv func(string) string, role Role) (Config, error) {
	r := envReader{get: getenv, problems: newProblems()}
	c := Config{
		DatabaseURL: getenv("DATABASE_URL"),
		RedisURL:    getenv("REDIS_URL"),
		DBMaxConns:  r.int("DB_MAX_CONNS"),

		Port:               r.int("PORT"),
		ListenAddr:         getenv("LISTEN_ADDR"),
		APIBaseURL:         getenv("API_BASE_URL"),
		MaxBodyBytes:       int64(r.int("MAX_BODY_BYTES")),
		CORSOrigins:        getenv("CORS_ORIGIN"),
		SeedSamples:        r.bool("SEED_SAMPLES", true),
		APIKeys:            splitList(getenv("API_KEYS")),
		RunsPerSecond:      r.float("RATE_LIMIT_RUNS_PER_SECOND"),
		RunBurst:           r.int("RATE_LIMIT_RUNS_BURST"),
		SyncWaitTimeout:    r.duration("SYNC_EXECUTE_TIMEOUT"),
		SyncWaitPoll:       r.duration("SYNC_EXECUTE_POLL"),
		JaegerUIURL:        getenv("JAEGER_UI_URL"),
		MonitoringWritable: r.bool("MONITORING_WRITABLE", false),

		Queue:             getenv("QUEUE_NAME"),
		WorkerConcurrency: r.int("WORKER_CONCURRENCY"),
		PollInterval:      r.duration("QUEUE_POLL_INTERVAL"),
		DelayedInterval:   r.duration("QUEUE_DELAYED_CHECK_INTERVAL"),
		ShutdownTimeout:   r.duration("SHUTDOWN_TIMEOUT"),
		MetricsAddr:       getenv("METRICS_ADDR"),

		MetricsWorkflowLabels: r.optionalInt("METRICS_WORKFLOW_LABELS"),

		NodeTimeout:    r.duration("NODE_TIMEOUT"),
		RetryBaseDelay: r.duration("RETRY_BASE_DELAY"),
		RetryMaxDelay:  r.duration("RETRY_MAX_DELAY"),
		RunTimeout:     r.duration("RUN_TIMEOUT"),

		EvalSteps:        r.int("EVAL_BUDGET_STEPS"),
		EvalBytes:        r.int("EVAL_BUDGET_BYTES"),
		PreparedVersions: r.int("PREPARED_VERSIONS"),

		ReconcileInterval:   r.duration("RECONCILE_INTERVAL"),
		ReconcileAfter:      r.duration("RECONCILE_AFTER"),
		ReconcileStaleAfter: r.duration("RECONCILE_STALE_AFTER"),

		RunRetention:      r.retention("RUN_RETENTION"),
		RetentionInterval: r.duration("RETENTION_INTERVAL"),
		RetentionBatch:    r.int("RETENTION_BATCH"),
		RetentionPause:    r.duration("RETENTION_BATCH_PAUSE"),

		SchedulePoll:    r.duration("SCHEDULE_POLL_INTERVAL"),
		ScheduleMisfire: r.duration("SCHEDULE_MISFIRE_THRESHOLD"),

		WorkerHeartbeatInterval: r.duration("WORKER_HEARTBEAT_INTERVAL"),
		WorkerLease:             r.duration("WORKER_LEASE"),
		MaxRedeliveries:         r.int("MAX_REDELIVERIES"),

		MaxResponseBytes:     int64(r.int("OUTBOUND_MAX_RESPONSE_BYTES")),
		OutboundAllowPrivate: r.optionalBool("OUTBOUND_ALLOW_PRIVATE"),
		BreakerFailures:      r.int("BREAKER_FAILURES"),
		BreakerOpenTimeout:   r.duration("BREAKER_OPEN_TIMEOUT"),
		OutboundHostLimits:   r.hostLimits("OUTBOUND_HOST_LIMITS"),
		ThrottleMaxWait:      r.duration("THROTTLE_MAX_WAIT"),
		EagerDispatch:        r.bool("EAGER_DISPATCH", true),
		EagerHopBudget:       r.int("EAGER_HOP_BUDGET"),
		MaxInvokeDepth:       r.int("MAX_INVOKE_DEPTH"),
		InvokePollInterval:   r.duration("INVOKE_POLL_INTERVAL"),
		MaxWorkflowNodes:     r.int("MAX_WORKFLOW_NODES"),
		MaxWorkflowEdges:     r.int("MAX_WORKFLOW_EDGES"),

		TraceDBSpans:      strings.TrimSpace(getenv("TRACE_DB_SPANS")),
		TraceDBSlow:       r.duration("TRACE_DB_SLOW"),
		TracePollRequests: r.bool("TRACE_POLL_REQUESTS", false),

		AutoMigrate: r.bool("AUTO_MIGRATE", false),
		LogLevel:    getenv("LOG_LEVEL"),
		Getenv:      getenv,
	}
	c = c.WithDefaults()
	c.check(role, r.problems)
	return c, r.problems.err()
}

// envReader parses variables, recording a problem for each value it cannot parse (the
// variable then reads as unset, and no later rule reports it a second time).
type envReader struct {
	get      func(string) string
	problems *problems
}

func (r *envReader) int(name string) int {
	v := r.get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		r.problems.add(name, "must be a whole number, got %q", v)
		return 0
	}
	return n
}

// optionalInt reads a whole number where 0 is a value of its own: nil when unset.
func (r *envReader) optionalInt(name string) *int {
	if r.get(name) == "" {
		return nil
	}
	n := r.int(name)
	if r.problems.seen[name] {
		return nil
	}
	return &n
}

func (r *envReader) float(name string) float64 {
	v := r.get(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		r.problems.add(name, "must be a number, got %q", v)
		return 0
	}
	return f
}

func (r *envReader) duration(name string) time.Duration {
	v := r.get(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		r.problems.add(name, "must be a duration such as 500ms, 10s or 5m, got %q", v)
		return 0
	}
	return d
}

// retention reads a retention window (retention.ParseRetention: 12h, 30d, 0 for ever): nil
// when unset or invalid.
func (r *envReader) retention(name string) *time.Duration {
	v := r.get(name)
	if v == "" {
		return nil
	}
	d, err := retention.ParseRetention(v)
	if err != nil {
		r.problems.add(name, "must be a duration such as 12h or a number of days such as 30d, or 0 to keep runs forever: %v", err)
		return nil
	}
	return &d
}

func (r *envReader) hostLimits(name string) []hostlimit.Limit {
	limits, err := hostlimit.ParseLimits(r.get(name))
	if err != nil {
		r.problems.add(name, "must be host[:port]=RATE[:BURST[:INFLIGHT]] entries separated by commas, RATE N/s, N/m or none (see docs/RATE-LIMITS.md): %v", err)
	}
	return limits
}

func (r *envReader) optionalBool(name string) *bool {
	if r.get(name) == "" {
		return nil
	}
	b := r.bool(name, false)
	return &b
}

func (r *envReader) bool(name string, fallback bool) bool {
	v := r.get(name)
	if v == "" {
		return fallback
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		r.problems.add(name, "must be true or false, got %q", v)
		return fallback
	}
	return b
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
