package app

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/net/http/httpguts"

	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/retention"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// Bounds of the configuration. Each one keeps a value inside what the component can honour
// (an int32 pool size, a uint32 breaker count) or what the API accepts per request.
const (
	maxWorkerConcurrency = 1000
	maxDBConns           = 10000
	maxBodyBytes         = 1 << 30
	maxBreakerFailures   = 10000
	maxRunTimeout        = 30 * 24 * time.Hour // as a run's own timeoutMs
	maxRetryDelay        = 24 * time.Hour
	// minAPIKeyLength is the shortest API key accepted: nothing limits how often a client may
	// try a key, so a key must be long enough that guessing it is hopeless.
	minAPIKeyLength     = 16
	maxRunBurst         = 1_000_000
	maxRunsPerSecond    = 1_000_000
	maxRedeliveries     = 1000
	maxEvalSteps        = 1_000_000_000
	maxEvalBytes        = 1 << 30
	maxPreparedVersions = 100_000
	maxInvokeDepth      = 100 // engine.MaxInvokeDepthLimit
	maxWorkflowNodes    = 10_000
	maxWorkflowEdges    = 50_000
)

// problems collects one line per bad variable: the first rule a variable breaks is reported,
// later ones are not, so a value that cannot be parsed is not also called out of range.
type problems struct {
	seen map[string]bool
	errs []error
}

func newProblems() *problems { return &problems{seen: map[string]bool{}} }

func (p *problems) add(name, format string, args ...any) {
	if p.seen[name] {
		return
	}
	p.seen[name] = true
	p.errs = append(p.errs, fmt.Errorf("%s %s", name, fmt.Sprintf(format, args...)))
}

// ok reports whether every named variable is fine so far: a rule between variables is only
// checked on values that are each valid, so one bad value is reported once.
func (p *problems) ok(names ...string) bool {
	for _, n := range names {
		if p.seen[n] {
			return false
		}
	}
	return true
}

func (p *problems) err() error { return errors.Join(p.errs...) }

// positive reports a duration that must be above zero.
func (p *problems) positive(name string, d time.Duration) {
	if d <= 0 {
		p.add(name, "must be a positive duration, got %v", d)
	}
}

// positiveAtMost reports a duration that must be above zero and at most hi.
func (p *problems) positiveAtMost(name string, d, hi time.Duration) {
	p.positive(name, d)
	if d > hi {
		p.add(name, "must be at most %v, got %v", hi, d)
	}
}

// between reports a count outside [lo, hi].
func (p *problems) between(name string, v, lo, hi int64) {
	if v < lo || v > hi {
		p.add(name, "must be from %d to %d, got %d", lo, hi, v)
	}
}

// validate checks a configuration built in code (tests, tools) the way ConfigFromEnv checks
// the environment.
func (c Config) validate(role Role) error {
	p := newProblems()
	c.check(role, p)
	return p.err()
}

// check applies every rule to a configuration with its defaults filled in. The rules follow
// Config's groups; a rule between two variables is reported on the one it names first.
func (c Config) check(role Role, p *problems) {
	// Connections.
	if _, err := pgconn.ParseConfig(c.DatabaseURL); err != nil {
		p.add("DATABASE_URL", "is not a valid PostgreSQL URL (postgres://user:password@host:5432/db)")
	}
	if _, err := asynq.ParseRedisURI(c.RedisURL); err != nil {
		p.add("REDIS_URL", "is not a valid Redis URL (redis://host:6379/0, rediss:// or redis-socket://): %v", err)
	}
	p.between("DB_MAX_CONNS", int64(c.DBMaxConns), 1, maxDBConns)

	// HTTP API.
	p.between("PORT", int64(c.Port), 1, 65535)
	if _, _, err := net.SplitHostPort(c.ListenAddr); err == nil {
		p.add("LISTEN_ADDR", "is a host or IP address without a port (PORT sets the port), got %q", c.ListenAddr)
	}
	if p.ok("PORT") || c.APIBaseURL != fmt.Sprintf("http://localhost:%d", c.Port) { // not the default built from a bad PORT
		checkHTTPURL(p, "API_BASE_URL", c.APIBaseURL)
	}
	p.between("MAX_BODY_BYTES", c.MaxBodyBytes, 1, maxBodyBytes)
	for _, origin := range splitList(c.CORSOrigins) {
		if !isOrigin(origin) {
			p.add("CORS_ORIGIN", "must list origins such as https://app.example.com (scheme and host, no path or trailing slash), got %q", origin)
		}
	}
	for i, key := range c.APIKeys {
		switch {
		case !httpguts.ValidHeaderFieldValue(key) || strings.ContainsAny(key, " \t"):
			p.add("API_KEYS", "key %d contains spaces or characters an HTTP header cannot carry", i+1)
		case len(key) < minAPIKeyLength:
			p.add("API_KEYS", "key %d is %d characters long, shorter than %d: a short key can be guessed (generate one with openssl rand -hex 32)", i+1, len(key), minAPIKeyLength)
		}
	}
	if c.RunsPerSecond < 0 || c.RunsPerSecond > maxRunsPerSecond || math.IsNaN(c.RunsPerSecond) {
		p.add("RATE_LIMIT_RUNS_PER_SECOND", "must be from 0 (no limit) to %d, got %v", maxRunsPerSecond, c.RunsPerSecond)
	}
	switch {
	case c.RunBurst < 0 || c.RunBurst > maxRunBurst:
		p.add("RATE_LIMIT_RUNS_BURST", "must be from 1 to %d, got %d", maxRunBurst, c.RunBurst)
	case c.RunBurst > 0 && c.RunsPerSecond == 0 && p.ok("RATE_LIMIT_RUNS_PER_SECOND"):
		p.add("RATE_LIMIT_RUNS_BURST", "has no effect without RATE_LIMIT_RUNS_PER_SECOND: set both, or neither")
	}
	p.positive("SYNC_EXECUTE_TIMEOUT", c.SyncWaitTimeout)
	p.positive("SYNC_EXECUTE_POLL", c.SyncWaitPoll)
	if p.ok("SYNC_EXECUTE_POLL", "SYNC_EXECUTE_TIMEOUT") && c.SyncWaitPoll > c.SyncWaitTimeout {
		p.add("SYNC_EXECUTE_POLL", "(%v) must not be longer than SYNC_EXECUTE_TIMEOUT (%v)", c.SyncWaitPoll, c.SyncWaitTimeout)
	}
	if c.JaegerUIURL != "" {
		checkHTTPURL(p, "JAEGER_UI_URL", c.JaegerUIURL)
	}

	// Queue and worker.
	if !queueName.MatchString(c.Queue) {
		p.add("QUEUE_NAME", "must be 1 to 100 letters, digits, '.', '_' or '-', got %q", c.Queue)
	}
	p.between("WORKER_CONCURRENCY", int64(c.WorkerConcurrency), 1, maxWorkerConcurrency)
	if (role == RoleWorker || role == RoleDev) && p.ok("DB_MAX_CONNS", "WORKER_CONCURRENCY") && c.DBMaxConns < c.WorkerConcurrency+PoolHeadroom {
		p.add("DB_MAX_CONNS", "must be at least WORKER_CONCURRENCY + %d = %d (one connection per task slot plus the reconciler and the heartbeat), got %d",
			PoolHeadroom, c.WorkerConcurrency+PoolHeadroom, c.DBMaxConns)
	}
	p.positive("QUEUE_POLL_INTERVAL", c.PollInterval)
	p.positive("QUEUE_DELAYED_CHECK_INTERVAL", c.DelayedInterval)
	p.positive("SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	if c.MetricsAddr != "" && c.MetricsAddr != "off" && !isListenAddr(c.MetricsAddr) {
		p.add("METRICS_ADDR", "must be host:port or :port (e.g. :9091), or off, got %q", c.MetricsAddr)
	}
	if n := c.MetricsWorkflowLabels; n != nil && (*n < 0 || *n > telemetry.MaxWorkflowLabels) {
		p.add("METRICS_WORKFLOW_LABELS", "must be from 0 (no workflow label) to %d, got %d", telemetry.MaxWorkflowLabels, *n)
	}

	// Engine.
	p.positive("NODE_TIMEOUT", c.NodeTimeout)
	if c.NodeTimeout > nodes.MaxTimeout {
		p.add("NODE_TIMEOUT", "must be at most %v (the longest timeoutMs a node may set), got %v", nodes.MaxTimeout, c.NodeTimeout)
	}
	p.positive("RETRY_BASE_DELAY", c.RetryBaseDelay)
	p.positiveAtMost("RETRY_MAX_DELAY", c.RetryMaxDelay, maxRetryDelay)
	if p.ok("RETRY_BASE_DELAY", "RETRY_MAX_DELAY") && c.RetryBaseDelay > c.RetryMaxDelay {
		p.add("RETRY_BASE_DELAY", "(%v) must not be longer than RETRY_MAX_DELAY (%v)", c.RetryBaseDelay, c.RetryMaxDelay)
	}
	if c.RunTimeout < 0 || c.RunTimeout > maxRunTimeout {
		p.add("RUN_TIMEOUT", "must be from 0 (no deadline) to %v, got %v", maxRunTimeout, c.RunTimeout)
	}
	p.between("EVAL_BUDGET_STEPS", int64(c.EvalSteps), 1, maxEvalSteps)
	p.between("EVAL_BUDGET_BYTES", int64(c.EvalBytes), 1, maxEvalBytes)
	p.between("PREPARED_VERSIONS", int64(c.PreparedVersions), 1, maxPreparedVersions)

	// Reconciler.
	p.positive("RECONCILE_INTERVAL", c.ReconcileInterval)
	p.positive("RECONCILE_AFTER", c.ReconcileAfter)
	p.positive("RECONCILE_STALE_AFTER", c.ReconcileStaleAfter)
	if longest := max(c.NodeTimeout, nodes.MaxTimeout); p.ok("RECONCILE_STALE_AFTER", "NODE_TIMEOUT") && c.ReconcileStaleAfter <= longest {
		p.add("RECONCILE_STALE_AFTER", "(%v) must be longer than the longest node timeout (%v: NODE_TIMEOUT or a node's timeoutMs), or live executions would be delivered twice",
			c.ReconcileStaleAfter, longest)
	}
	if p.ok("RECONCILE_AFTER", "RECONCILE_STALE_AFTER") && c.ReconcileAfter >= c.ReconcileStaleAfter {
		p.add("RECONCILE_AFTER", "(%v) must be shorter than RECONCILE_STALE_AFTER (%v)", c.ReconcileAfter, c.ReconcileStaleAfter)
	}

	// Retention.
	if keep := *c.RunRetention; keep != 0 && keep < retention.MinRetention {
		p.add("RUN_RETENTION", "must be 0 (keep runs forever) or at least %v, got %v", retention.MinRetention, keep)
	}
	p.positive("RETENTION_INTERVAL", c.RetentionInterval)
	p.between("RETENTION_BATCH", int64(c.RetentionBatch), 1, retention.MaxBatch)
	p.positive("RETENTION_BATCH_PAUSE", c.RetentionPause)

	// Schedules.
	p.positive("SCHEDULE_POLL_INTERVAL", c.SchedulePoll)
	p.positive("SCHEDULE_MISFIRE_THRESHOLD", c.ScheduleMisfire)
	if p.ok("SCHEDULE_POLL_INTERVAL", "SCHEDULE_MISFIRE_THRESHOLD") && c.ScheduleMisfire < c.SchedulePoll {
		p.add("SCHEDULE_MISFIRE_THRESHOLD", "(%v) must not be shorter than SCHEDULE_POLL_INTERVAL (%v), or ticks would count as missed between two polls",
			c.ScheduleMisfire, c.SchedulePoll)
	}

	// Liveness.
	p.positive("WORKER_HEARTBEAT_INTERVAL", c.WorkerHeartbeatInterval)
	p.positive("WORKER_LEASE", c.WorkerLease)
	if p.ok("WORKER_HEARTBEAT_INTERVAL", "WORKER_LEASE") && c.WorkerLease <= c.WorkerHeartbeatInterval {
		p.add("WORKER_LEASE", "(%v) must be longer than WORKER_HEARTBEAT_INTERVAL (%v), or live workers would look dead between heartbeats",
			c.WorkerLease, c.WorkerHeartbeatInterval)
	}
	p.between("MAX_REDELIVERIES", int64(c.MaxRedeliveries), 1, maxRedeliveries)
	p.between("MAX_INVOKE_DEPTH", int64(c.MaxInvokeDepth), 1, maxInvokeDepth)
	p.positiveAtMost("INVOKE_POLL_INTERVAL", c.InvokePollInterval, maxRetryDelay)
	p.between("MAX_WORKFLOW_NODES", int64(c.MaxWorkflowNodes), 1, maxWorkflowNodes)
	p.between("MAX_WORKFLOW_EDGES", int64(c.MaxWorkflowEdges), 1, maxWorkflowEdges)

	// Outbound calls.
	p.between("OUTBOUND_MAX_RESPONSE_BYTES", c.MaxResponseBytes, 1, maxBodyBytes)
	p.between("BREAKER_FAILURES", int64(c.BreakerFailures), 1, maxBreakerFailures)
	p.positive("BREAKER_OPEN_TIMEOUT", c.BreakerOpenTimeout)
	if len(c.OutboundHostLimits) > hostlimit.MaxHosts {
		p.add("OUTBOUND_HOST_LIMITS", "has %d hosts, more than the limit of %d", len(c.OutboundHostLimits), hostlimit.MaxHosts)
	}
	p.positiveAtMost("THROTTLE_MAX_WAIT", c.ThrottleMaxWait, maxRetryDelay)

	// Tracing.
	switch c.TraceDBSpans {
	case telemetry.DBSpansOff, telemetry.DBSpansSlow, telemetry.DBSpansAll:
	default:
		p.add("TRACE_DB_SPANS", "must be off, slow or all, got %q", c.TraceDBSpans)
	}
	p.positive("TRACE_DB_SLOW", c.TraceDBSlow)

	// Process.
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		p.add("LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
}

var queueName = regexp.MustCompile(`^[A-Za-z0-9._-]{1,100}$`)

func checkHTTPURL(p *problems, name, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(name, "must be an http(s) URL with a host, got %q", raw)
	}
}

// isOrigin reports whether s is what a browser sends in Origin: scheme://host[:port].
func isOrigin(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.Path == "" &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

func isListenAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 0 && n <= 65535
}
