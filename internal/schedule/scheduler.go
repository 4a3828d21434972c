package schedule

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Reasons a tick is skipped (the skipped-ticks metric's label values).
const (
	SkipOverlap = "overlap"
	SkipCatchUp = "catch_up"
	SkipError   = "error"
)

// Config tunes the scheduler.
type Config struct {
	// Poll is the time between two claims of due schedules (default 1 s).
	Poll time.Duration
	// MisfireThreshold is how late a tick may be and still fire whatever the catch-up policy
	// (default 10 s); later ticks are missed ticks. It must not be shorter than Poll.
	MisfireThreshold time.Duration
	// Batch is how many due schedules one claim takes at most (default 50).
	Batch int
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.Poll = cmp.Or(c.Poll, time.Second)
	c.MisfireThreshold = cmp.Or(c.MisfireThreshold, 10*time.Second)
	c.Batch = cmp.Or(c.Batch, 50)
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks a configuration with its defaults filled in.
func (c Config) Validate() error {
	var errs []error
	if c.Poll <= 0 {
		errs = append(errs, fmt.Errorf("schedule: Poll must be positive, got %v", c.Poll))
	}
	if c.MisfireThreshold < c.Poll {
		errs = append(errs, fmt.Errorf("schedule: MisfireThreshold (%v) must not be shorter than Poll (%v): every tick would count as missed", c.MisfireThreshold, c.Poll))
	}
	if c.Batch <= 0 || c.Batch > 1000 {
		errs = append(errs, fmt.Errorf("schedule: Batch must be from 1 to 1000, got %d", c.Batch))
	}
	return errors.Join(errs...)
}

// Due is a schedule claimed because its next fire time passed, with the workflow version its
// runs start.
type Due struct {
	Schedule
	// VersionID is the version the tick's runs execute: the pinned one, or the workflow's
	// current version at the claim.
	VersionID string
}

// Advance is what a claim writes back to a schedule it fired.
type Advance struct {
	NextFireAt time.Time
	// LastFireAt and LastRunID are left as they are when zero and "" (no tick started a run).
	LastFireAt time.Time
	LastRunID  string
}

// FireFunc handles one claimed schedule. ok false leaves the schedule as it was (it is
// claimed again at the next poll); an error abandons the whole claim, as a crash would.
type FireFunc func(ctx context.Context, d Due) (adv Advance, ok bool, err error)

// Store is what the scheduler needs of PostgreSQL.
type Store interface {
	// FireDue locks, in one transaction, up to limit schedules that are not paused and whose
	// next fire time is at or before now, skipping (not waiting for) schedules another
	// transaction holds; calls fire for each; writes the advances it returns; and commits.
	// It returns how many schedules it claimed.
	FireDue(ctx context.Context, now time.Time, limit int, fire FireFunc) (int, error)
	// TickRuns returns the runs already started for some idempotency keys of a workflow,
	// by key.
	TickRuns(ctx context.Context, workflowID string, keys []string) (map[string]string, error)
	// RunActive reports whether a run is queued or running (false for a run that no longer
	// exists).
	RunActive(ctx context.Context, runID string) (bool, error)
}

// Engine starts and cancels runs (*engine.Engine).
type Engine interface {
	Start(ctx context.Context, req engine.StartRequest) (engine.Started, error)
	Cancel(ctx context.Context, runID string) error
}

// Observer receives the scheduler's telemetry.
type Observer interface {
	// TickFired reports a tick that started a run, late by lateness (its fire time to the
	// run's start).
	TickFired(ctx context.Context, lateness time.Duration)
	// TicksSkipped reports n ticks that started no run, and why (SkipOverlap, SkipCatchUp,
	// SkipError).
	TicksSkipped(ctx context.Context, reason string, n int)
}

// Scheduler fires due schedules. Any number of schedulers may run against one database.
type Scheduler struct {
	cfg    Config
	store  Store
	engine Engine
	obs    Observer
	log    *slog.Logger
	// afterStart, when set (tests), runs after a tick's run was started and before the claim
	// commits; an error abandons the claim there, as a crash would.
	afterStart func(scheduleID string, fireAt time.Time) error
}

// NewScheduler returns a scheduler, or the configuration's errors. obs and log may be nil.
func NewScheduler(cfg Config, store Store, eng Engine, obs Observer, log *slog.Logger) (*Scheduler, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil || eng == nil {
		return nil, errors.New("schedule: a Store and an Engine are required")
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, store: store, engine: eng, obs: obs, log: log}, nil
}

// Run claims due schedules every Poll until ctx ends. A failed claim is logged and tried again
// at the next poll.
func (s *Scheduler) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Poll)
	defer t.Stop()
	for {
		for {
			n, err := s.Tick(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				s.log.WarnContext(ctx, "schedule claim failed; trying again at the next poll", "error", err)
			}
			if err != nil || n < s.cfg.Batch {
				break // a full batch may have left due schedules behind: claim again at once
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick makes one claim: it fires every due schedule it can lock (up to Batch) and returns how
// many it claimed.
func (s *Scheduler) Tick(ctx context.Context) (int, error) {
	now := s.cfg.Now().UTC().Truncate(time.Millisecond)
	return s.store.FireDue(ctx, now, s.cfg.Batch, func(ctx context.Context, d Due) (Advance, bool, error) {
		return s.fire(ctx, d, now)
	})
}

// TickKey is the idempotency key of a schedule's tick: the schedule and the tick's time in
// Unix milliseconds. The run it names is created once, whichever scheduler starts it first.
func TickKey(scheduleID string, fireAt time.Time) string {
	return "schedule:" + scheduleID + ":" + strconv.FormatInt(fireAt.UnixMilli(), 10)
}

// fire handles one claimed schedule: it plans its due ticks, starts the runs of those that
// fire (adopting the run a crashed claim already started for a tick) and returns the advance.
func (s *Scheduler) fire(ctx context.Context, d Due, now time.Time) (Advance, bool, error) {
	log := s.log.With("schedule_id", d.ID, "workflow_id", d.WorkflowID)
	spec, err := d.Spec()
	if err != nil {
		log.ErrorContext(ctx, "schedule has an unreadable timetable; it is skipped", "error", err)
		return Advance{}, false, nil
	}
	plan := spec.Plan(d.NextFireAt, now, d.CatchUp, d.CatchUpLimit, s.cfg.MisfireThreshold)
	adv := Advance{NextFireAt: plan.Next}
	if plan.Next.IsZero() {
		// A cron expression with no date left: park the schedule far away rather than claim it
		// at every poll.
		adv.NextFireAt = now.AddDate(100, 0, 0)
	}
	if plan.Missed > 0 {
		s.obs.TicksSkipped(ctx, SkipCatchUp, plan.Missed)
		log.InfoContext(ctx, "schedule ticks missed", "missed", plan.Missed, "catch_up", string(d.CatchUp), "from", d.NextFireAt)
	}
	keys := make([]string, len(plan.Fire))
	for i, at := range plan.Fire {
		keys[i] = TickKey(d.ID, at)
	}
	started, err := s.store.TickRuns(ctx, d.WorkflowID, keys)
	if err != nil {
		log.WarnContext(ctx, "read schedule tick runs", "error", err)
		return Advance{}, false, nil
	}
	last := d.LastRunID
	for i, at := range plan.Fire {
		if runID, ok := started[keys[i]]; ok {
			// A claim that crashed after starting this tick's run: the tick has fired.
			log.InfoContext(ctx, "schedule tick already fired", "fire_at", at, "run_id", runID)
			adv.LastFireAt, adv.LastRunID, last = at, runID, runID
			continue
		}
		runID, err := s.fireTick(ctx, log, d, at, keys[i], last)
		if err != nil {
			if transient(err) {
				log.WarnContext(ctx, "schedule tick failed; it fires at the next poll", "fire_at", at, "error", err)
				return Advance{}, false, nil
			}
			s.obs.TicksSkipped(ctx, SkipError, 1)
			log.ErrorContext(ctx, "schedule tick refused; it is skipped", "fire_at", at, "error", err)
			continue
		}
		if runID == "" {
			continue // skipped for overlap
		}
		adv.LastFireAt, adv.LastRunID, last = at, runID, runID
		if s.afterStart != nil {
			if err := s.afterStart(d.ID, at); err != nil {
				return Advance{}, false, err
			}
		}
	}
	return adv, true, nil
}

// fireTick applies the overlap policy to one tick and starts its run; it returns "" for a
// tick skipped because the previous run is still in flight.
func (s *Scheduler) fireTick(ctx context.Context, log *slog.Logger, d Due, at time.Time, key, previous string) (string, error) {
	active := false
	if previous != "" && d.Overlap != OverlapAllow {
		var err error
		if active, err = s.store.RunActive(ctx, previous); err != nil {
			return "", err
		}
	}
	switch Decide(d.Overlap, active) {
	case Skip:
		s.obs.TicksSkipped(ctx, SkipOverlap, 1)
		log.InfoContext(ctx, "schedule tick skipped: the previous run is in flight", "fire_at", at, "previous_run_id", previous)
		return "", nil
	case CancelThenStart:
		if err := s.engine.Cancel(ctx, previous); err != nil && !errors.Is(err, workflow.ErrConflict) && !errors.Is(err, workflow.ErrNotFound) {
			return "", err
		}
		log.InfoContext(ctx, "schedule cancelled the previous run", "fire_at", at, "previous_run_id", previous)
	}
	input := d.Input
	if len(input) == 0 {
		input = json.RawMessage(`{}`)
	}
	st, err := s.engine.Start(ctx, engine.StartRequest{WorkflowID: d.WorkflowID, VersionID: d.VersionID, Version: d.Version,
		Input: input, IdempotencyKey: key, ScheduleID: d.ID})
	if err != nil {
		return "", err
	}
	lateness := s.cfg.Now().Sub(at)
	if st.Created {
		s.obs.TickFired(ctx, lateness)
	}
	log.InfoContext(ctx, "schedule tick fired", "fire_at", at, "run_id", st.RunID, "lateness_ms", lateness.Milliseconds(), "created", st.Created)
	return st.RunID, nil
}

// transient reports whether a failed start may succeed at the next poll (the database or the
// queue is unreachable) rather than being refused for good (the workflow is gone, the key
// names another request, the input is invalid).
func transient(err error) bool {
	var ve *workflow.ValidationError
	return !errors.Is(err, workflow.ErrNotFound) && !errors.Is(err, workflow.ErrIdempotencyMismatch) &&
		!errors.Is(err, workflow.ErrInvalidData) && !errors.Is(err, workflow.ErrTooLarge) && !errors.As(err, &ve)
}

type nopObserver struct{}

func (nopObserver) TickFired(context.Context, time.Duration)  {}
func (nopObserver) TicksSkipped(context.Context, string, int) {}
