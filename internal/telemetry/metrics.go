package telemetry

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/webhook"
)

// Metrics are SequenceFlow's own Prometheus metrics, registered on an explicit registry.
// Labels are low-cardinality only: node types, outcomes, reasons, statuses, route patterns,
// outbound hosts and workflow names (bounded by Workflows); never run or task ids.
type Metrics struct {
	Registry *prometheus.Registry
	// Workflows bounds the values of the workflow label.
	Workflows *WorkflowLabels

	TaskDuration        *prometheus.HistogramVec // node_type, outcome
	SchedulingDelay     *prometheus.HistogramVec // node_type
	TaskRetries         *prometheus.CounterVec   // node_type, reason
	TaskFailures        *prometheus.CounterVec   // node_type, reason
	TasksFinished       *prometheus.CounterVec   // node_type, outcome (final, one per task)
	RunsStarted         *prometheus.CounterVec   // workflow
	RunsFinished        *prometheus.CounterVec   // workflow, status
	RunsFailedNodes     *prometheus.CounterVec   // workflow, status
	RunDuration         *prometheus.HistogramVec // workflow, status
	WorkflowFailedNodes *prometheus.CounterVec   // workflow, outcome (failed, failed_continued; one per task)
	QueueWait           *prometheus.HistogramVec // node_type
	TaskDispatches      *prometheus.CounterVec   // dispatch (queue, eager)
	TimerLateness       *prometheus.HistogramVec // node_type, timer (delay, retry, throttle)
	HTTPDuration        *prometheus.HistogramVec // method, route, code
	BreakerRequests     *prometheus.CounterVec   // host, outcome; exported by BreakerCollector
	Recovered           *prometheus.CounterVec   // cause (queued, waiting, lost_worker, stale)
	ReconcilePasses     *prometheus.CounterVec   // result (ok, error)
	ReconcileTime       prometheus.Histogram
	Redeliveries        *prometheus.CounterVec // node_type, cause (panic, error, shutdown, lost)
	RetentionPruned     prometheus.Counter     // runs deleted by the retention pruner (retention.go)
	RetentionPasses     *prometheus.CounterVec // result (ok, error)
	RetentionTime       prometheus.Histogram
	WebhookRequests     *prometheus.CounterVec   // result (webhook.Results)
	Throttled           *prometheus.CounterVec   // host, reason (hostlimit.go)
	ThrottleWait        *prometheus.HistogramVec // host
	WaitEvents          *prometheus.CounterVec   // node_type, outcome (resumed, timed_out, refused); waits.go
	// Schedulers (schedules.go).
	ScheduleTicksFired   prometheus.Counter
	ScheduleTicksSkipped *prometheus.CounterVec // reason (overlap, catch_up, error)
	ScheduleLateness     prometheus.Histogram
}

// How a task execution reached its worker (sequenceflow_task_dispatches_total).
const (
	dispatchQueue = "queue"
	dispatchEager = "eager"
)

// Results of a reconciler pass (sequenceflow_reconciler_passes_total).
const (
	reconcileOK    = "ok"
	reconcileError = "error"
)

// latencyBuckets span sub-millisecond engine steps to multi-minute API calls. From 1 s to 30 s
// (outbound timeouts, NODE_TIMEOUT) consecutive bounds are at most 5/3 apart, so a quantile the
// alerts interpolate inside a bucket is off by at most that factor (6 s calls read 7.5 s at
// worst, not the 10 s of a 5 -> 10 s jump).
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300}

// MetricsOption changes what NewMetrics builds.
type MetricsOption func(*Metrics)

// WithWorkflowLabels caps the distinct values of the workflow label at limit names (0 turns
// the dimension off); the default is DefaultWorkflowLabels.
func WithWorkflowLabels(limit int) MetricsOption {
	return func(m *Metrics) { m.Workflows = NewWorkflowLabels(limit) }
}

// workflowLabelHelp documents the workflow label in every family that carries it.
var workflowLabelHelp = fmt.Sprintf("workflow is the workflow's name (cut to %d bytes); a process gives at most METRICS_WORKFLOW_LABELS names (default %d) their own value, later ones %q, and with 0 every series has workflow=\"\"",
	MaxWorkflowLabelBytes, DefaultWorkflowLabels, OtherWorkflow)

// NewMetrics creates the metrics on a new registry, with Go runtime and process collectors.
func NewMetrics(opts ...MetricsOption) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry:  reg,
		Workflows: NewWorkflowLabels(DefaultWorkflowLabels),
		TaskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sequenceflow_task_duration_seconds", Help: "Duration of one task execution (claim to recorded outcome), by node type and outcome.",
			Buckets: latencyBuckets,
		}, []string{"node_type", "outcome"}),
		SchedulingDelay: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sequenceflow_task_scheduling_delay_seconds", Help: "Time from a task becoming due (queued, or its retry time) to a worker starting it.",
			Buckets: latencyBuckets,
		}, []string{"node_type"}),
		TaskRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_task_retries_total", Help: "Task executions that failed with a retryable error and were scheduled again.",
		}, []string{"node_type", "reason"}),
		TaskFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_task_failures_total", Help: "Task executions that failed for good (onError fail or continue).",
		}, []string{"node_type", "reason"}),
		TasksFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_tasks_finished_total",
			Help: "Tasks that became terminal, once per task, by node type and final outcome (completed, failed_continued, failed, cancelled, skipped); attempts are counted by sequenceflow_task_duration_seconds.",
		}, []string{"node_type", "outcome"}),
		RunsFailedNodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_runs_with_failed_nodes_total",
			Help: "Runs that reached a terminal status with at least one node that failed but continued (onError: continue), by workflow and run status; " + workflowLabelHelp + ".",
		}, []string{"workflow", "status"}),
		RunsStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_runs_started_total", Help: "Runs started, by workflow; " + workflowLabelHelp + ".",
		}, []string{"workflow"}),
		RunsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_runs_finished_total", Help: "Runs that reached a terminal status, by workflow and status; " + workflowLabelHelp + ".",
		}, []string{"workflow", "status"}),
		RunDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sequenceflow_run_duration_seconds", Help: "Run duration from start to terminal status, by workflow and status; " + workflowLabelHelp + ".",
			Buckets: latencyBuckets,
		}, []string{"workflow", "status"}),
		WorkflowFailedNodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_workflow_failed_nodes_total",
			Help: "Tasks whose node failed for good, once per task, by workflow and outcome (failed: it failed its run; failed_continued: onError continue completed it); " + workflowLabelHelp + ".",
		}, []string{"workflow", "outcome"}),
		QueueWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sequenceflow_task_queue_wait_seconds", Help: "Time from a task's release (or its enqueueing again) to a worker starting its first attempt, by node type; retries and delays are in sequenceflow_timer_lateness_seconds.",
			Buckets: latencyBuckets,
		}, []string{"node_type"}),
		TimerLateness: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sequenceflow_timer_lateness_seconds", Help: "Time from a timer's due time to a worker starting the task, by node type and timer (delay: a delay node's wake-up; retry: a retry's backoff ended; throttle: a held-back call's wait for its host's limits ended).",
			Buckets: latencyBuckets,
		}, []string{"node_type", "timer"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "sequenceflow_http_request_duration_seconds", Help: "HTTP server request duration by route pattern.",
			Buckets: latencyBuckets,
		}, []string{"method", "route", "code"}),
		BreakerRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_breaker_requests_total", Help: fmt.Sprintf("Outbound requests by host and outcome (success, failure, rejected); at most %d hosts, requests beyond them under host=%q.", outbound.DefaultMaxHosts, outbound.OtherHost),
		}, []string{"host", "outcome"}),
		Recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_reconciler_recovered_total",
			Help: "Deliveries the reconciler enqueued again because they were missing from the queue, by cause (queued, waiting, lost_worker, stale).",
		}, []string{"cause"}),
		ReconcilePasses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_reconciler_passes_total", Help: "Reconciler passes, by result (ok, error).",
		}, []string{"result"}),
		ReconcileTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "sequenceflow_reconciler_pass_duration_seconds", Help: "Duration of one reconciler pass, failed passes included.",
			Buckets: latencyBuckets,
		}),
		TaskDispatches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_task_dispatches_total",
			Help: "Task executions started, by how they reached the worker (queue: a queue delivery; eager: claimed by the worker whose transition released them, EAGER_DISPATCH).",
		}, []string{"dispatch"}),
		Redeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sequenceflow_task_redeliveries_total",
			Help: "Deliveries that took over a running task whose previous delivery ended without an outcome, by node type and cause (panic, error, shutdown, lost).",
		}, []string{"node_type", "cause"}),
	}
	m.WebhookRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sequenceflow_webhook_requests_total",
		Help: "Webhook trigger requests (POST /hooks/{hookId}) by result, one of a fixed set: " + strings.Join(webhook.Results, ", ") +
			"; never by hook.",
	}, []string{"result"})
	for _, result := range webhook.Results {
		m.WebhookRequests.WithLabelValues(result)
	}
	for _, o := range opts {
		o(m)
	}
	// Every series of the reconciler's fixed label sets exists from the start, so a dashboard
	// reads 0, not "No data", before the first recovery or failed pass.
	for _, cause := range []string{engine.RecoveryQueued, engine.RecoveryWaiting, engine.RecoveryLostWorker, engine.RecoveryStale} {
		m.Recovered.WithLabelValues(cause)
	}
	for _, result := range []string{reconcileOK, reconcileError} {
		m.ReconcilePasses.WithLabelValues(result)
	}
	for _, d := range []string{dispatchQueue, dispatchEager} {
		m.TaskDispatches.WithLabelValues(d)
	}
	reg.MustRegister(m.TaskDuration, m.SchedulingDelay, m.TaskRetries, m.TaskFailures, m.TasksFinished, m.RunsFailedNodes, m.RunsStarted,
		m.RunsFinished, m.RunDuration, m.HTTPDuration, m.Recovered, m.ReconcilePasses, m.ReconcileTime, m.Redeliveries,
		m.WorkflowFailedNodes, m.QueueWait, m.TaskDispatches, m.TimerLateness, m.WebhookRequests,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.addRetention()
	m.addSchedules()
	m.addHostLimits()
	m.addWaits()
	return m
}
