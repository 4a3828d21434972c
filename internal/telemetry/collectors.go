package telemetry

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// poolCollector exports pgxpool statistics at scrape time.
type poolCollector struct {
	pool                                          *pgxpool.Pool
	acquired, idle, total, max, acquires, empties *prometheus.Desc
	waitSeconds                                   *prometheus.Desc
}

// NewPoolCollector exports the database pool: connections acquired, idle, total and max,
// acquires, acquires that had to wait (the pool was empty) and the total wait.
func NewPoolCollector(pool *pgxpool.Pool) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("sequenceflow_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		pool:        pool,
		acquired:    d("acquired_connections", "Connections currently in use."),
		idle:        d("idle_connections", "Idle connections in the pool."),
		total:       d("total_connections", "Open connections in the pool."),
		max:         d("max_connections", "Maximum size of the pool."),
		acquires:    d("acquires_total", "Successful connection acquires."),
		empties:     d("empty_acquires_total", "Acquires that waited because the pool was empty."),
		waitSeconds: d("acquire_wait_seconds_total", "Total time spent acquiring connections."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.empties, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.waitSeconds, prometheus.CounterValue, s.AcquireDuration().Seconds())
}

// RunCounter reports the runs in flight and how long the oldest has been running.
type RunCounter interface {
	RunsInFlight(ctx context.Context) (count int, oldest time.Duration, err error)
}

// runsCollector queries the runs in flight at scrape time; it is registered on the API only,
// so N workers do not multiply the query.
type runsCollector struct {
	runs           RunCounter
	count, oldest  *prometheus.Desc
	scrapeFailures *prometheus.Desc
}

// NewRunsCollector exports sequenceflow_runs_in_flight and
// sequenceflow_oldest_run_in_flight_seconds.
func NewRunsCollector(runs RunCounter) prometheus.Collector {
	return &runsCollector{
		runs:           runs,
		count:          prometheus.NewDesc("sequenceflow_runs_in_flight", "Runs queued or running.", nil, nil),
		oldest:         prometheus.NewDesc("sequenceflow_oldest_run_in_flight_seconds", "Age of the oldest run still in flight (0 when none).", nil, nil),
		scrapeFailures: prometheus.NewDesc("sequenceflow_runs_scrape_error", "1 when the runs in flight could not be counted at this scrape.", nil, nil),
	}
}

func (c *runsCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c *runsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, oldest, err := c.runs.RunsInFlight(ctx)
	failed := 0.0
	if err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(c.count, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, oldest.Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.scrapeFailures, prometheus.GaugeValue, failed)
}
