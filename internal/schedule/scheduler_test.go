package schedule_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/schedule"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// t0 is the test clock's start; schedules created at it tick at t0 + k·interval.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a controllable clock shared by the schedulers of a test.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// nopQueue accepts every delivery and executes none: the runs the schedulers start stay in
// flight until the test cancels them.
type nopQueue struct{}

func (nopQueue) Enqueue(context.Context, engine.TaskRef, time.Time) (bool, error) { return true, nil }
func (nopQueue) Stop(context.Context, engine.TaskRef, string) error               { return nil }

// counter records the scheduler's telemetry.
type counter struct {
	mu      sync.Mutex
	fired   int
	skipped map[string]int
}

func (c *counter) TickFired(context.Context, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fired++
}

func (c *counter) TicksSkipped(_ context.Context, reason string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.skipped == nil {
		c.skipped = map[string]int{}
	}
	c.skipped[reason] += n
}

func (c *counter) counts() (int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fired, maps(c.skipped)
}

func maps(m map[string]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// env is one database with a workflow, and what starts schedulers on it.
type env struct {
	t     *testing.T
	url   string
	store *store.Store
	eng   *engine.Engine
	clock *clock
	wfID  string
}

func newEnv(t *testing.T, conns int) *env {
	t.Helper()
	url := testenv.DatabaseConns(t, conns)
	e := &env{t: t, url: url, clock: &clock{now: t0}}
	e.store, e.eng = e.open(4)
	wf, err := e.store.CreateWorkflow(context.Background(), "scheduled",
		workflowtest.New().Input("in").Notify("done", "ok").Chain("in", "done").Build(), t0)
	if err != nil {
		t.Fatal(err)
	}
	e.wfID = wf.ID
	return e
}

// open connects a store of its own and an engine on it, as another worker would have.
func (e *env) open(conns int32) (*store.Store, *engine.Engine) {
	e.t.Helper()
	st, err := store.Open(context.Background(), store.Config{URL: e.url, MaxConns: conns})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(st.Close)
	eng, err := engine.New(engine.Config{}, engine.Deps{Store: st, Queue: nopQueue{},
		Registry: nodes.NewRegistry(outbound.NewClient(outbound.Config{}), nodes.APICallConfig{}), Now: e.clock.Now})
	if err != nil {
		e.t.Fatal(err)
	}
	return st, eng
}

// scheduler is a scheduler on the env's clock with its own counter.
func (e *env) scheduler(st *store.Store, eng *engine.Engine) (*schedule.Scheduler, *counter) {
	e.t.Helper()
	c := &counter{}
	s, err := schedule.NewScheduler(schedule.Config{Poll: time.Second, MisfireThreshold: 10 * time.Second, Now: e.clock.Now}, st, eng, c, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return s, c
}

// create stores a schedule of the env's workflow made at the clock's time.
func (e *env) create(r schedule.Request) schedule.Schedule {
	e.t.Helper()
	sc, err := schedule.New(uuid.NewString(), e.wfID, r, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if sc, err = e.store.CreateSchedule(context.Background(), sc); err != nil {
		e.t.Fatal(err)
	}
	return sc
}

// runKeys lists the idempotency keys of the workflow's runs, sorted, and how many runs it has.
func (e *env) runKeys() []string {
	e.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.url)
	if err != nil {
		e.t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT coalesce(idempotency_key, '') FROM runs WHERE workflow_id = $1`, e.wfID)
	if err != nil {
		e.t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	slices.Sort(keys)
	return keys
}

// runStatus reads the status of the run a tick started.
func (e *env) runOf(scheduleID string, at time.Time) (id, status string) {
	e.t.Helper()
	ctx := context.Background()
	err := e.store.Pool().QueryRow(ctx, `SELECT id::text, status FROM runs WHERE workflow_id = $1 AND idempotency_key = $2`,
		e.wfID, schedule.TickKey(scheduleID, at)).Scan(&id, &status)
	if err != nil {
		e.t.Fatalf("run of tick %v: %v", at, err)
	}
	return id, status
}

func (e *env) get(id string) schedule.Schedule {
	e.t.Helper()
	sc, err := e.store.GetSchedule(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return sc
}

func tick(t *testing.T, s *schedule.Scheduler) int {
	t.Helper()
	n, err := s.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func keysOf(id string, ticks ...time.Time) []string {
	out := make([]string, len(ticks))
	for i, at := range ticks {
		out[i] = schedule.TickKey(id, at)
	}
	slices.Sort(out)
	return out
}

func at(seconds int) time.Time { return t0.Add(time.Duration(seconds) * time.Second) }

// Three schedulers, each with its own pool and engine, claim the same schedule at once at
// every second of a controlled clock: every tick starts exactly one run, none is lost, and
// only the scheduler that created a tick's run counts it as fired.
func TestThreeSchedulersFireEachTickOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4+3*3)
	sc := e.create(schedule.Request{Interval: "1s", Overlap: "allow"})
	var scheds []*schedule.Scheduler
	var counters []*counter
	for range 3 {
		s, c := e.scheduler(e.open(3))
		scheds, counters = append(scheds, s), append(counters, c)
	}
	const ticks = 25
	var want []time.Time
	for k := 1; k <= ticks; k++ {
		e.clock.Advance(time.Second)
		want = append(want, at(k))
		var wg sync.WaitGroup
		errs := make(chan error, 2*len(scheds))
		for _, s := range scheds {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := s.Tick(context.Background()); err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	if got, want := e.runKeys(), keysOf(sc.ID, want...); !slices.Equal(got, want) {
		t.Fatalf("runs by key:\n%v\nwant one per tick:\n%v", got, want)
	}
	fired := 0
	for _, c := range counters {
		n, skipped := c.counts()
		fired += n
		if len(skipped) > 0 {
			t.Errorf("skipped ticks %v", skipped)
		}
	}
	if fired != ticks {
		t.Errorf("fired %d ticks over the schedulers, want %d", fired, ticks)
	}
	got := e.get(sc.ID)
	lastID, _ := e.runOf(sc.ID, at(ticks))
	if !got.NextFireAt.Equal(at(ticks+1)) || !got.LastFireAt.Equal(at(ticks)) || got.LastRunID != lastID {
		t.Errorf("schedule after the ticks: next %v, last %v run %s; want %v, %v, %s", got.NextFireAt, got.LastFireAt, got.LastRunID, at(ticks+1), at(ticks), lastID)
	}
}

// Three scheduler loops on the real clock, polling faster than the schedule's 1 s interval:
// the runs they start are one per tick, consecutive from the schedule's creation.
func TestThreeSchedulerLoopsOnTheRealClock(t *testing.T) {
	t.Parallel()
	url := testenv.DatabaseConns(t, 3*3+1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wfID, scID string
	var created time.Time
	var wg sync.WaitGroup
	for i := range 3 {
		st, err := store.Open(ctx, store.Config{URL: url, MaxConns: 3})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		eng, err := engine.New(engine.Config{}, engine.Deps{Store: st, Queue: nopQueue{},
			Registry: nodes.NewRegistry(outbound.NewClient(outbound.Config{}), nodes.APICallConfig{})})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			wf, err := st.CreateWorkflow(ctx, "scheduled", workflowtest.New().Input("in").Build(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			sc, err := schedule.New(uuid.NewString(), wf.ID, schedule.Request{Interval: "1s", Overlap: "allow"}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if sc, err = st.CreateSchedule(ctx, sc); err != nil {
				t.Fatal(err)
			}
			wfID, scID, created = wf.ID, sc.ID, sc.CreatedAt
		}
		s, err := schedule.NewScheduler(schedule.Config{Poll: 100 * time.Millisecond, MisfireThreshold: 10 * time.Second}, st, eng, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	keys := func() []string {
		rows, err := conn.Query(context.Background(), `SELECT idempotency_key FROM runs WHERE workflow_id = $1`, wfID)
		if err != nil {
			t.Fatal(err)
		}
		k, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	testenv.WaitFor(t, time.Minute, "4 ticks to fire", func() bool { return len(keys()) >= 4 })
	cancel()
	wg.Wait()
	got := keys()
	slices.Sort(got)
	var want []time.Time
	for k := 1; k <= len(got); k++ {
		want = append(want, created.Add(time.Duration(k)*time.Second))
	}
	if w := keysOf(scID, want...); !slices.Equal(got, w) {
		t.Errorf("runs by key:\n%v\nwant the first %d ticks once each:\n%v", got, len(got), w)
	}
}

var errKilled = errors.New("killed mid-tick")

// A scheduler that dies after starting a tick's run and before advancing the schedule leaves
// the schedule due; the next scheduler fires the same tick again and gets the same run back:
// still one run per tick, and the schedule records it.
func TestSchedulerKilledMidTick(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4+3)
	sc := e.create(schedule.Request{Interval: "1s", Overlap: "allow", CatchUp: "all"})
	killed, killedCount := e.scheduler(e.store, e.eng)
	schedule.SetAfterStart(killed, func(string, time.Time) error { return errKilled })
	next, nextCount := e.scheduler(e.open(3))

	e.clock.Advance(time.Second)
	if _, err := killed.Tick(context.Background()); !errors.Is(err, errKilled) {
		t.Fatalf("the killed claim returned %v", err)
	}
	if got := e.get(sc.ID); !got.NextFireAt.Equal(at(1)) || got.LastRunID != "" {
		t.Fatalf("the killed claim advanced the schedule: next %v, last run %q", got.NextFireAt, got.LastRunID)
	}
	if got := e.runKeys(); !slices.Equal(got, keysOf(sc.ID, at(1))) {
		t.Fatalf("runs after the killed claim: %v", got)
	}
	if n := tick(t, next); n != 1 {
		t.Fatalf("the next scheduler claimed %d schedules", n)
	}
	if got := e.runKeys(); !slices.Equal(got, keysOf(sc.ID, at(1))) {
		t.Fatalf("runs after the next claim: %v, want the tick's one run", got)
	}
	runID, _ := e.runOf(sc.ID, at(1))
	if got := e.get(sc.ID); !got.NextFireAt.Equal(at(2)) || got.LastRunID != runID || !got.LastFireAt.Equal(at(1)) {
		t.Errorf("schedule after the next claim: next %v, last %v run %s; want %v, %v, %s", got.NextFireAt, got.LastFireAt, got.LastRunID, at(2), at(1), runID)
	}
	if fired, _ := killedCount.counts(); fired != 1 {
		t.Errorf("the killed scheduler counted %d ticks fired, want the one it started", fired)
	}
	if fired, _ := nextCount.counts(); fired != 0 {
		t.Errorf("the next scheduler counted %d ticks fired, want 0: the tick's run already existed", fired)
	}

	// Three ticks due in one claim, killed after the first: the next claim starts the other
	// two and adopts the first.
	calls := 0
	schedule.SetAfterStart(killed, func(string, time.Time) error {
		calls++
		return errKilled
	})
	e.clock.Advance(3 * time.Second)
	if _, err := killed.Tick(context.Background()); !errors.Is(err, errKilled) || calls != 1 {
		t.Fatalf("the killed claim returned %v after %d starts", err, calls)
	}
	tick(t, next)
	if got, want := e.runKeys(), keysOf(sc.ID, at(1), at(2), at(3), at(4)); !slices.Equal(got, want) {
		t.Errorf("runs %v, want one per tick %v", got, want)
	}
	if fired, _ := nextCount.counts(); fired != 2 {
		t.Errorf("the next scheduler counted %d ticks fired, want 2", fired)
	}
}

// A paused schedule fires nothing however long it stays paused; resumed, it goes on
// without a storm of the ticks of the pause.
func TestPausedScheduleFiresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s, c := e.scheduler(e.store, e.eng)
	paused := e.create(schedule.Request{Interval: "1m", Paused: true, Overlap: "allow", CatchUp: "none"})
	later := e.create(schedule.Request{Interval: "1m", Overlap: "allow", CatchUp: "all"})
	if _, err := e.store.PauseSchedule(context.Background(), later.ID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10*time.Minute + 30*time.Second)
	if n := tick(t, s); n != 0 {
		t.Errorf("claimed %d paused schedules", n)
	}
	if got := e.runKeys(); len(got) != 0 {
		t.Fatalf("paused schedules started runs %v", got)
	}
	if fired, skipped := c.counts(); fired != 0 || len(skipped) != 0 {
		t.Errorf("paused schedules counted %d fired, %v skipped: a pause is not a tick", fired, skipped)
	}

	// Resumed with catch-up none: the next tick after now; with all: only the latest tick of
	// the pause, once.
	now := e.clock.Now()
	for _, id := range []string{paused.ID, later.ID} {
		if _, err := e.store.ResumeSchedule(context.Background(), id, now); err != nil {
			t.Fatal(err)
		}
	}
	if got := e.get(paused.ID); got.Paused || !got.NextFireAt.Equal(at(11*60)) {
		t.Errorf("resumed (catch-up none) schedule: paused %v, next %v; want the first tick after the resume %v", got.Paused, got.NextFireAt, at(11*60))
	}
	if got := e.get(later.ID); !got.NextFireAt.Equal(at(10 * 60)) {
		t.Errorf("resumed (catch-up all) schedule: next %v, want %v", got.NextFireAt, at(10*60))
	}
	tick(t, s)
	if got, want := e.runKeys(), keysOf(later.ID, at(10*60)); !slices.Equal(got, want) {
		t.Errorf("runs after the resume %v, want %v", got, want)
	}
}

// Overlap policies while the previous tick's run is in flight: skip starts nothing until it
// finishes, allow starts anyway, cancelPrevious cancels it and starts.
func TestOverlapPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s, c := e.scheduler(e.store, e.eng)
	skip := e.create(schedule.Request{Interval: "1s"})
	allow := e.create(schedule.Request{Interval: "1s", Overlap: "allow"})
	cancelPrev := e.create(schedule.Request{Interval: "1s", Overlap: "cancelPrevious"})

	e.clock.Advance(time.Second)
	tick(t, s)
	e.clock.Advance(time.Second)
	tick(t, s)
	want := keysOf(skip.ID, at(1))
	want = append(want, keysOf(allow.ID, at(1), at(2))...)
	want = append(want, keysOf(cancelPrev.ID, at(1), at(2))...)
	slices.Sort(want)
	if got := e.runKeys(); !slices.Equal(got, want) {
		t.Fatalf("runs:\n%v\nwant:\n%v", got, want)
	}
	if _, status := e.runOf(allow.ID, at(1)); status != workflow.RunRunning {
		t.Errorf("allow: the first run is %s, want still running", status)
	}
	if _, status := e.runOf(cancelPrev.ID, at(1)); status != workflow.RunCancelled {
		t.Errorf("cancelPrevious: the first run is %s, want cancelled", status)
	}
	if _, status := e.runOf(cancelPrev.ID, at(2)); status != workflow.RunRunning {
		t.Errorf("cancelPrevious: the second run is %s, want running", status)
	}
	if _, skipped := c.counts(); skipped[schedule.SkipOverlap] != 1 {
		t.Errorf("skipped %v, want one tick for overlap", skipped)
	}
	if got := e.get(skip.ID); !got.NextFireAt.Equal(at(3)) || !got.LastFireAt.Equal(at(1)) {
		t.Errorf("skip: next %v, last fire %v; a skipped tick advances the schedule but starts no run", got.NextFireAt, got.LastFireAt)
	}

	// Once skip's run finished, its next tick fires.
	first, _ := e.runOf(skip.ID, at(1))
	if err := e.eng.Cancel(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	tick(t, s)
	if id, _ := e.runOf(skip.ID, at(3)); id == "" {
		t.Error("skip: no run after the previous one finished")
	}
}

// Catch-up after downtime: a 1-minute schedule whose scheduler was away for 10½ minutes
// missed the ticks of 12:01 to 12:10. none fires none of them, one the latest, all the
// newest up to its limit; every policy goes on at 12:11, and the rest count as skipped.
func TestCatchUpPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s, c := e.scheduler(e.store, e.eng)
	limit := 3
	none := e.create(schedule.Request{Interval: "1m", Overlap: "allow", CatchUp: "none"})
	one := e.create(schedule.Request{Interval: "1m", Overlap: "allow", CatchUp: "one"})
	all := e.create(schedule.Request{Interval: "1m", Overlap: "allow", CatchUp: "all", CatchUpLimit: &limit})
	allWithin := e.create(schedule.Request{Interval: "1m", Overlap: "allow", CatchUp: "all"})
	e.clock.Advance(10*time.Minute + 30*time.Second)
	if n := tick(t, s); n != 4 {
		t.Fatalf("claimed %d schedules, want 4", n)
	}
	var want []string
	want = append(want, keysOf(one.ID, at(600))...)
	want = append(want, keysOf(all.ID, at(480), at(540), at(600))...)
	var every []time.Time
	for k := 1; k <= 10; k++ {
		every = append(every, at(60*k))
	}
	want = append(want, keysOf(allWithin.ID, every...)...)
	slices.Sort(want)
	if got := e.runKeys(); !slices.Equal(got, want) {
		t.Fatalf("runs:\n%v\nwant:\n%v", got, want)
	}
	for _, id := range []string{none.ID, one.ID, all.ID, allWithin.ID} {
		if got := e.get(id); !got.NextFireAt.Equal(at(660)) {
			t.Errorf("schedule %s: next %v, want %v", id, got.NextFireAt, at(660))
		}
	}
	fired, skipped := c.counts()
	if fired != 1+3+10 || skipped[schedule.SkipCatchUp] != 10+9+7 {
		t.Errorf("fired %d, skipped %v; want %d fired and %d skipped for catch-up", fired, skipped, 14, 26)
	}
	// Back to normal: the 12:11 tick fires on time for every policy.
	e.clock.Advance(30 * time.Second)
	tick(t, s)
	for _, id := range []string{none.ID, one.ID, all.ID, allWithin.ID} {
		if runID, _ := e.runOf(id, at(660)); runID == "" {
			t.Errorf("schedule %s did not fire at 12:11", id)
		}
	}
}

// A cron schedule in a time zone fires at the zone's wall-clock time.
func TestCronScheduleInTimezone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	s, _ := e.scheduler(e.store, e.eng)
	// Every day at 13:00 in Berlin: 12:00 UTC on 1 March (CET), which is t0 + 24h.
	sc := e.create(schedule.Request{Cron: "0 13 * * *", Timezone: "Europe/Berlin"})
	if want := t0.Add(24 * time.Hour); !sc.NextFireAt.Equal(want) {
		t.Fatalf("next fire %v, want %v", sc.NextFireAt, want)
	}
	e.clock.Advance(24 * time.Hour)
	tick(t, s)
	if got, want := e.runKeys(), keysOf(sc.ID, t0.Add(24*time.Hour)); !slices.Equal(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
}

// Deleting a workflow deletes its schedules.
func TestDeleteWorkflowDeletesSchedules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	sc := e.create(schedule.Request{Interval: "1m"})
	if err := e.store.DeleteWorkflow(context.Background(), e.wfID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.GetSchedule(context.Background(), sc.ID); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("schedule after its workflow was deleted: %v", err)
	}
}

// The most schedules a workflow may have is bounded.
func TestSchedulesPerWorkflowBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4)
	for range schedule.MaxPerWorkflow {
		e.create(schedule.Request{Interval: "1h"})
	}
	sc, err := schedule.New(uuid.NewString(), e.wfID, schedule.Request{Interval: "1h"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.CreateSchedule(context.Background(), sc); !errors.Is(err, schedule.ErrTooMany) || !errors.Is(err, workflow.ErrConflict) {
		t.Errorf("schedule %d: %v", schedule.MaxPerWorkflow+1, err)
	}
	list, err := e.store.ListSchedules(context.Background(), e.wfID)
	if err != nil || len(list) != schedule.MaxPerWorkflow {
		t.Errorf("list: %d schedules, %v", len(list), err)
	}
	if _, err := e.store.ListSchedules(context.Background(), uuid.NewString()); !errors.Is(err, workflow.ErrNotFound) {
		t.Errorf("list of an unknown workflow: %v", err)
	}
}

// The run.start span of a run a tick started names the schedule (schedule.id) and its origin.
func TestScheduledRunSpanNamesTheSchedule(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4+2)
	sc := e.create(schedule.Request{Interval: "1s"})
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	st, err := store.Open(context.Background(), store.Config{URL: e.url, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(engine.Config{}, engine.Deps{Store: st, Queue: nopQueue{}, Now: e.clock.Now,
		Registry: nodes.NewRegistry(outbound.NewClient(outbound.Config{}), nodes.APICallConfig{}),
		Observer: telemetry.NewObserver(tp, propagation.TraceContext{}, telemetry.NewMetrics(), nil)})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := e.scheduler(st, eng)
	e.clock.Advance(time.Second)
	tick(t, s)
	runID, _ := e.runOf(sc.ID, at(1))
	var found bool
	for _, span := range spans.Ended() {
		if span.Name() != "run.start" {
			continue
		}
		attrs := map[attribute.Key]string{}
		for _, kv := range span.Attributes() {
			attrs[kv.Key] = kv.Value.String()
		}
		found = true
		if attrs["schedule.id"] != sc.ID || attrs["run.origin"] != "schedule" || attrs["run.id"] != runID {
			t.Errorf("run.start attributes %v, want schedule.id %s, run.origin schedule, run.id %s", attrs, sc.ID, runID)
		}
	}
	if !found {
		t.Error("no run.start span")
	}
}
