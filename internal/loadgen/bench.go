package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
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
	// Poll is PollList or PollStatus; PollInterval how often (default 10 ms for list, 25 ms
	// for status).
	Poll         string
	PollInterval time.Duration
	// RunsPerWorkflow bounds the runs started on one workflow (a new copy is created after),
	// which keeps run lists short for PollList (default 250).
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

	// Floor runs the bare-asynq floor first, with Load's concurrency and run bound and chains
	// of ChainN hops. FloorOnly skips the service.
	Floor     bool
	FloorOnly bool
	FloorCfg  FloorConfig
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.APIBase = cmp.Or(c.APIBase, c.BaseURL)
	c.ChainN = cmp.Or(c.ChainN, 10)
	c.FanoutN = cmp.Or(c.FanoutN, 10)
	c.RunTimeout = cmp.Or(c.RunTimeout, 60*time.Second)
	c.Poll = cmp.Or(c.Poll, PollList)
	if c.PollInterval == 0 {
		c.PollInterval = 10 * time.Millisecond
		if c.Poll == PollStatus {
			c.PollInterval = 25 * time.Millisecond
		}
	}
	c.RunsPerWorkflow = cmp.Or(c.RunsPerWorkflow, 250)
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
	if c.Floor && c.Load.Rate > 0 {
		errs = append(errs, errors.New("the floor runs at fixed concurrency only"))
	}
	if !c.FloorOnly && len(c.Shapes) == 0 {
		errs = append(errs, errors.New("no shapes to run"))
	}
	return errors.Join(errs...)
}

// Bench runs a Config.
type Bench struct {
	cfg    Config
	client *Client
	meter  *Meter
	log    *slog.Logger
	out    io.Writer
}

// phase is one workload under the load, as it ran.
type phase struct {
	w         Workload
	outcomes  []Outcome
	txBefore  int64
	txAfter   int64
	polls     int64
	pollCost  float64
	clientDur time.Duration
}

// Run runs the invocation and returns one result per phase. Progress goes to out.
func Run(ctx context.Context, cfg Config, out io.Writer, log *slog.Logger) ([]Result, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Bench{cfg: cfg, client: NewClient(cfg.BaseURL), out: out, log: log}
	var results []Result
	if cfg.Floor || cfg.FloorOnly {
		r, err := b.runFloor(ctx)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
	}
	if cfg.FloorOnly {
		return results, nil
	}
	rs, err := b.runService(ctx)
	if err != nil {
		return results, err
	}
	results = append(results, rs...)
	if len(results) > 0 && results[0].Floor {
		floor := results[0]
		for i := range results[1:] {
			r := &results[i+1]
			if r.Shape == ShapeChain && r.Name == fmt.Sprintf("chain-%d", cfg.FloorCfg.Hops) && floor.NodesPerSec > 0 {
				r.FloorRatio = r.NodesPerSec / floor.NodesPerSec
			}
		}
	}
	return results, nil
}

func (b *Bench) printf(format string, args ...any) {
	fmt.Fprintf(b.out, format, args...)
}

func (b *Bench) runFloor(ctx context.Context) (Result, error) {
	cfg := b.cfg
	b.printf("floor: bare asynq chains of %d hops, %s, %d asynq workers\n", cfg.FloorCfg.Hops, cfg.Load.Mode(), cmp.Or(cfg.FloorCfg.Workers, 10))
	if err := PrepareFloor(ctx, cfg.FloorCfg); err != nil {
		return Result{}, err
	}
	var meter *Meter
	var txBefore int64
	if b.cfg.Transactions {
		var err error
		if meter, err = OpenMeter(ctx, cfg.FloorCfg.DatabaseURL, cfg.StatsDatabase); err != nil {
			return Result{}, err
		}
		defer meter.Close()
		// The preparing connection has closed; its backend publishes its counts as it exits.
		if txBefore, err = meter.Settle(ctx, time.Second); err != nil {
			return Result{}, err
		}
	}
	f, err := StartFloor(ctx, cfg.FloorCfg, b.log)
	if err != nil {
		return Result{}, err
	}
	outcomes := Drive(ctx, cfg.Load, f.RunFunc(cfg.RunTimeout))
	f.Close()
	s := f.Stats()
	r := Result{Name: fmt.Sprintf("floor-%d", cfg.FloorCfg.Hops), Shape: ShapeChain, Floor: true, Mode: cfg.Load.Mode(),
		Concurrency: cfg.Load.Concurrency, Measured: true}
	tally(&r, outcomes)
	r.Succeeded = r.Started - r.Stuck - r.StartErrors
	r.NodeExecutions, r.Wall = s.Hops, s.Span
	r.RunLatency, r.HopLatency = Summarize(s.RunLatency), Summarize(s.HopLatency)
	r.RunsPerSec, r.NodesPerSec = perSecond(r.Succeeded, r.Wall), perSecond(r.NodeExecutions, r.Wall)
	if meter != nil {
		// Closing the pool ended its backends, which publish their counts as they exit.
		after, err := meter.Settle(ctx, time.Second)
		if err != nil {
			return r, err
		}
		r.Transactions = after - txBefore
		if r.NodeExecutions > 0 {
			r.TxPerNode = float64(r.Transactions) / float64(r.NodeExecutions)
			r.TxPerNodeNoPoll = r.TxPerNode
		}
	}
	if err := f.Cleanup(ctx); err != nil {
		b.log.Warn("floor cleanup", "error", err)
	}
	b.printf("  %d chains, %d hops in %s: %.0f hops/s\n", r.Succeeded, r.NodeExecutions, r.Wall.Round(time.Millisecond), r.NodesPerSec)
	return r, nil
}

func (b *Bench) runService(ctx context.Context) ([]Result, error) {
	cfg := b.cfg
	if err := CheckHealth(ctx, b.client); err != nil {
		return nil, err
	}
	if cfg.DatabaseURL != "" {
		m, err := OpenMeter(ctx, cfg.DatabaseURL, cfg.StatsDatabase)
		if err != nil {
			return nil, err
		}
		defer m.Close()
		b.meter = m
	}
	var workloads []Workload
	var pools []*workflowPool
	for _, s := range cfg.Shapes {
		w, err := NewWorkload(s, cmp.Or(map[string]int{ShapeChain: cfg.ChainN, ShapeFanout: cfg.FanoutN}[s], 1), cfg.APIBase)
		if err != nil {
			return nil, err
		}
		// Created before the measured windows; a further copy made mid-phase costs a few
		// transactions in thousands.
		pool, err := b.workflowPool(ctx, w)
		if err != nil {
			return nil, err
		}
		workloads, pools = append(workloads, w), append(pools, pool)
	}
	var pollCost float64
	var txMark int64
	if cfg.Transactions {
		var err error
		if pollCost, txMark, err = b.calibrate(ctx); err != nil {
			return nil, err
		}
	}
	var phases []phase
	for i, w := range workloads {
		p := phase{w: w, pollCost: pollCost, txBefore: txMark}
		b.printf("phase %d/%d: %s, %s, bound %s\n", i+1, len(workloads), w.Name, cfg.Load.Mode(), bound(cfg.Load))
		pollsBefore := b.client.StatusPolls.Load() + b.client.ListPolls.Load()
		start := time.Now()
		p.outcomes = b.drive(ctx, w, pools[i])
		p.clientDur = time.Since(start)
		p.polls = b.client.StatusPolls.Load() + b.client.ListPolls.Load() - pollsBefore
		if cfg.Transactions && ctx.Err() == nil {
			// The next phase starts from this mark: its window begins where this one ends.
			var err error
			if txMark, err = b.meter.Settle(ctx, cfg.Settle); err != nil {
				return nil, err
			}
			p.txAfter = txMark
		}
		ended, stuck := 0, 0
		for _, o := range p.outcomes {
			if o.Status != "" {
				ended++
			}
			if o.Stuck {
				stuck++
			}
		}
		b.printf("  %d runs ended, %d stuck, in %s\n", ended, stuck, p.clientDur.Round(time.Millisecond))
		phases = append(phases, p)
		if ctx.Err() != nil {
			b.printf("  overall timeout reached: stopping\n")
			break
		}
	}
	// Read the results even after the overall timeout, within a bound of their own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	results := make([]Result, 0, len(phases))
	for _, p := range phases {
		r, err := b.result(ctx, p)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
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

// workflowPool hands out the workflow copy each run starts on: a new copy of w every
// RunsPerWorkflow runs, created on first use.
type workflowPool struct {
	b   *Bench
	w   Workload
	mu  sync.Mutex
	ids []string
}

func (b *Bench) workflowPool(ctx context.Context, w Workload) (*workflowPool, error) {
	p := &workflowPool{b: b, w: w}
	_, err := p.forRun(ctx, 0)
	return p, err
}

func (p *workflowPool) forRun(ctx context.Context, seq int) (string, error) {
	i := seq / p.b.cfg.RunsPerWorkflow
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.ids) <= i {
		id, err := p.b.client.CreateWorkflow(ctx, fmt.Sprintf("sfload %s #%d", p.w.Name, len(p.ids)+1), p.w.Definition)
		if err != nil {
			return "", err
		}
		p.ids = append(p.ids, id)
	}
	return p.ids[i], nil
}

func (b *Bench) drive(ctx context.Context, w Workload, pool *workflowPool) []Outcome {
	var tracker Tracker
	stopTracker := func() {}
	if b.cfg.Poll == PollStatus {
		tracker = &StatusTracker{Client: b.client, Interval: b.cfg.PollInterval}
	} else {
		lt := &ListTracker{Client: b.client, Interval: b.cfg.PollInterval}
		tctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			lt.Run(tctx)
		}()
		tracker = lt
		stopTracker = func() { cancel(); <-done }
	}
	defer stopTracker()
	return Drive(ctx, b.cfg.Load, func(ctx context.Context, seq int) Outcome {
		o := Outcome{Seq: seq, Start: time.Now()}
		wid, err := pool.forRun(ctx, seq)
		if err != nil {
			o.Err = err
			return o
		}
		o.RunID, err = b.client.StartRun(ctx, wid, w.Input(seq))
		o.StartLatency = time.Since(o.Start)
		if err != nil {
			o.Err = err
			return o
		}
		status, err := tracker.Wait(ctx, wid, o.RunID, o.Start.Add(b.cfg.RunTimeout))
		switch {
		case errors.Is(err, ErrStuck):
			o.Stuck = true
		case err != nil:
			o.Err = err
		default:
			o.Status, o.End = status, time.Now()
		}
		return o
	})
}

// calibrate measures the transactions one tracking poll costs: a quiet window with only
// Calibrations polls of a finished run (status) or of its workflow's run list (list).
func (b *Bench) calibrate(ctx context.Context) (cost float64, mark int64, err error) {
	w, err := NewWorkload(ShapeChain, 2, b.cfg.APIBase)
	if err != nil {
		return 0, 0, err
	}
	wid, err := b.client.CreateWorkflow(ctx, "sfload calibration", w.Definition)
	if err != nil {
		return 0, 0, err
	}
	runID, err := b.client.StartRun(ctx, wid, w.Input(0))
	if err != nil {
		return 0, 0, err
	}
	st := &StatusTracker{Client: b.client, Interval: 20 * time.Millisecond}
	if _, err := st.Wait(ctx, wid, runID, time.Now().Add(b.cfg.RunTimeout)); err != nil {
		return 0, 0, fmt.Errorf("calibration run %s: %w", runID, err)
	}
	b.printf("calibrating: %d %s polls between two %s settles\n", b.cfg.Calibrations, b.cfg.Poll, b.cfg.Settle)
	before, err := b.meter.Settle(ctx, b.cfg.Settle)
	if err != nil {
		return 0, 0, err
	}
	for range b.cfg.Calibrations {
		if b.cfg.Poll == PollStatus {
			_, err = b.client.RunStatus(ctx, runID)
		} else {
			_, err = b.client.ListRuns(ctx, wid)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("calibration: %w", err)
		}
	}
	after, err := b.meter.Settle(ctx, b.cfg.Settle)
	if err != nil {
		return 0, 0, err
	}
	cost = float64(after-before) / float64(b.cfg.Calibrations)
	b.printf("  one %s poll costs %.2f transactions\n", b.cfg.Poll, cost)
	return cost, after, nil
}

// tally counts outcomes into r.
func tally(r *Result, outcomes []Outcome) {
	var starts []time.Duration
	for _, o := range outcomes {
		switch {
		case o.Skipped:
			r.Skipped++
			continue
		case o.Err != nil && o.RunID == "":
			r.StartErrors++
		case o.Stuck:
			r.Stuck++
		}
		r.Started++
		if o.StartLatency > 0 {
			starts = append(starts, o.StartLatency)
		}
	}
	r.StartLatency = Summarize(starts)
}

func (b *Bench) result(ctx context.Context, p phase) (Result, error) {
	cfg := b.cfg
	r := Result{Name: p.w.Name, Shape: p.w.Shape, Mode: cfg.Load.Mode(), Concurrency: cfg.Load.Concurrency, Rate: cfg.Load.Rate}
	tally(&r, p.outcomes)
	if b.meter == nil {
		// Client-side only: end observed by polling, node executions assumed from the shape.
		var lat []time.Duration
		for _, o := range p.outcomes {
			switch o.Status {
			case workflow.RunSucceeded:
				r.Succeeded++
				lat = append(lat, o.End.Sub(o.Start))
			case workflow.RunFailed, workflow.RunCancelled:
				r.Failed++
			}
		}
		r.Wall = p.clientDur
		r.NodeExecutions = r.Succeeded * p.w.Executions
		r.RunLatency = Summarize(lat)
		r.RunsPerSec, r.NodesPerSec = perSecond(r.Succeeded, r.Wall), perSecond(r.NodeExecutions, r.Wall)
		return r, nil
	}
	var ids []string
	for _, o := range p.outcomes {
		if o.RunID != "" {
			ids = append(ids, o.RunID)
		}
	}
	a, err := b.meter.Analyze(ctx, p.w, ids)
	if err != nil {
		return r, err
	}
	r.Measured = true
	r.Succeeded, r.Failed = a.Succeeded, a.Failed+a.Cancelled
	// A run the tracker gave up on is stuck; so is one the database still shows unfinished.
	r.Stuck = max(r.Stuck, a.Unfinished)
	r.Wall, r.NodeExecutions = a.Span, a.NodeExecutions
	r.RunLatency, r.HopLatency = Summarize(a.RunLatency), Summarize(a.HopLatency)
	r.Duplicates, r.JoinRuns, r.JoinExact = a.Duplicates, a.JoinRuns, a.JoinExact
	if len(a.Branches) > 0 {
		r.Branches = a.Branches
	}
	r.RunsPerSec, r.NodesPerSec = perSecond(r.Succeeded, r.Wall), perSecond(r.NodeExecutions, r.Wall)
	if cfg.Transactions && p.txAfter > 0 && r.NodeExecutions > 0 {
		r.Transactions, r.Polls, r.PollCost = p.txAfter-p.txBefore, p.polls, p.pollCost
		r.TxPerNode = float64(r.Transactions) / float64(r.NodeExecutions)
		r.TxPerNodeNoPoll = (float64(r.Transactions) - float64(r.Polls)*r.PollCost) / float64(r.NodeExecutions)
	}
	if len(p.w.Branches) > 0 && r.Succeeded > 0 {
		for _, br := range p.w.Branches {
			if a.Branches[br.Label] == 0 {
				b.log.Warn("a branch never ran", "workload", p.w.Name, "branch", br.Label)
			}
		}
	}
	return r, nil
}
