package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// phase is one workload under the load, as it ran.
type phase struct {
	w         Workload
	outcomes  []Outcome
	txBefore  int64
	txAfter   int64
	polls     int64
	pollCost  float64
	starts    int64
	startCost float64
	clientDur time.Duration
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
		w, err := cfg.workload(s)
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
	var cal calibration
	var txMark int64
	if cfg.Transactions {
		var err error
		if cal, txMark, err = b.calibrate(ctx); err != nil {
			return nil, err
		}
	}
	var results []Result
	if cfg.Floor {
		r, err := b.runFloor(ctx)
		if err != nil {
			return nil, err
		}
		results = append(results, r)
		if cfg.Transactions && cfg.FloorCfg.DatabaseURL == cfg.DatabaseURL {
			// The floor wrote to the measured database: start the window after it.
			if txMark, err = b.meter.Settle(ctx, cfg.Settle); err != nil {
				return nil, err
			}
		}
	}
	var phases []phase
	for i, w := range workloads {
		p := phase{w: w, pollCost: cal.poll, startCost: cal.start, txBefore: txMark}
		b.printf("phase %d/%d: %s, %s, bound %s\n", i+1, len(workloads), w.Name, cfg.Load.Mode(), bound(cfg.Load))
		pollsBefore := b.client.StatusPolls.Load() + b.client.ListPolls.Load()
		startsBefore := b.client.Starts.Load()
		start := time.Now()
		p.outcomes = b.drive(ctx, w, pools[i])
		p.clientDur = time.Since(start)
		p.polls = b.client.StatusPolls.Load() + b.client.ListPolls.Load() - pollsBefore
		p.starts = b.client.Starts.Load() - startsBefore
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
	for _, p := range phases {
		r, err := b.result(ctx, p)
		if err != nil {
			return results, err
		}
		results = append(results, r)
	}
	return results, nil
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

// calibration is what the load generator's own requests cost in transactions: one tracking
// poll and one run start.
type calibration struct {
	poll, start float64
}

// calibrate measures the transactions one tracking poll and one run start cost, in quiet
// windows: Calibrations polls of a finished run (status) or of its workflow's run list (list),
// then Calibrations starts of a workflow without nodes, whose runs finish in their start
// transaction and so execute nothing. It returns the counter at the end of the last window.
func (b *Bench) calibrate(ctx context.Context) (cal calibration, mark int64, err error) {
	w, err := NewWorkload(ShapeChain, 2, b.cfg.APIBase)
	if err != nil {
		return cal, 0, err
	}
	wid, err := b.client.CreateWorkflow(ctx, "sfload calibration", w.Definition)
	if err != nil {
		return cal, 0, err
	}
	empty, err := b.client.CreateWorkflow(ctx, "sfload start calibration", workflow.Definition{Nodes: []workflow.Node{}, Edges: []workflow.Edge{}})
	if err != nil {
		return cal, 0, err
	}
	runID, err := b.client.StartRun(ctx, wid, w.Input(0))
	if err != nil {
		return cal, 0, err
	}
	st := &StatusTracker{Client: b.client, Interval: 20 * time.Millisecond}
	if _, err := st.Wait(ctx, wid, runID, time.Now().Add(b.cfg.RunTimeout)); err != nil {
		return cal, 0, fmt.Errorf("calibration run %s: %w", runID, err)
	}
	b.printf("calibrating: %d %s polls, then %d starts of an empty workflow, between %s settles\n",
		b.cfg.Calibrations, b.cfg.Poll, b.cfg.Calibrations, b.cfg.Settle)
	before, err := b.meter.Settle(ctx, b.cfg.Settle)
	if err != nil {
		return cal, 0, err
	}
	for range b.cfg.Calibrations {
		if b.cfg.Poll == PollStatus {
			_, err = b.client.RunStatus(ctx, runID)
		} else {
			_, err = b.client.ListRuns(ctx, wid)
		}
		if err != nil {
			return cal, 0, fmt.Errorf("calibration: %w", err)
		}
	}
	mid, err := b.meter.Settle(ctx, b.cfg.Settle)
	if err != nil {
		return cal, 0, err
	}
	for range b.cfg.Calibrations {
		if _, err := b.client.StartRun(ctx, empty, map[string]any{}); err != nil {
			return cal, 0, fmt.Errorf("start calibration: %w", err)
		}
	}
	after, err := b.meter.Settle(ctx, b.cfg.Settle)
	if err != nil {
		return cal, 0, err
	}
	cal.poll = float64(mid-before) / float64(b.cfg.Calibrations)
	cal.start = float64(after-mid) / float64(b.cfg.Calibrations)
	b.printf("  one %s poll costs %.2f transactions, one run start %.2f\n", b.cfg.Poll, cal.poll, cal.start)
	return cal, after, nil
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
	r.RunLatency, r.HopLatency, r.StepLatency = Summarize(a.RunLatency), Summarize(a.HopLatency), Summarize(a.StepLatency)
	r.Eager = a.Eager
	r.Duplicates, r.JoinRuns, r.JoinExact, r.APIFailures = a.Duplicates, a.JoinRuns, a.JoinExact, a.APIFailures
	r.APICalls = a.APICalls
	if len(a.Branches) > 0 {
		r.Branches = a.Branches
	}
	r.RunsPerSec, r.NodesPerSec = perSecond(r.Succeeded, r.Wall), perSecond(r.NodeExecutions, r.Wall)
	if cfg.Transactions && p.txAfter > 0 && r.NodeExecutions > 0 {
		r.Transactions, r.Polls, r.PollCost = p.txAfter-p.txBefore, p.polls, p.pollCost
		r.TxPerNode = float64(r.Transactions) / float64(r.NodeExecutions)
		r.TxPerNodeNoPoll = (float64(r.Transactions) - float64(r.Polls)*r.PollCost) / float64(r.NodeExecutions)
		r.Starts, r.StartCost = p.starts, p.startCost
		r.TxPerNodeNet = (float64(r.Transactions) - float64(r.Polls)*r.PollCost - float64(r.Starts)*r.StartCost) / float64(r.NodeExecutions)
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
