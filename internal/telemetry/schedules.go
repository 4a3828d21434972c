package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sequenceflow/sequenceflow/internal/schedule"
)

// scheduleSkipReasons are the values of the skipped-ticks metric's reason label; nothing
// else is counted under it.
var scheduleSkipReasons = []string{schedule.SkipOverlap, schedule.SkipCatchUp, schedule.SkipError}

// addSchedules creates the schedulers' metrics (every worker fires schedules, so each exports
// its own; sum them over instances). No label names a schedule or a workflow.
func (m *Metrics) addSchedules() {
	m.ScheduleTicksFired = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "sequenceflow_schedule_ticks_fired_total",
		Help: "Schedule ticks that started a run, counted once per tick by the worker that created the run.",
	})
	m.ScheduleTicksSkipped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sequenceflow_schedule_ticks_skipped_total",
		Help: "Schedule ticks that started no run, by reason: overlap (the previous run was in flight, overlap skip), catch_up (missed during downtime and dropped by the catch-up policy or limit), error (the run was refused, e.g. its workflow version is gone); only these three values. A paused schedule has no ticks.",
	}, []string{"reason"})
	m.ScheduleLateness = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "sequenceflow_schedule_tick_lateness_seconds",
		Help:    "Time from a schedule tick's fire time to the start of its run: the poll interval at most when schedulers keep up; longer for ticks fired on catch-up after downtime.",
		Buckets: latencyBuckets,
	})
	for _, reason := range scheduleSkipReasons {
		m.ScheduleTicksSkipped.WithLabelValues(reason)
	}
	m.Registry.MustRegister(m.ScheduleTicksFired, m.ScheduleTicksSkipped, m.ScheduleLateness)
}

// ScheduleObserver implements schedule.Observer with the metrics.
type ScheduleObserver struct{ m *Metrics }

// ScheduleObserver returns the schedulers' observer on these metrics.
func (m *Metrics) ScheduleObserver() *ScheduleObserver { return &ScheduleObserver{m: m} }

var _ schedule.Observer = (*ScheduleObserver)(nil)

// TickFired counts a tick that started a run and records its lateness.
func (o *ScheduleObserver) TickFired(_ context.Context, lateness time.Duration) {
	o.m.ScheduleTicksFired.Inc()
	o.m.ScheduleLateness.Observe(max(lateness, 0).Seconds())
}

// TicksSkipped counts ticks that started no run, by reason.
func (o *ScheduleObserver) TicksSkipped(_ context.Context, reason string, n int) {
	o.m.ScheduleTicksSkipped.WithLabelValues(reason).Add(float64(n))
}
