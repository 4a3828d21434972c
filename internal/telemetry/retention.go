package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sequenceflow/sequenceflow/internal/retention"
)

// addRetention creates the run-history pruner's metrics (every worker prunes, so each worker
// exports its own; sum them over instances).
func (m *Metrics) addRetention() {
	m.RetentionPruned = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sequenceflow_retention_pruned_runs_total",
		Help: "Finished runs deleted by the retention pruner (RUN_RETENTION), with their tasks and logs; counted per committed batch.",
	})
	m.RetentionPasses = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sequenceflow_retention_passes_total", Help: "Retention pruner passes, by result (ok, error).",
	}, []string{"result"})
	m.RetentionTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "sequenceflow_retention_pass_duration_seconds", Help: "Duration of one retention pass (every batch and the pauses between them), failed passes included.",
		Buckets: latencyBuckets,
	})
	// Both results exist from the start, so a dashboard reads 0, not "No data", before the
	// first failed pass.
	for _, result := range []string{reconcileOK, reconcileError} {
		m.RetentionPasses.WithLabelValues(result)
	}
	m.Registry.MustRegister(m.RetentionPruned, m.RetentionPasses, m.RetentionTime)
}

// RetentionObserver implements retention.Observer with the metrics.
type RetentionObserver struct{ m *Metrics }

// RetentionObserver returns the pruner's observer on these metrics.
func (m *Metrics) RetentionObserver() *RetentionObserver { return &RetentionObserver{m: m} }

var _ retention.Observer = (*RetentionObserver)(nil)

// RunsPruned counts the runs of a committed batch.
func (o *RetentionObserver) RunsPruned(_ context.Context, n int) { o.m.RetentionPruned.Add(float64(n)) }

// RetentionPass counts a pass by result and records its duration.
func (o *RetentionObserver) RetentionPass(_ context.Context, p retention.Pass) {
	result := reconcileOK
	if p.Err != nil {
		result = reconcileError
	}
	o.m.RetentionPasses.WithLabelValues(result).Inc()
	o.m.RetentionTime.Observe(p.Duration.Seconds())
}

// FinishedRuns reads when the oldest finished run still stored finished (ok false: none).
type FinishedRuns interface {
	OldestFinishedRun(ctx context.Context) (finished time.Time, ok bool, err error)
}

// historyCollector reads the oldest finished run at scrape time: one index entry
// (runs_finished_idx). Like the runs collector it is registered on the API only, so N
// workers do not multiply the query, and the value is the database's, whichever worker
// pruned.
type historyCollector struct {
	runs   FinishedRuns
	now    func() time.Time
	oldest *prometheus.Desc
}

// NewHistoryCollector exports sequenceflow_retention_oldest_run_age_seconds: how long ago the
// oldest finished run still stored finished (0 when none). Above RUN_RETENTION plus a pass or
// two, the pruner is not keeping up or not running. A scrape whose query fails omits it.
func NewHistoryCollector(runs FinishedRuns) prometheus.Collector {
	return &historyCollector{runs: runs, now: time.Now,
		oldest: prometheus.NewDesc("sequenceflow_retention_oldest_run_age_seconds",
			"Time since the oldest finished run still stored finished (0 when none): history older than RUN_RETENTION means the retention pruner is behind or off.", nil, nil)}
}

func (c *historyCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.oldest }

func (c *historyCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	finished, ok, err := c.runs.OldestFinishedRun(ctx)
	if err != nil {
		return
	}
	age := 0.0
	if ok {
		age = max(0, c.now().Sub(finished).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}
