// Package app composes SequenceFlow's processes: it reads configuration from the environment,
// connects PostgreSQL and Redis, builds the engine, API and worker, and runs the components of
// a role until its context ends.
package app

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Config is every setting of every role. ConfigFromEnv reads it; WithDefaults fills the rest.
type Config struct {
	DatabaseURL string // DATABASE_URL
	RedisURL    string // REDIS_URL
	Port        int    // PORT (api, dev)
	// ListenAddr is the host or IP address the API listens on, without the port (LISTEN_ADDR;
	// default: 127.0.0.1 for the dev role, every interface for api). See ListenAddress.
	ListenAddr string
	// APIBaseURL is where workers reach this service's mock endpoints; sample workflows and
	// templates use it and apiCall URLs on http://localhost:3000 are rewritten to it
	// (API_BASE_URL, default http://localhost:PORT).
	APIBaseURL        string
	Queue             string        // QUEUE_NAME
	WorkerConcurrency int           // WORKER_CONCURRENCY
	PollInterval      time.Duration // QUEUE_POLL_INTERVAL
	DelayedInterval   time.Duration // QUEUE_DELAYED_CHECK_INTERVAL
	ShutdownTimeout   time.Duration // SHUTDOWN_TIMEOUT
	NodeTimeout       time.Duration // NODE_TIMEOUT
	RetryBaseDelay    time.Duration // RETRY_BASE_DELAY
	RunTimeout        time.Duration // RUN_TIMEOUT
	ReconcileInterval time.Duration // RECONCILE_INTERVAL
	ReconcileAfter    time.Duration // RECONCILE_AFTER
	// ReconcileStaleAfter is how long a task may be running before the reconciler presumes its
	// delivery lost (RECONCILE_STALE_AFTER, default 15m; keep it above the longest node timeout).
	ReconcileStaleAfter time.Duration
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
	MaxRedeliveries  int
	DBMaxConns       int    // DB_MAX_CONNS
	MaxBodyBytes     int64  // MAX_BODY_BYTES
	MaxResponseBytes int64  // OUTBOUND_MAX_RESPONSE_BYTES
	CORSOrigins      string // CORS_ORIGIN
	SeedSamples      bool   // SEED_SAMPLES
	AutoMigrate      bool   // AUTO_MIGRATE
	LogLevel         string // LOG_LEVEL
	// MetricsAddr is the worker's own HTTP server for /healthz, /readyz and /metrics
	// (METRICS_ADDR, default :9091 for the worker role; "off" disables it).
	MetricsAddr string
	// JaegerUIURL, when set, makes run responses carry a link to the run's trace
	// (JAEGER_UI_URL, e.g. http://localhost:16686).
	JaegerUIURL string
	// MonitoringWritable lets the /monitoring queue UI change queues (MONITORING_WRITABLE;
	// read-only by default).
	MonitoringWritable bool
	// OutboundAllowPrivate lets apiCall nodes reach loopback and private addresses
	// (OUTBOUND_ALLOW_PRIVATE; default true for the dev role, false otherwise).
	OutboundAllowPrivate *bool
	// APIKeys are required on the API when set (API_KEYS, comma-separated).
	APIKeys []string
	// RunsPerSecond and RunBurst limit run creation per API key or client IP
	// (RATE_LIMIT_RUNS_PER_SECOND, default 0 = no limit; RATE_LIMIT_RUNS_BURST).
	RunsPerSecond      float64
	RunBurst           int
	BreakerFailures    int           // BREAKER_FAILURES
	BreakerOpenTimeout time.Duration // BREAKER_OPEN_TIMEOUT
	// Getenv reads the OpenTelemetry SDK's OTEL_* variables.
	Getenv func(string) string
	// TracerProvider, when set, replaces the one built from OTEL_* (tests record spans).
	TracerProvider trace.TracerProvider
	// Listener, when set, serves the API instead of listening on PORT (tests).
	Listener net.Listener
	// MetricsListener, when set, serves the worker's health and metrics instead of
	// METRICS_ADDR (tests).
	MetricsListener net.Listener
}

// Defaults for a laptop: local PostgreSQL and Redis.
const (
	DefaultDatabaseURL = "postgres://postgres:postgres@localhost:5432/sequenceflow?sslmode=disable"
	DefaultRedisURL    = "redis://localhost:6379/0"
)

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.DatabaseURL == "" {
		c.DatabaseURL = DefaultDatabaseURL
	}
	if c.RedisURL == "" {
		c.RedisURL = DefaultRedisURL
	}
	if c.Port == 0 {
		c.Port = 3000
	}
	if c.APIBaseURL == "" {
		c.APIBaseURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
	if c.Queue == "" {
		c.Queue = "sequenceflow"
	}
	if c.WorkerConcurrency == 0 {
		c.WorkerConcurrency = 10
	}
	if c.WorkerHeartbeatInterval == 0 {
		c.WorkerHeartbeatInterval = 5 * time.Second
	}
	if c.WorkerLease == 0 {
		c.WorkerLease = 30 * time.Second
	}
	if c.MaxRedeliveries == 0 {
		c.MaxRedeliveries = 5
	}
	if c.DBMaxConns == 0 {
		c.DBMaxConns = c.WorkerConcurrency + 10
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.Getenv == nil {
		c.Getenv = func(string) string { return "" }
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT must be 1-65535, got %d", c.Port))
	}
	if c.WorkerConcurrency < 1 || c.WorkerConcurrency > 1000 {
		errs = append(errs, fmt.Errorf("WORKER_CONCURRENCY must be 1-1000, got %d", c.WorkerConcurrency))
	}
	if c.WorkerHeartbeatInterval < 0 || c.WorkerLease <= c.WorkerHeartbeatInterval {
		errs = append(errs, fmt.Errorf("WORKER_LEASE (%s) must be longer than WORKER_HEARTBEAT_INTERVAL (%s), both positive", c.WorkerLease, c.WorkerHeartbeatInterval))
	}
	if c.MaxRedeliveries < 0 {
		errs = append(errs, fmt.Errorf("MAX_REDELIVERIES must be positive, got %d", c.MaxRedeliveries))
	}
	if c.BreakerFailures < 0 {
		errs = append(errs, fmt.Errorf("BREAKER_FAILURES must be positive, got %d", c.BreakerFailures))
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err == nil {
		errs = append(errs, fmt.Errorf("LISTEN_ADDR is a host or IP address without a port (PORT sets the port), got %q", c.ListenAddr))
	}
	if !strings.HasPrefix(c.APIBaseURL, "http://") && !strings.HasPrefix(c.APIBaseURL, "https://") {
		errs = append(errs, fmt.Errorf("API_BASE_URL must be an http(s) URL, got %q", c.APIBaseURL))
	}
	return errors.Join(errs...)
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

// ConfigFromEnv reads the configuration; every variable is optional.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	r := envReader{get: getenv}
	c := Config{
		DatabaseURL:             getenv("DATABASE_URL"),
		RedisURL:                getenv("REDIS_URL"),
		Port:                    r.int("PORT"),
		ListenAddr:              getenv("LISTEN_ADDR"),
		APIBaseURL:              getenv("API_BASE_URL"),
		Queue:                   getenv("QUEUE_NAME"),
		WorkerConcurrency:       r.int("WORKER_CONCURRENCY"),
		PollInterval:            r.duration("QUEUE_POLL_INTERVAL"),
		DelayedInterval:         r.duration("QUEUE_DELAYED_CHECK_INTERVAL"),
		ShutdownTimeout:         r.duration("SHUTDOWN_TIMEOUT"),
		NodeTimeout:             r.duration("NODE_TIMEOUT"),
		RetryBaseDelay:          r.duration("RETRY_BASE_DELAY"),
		RunTimeout:              r.duration("RUN_TIMEOUT"),
		ReconcileInterval:       r.duration("RECONCILE_INTERVAL"),
		ReconcileAfter:          r.duration("RECONCILE_AFTER"),
		ReconcileStaleAfter:     r.duration("RECONCILE_STALE_AFTER"),
		WorkerHeartbeatInterval: r.duration("WORKER_HEARTBEAT_INTERVAL"),
		WorkerLease:             r.duration("WORKER_LEASE"),
		MaxRedeliveries:         r.int("MAX_REDELIVERIES"),
		DBMaxConns:              r.int("DB_MAX_CONNS"),
		MaxBodyBytes:            int64(r.int("MAX_BODY_BYTES")),
		MaxResponseBytes:        int64(r.int("OUTBOUND_MAX_RESPONSE_BYTES")),
		CORSOrigins:             getenv("CORS_ORIGIN"),
		SeedSamples:             r.bool("SEED_SAMPLES", true),
		AutoMigrate:             r.bool("AUTO_MIGRATE", false),
		LogLevel:                getenv("LOG_LEVEL"),
		MetricsAddr:             getenv("METRICS_ADDR"),
		JaegerUIURL:             getenv("JAEGER_UI_URL"),
		MonitoringWritable:      r.bool("MONITORING_WRITABLE", false),
		OutboundAllowPrivate:    r.optionalBool("OUTBOUND_ALLOW_PRIVATE"),
		APIKeys:                 splitList(getenv("API_KEYS")),
		RunsPerSecond:           r.float("RATE_LIMIT_RUNS_PER_SECOND"),
		RunBurst:                r.int("RATE_LIMIT_RUNS_BURST"),
		BreakerFailures:         r.int("BREAKER_FAILURES"),
		BreakerOpenTimeout:      r.duration("BREAKER_OPEN_TIMEOUT"),
		Getenv:                  getenv,
	}
	if err := errors.Join(r.errs...); err != nil {
		return c, err
	}
	c = c.WithDefaults()
	return c, c.validate()
}

type envReader struct {
	get  func(string) string
	errs []error
}

func (r *envReader) int(name string) int {
	v := r.get(name)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s must be a whole number, got %q", name, v))
	}
	return n
}

func (r *envReader) float(name string) float64 {
	v := r.get(name)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		r.errs = append(r.errs, fmt.Errorf("%s must be a non-negative number, got %q", name, v))
	}
	return f
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

func (r *envReader) duration(name string) time.Duration {
	v := r.get(name)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s must be a duration such as 500ms or 10s, got %q", name, v))
	}
	return d
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
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.errs = append(r.errs, fmt.Errorf("%s must be true or false, got %q", name, v))
	}
	return b
}
