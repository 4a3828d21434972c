// Package retention prunes run history: finished runs (with their tasks and logs, deleted by
// the schema's ON DELETE CASCADE) older than a retention window are deleted in bounded
// batches by every worker, leader-free. It talks to PostgreSQL through the small Store
// interface declared here, and reports to an Observer; it imports neither SQL nor metrics.
package retention

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Defaults and bounds of the configuration.
const (
	// DefaultRetention is how long finished runs are kept when RUN_RETENTION is unset.
	DefaultRetention = 30 * 24 * time.Hour
	// MinRetention is the shortest window other than 0 (keep forever): a finished run stays
	// readable for the clients that poll it and for the synchronous execute route.
	MinRetention = time.Hour
	// MaxBatch bounds the runs one delete statement may take.
	MaxBatch = 10_000
)

// Config tunes the pruner.
type Config struct {
	// Retention is how long a run is kept after it finished; 0 keeps runs forever (the
	// pruner does nothing). The process configuration defaults it to DefaultRetention.
	Retention time.Duration
	// Interval between passes (default 1 min).
	Interval time.Duration
	// Batch is how many runs one delete statement takes at most (default 500): a statement
	// holds the locks of at most that many runs and their tasks and logs, and ends quickly.
	Batch int
	// Pause is the wait between two batches of one pass (default 100 ms), so a backlog is
	// deleted as a trickle that live traffic gets ahead of, not as one long burst of writes.
	Pause time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WithDefaults fills unset fields. Retention is left as it is: 0 means keep forever.
func (c Config) WithDefaults() Config {
	c.Interval = cmp.Or(c.Interval, time.Minute)
	c.Batch = cmp.Or(c.Batch, 500)
	c.Pause = cmp.Or(c.Pause, 100*time.Millisecond)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Enabled reports whether runs are ever pruned.
func (c Config) Enabled() bool { return c.Retention > 0 }

// Validate checks a configuration with its defaults filled in.
func (c Config) Validate() error {
	var errs []error
	if c.Retention < 0 {
		errs = append(errs, fmt.Errorf("retention: Retention must not be negative (0 keeps runs forever), got %v", c.Retention))
	}
	if c.Interval <= 0 {
		errs = append(errs, fmt.Errorf("retention: Interval must be positive, got %v", c.Interval))
	}
	if c.Batch <= 0 || c.Batch > MaxBatch {
		errs = append(errs, fmt.Errorf("retention: Batch must be from 1 to %d, got %d", MaxBatch, c.Batch))
	}
	if c.Pause < 0 {
		errs = append(errs, fmt.Errorf("retention: Pause must not be negative, got %v", c.Pause))
	}
	return errors.Join(errs...)
}

// ParseRetention reads a retention window: a Go duration (12h, 90m), a whole number of days
// with a d suffix (30d), or 0 to keep runs forever. Negative windows are refused.
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	switch {
	case s == "0":
		return 0, nil
	case strings.HasSuffix(s, "d"):
		days, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("%q is not a whole number of days", s)
		}
		const maxDays = int64(1<<63-1) / int64(24*time.Hour)
		if days > maxDays {
			return 0, fmt.Errorf("%q is too long (at most %dd)", s, maxDays)
		}
		d = time.Duration(days) * 24 * time.Hour
	default:
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// Terminal run statuses: the only runs the pruner deletes.
var Terminal = []string{"succeeded", "failed", "cancelled"}

// Batch asks the store to delete at most Limit runs whose status is terminal and whose
// finished_at is in [From, Before), oldest first, skipping runs another transaction holds.
type Batch struct {
	From   time.Time // the zero time: from the oldest
	Before time.Time
	Limit  int
}

// Deleted is what one batch deleted: how many runs, and the latest finished_at among them
// (where the next batch of the pass starts). Busy says that another pruner's batch was
// running, so this one deleted nothing and should be tried again.
type Deleted struct {
	Runs int
	Last time.Time
	Busy bool
}

// Store deletes expired runs. DeleteExpiredRuns must re-check, in the delete statement
// itself, that each run is terminal and finished before b.Before, take at most b.Limit runs,
// skip (not wait for) runs locked by another transaction, and run one batch at a time across
// every pruner (reporting Busy instead of waiting), so that any number of pruners can run at
// once without waiting on, or deadlocking with, each other.
type Store interface {
	DeleteExpiredRuns(ctx context.Context, b Batch) (Deleted, error)
}

// Pass describes one pass of the pruner.
type Pass struct {
	// Pruned counts the runs deleted (those of a failed pass's earlier batches included).
	Pruned int
	// Cutoff is the pass's limit: runs that finished before it were expired.
	Cutoff   time.Time
	Duration time.Duration
	// Err is why the pass stopped early; nil for a pass that deleted every expired run it
	// could lock.
	Err error
}

// Observer receives the pruner's telemetry.
type Observer interface {
	// RunsPruned reports a batch that deleted n runs (n > 0), as soon as it committed.
	RunsPruned(ctx context.Context, n int)
	// RetentionPass reports a pass that ended, successful or not (never a pass of a pruner
	// that keeps runs forever, nor one cut short by the end of its context).
	RetentionPass(ctx context.Context, p Pass)
}

// Pruner deletes expired run history.
type Pruner struct {
	cfg   Config
	store Store
	obs   Observer
	log   *slog.Logger
}

// NewPruner returns a pruner, or the configuration's errors. obs and log may be nil.
func NewPruner(cfg Config, store Store, obs Observer, log *slog.Logger) (*Pruner, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("retention: a Store is required")
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pruner{cfg: cfg, store: store, obs: obs, log: log}, nil
}

// Prune makes one pass: it deletes every run that is terminal and finished more than
// Retention ago, Batch runs per statement with Pause between statements, until a statement
// finds fewer than Batch runs to take. The batches of concurrent pruners take turns, so N
// workers drain one backlog together; a run locked by anything else is left for the next
// pass. It returns how many runs it deleted. A
// pruner that keeps runs forever deletes nothing.
func (p *Pruner) Prune(ctx context.Context) (int, error) {
	if !p.cfg.Enabled() {
		return 0, nil
	}
	started := p.cfg.Now()
	cutoff := started.Add(-p.cfg.Retention)
	pruned, err := p.prune(ctx, cutoff)
	if ctx.Err() != nil {
		return pruned, err // stopping: not a failed pass
	}
	pass := Pass{Pruned: pruned, Cutoff: cutoff, Duration: p.cfg.Now().Sub(started), Err: err}
	p.obs.RetentionPass(ctx, pass)
	switch {
	case err != nil:
		p.log.WarnContext(ctx, "retention pass failed", "pruned", pruned, "cutoff", cutoff, "duration", pass.Duration.Round(time.Millisecond).String(), "error", err)
	case pruned > 0:
		p.log.InfoContext(ctx, "retention pass pruned runs", "pruned", pruned, "cutoff", cutoff, "duration", pass.Duration.Round(time.Millisecond).String())
	}
	return pruned, err
}

func (p *Pruner) prune(ctx context.Context, cutoff time.Time) (int, error) {
	pruned := 0
	from := time.Time{}
	for {
		d, err := p.store.DeleteExpiredRuns(ctx, Batch{From: from, Before: cutoff, Limit: p.cfg.Batch})
		if err != nil {
			return pruned, fmt.Errorf("retention: delete runs finished before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		if d.Busy { // another worker's batch: take turns
			if err := sleep(ctx, p.cfg.Pause); err != nil {
				return pruned, err
			}
			continue
		}
		if d.Runs > 0 {
			pruned += d.Runs
			p.obs.RunsPruned(ctx, d.Runs)
		}
		// Fewer than a batch: no run past from is left that is expired and unlocked.
		if d.Runs < p.cfg.Batch {
			return pruned, nil
		}
		// The batch took the oldest unlocked runs, so every other expired run finished at or
		// after its last one: the next batch starts there instead of walking again over the
		// index entries of the runs just deleted.
		from = d.Last
		if err := sleep(ctx, p.cfg.Pause); err != nil {
			return pruned, err
		}
	}
}

// Run prunes every Interval until ctx ends (the first pass one Interval after the start, so
// workers started together do not all prune at once on start-up). Failed passes are logged
// and tried again at the next tick. A pruner that keeps runs forever returns at once.
func (p *Pruner) Run(ctx context.Context) error {
	if !p.cfg.Enabled() {
		return nil
	}
	t := time.NewTicker(p.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			p.Prune(ctx) //nolint:errcheck // logged and observed by Prune
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type nopObserver struct{}

func (nopObserver) RunsPruned(context.Context, int)     {}
func (nopObserver) RetentionPass(context.Context, Pass) {}
