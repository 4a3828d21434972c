package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Config is one sfload invocation: workloads run one after the other under the same load,
// optionally preceded by the floor.
type Config struct {
	// BaseURL is the service's REST API; APIBase is where the service reaches its own mock
	// endpoints (apicall shape; default BaseURL).
	BaseURL string
	APIBase string
	Shapes  []string
	ChainN  int
	FanoutN int
	Load    Load
	// RunTimeout is how long a run may take before it counts as stuck (default 60 s).
	RunTimeout time.Duration
	// Poll is PollList or PollStatus; PollInterval how often (default 20 ms for list, 25 ms
	// for status). Tracking costs the service work: at 10 ms, list polls took 9 % of its CPU.
	Poll         string
	PollInterval time.Duration
	// RunsPerWorkflow bounds the runs started on one workflow (a new copy is created after),
	// which keeps run lists short for PollList (default 100).
	RunsPerWorkflow int

	// DatabaseURL, when set, enables measurement from the service's database; StatsDatabase
	// is the database the counters are read through (default "postgres").
	DatabaseURL   string
	StatsDatabase string
	// Transactions enables the transaction count per phase; it needs Settle (default 11 s,
	// longer than PostgreSQL's 10 s idle statistics flush) before and after each phase.
	Transactions bool
	Settle       time.Duration
	// Calibrations is how many tracking polls measure the cost of one (default 300).
	Calibrations int

	// Floor runs the bare-asynq floor right before the first workload (after calibration),
	// with Load's concurrency and run bound and chains of FloorCfg.Hops (default ChainN) hops.
	// FloorOnly runs only the floor.
	Floor     bool
	FloorOnly bool
	FloorCfg  FloorConfig
	// FloorRuns overrides Load.Runs for the floor, whose chains are quicker than runs: more
	// of them make its phase as long as the service's.
	FloorRuns int
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.APIBase = cmp.Or(c.APIBase, c.BaseURL)
	c.ChainN = cmp.Or(c.ChainN, 10)
	c.FanoutN = cmp.Or(c.FanoutN, 10)
	c.RunTimeout = cmp.Or(c.RunTimeout, 60*time.Second)
	c.Poll = cmp.Or(c.Poll, PollList)
	if c.PollInterval == 0 {
		c.PollInterval = 20 * time.Millisecond
		if c.Poll == PollStatus {
			c.PollInterval = 25 * time.Millisecond
		}
	}
	c.RunsPerWorkflow = cmp.Or(c.RunsPerWorkflow, 100)
	c.StatsDatabase = cmp.Or(c.StatsDatabase, "postgres")
	c.Settle = cmp.Or(c.Settle, 11*time.Second)
	c.Calibrations = cmp.Or(c.Calibrations, 300)
	c.FloorCfg.Hops = cmp.Or(c.FloorCfg.Hops, c.ChainN)
	return c
}

func (c Config) validate() error {
	var errs []error
	if err := c.Load.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Poll != PollList && c.Poll != PollStatus {
		errs = append(errs, fmt.Errorf("-poll must be %q or %q, got %q", PollList, PollStatus, c.Poll))
	}
	if c.PollInterval < time.Millisecond {
		errs = append(errs, fmt.Errorf("-poll-interval must be at least 1ms"))
	}
	if c.Transactions && c.DatabaseURL == "" {
		errs = append(errs, errors.New("counting transactions needs -database-url"))
	}
	if (c.Floor || c.FloorOnly) && (c.FloorCfg.DatabaseURL == "" || c.FloorCfg.RedisURL == "") {
		errs = append(errs, errors.New("the floor needs a database URL and a Redis URL"))
	}
	if (c.Floor || c.FloorOnly) && c.Load.Rate > 0 {
		errs = append(errs, errors.New("the floor runs at fixed concurrency only"))
	}
	if !c.FloorOnly && len(c.Shapes) == 0 {
		errs = append(errs, errors.New("no shapes to run"))
	}
	for _, s := range c.Shapes {
		if _, err := c.workload(s); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// workload builds a shape at the configured size.
func (c Config) workload(shape string) (Workload, error) {
	return NewWorkload(shape, cmp.Or(map[string]int{ShapeChain: c.ChainN, ShapeFanout: c.FanoutN}[shape], 1), c.APIBase)
}

// Bench runs a Config.
type Bench struct {
	cfg    Config
	client *Client
	meter  *Meter
	log    *slog.Logger
	out    io.Writer
}

// Run runs the invocation and returns one result per phase. Progress goes to out.
func Run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) ([]Result, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Bench{cfg: cfg, client: NewClient(cfg.BaseURL), out: out, log: log}
	if cfg.FloorOnly {
		r, err := b.runFloor(ctx)
		if err != nil {
			return nil, err
		}
		return []Result{r}, nil
	}
	// The floor runs inside runService, right before the first workload, so that both see
	// the machine in the same state.
	results, err := b.runService(ctx)
	if len(results) > 0 && results[0].Floor {
		floor := results[0]
		for i := range results[1:] {
			r := &results[i+1]
			if floor.NodesPerSec > 0 {
				r.FloorRatio = r.NodesPerSec / floor.NodesPerSec
			}
		}
	}
	return results, err
}

func (b *Bench) printf(format string, args ...any) {
	fmt.Fprintf(b.out, format, args...)
}

// CheckHealth waits up to 30 s for the service to answer /health.
func CheckHealth(ctx context.Context, c *Client) error {
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return c.Health(hctx)
}

func bound(l Load) string {
	switch {
	case l.Runs > 0 && l.Duration > 0:
		return fmt.Sprintf("%d runs or %s", l.Runs, l.Duration)
	case l.Runs > 0:
		return fmt.Sprintf("%d runs", l.Runs)
	}
	return l.Duration.String()
}
