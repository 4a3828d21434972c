package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Eager dispatch (ARCHITECTURE rule 11). A transition that releases tasks, run by a worker
// with eager dispatch on, claims some of them for this worker in the same statement that
// releases them: they become running as their first attempt, held by the worker exactly as a
// claim by a queue delivery would hold them, so a crash is recovered through the worker's
// heartbeat and the reconciler like any other. After commit the worker executes them itself:
//
//   - one on the slot whose delivery released it, after that delivery's own task, for at most
//     Config.EagerHopBudget hops per delivery (a chain then goes back through the queue, behind
//     the other runs' deliveries);
//   - the others released with it (a fan-out) on free slots of Deps.Slots, each taken when the
//     task is claimed and held by a goroutine of its own, with a budget of its own; the
//     delivery that forked them returns once they are done. When no slot is free, pure nodes
//     (no I/O: they finish at once) run on the releasing slot, before any of its tasks that
//     does I/O and within its budget; another task no free slot can take is not claimed.
//
// What is not claimed is enqueued as before. An eager execution that ends without an outcome,
// or with a retry, is handed to the queue.

// DefaultEagerHopBudget is Config.EagerHopBudget's default.
const DefaultEagerHopBudget = 32

// MaxEagerHopBudget bounds Config.EagerHopBudget.
const MaxEagerHopBudget = 10_000

// eagerRetryDelay is when an eager execution that ended without an outcome is delivered again
// through the queue (the queue's own first redelivery backoff).
const eagerRetryDelay = 100 * time.Millisecond

// Slots is a worker's pool of task slots, shared by queue deliveries (which hold one each)
// and eager executions.
type Slots interface {
	// TryAcquire takes a free slot without waiting; false when none is free.
	TryAcquire() bool
	// Release gives back a slot TryAcquire took.
	Release()
}

// EagerTracer is implemented by observers that open the span of an eagerly dispatched task,
// as the queue's middleware does for a delivery: a child of ref.TraceContext. end is called
// with the execution's error.
type EagerTracer interface {
	EagerTask(ctx context.Context, ref TaskRef) (_ context.Context, end func(err error))
}

// slot is one task slot's eager work within a delivery.
type slot struct {
	// ctx is the context its tasks run in: the delivery's, or a fork's (never one execution's,
	// which ends with it).
	ctx   context.Context
	left  int         // eager hops this slot may still take
	next  []eagerTask // claimed tasks it executes next, in order
	forks sync.WaitGroup
}

type eagerTask struct {
	claim Claim
	pure  bool // the node does no I/O
	// parent is the traceparent of the span that released the task.
	parent string
}

type slotKey struct{}

// withSlot gives a delivery its slot's eager state (nil when eager dispatch is off).
func (e *Engine) withSlot(ctx context.Context) (context.Context, *slot) {
	if !e.cfg.EagerDispatch {
		return ctx, nil
	}
	s := &slot{left: e.cfg.EagerHopBudget}
	s.ctx = context.WithValue(ctx, slotKey{}, s)
	return s.ctx, s
}

// eagerPick chooses, inside one transaction, the released tasks this worker claims.
type eagerPick struct {
	worker string
	slot   *slot
	slots  Slots
	// pure reports whether a node type does no I/O and finishes at once (Nodes.Inline).
	pure func(nodeType string) bool
	// same is set once a task was claimed for the slot's next hop; held is how many free slots
	// the claims beside it took from the pool: each such task has a slot of its own from the
	// moment it is claimed. onSlot counts the tasks claimed to run on the releasing slot,
	// within its hop budget: its next hop and, when no slot was free, pure tasks beside it,
	// which run before the slot's tasks that do I/O, so none waits behind a call.
	same   bool
	held   int
	onSlot int
	claims []eagerClaim
}

// release gives back the slots p holds for claims that will not run: its transaction did not
// commit, or is tried again with a pick of its own.
func (p *eagerPick) release() {
	if p == nil {
		return
	}
	for ; p.held > 0; p.held-- {
		p.slots.Release()
	}
}

type eagerClaim struct {
	nodeID, nodeType string
	input            json.RawMessage
	rc               *ReleaseClaim
	// pool is set when the claim took a slot from the pool; otherwise it runs on the
	// releasing slot. pure is set for a node that does no I/O.
	pool, pure bool
}

// newPick returns the eager choice of a transition run by a delivery, nil when it claims
// nothing (eager dispatch off, or a transition outside a delivery: the API's).
func (e *Engine) newPick(ctx context.Context) *eagerPick {
	s, _ := ctx.Value(slotKey{}).(*slot)
	if s == nil {
		return nil
	}
	return &eagerPick{worker: e.cfg.WorkerID, slot: s, slots: e.slots, pure: e.nodes.Inline}
}

// take claims the released task rel for this worker when a slot can take it (the releasing
// slot's next hop, a free slot beside it, or for a pure node the releasing slot within its
// budget), and records the claim.
func (p *eagerPick) take(rel *Release, nodeType string) {
	if p == nil {
		return
	}
	// Free slots take the tasks released beside the slot's own next hop (a fan-out), never a
	// chain whose slot spent its budget: it goes back to the queue, behind the other runs.
	pure, pool := p.pure(nodeType), false
	switch {
	case !p.same && p.slot.left > 0 && len(p.slot.next) == 0:
		p.same = true
		p.onSlot++
	case p.same && p.slots != nil && p.slots.TryAcquire():
		p.held++
		pool = true
	case pure && p.onSlot < p.slot.left:
		p.onSlot++
	default:
		return
	}
	rel.Claim = &ReleaseClaim{WorkerID: p.worker}
	p.claims = append(p.claims, eagerClaim{nodeID: rel.NodeID, nodeType: nodeType, input: rel.Input, rc: rel.Claim, pool: pool, pure: pure})
}

// dispatch hands the tasks a committed transition claimed to their slots. from is the claim
// of the task whose transition released them (same run); parent the traceparent they are
// released under.
func (e *Engine) dispatch(from Claim, p *eagerPick, parent string, now time.Time) {
	if p == nil {
		return
	}
	for _, ec := range p.claims {
		if ec.rc.Attempt == 0 {
			if ec.pool {
				p.held--
				p.slots.Release()
			}
			continue // it was not pending: nothing was claimed
		}
		c := Claim{TaskID: TaskID(from.RunID, ec.nodeID), RunID: from.RunID, WorkflowID: from.WorkflowID, VersionID: from.VersionID,
			NodeID: ec.nodeID, NodeType: ec.nodeType, Attempt: ec.rc.Attempt, Redeliveries: ec.rc.Redeliveries, Input: ec.input,
			Deadline: from.Deadline, DueAt: now, TraceContext: from.TraceContext, Eager: true,
			ParentSpans: ec.rc.ParentSpans, ParentSpansDropped: ec.rc.ParentSpansDropped}
		e.inflight.Store(c.TaskID, struct{}{}) // the heartbeat lists it from now on
		t := eagerTask{claim: c, parent: parent, pure: ec.pure}
		if ec.pool {
			p.held--
			e.fork(p.slot, t) // on the slot its claim took
			continue
		}
		p.slot.left--
		p.slot.push(t)
	}
}

// push adds t to the tasks the slot executes next: a pure one before the first that does I/O,
// so that no pure task waits behind a call in flight.
func (s *slot) push(t eagerTask) {
	i := len(s.next)
	if t.pure {
		if io := slices.IndexFunc(s.next, func(n eagerTask) bool { return !n.pure }); io >= 0 {
			i = io
		}
	}
	s.next = slices.Insert(s.next, i, t)
}

// fork executes t on the slot its claim took from the pool, with a budget of its own.
func (e *Engine) fork(parent *slot, t eagerTask) {
	child := &slot{left: e.cfg.EagerHopBudget - 1}
	child.ctx = context.WithValue(parent.ctx, slotKey{}, child)
	parent.forks.Add(1)
	go func() {
		defer parent.forks.Done()
		defer e.slots.Release()
		e.runEager(child.ctx, t)
		e.drain(child.ctx, child)
	}()
}

// drain executes the tasks claimed for a slot, and those their transitions claim for it in
// turn, then waits for the tasks it forked. A delivery that is being stopped hands its claimed
// tasks back to the queue instead.
func (e *Engine) drain(ctx context.Context, s *slot) {
	if s == nil {
		return
	}
	for len(s.next) > 0 {
		t := s.next[0]
		s.next = s.next[1:]
		if ctx.Err() != nil {
			err := e.interrupted(ctx, t.claim, ctx.Err())
			e.inflight.Delete(t.claim.TaskID)
			e.handBack(ctx, t, err)
			continue
		}
		e.runEager(ctx, t)
	}
	s.forks.Wait()
}

// runEager executes an eagerly claimed task in a span of its own.
func (e *Engine) runEager(ctx context.Context, t eagerTask) {
	ref := TaskRef{TaskID: t.claim.TaskID, RunID: t.claim.RunID, Kind: KindExecute, NodeType: t.claim.NodeType, TraceContext: t.parent}
	var end func(error)
	if tr, ok := e.obs.(EagerTracer); ok {
		ctx, end = tr.EagerTask(ctx, ref)
	}
	ctx, stop := context.WithCancelCause(ctx)
	e.eager.Store(t.claim.TaskID, stop)
	err := func() error {
		defer e.inflight.Delete(t.claim.TaskID)
		defer e.eager.Delete(t.claim.TaskID)
		return e.run(ctx, t.claim)
	}()
	stopped := errors.Is(context.Cause(ctx), errStopped)
	stop(nil)
	if end != nil {
		end(err)
	}
	if err != nil && !stopped {
		e.handBack(ctx, t, err)
	}
}

// errStopped is the cause of an eager execution's end by StopTask.
var errStopped = errors.New("task stopped: its run was cancelled or ended")

// StopTask stops this process's eager execution of a task, if it has one, as the queue stops
// a delivery: its run was cancelled or ended, and whatever the execution would record is
// dropped.
func (e *Engine) StopTask(taskID string) {
	if stop, ok := e.eager.Load(taskID); ok {
		stop.(context.CancelCauseFunc)(errStopped)
	}
}

// handBack enqueues an eager task whose execution ended with a retry (at its backoff) or
// without an outcome (its claim was released: the next delivery takes it over), as the queue
// would have redelivered it. A failed enqueue is left to the reconciler.
func (e *Engine) handBack(ctx context.Context, t eagerTask, err error) {
	delay := eagerRetryDelay
	var retry *RetryLater
	if errors.As(err, &retry) {
		delay = retry.Delay
	}
	ref := TaskRef{TaskID: t.claim.TaskID, RunID: t.claim.RunID, Kind: KindExecute, NodeType: t.claim.NodeType, TraceContext: t.parent}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, qerr := e.queue.Enqueue(qctx, ref, e.now().Add(delay)); qerr != nil {
		e.log.LogAttrs(ctx, slog.LevelWarn, "enqueue of an eagerly claimed task failed; the reconciler will retry",
			append(t.claim.LogAttrs(), slog.Any(LogError, qerr))...)
	}
}
