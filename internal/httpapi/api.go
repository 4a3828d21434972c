// Package httpapi is SequenceFlow's REST API: the seed-compatible routes of API-CONTRACT.md
// (workflows, runs, API templates, health, mock endpoints) on a chi router, with CORS, JSON
// errors in the seed's shape and the mismatch fixes the contract recommends.
package httpapi

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/sequenceflow/sequenceflow/internal/apitemplate"
	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// WorkflowStore reads and writes workflow definitions.
type WorkflowStore interface {
	ListWorkflows(ctx context.Context) ([]workflow.Summary, error)
	GetWorkflow(ctx context.Context, id string) (workflow.Workflow, error)
	CurrentVersion(ctx context.Context, id string) (versionID string, err error)
	// VersionID, ListVersions and GetVersion read a workflow's immutable versions.
	VersionID(ctx context.Context, id string, version int) (versionID string, err error)
	ListVersions(ctx context.Context, id string, page workflow.Page) ([]workflow.Version, string, error)
	GetVersion(ctx context.Context, id string, version int) (workflow.Version, error)
	CreateWorkflow(ctx context.Context, name string, def workflow.Definition, now time.Time) (workflow.Workflow, error)
	UpdateWorkflow(ctx context.Context, id, name string, def workflow.Definition, now time.Time) (workflow.Workflow, error)
	DeleteWorkflow(ctx context.Context, id string) error
	RunsInFlightOf(ctx context.Context, workflowID string) ([]string, error)
}

// RunStore reads runs. Lists come in pages, and every value a run view carries is bounded.
type RunStore interface {
	ListRuns(ctx context.Context, workflowID string, f workflow.RunFilter, page workflow.Page) ([]workflow.RunSummary, string, error)
	SearchRuns(ctx context.Context, f workflow.RunFilter, page workflow.Page) ([]workflow.RunSummary, string, error)
	RunView(ctx context.Context, key workflow.RunKey, logs workflow.Page) (workflow.RunView, error)
	RunLogs(ctx context.Context, key workflow.RunKey, page workflow.Page) ([]workflow.LogView, string, error)
	RunExists(ctx context.Context, key workflow.RunKey) error
	TaskOutput(ctx context.Context, key workflow.RunKey, taskID string) (workflow.TaskOutput, error)
}

// TemplateStore reads and writes API templates.
type TemplateStore interface {
	ListTemplates(ctx context.Context, f apitemplate.Filter) ([]apitemplate.Template, error)
	GetTemplate(ctx context.Context, id string) (apitemplate.Template, error)
	CreateTemplate(ctx context.Context, t apitemplate.Template, now time.Time) (apitemplate.Template, error)
	UpdateTemplate(ctx context.Context, t apitemplate.Template, now time.Time) (apitemplate.Template, error)
	DeleteTemplate(ctx context.Context, id string, now time.Time) error
}

// Engine starts and cancels runs.
type Engine interface {
	Start(ctx context.Context, req engine.StartRequest) (engine.Started, error)
	Cancel(ctx context.Context, runID string) error
}

// Config tunes the API.
type Config struct {
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxInputBytes bounds a run's input (default 256 KiB).
	MaxInputBytes int
	// CORSOrigins restricts allowed origins; empty echoes any origin, as the seed did.
	CORSOrigins []string
	// Limits bound workflow definitions.
	Limits workflow.Limits
	// SyncTimeout bounds how long the legacy synchronous execute route waits (default 60 s).
	SyncTimeout time.Duration
	// SyncPoll is how often it reads the run when Deps.Waiter is nil (default 1 s).
	SyncPoll time.Duration
	// JaegerUIURL, when set, adds a link to each run's trace in run responses, for runs
	// whose trace was sampled when TracesExported says spans leave the process.
	JaegerUIURL string
	// TracesExported is true when the process exports its spans; without it no trace can be
	// found in Jaeger, so run responses carry no traceUrl.
	TracesExported bool
	// APIKeys, when set, are required on every route but health, readiness, metrics, the
	// mock endpoints, resume URLs (their token is the credential) and the queue UI's login and
	// logout; the queue UI also accepts the session its login sets.
	APIKeys []string
	// RunsPerSecond limits run creation per API key when keys are enforced, else per client
	// address (0: no limit); RunBurst is the bucket size (default: one second's worth).
	RunsPerSecond float64
	RunBurst      int
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, 1<<20)
	c.MaxInputBytes = cmp.Or(c.MaxInputBytes, 256<<10)
	c.Limits.MaxNodes = cmp.Or(c.Limits.MaxNodes, workflow.DefaultLimits.MaxNodes)
	c.Limits.MaxEdges = cmp.Or(c.Limits.MaxEdges, workflow.DefaultLimits.MaxEdges)
	c.Limits.MaxConfigBytes = cmp.Or(c.Limits.MaxConfigBytes, workflow.DefaultLimits.MaxConfigBytes)
	c.SyncTimeout = cmp.Or(c.SyncTimeout, 60*time.Second)
	c.SyncPoll = cmp.Or(c.SyncPoll, time.Second)
	return c
}

// Deps are the API's collaborators.
type Deps struct {
	Workflows WorkflowStore
	Runs      RunStore
	Templates TemplateStore
	// Hooks keeps webhook triggers (hooks.go, hooktrigger.go).
	Hooks  HookStore
	Engine Engine
	// Secret looks up a configured secret by name (SECRET_<NAME>), for hooks whose signature
	// references one; nil: none is configured.
	Secret func(name string) (string, bool)
	// ObserveHook counts a trigger request by result (webhook.Results); nil counts nothing.
	ObserveHook func(result string)
	// Schedules, when set, serves the schedule routes (501 without it).
	Schedules ScheduleStore
	// Waiter tells the synchronous execute route when its run finished; nil reads the run
	// every SyncPoll instead.
	Waiter RunWaiter
	// ValidateConfig checks node configs (nodes.Registry.ValidateConfig).
	ValidateConfig workflow.ConfigValidator
	// Mock serves /workflows/api/* (test-weather and the mock endpoints).
	Mock http.Handler
	// Metrics serves /metrics (Prometheus).
	Metrics http.Handler
	// Monitoring serves the queue UI under /monitoring.
	Monitoring http.Handler
	// Ready reports whether dependencies are reachable, for /readyz.
	Ready func(ctx context.Context) error
	// QueueRefusal, when set, reports an error while the queue refuses writes (Redis
	// read-only, out of memory); run starts then answer 503 with Retry-After.
	QueueRefusal func(ctx context.Context) error
	// Middleware wraps every route (tracing, metrics), outermost first.
	Middleware []func(http.Handler) http.Handler
	Now        func() time.Time
	Log        *slog.Logger
}

// API serves the REST routes.
type API struct {
	cfg     Config
	limiter *runLimiter
	Deps
}

// New returns the API's handler.
func New(cfg Config, deps Deps) http.Handler {
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	a := &API{cfg: cfg.WithDefaults(), Deps: deps}
	if a.cfg.RunsPerSecond > 0 {
		a.limiter = newRunLimiter(a.cfg.RunsPerSecond, a.cfg.RunBurst, len(a.cfg.APIKeys) > 0, deps.Now)
	}
	r := chi.NewRouter()
	r.Use(cors(a.cfg.CORSOrigins), middleware.Recoverer)
	r.Use(deps.Middleware...)
	r.Use(canonicalPath, middleware.GetHead)
	r.NotFound(a.notFound)
	r.MethodNotAllowed(a.notFound)

	// Public: liveness, readiness, metrics and the mock endpoints, which apiCall nodes call
	// without credentials. Whether a request needs a key is decided by the route it matched,
	// after routing on its canonical path, never by a prefix of the path.
	r.Get("/health", a.health)
	r.Get("/healthz", a.health)
	r.Get("/readyz", a.ready)
	if deps.Metrics != nil {
		r.Method(http.MethodGet, "/metrics", deps.Metrics)
	}
	if deps.Mock != nil {
		r.Mount("/workflows/api", deps.Mock)
	}
	// Public on purpose: a webhook's caller (GitHub, Stripe, a SaaS) sends no API key. A
	// signed hook's signature authenticates the request, an unsigned hook's unguessable id
	// does; an unknown id answers 404 and says nothing more. Only POST is public: deleting
	// a hook (the same pattern) is keyed below.
	r.Post("/hooks/{hookID}", a.triggerHook)
	// A waiting task's resume URL: its unguessable token (256 random bits, of which the
	// database keeps only a digest) is the credential, so whoever was sent the URL (an approver
	// without an API key) can deliver the event, and nothing else.
	r.Post("/resume/{token}", a.resumeByToken)

	// Every other route needs a key when keys are configured. The check is chained onto each
	// endpoint (With), so it runs once the request has matched that endpoint.
	keyed := requireAPIKey(newKeyring(a.cfg.APIKeys))
	// The API's own description (openapi.go), keyed like the routes it describes.
	r.With(keyed).Get("/openapi.json", a.openAPI)
	r.With(keyed).Get("/docs", a.docsPage)
	if deps.Monitoring != nil {
		// The queue UI also takes the session cookie its login page sets (monitoring.go);
		// no other route does.
		m := newMonitoringAuth(a.cfg.APIKeys, a.Now, nil)
		r.With(m.guard).Handle(monitoringPath, deps.Monitoring)
		r.With(m.guard).Handle(monitoringPath+"/*", deps.Monitoring)
		r.Get(monitoringLogin, m.login)
		r.Post(monitoringLogin, m.login)
		r.Get(monitoringLogout, m.logout)
		r.Post(monitoringLogout, m.logout)
	}
	r.Route("/workflows", func(r chi.Router) {
		k := r.With(keyed)
		k.Get("/", a.listWorkflows)
		k.Post("/", a.createWorkflow)
		k.Get("/runs/{runID}/status", a.runStatus)
		k.Get("/runs/{runID}/logs", a.runLogs)
		k.Post("/runs/{runID}/cancel", a.cancelRun)
		k.Post("/runs/{runID}/retry", a.limitRuns(a.retryRun))
		k.Post("/runs/{runID}/rerun", a.limitRuns(a.rerunRun))
		k.Get("/runs/{runID}/tasks/{taskID}/output", a.taskOutput)
		k.Post("/runs/{runID}/events/{nodeID}", a.deliverEvent)
		k.Get("/{id}", a.getWorkflow)
		k.Put("/{id}", a.updateWorkflow)
		k.Delete("/{id}", a.deleteWorkflow)
		k.Post("/{id}/execute", a.limitRuns(a.executeSync))
		k.Post("/{id}/execute-async", a.limitRuns(a.executeAsync))
		k.Post("/{id}/trigger", a.limitRuns(a.executeAsync))
		k.Get("/{id}/runs", a.listRuns)
		k.Get("/{id}/versions", a.listVersions)
		k.Get("/{id}/versions/{version}", a.getVersion)
		k.Post("/{id}/hooks", a.createHook)
		k.Get("/{id}/hooks", a.listHooks)
		k.Get("/{id}/runs/{runID}", a.runStatus)
		k.Get("/{id}/runs/{runID}/status", a.runStatus)
		k.Get("/{id}/runs/{runID}/logs", a.runLogs)
		k.Post("/{id}/runs/{runID}/cancel", a.cancelRun)
		k.Post("/{id}/runs/{runID}/retry", a.limitRuns(a.retryRun))
		k.Post("/{id}/runs/{runID}/rerun", a.limitRuns(a.rerunRun))
		k.Get("/{id}/runs/{runID}/tasks/{taskID}/output", a.taskOutput)
		k.Post("/{id}/runs/{runID}/events/{nodeID}", a.deliverEvent)
		k.Get("/{id}/schedules", a.listSchedules)
		k.Post("/{id}/schedules", a.createSchedule)
	})
	r.Route("/schedules", func(r chi.Router) {
		k := r.With(keyed)
		k.Get("/{scheduleID}", a.getSchedule)
		k.Delete("/{scheduleID}", a.deleteSchedule)
		k.Post("/{scheduleID}/pause", a.pauseSchedule)
		k.Post("/{scheduleID}/resume", a.resumeSchedule)
	})
	r.With(keyed).Get("/runs", a.searchRuns)
	r.With(keyed).Post("/runs/retry", a.limitRuns(a.bulkRetry))
	r.With(keyed).Post("/runs/cancel", a.bulkCancel)
	r.With(keyed).Delete("/hooks/{hookID}", a.deleteHook)
	r.Route("/api-templates", func(r chi.Router) {
		k := r.With(keyed)
		k.Get("/", a.listTemplates)
		k.Get("/grouped", a.groupedTemplates)
		k.Post("/", a.createTemplate)
		k.Get("/{id}", a.getTemplate)
		k.Put("/{id}", a.updateTemplate)
		k.Delete("/{id}", a.deleteTemplate)
	})
	return r
}

func (a *API) notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, errorBody{StatusCode: http.StatusNotFound,
		Message: "Cannot " + r.Method + " " + r.URL.Path, Error: "Not Found"})
}

func (a *API) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "timestamp": isoTime(a.Now())})
}

func (a *API) ready(w http.ResponseWriter, r *http.Request) {
	if a.Ready != nil {
		if err := a.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": err.Error(), "timestamp": isoTime(a.Now())})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "timestamp": isoTime(a.Now())})
}
