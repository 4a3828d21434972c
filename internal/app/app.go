package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/sequenceflow/sequenceflow/internal/apitemplate"
	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
	"github.com/sequenceflow/sequenceflow/internal/httpapi"
	"github.com/sequenceflow/sequenceflow/internal/mockapi"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/retention"
	"github.com/sequenceflow/sequenceflow/internal/sampledata"
	"github.com/sequenceflow/sequenceflow/internal/schedule"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Role names a process kind.
type Role string

// Roles.
const (
	RoleAPI     Role = "api"
	RoleWorker  Role = "worker"
	RoleMigrate Role = "migrate"
	RoleDev     Role = "dev"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleAPI, RoleWorker, RoleMigrate, RoleDev:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q: use api, worker, migrate or dev", s)
}

// App is one process of a role with its dependencies.
type App struct {
	cfg      Config
	role     Role
	log      *slog.Logger
	store    *store.Store
	redis    redis.UniversalClient
	queue    *queue.Client
	registry *nodes.Registry
	outbound *outbound.Client
	limiter  *hostlimit.Limiter // nil without OUTBOUND_HOST_LIMITS
	tel      *observability
	monitor  *asynqmon.HTTPHandler
	watcher  *store.RunWatcher // api, dev: wakes synchronous execute requests
	slots    *queue.Slots      // worker, dev: task slots, shared by deliveries and eager executions
	writes   *writeProbe
	pruner   *retention.Pruner // worker, dev: deletes run history past RUN_RETENTION
	// scheduler (worker, dev) fires due schedules, leader-free beside the other workers'.
	scheduler *schedule.Scheduler
	Engine    *engine.Engine
	// instanceID names the process (service.instance.id; a worker's heartbeat id).
	instanceID string
}

// New checks the configuration, connects to PostgreSQL and Redis and builds the components
// of role. An invalid configuration is refused before anything is started.
func New(ctx context.Context, cfg Config, role Role, log *slog.Logger) (*App, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(role); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, role: role, log: log}
	if role == RoleDev {
		if err := store.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return nil, err
		}
	}
	instanceID := newWorkerID()
	a.instanceID = instanceID
	tel, err := newObservability(ctx, cfg, role, instanceID, log)
	if err != nil {
		return nil, err
	}
	a.tel = tel
	st, err := store.Open(ctx, store.Config{URL: cfg.DatabaseURL, MaxConns: int32(cfg.DBMaxConns), Tracer: queryTracers(tel.pgxTracer(cfg), cfg.QueryTracer)})
	if err != nil {
		return nil, err
	}
	a.store = st
	if role == RoleMigrate {
		return a, nil
	}
	if a.redis, err = queue.Connect(ctx, cfg.RedisURL); err != nil {
		st.Close()
		return nil, err
	}
	a.queue = queue.NewClient(a.redis, cfg.Queue)
	a.writes = &writeProbe{rc: a.redis, ttl: time.Second, now: time.Now}
	allowPrivate := role == RoleDev
	if cfg.OutboundAllowPrivate != nil {
		allowPrivate = *cfg.OutboundAllowPrivate
	}
	outCfg := outbound.Config{
		MaxResponseBytes: cfg.MaxResponseBytes,
		AllowPrivate:     allowPrivate,
		Breaker:          tel.breakerConfig(cfg, log),
		TracerProvider:   tel.tracing.Provider,
		Propagator:       tel.tracing.Propagator,
	}
	if len(cfg.OutboundHostLimits) > 0 {
		a.limiter = hostlimit.New(a.redis, tel.hostLimitConfig(cfg, log))
		outCfg.Limiter = a.limiter
	}
	a.outbound = outbound.NewClient(outCfg)
	tel.metrics.Registry.MustRegister(tel.metrics.NewBreakerCollector(a.outbound))
	a.registry = nodes.NewRegistry(a.outbound, nodes.APICallConfig{SelfBaseURL: cfg.APIBaseURL, Secret: a.secret})
	engCfg := cfg.engineConfig()
	deps := engine.Deps{Store: st, Queue: a.queue, Registry: a.registry, Observer: tel.observer, Log: log}
	if role == RoleWorker || role == RoleDev {
		engCfg.WorkerID = instanceID // the worker is the process: its heartbeat id is its service.instance.id
		a.slots = queue.NewSlots(cfg.WorkerConcurrency)
		tel.metrics.RegisterWorkerSlots(a.slots)
		deps.Slots = a.slots // eager dispatch takes the free ones
	}
	if a.Engine, err = engine.New(engCfg, deps); err != nil {
		a.Close()
		return nil, err
	}
	tel.registerCollectors(st, a.queue, role)
	if a.limiter != nil && (role == RoleAPI || role == RoleDev) {
		tel.metrics.Registry.MustRegister(telemetry.NewInFlightCollector(a.limiter, cfg.OutboundHostLimits))
	}
	if role == RoleWorker || role == RoleDev {
		if a.pruner, err = retention.NewPruner(cfg.retentionConfig(), st, tel.metrics.RetentionObserver(), log.With("component", "retention")); err != nil {
			a.Close()
			return nil, err
		}
		if a.scheduler, err = schedule.NewScheduler(cfg.scheduleConfig(), st, a.Engine, tel.metrics.ScheduleObserver(), log.With("component", "schedule")); err != nil {
			a.Close()
			return nil, err
		}
	}
	if role == RoleAPI || role == RoleDev {
		if a.watcher, err = store.NewRunWatcher(st, store.RunWatcherConfig{Poll: cfg.SyncWaitPoll}, log); err != nil {
			a.Close()
			return nil, err
		}
		opt, err := asynq.ParseRedisURI(cfg.RedisURL)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.monitor = asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: opt, ReadOnly: !cfg.MonitoringWritable})
	}
	return a, nil
}

// secret is the configured secret of a name (SECRET_<NAME>), for apiCall headers and signed
// webhooks alike.
func (a *App) secret(name string) (string, bool) {
	v := a.cfg.Getenv("SECRET_" + strings.ToUpper(name))
	return v, v != ""
}

// Close releases connections and flushes telemetry.
func (a *App) Close() {
	if a.monitor != nil {
		a.monitor.Close()
	}
	if a.outbound != nil {
		a.outbound.CloseIdle()
	}
	if a.redis != nil {
		a.redis.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.tel.tracing.Shutdown(ctx); err != nil {
		a.log.Warn("flush traces", "error", err)
	}
}

// Store exposes the store (tests, tools).
func (a *App) Store() *store.Store { return a.store }

// Queue exposes the queue client (tests, tools).
func (a *App) Queue() *queue.Client { return a.queue }

// Metrics exposes the Prometheus registry (tests).
func (a *App) Metrics() *prometheus.Registry { return a.tel.metrics.Registry }

// Handler is the REST API, traced and measured. Its synchronous execute route is woken by
// the run watcher that Run runs.
func (a *App) Handler() http.Handler {
	var waiter httpapi.RunWaiter // nil (polling) for a role without a watcher
	if a.watcher != nil {
		waiter = a.watcher
	}
	apiCfg := a.cfg.apiConfig()
	apiCfg.TracesExported = a.tel.tracing.Exporting
	api := httpapi.New(apiCfg, httpapi.Deps{
		Workflows:      a.store,
		Runs:           a.store,
		Templates:      a.store,
		Hooks:          a.store,
		Schedules:      a.store,
		Engine:         a.Engine,
		Secret:         a.secret,
		ObserveHook:    func(result string) { a.tel.metrics.WebhookRequests.WithLabelValues(result).Inc() },
		Waiter:         waiter,
		ValidateConfig: a.registry.ValidateConfig,
		Mock:           mockapi.New(mockapi.Config{}),
		Metrics:        a.tel.metricsHandler(),
		Monitoring:     a.monitor,
		Ready:          a.ready,
		QueueRefusal:   a.writes.refused,
		Middleware:     []func(http.Handler) http.Handler{telemetry.RouteMetrics(a.tel.metrics)},
		Log:            a.log,
	})
	var untraced func(*http.Request) bool
	if !a.cfg.TracePollRequests {
		untraced = httpapi.PollMatcher()
	}
	return telemetry.HTTPServer(api, a.tel.tracing.Provider, a.tel.tracing.Propagator, untraced)
}

// ready reports whether PostgreSQL and Redis answer and the schema is at the version this
// binary expects.
func (a *App) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		return fmt.Errorf("cannot reach PostgreSQL: %w", err)
	}
	if err := a.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("cannot reach Redis: %w", err)
	}
	if err := a.writes.refused(ctx); err != nil {
		return err
	}
	return a.checkSchema(ctx)
}

// workerMux serves the worker's /healthz (alive), /readyz (dependencies reachable) and
// /metrics.
func (a *App) workerMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"ok"}`)
	})
	mux.Handle("GET /metrics", a.tel.metricsHandler())
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if err := a.ready(r.Context()); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			b, _ := json.Marshal(map[string]string{"status": "unavailable", "error": err.Error()})
			w.Write(b)
			return
		}
		fmt.Fprint(w, `{"status":"ready"}`)
	})
	return mux
}

// Run runs the role's components until ctx ends, then shuts them down gracefully.
func (a *App) Run(ctx context.Context) error {
	if a.role == RoleMigrate || a.role == RoleDev || a.cfg.AutoMigrate {
		if err := a.store.Migrate(ctx); err != nil {
			return err
		}
		a.log.Info("schema migrated")
		if a.role == RoleMigrate {
			return nil
		}
	}
	if err := a.checkSchema(ctx); err != nil {
		return err
	}
	if a.cfg.SeedSamples && (a.role == RoleAPI || a.role == RoleDev) {
		if err := a.Seed(ctx); err != nil {
			return err
		}
	}
	var srv *queue.Server
	if a.role == RoleWorker || a.role == RoleDev {
		srvCfg := a.cfg.serverConfig()
		srvCfg.Slots = a.slots
		srvCfg.Middleware = []asynq.MiddlewareFunc{telemetry.TaskSpans(a.tel.tracing.Provider, a.tel.tracing.Propagator)}
		var err error
		if srv, err = queue.NewServer(a.redis, srvCfg, a.Engine, a.log); err != nil {
			return err
		}
	}
	a.logStarting(a.cfg.Listener)
	g, ctx := errgroup.WithContext(ctx)
	shutdown := a.watchShutdown(ctx)
	if a.role == RoleAPI || a.role == RoleDev {
		// The run watcher outlives the API server, so requests still waiting while the server
		// drains are woken.
		watchCtx, stopWatching := context.WithCancel(context.WithoutCancel(ctx))
		g.Go(func() error { return a.watcher.Run(watchCtx) })
		g.Go(func() error {
			defer stopWatching()
			ln := a.cfg.Listener
			if ln == nil {
				var err error
				addr := a.cfg.ListenAddress(a.role)
				if ln, err = net.Listen("tcp", addr); err != nil {
					return fmt.Errorf("listen on %s: %w (set PORT to a free port, LISTEN_ADDR to an address of this host)", addr, err)
				}
			}
			return serve(ctx, ln, a.Handler(), a.log, "API")
		})
	}
	if ln := a.cfg.MetricsListener; ln != nil {
		g.Go(func() error { return serve(ctx, ln, a.workerMux(), a.log, "worker health and metrics") })
	} else if addr := a.metricsAddr(); addr != "" {
		g.Go(func() error { return serveHTTP(ctx, addr, a.workerMux(), a.log, "worker health and metrics") })
	}
	if a.role == RoleWorker || a.role == RoleDev {
		// The heartbeat outlives the queue server's graceful stop: the worker's row is removed
		// only once no delivery of it runs any more.
		beatCtx, stopBeat := context.WithCancel(context.WithoutCancel(ctx))
		beatDone := make(chan error, 1)
		go func() { beatDone <- a.Engine.RunHeartbeat(beatCtx, a.cfg.heartbeatConfig()) }()
		g.Go(func() error {
			err := srv.Run(ctx)
			stopBeat()
			return errors.Join(err, <-beatDone)
		})
		g.Go(func() error { return a.Engine.RunReconciler(ctx, a.cfg.reconcilerConfig()) })
		g.Go(func() error { return a.pruner.Run(ctx) })
		g.Go(func() error { return a.scheduler.Run(ctx) })
	}
	err := g.Wait()
	shutdown.done(err)
	return err
}

// newWorkerID names a worker process: host name, process id and a random suffix, so a
// restarted process (same host and pid in a container) is a new worker.
func newWorkerID() string {
	host, err := os.Hostname()
	if err != nil {
		host = "worker"
	}
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
}

// checkSchema refuses to run against a schema older than this binary expects.
func (a *App) checkSchema(ctx context.Context) error {
	current, expected, err := a.store.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("%w: run `sequenceflow migrate` first", err)
	}
	if current < expected {
		return fmt.Errorf("database schema is at version %d, this binary needs %d: run `sequenceflow migrate` (or `make migrate`)", current, expected)
	}
	return nil
}

// metricsAddr is where the worker serves health and metrics: METRICS_ADDR, by default :9091
// for the worker role and off for the others (the API serves its own).
func (a *App) metricsAddr() string {
	switch {
	case a.cfg.MetricsAddr == "off":
		return ""
	case a.cfg.MetricsAddr != "":
		return a.cfg.MetricsAddr
	case a.role == RoleWorker:
		return ":9091"
	}
	return ""
}

// serveHTTP serves handler on addr until ctx ends, then shuts down gracefully.
func serveHTTP(ctx context.Context, addr string, handler http.Handler, log *slog.Logger, what string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s for %s: %w", addr, what, err)
	}
	return serve(ctx, ln, handler, log, what)
}

func serve(ctx context.Context, ln net.Listener, handler http.Handler, log *slog.Logger, what string) error {
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// net/http's own complaints (accept errors, malformed requests) as JSON lines, limited
		// like the rest.
		ErrorLog: slog.NewLogLogger(log.With("component", "http").Handler(), slog.LevelWarn),
	}
	log.Info(what+" listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", what, err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down %s: %w", what, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Seed inserts the sample workflows and API templates into an empty database, once.
func (a *App) Seed(ctx context.Context) error {
	samples, err := sampledata.Workflows(a.cfg.APIBaseURL)
	if err != nil {
		return fmt.Errorf("load sample workflows: %w", err)
	}
	automations, err := sampledata.Automations(a.cfg.APIBaseURL)
	if err != nil {
		return fmt.Errorf("load automation samples: %w", err)
	}
	samples = append(samples, automations...)
	// Every sample gets its id before any is stored, so one may invoke another.
	ids := make(map[string]string, len(samples))
	for _, s := range samples {
		ids[s.Key] = uuid.NewString()
	}
	if err := sampledata.ResolveSampleIDs(samples, ids); err != nil {
		return err
	}
	var workflows []store.SampleWorkflow
	for _, s := range samples {
		var def workflow.Definition
		if err := json.Unmarshal(s.Definition, &def); err != nil {
			return fmt.Errorf("decode sample %q: %w", s.Name, err)
		}
		if err := workflow.Validate(def, workflow.DefaultLimits, a.registry.ValidateConfig); err != nil {
			return fmt.Errorf("sample %q is invalid: %w", s.Name, err)
		}
		workflows = append(workflows, store.SampleWorkflow{ID: ids[s.Key], Name: s.Name, Definition: def})
	}
	raw, err := sampledata.APITemplates(a.cfg.APIBaseURL)
	if err != nil {
		return fmt.Errorf("load sample templates: %w", err)
	}
	templates := make([]apitemplate.Template, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &templates[i]); err != nil {
			return fmt.Errorf("decode sample template %d: %w", i, err)
		}
	}
	seeded, err := a.store.Seed(ctx, workflows, templates, time.Now())
	if err != nil {
		return err
	}
	if seeded {
		a.log.Info("sample data seeded", "workflows", len(workflows), "templates", len(templates))
	}
	return nil
}
