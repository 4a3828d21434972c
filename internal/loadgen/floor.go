package loadgen

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// FloorConfig configures the floor: bare asynq chains whose every hop commits one PostgreSQL
// transaction and enqueues the next hop, with the asynq tuning of internal/queue/server.go.
type FloorConfig struct {
	DatabaseURL string
	RedisURL    string
	// Queue is the asynq queue (default "sfload-floor"); it is emptied before and after.
	Queue string
	// Hops per chain (default 10).
	Hops int
	// Workers is asynq's Concurrency (default 10, as WORKER_CONCURRENCY).
	Workers int
	// PollInterval is TaskCheckInterval (default 2 ms), DelayedInterval
	// DelayedTaskCheckInterval (default 100 ms): the service's values.
	PollInterval    time.Duration
	DelayedInterval time.Duration
	// Schema holds the scratch tables (default "sfload_floor"); it is dropped on Close.
	Schema string
}

// WithDefaults fills unset fields.
func (c FloorConfig) WithDefaults() FloorConfig {
	c.Queue = cmp.Or(c.Queue, "sfload-floor")
	c.Hops = cmp.Or(c.Hops, 10)
	c.Workers = cmp.Or(c.Workers, 10)
	c.PollInterval = cmp.Or(c.PollInterval, 2*time.Millisecond)
	c.DelayedInterval = cmp.Or(c.DelayedInterval, 100*time.Millisecond)
	c.Schema = cmp.Or(c.Schema, "sfload_floor")
	return c
}

const floorTaskType = "sfload:hop"

// Floor runs the floor chains in this process.
type Floor struct {
	cfg    FloorConfig
	pool   *pgxpool.Pool
	rc     redis.UniversalClient
	client *asynq.Client
	srv    *asynq.Server
	// tag makes task ids unique to this floor, whatever a previous one left behind.
	tag string

	mu     sync.Mutex
	chains map[int]*floorChain
}

type floorChain struct {
	start time.Time
	hops  []hopTimes
	done  chan struct{}
}

// hopTimes are a hop's start (handler entered) and completion (just before its transaction
// begins), like a task's started_at and completed_at, and when its transaction had committed
// and the next hop was enqueued.
type hopTimes struct {
	start, complete, committed, enqueued time.Time
}

type floorPayload struct {
	Chain int `json:"c"`
	Hop   int `json:"h"`
}

// PrepareFloor creates the scratch schema and empties the queue. It leaves no connection open,
// so the database's transaction counter can be read before StartFloor.
func PrepareFloor(ctx context.Context, cfg FloorConfig) error {
	cfg = cfg.WithDefaults()
	conn, err := pgx.Connect(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("floor: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	s := pgx.Identifier{cfg.Schema}.Sanitize()
	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+s+` CASCADE;
		CREATE SCHEMA `+s+`;
		CREATE TABLE `+s+`.chains (id bigint PRIMARY KEY, hops integer NOT NULL, updated_at timestamptz NOT NULL);
		CREATE TABLE `+s+`.hops (chain_id bigint NOT NULL, hop integer NOT NULL, started_at timestamptz NOT NULL, completed_at timestamptz NOT NULL)`)
	if err != nil {
		return fmt.Errorf("floor: create schema %s: %w", cfg.Schema, err)
	}
	rc, err := redisClient(cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := deleteQueues(ctx, rc, []string{cfg.Queue}); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	return nil
}

// StartFloor connects and starts the asynq server.
func StartFloor(ctx context.Context, cfg FloorConfig, log *slog.Logger) (*Floor, error) {
	cfg = cfg.WithDefaults()
	f := &Floor{cfg: cfg, tag: uuid.NewString()[:8], chains: map[int]*floorChain{}}
	pcfg, err := pgxpool.ParseConfig(cfg.DatabaseURL)
	if err != nil {
		return nil, fmt.Errorf("floor: database URL: %w", err)
	}
	pcfg.MaxConns = int32(cfg.Workers + 2)
	if f.pool, err = pgxpool.NewWithConfig(ctx, pcfg); err != nil {
		return nil, fmt.Errorf("floor: connect to PostgreSQL: %w", err)
	}
	if f.rc, err = redisClient(cfg.RedisURL); err != nil {
		f.pool.Close()
		return nil, err
	}
	f.client = asynq.NewClientFromRedisClient(f.rc)
	f.srv = asynq.NewServerFromRedisClient(f.rc, asynq.Config{
		Concurrency:              cfg.Workers,
		Queues:                   map[string]int{cfg.Queue: 1},
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: cfg.DelayedInterval,
		ShutdownTimeout:          5 * time.Second,
		LogLevel:                 asynq.WarnLevel,
		Logger:                   asynqLogger{log},
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(floorTaskType, f.handle)
	if err := f.srv.Start(mux); err != nil {
		f.rc.Close()
		f.pool.Close()
		return nil, fmt.Errorf("floor: start asynq server: %w", err)
	}
	return f, nil
}

// Close stops the server, then closes the database pool (its backends publish their
// transaction counts as they exit) and Redis.
func (f *Floor) Close() {
	f.srv.Shutdown()
	f.pool.Close()
	_ = f.client.Close()
	f.rc.Close()
}

// Cleanup drops the scratch schema and the queue.
func (f *Floor) Cleanup(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, f.cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("floor: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{f.cfg.Schema}.Sanitize()+` CASCADE`); err != nil {
		return fmt.Errorf("floor: drop schema: %w", err)
	}
	rc, err := redisClient(f.cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := deleteQueues(ctx, rc, []string{f.cfg.Queue}); err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	return nil
}

func (f *Floor) enqueue(ctx context.Context, p floorPayload) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = f.client.EnqueueContext(ctx, asynq.NewTask(floorTaskType, body),
		asynq.Queue(f.cfg.Queue), asynq.TaskID(fmt.Sprintf("%s-%d-%d", f.tag, p.Chain, p.Hop)), asynq.MaxRetry(3))
	return err
}

// handle is one hop: one transaction (bump the chain's counter row, insert the hop's row),
// then the next hop is enqueued.
func (f *Floor) handle(ctx context.Context, t *asynq.Task) error {
	start := time.Now()
	var p floorPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("floor: payload: %v: %w", err, asynq.SkipRetry)
	}
	complete := time.Now()
	s := pgx.Identifier{f.cfg.Schema}.Sanitize()
	err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO `+s+`.chains (id, hops, updated_at) VALUES ($1, 1, $2)
			ON CONFLICT (id) DO UPDATE SET hops = chains.hops + 1, updated_at = $2`, p.Chain, complete); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+s+`.hops (chain_id, hop, started_at, completed_at) VALUES ($1, $2, $3, $4)`,
			p.Chain, p.Hop, start, complete)
		return err
	})
	if err != nil {
		return fmt.Errorf("floor: hop %d of chain %d: %w", p.Hop, p.Chain, err)
	}
	committed := time.Now()
	last := p.Hop+1 >= f.cfg.Hops
	if !last {
		if err := f.enqueue(ctx, floorPayload{Chain: p.Chain, Hop: p.Hop + 1}); err != nil {
			return err
		}
	}
	enqueued := time.Now()
	f.mu.Lock()
	c := f.chains[p.Chain]
	if c != nil && p.Hop < len(c.hops) {
		c.hops[p.Hop] = hopTimes{start: start, complete: complete, committed: committed, enqueued: enqueued}
	}
	f.mu.Unlock()
	if last && c != nil {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
	return nil
}

// RunFunc starts chain seq and waits for its last hop, up to timeout.
func (f *Floor) RunFunc(timeout time.Duration) RunFunc {
	return func(ctx context.Context, seq int) Outcome {
		c := &floorChain{hops: make([]hopTimes, f.cfg.Hops), done: make(chan struct{}, 1)}
		o := Outcome{Seq: seq, Start: time.Now()}
		c.start = o.Start
		f.mu.Lock()
		f.chains[seq] = c
		f.mu.Unlock()
		if err := f.enqueue(ctx, floorPayload{Chain: seq}); err != nil {
			o.Err = fmt.Errorf("floor: enqueue: %w", err)
			return o
		}
		o.RunID, o.StartLatency = fmt.Sprintf("chain-%d", seq), time.Since(o.Start)
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case <-c.done:
			o.Status, o.End = "succeeded", time.Now()
		case <-timer.C:
			o.Stuck = true
		case <-ctx.Done():
			o.Err = ctx.Err()
		}
		return o
	}
}

// FloorStats are the floor's measurements of finished chains.
type FloorStats struct {
	Hops       int
	Span       time.Duration
	RunLatency []time.Duration
	HopLatency []time.Duration
	// StepLatency is the next hop's completion stamp minus this hop's: the commit, the
	// enqueue, the pickup and the next hop's handler up to its stamp, as a service step is
	// parent completed_at → child completed_at.
	StepLatency []time.Duration
	// Commit, Enqueue and Pickup split HopLatency: the parent's transaction, its enqueue of
	// the child, and the wait until a worker started the child.
	Commit, Enqueue, Pickup []time.Duration
}

// Stats measures the chains finished so far.
func (f *Floor) Stats() FloorStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s FloorStats
	var first, last time.Time
	for _, c := range f.chains {
		if first.IsZero() || c.start.Before(first) {
			first = c.start
		}
		for i, h := range c.hops {
			if h.complete.IsZero() {
				continue
			}
			s.Hops++
			if h.complete.After(last) {
				last = h.complete
			}
			if prev := c.hops[max(i-1, 0)]; i > 0 && !prev.complete.IsZero() {
				s.HopLatency = append(s.HopLatency, h.start.Sub(prev.complete))
				s.StepLatency = append(s.StepLatency, h.complete.Sub(prev.complete))
				s.Commit = append(s.Commit, prev.committed.Sub(prev.complete))
				s.Enqueue = append(s.Enqueue, prev.enqueued.Sub(prev.committed))
				s.Pickup = append(s.Pickup, h.start.Sub(prev.enqueued))
			}
		}
		if end := c.hops[len(c.hops)-1].complete; !end.IsZero() {
			s.RunLatency = append(s.RunLatency, end.Sub(c.start))
		}
	}
	if !last.IsZero() {
		s.Span = last.Sub(first)
	}
	return s
}

func redisClient(url string) (redis.UniversalClient, error) {
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return nil, fmt.Errorf("floor: Redis URL %q: %w", url, err)
	}
	rc, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("floor: Redis URL %q: unsupported connection type", url)
	}
	return rc, nil
}

// asynqLogger routes asynq's logs to slog.
type asynqLogger struct{ log *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.log.Error(fmt.Sprint(args...), "component", "asynq") }

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
	load := cfg.Load
	if cfg.FloorRuns > 0 {
		load.Runs = cfg.FloorRuns
	}
	outcomes := Drive(ctx, load, f.RunFunc(cfg.RunTimeout))
	f.Close()
	s := f.Stats()
	r := Result{Name: fmt.Sprintf("floor-%d", cfg.FloorCfg.Hops), Shape: ShapeChain, Floor: true, Mode: cfg.Load.Mode(),
		Concurrency: cfg.Load.Concurrency, Measured: true}
	tally(&r, outcomes)
	for _, o := range outcomes {
		if o.Status == "succeeded" {
			r.Succeeded++
		}
	}
	r.NodeExecutions, r.Wall = s.Hops, s.Span
	r.RunLatency, r.HopLatency, r.StepLatency = Summarize(s.RunLatency), Summarize(s.HopLatency), Summarize(s.StepLatency)
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
			r.TxPerNodeNoPoll, r.TxPerNodeNet = r.TxPerNode, r.TxPerNode
		}
	}
	if err := f.Cleanup(ctx); err != nil {
		b.log.Warn("floor cleanup", "error", err)
	}
	b.printf("  %d chains, %d hops in %s: %.0f hops/s\n", r.Succeeded, r.NodeExecutions, r.Wall.Round(time.Millisecond), r.NodesPerSec)
	b.printf("  hop latency p50 %s ms = commit %s + enqueue %s + pickup %s (p50 of each part)\n", ms(r.HopLatency.P50),
		ms(Summarize(s.Commit).P50), ms(Summarize(s.Enqueue).P50), ms(Summarize(s.Pickup).P50))
	b.printf("  step latency (completion → next completion) p50 %s ms\n", ms(r.StepLatency.P50))
	return r, nil
}
