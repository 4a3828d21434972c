// Package engine runs workflows: it starts runs, claims and executes tasks, resolves edges,
// joins and skips, retries failures, parks delays, cancels runs and recovers lost work. It
// talks to PostgreSQL and the queue only through the small interfaces declared here.
package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
)

// ErrNotClaimable means a delivered task must be dropped: it is terminal, its run is finished
// or gone, or it is not in a state this delivery may move it from.
var ErrNotClaimable = errors.New("task not claimable")

// ErrLostRace aborts a transition whose task was no longer in the expected state: a duplicate
// or late delivery. Nothing it would have written is kept.
var ErrLostRace = errors.New("task changed state concurrently")

// ErrRunFinished means a transition found its run already terminal.
var ErrRunFinished = errors.New("run already finished")

// ErrUnstorable means PostgreSQL refused a value a transition tried to store (a data
// exception or an integrity violation, SQLSTATE classes 22 and 23). Writing the same values
// again can never succeed, so the engine fails the task without them instead of having the
// delivery redelivered forever.
var ErrUnstorable = errors.New("value refused by the database")

// Config tunes the engine.
type Config struct {
	// NodeTimeout is the execution deadline of nodes that set no timeoutMs (default 30 s).
	NodeTimeout time.Duration
	// RetryBaseDelay is the first retry's backoff; each retry doubles it, with ±20 % jitter
	// (default 1 s).
	RetryBaseDelay time.Duration
	// RetryMaxDelay caps the backoff (default 5 min).
	RetryMaxDelay time.Duration
	// RunTimeout is the default overall deadline of a run; 0 means none.
	RunTimeout time.Duration
	// MaxOutputBytes bounds the output stored per task (default 2 MiB); a larger output fails
	// the node, and its onError decides what happens next.
	MaxOutputBytes int
	// EvalBudget bounds the work of the rules and templates of one execution (defaults:
	// expr.DefaultBudgetSteps, expr.DefaultBudgetBytes); going over it is a permanent node
	// error.
	EvalBudget expr.Budget
	// PreparedVersions caps how many prepared workflow versions a worker keeps (default 256);
	// the least recently used is prepared again when needed.
	PreparedVersions int
	// MaxRedeliveries bounds the deliveries of a task that begin again because an earlier one
	// ended without an outcome (worker crash, lost lease, panic, infrastructure error); one
	// more fails the task permanently (default 5). It is counted apart from the node's retries.
	MaxRedeliveries int
	// ThrottleMaxWait bounds how long one attempt of a call may be held back by its host's
	// limits (rate, calls in flight, upstream Retry-After) before the node fails with reason
	// throttle_timeout and its onError decides (default 5 min).
	ThrottleMaxWait time.Duration
	// WorkerID names this process in the workers table and on the tasks it claims; empty
	// means the process does not heartbeat and its claims name no worker.
	WorkerID string
	// ResumeBaseURL is the API's base URL (no trailing slash) that a task waiting for an
	// event names in its resumeUrl; empty gives a path (/resume/<token>).
	ResumeBaseURL string
	// EagerDispatch lets a worker execute the tasks its own transitions release instead of
	// sending them through the queue (ARCHITECTURE rule 11): a released task is claimed for
	// this worker in the releasing transaction and run on the slot that released it, or on a
	// free slot of Deps.Slots; what it cannot take goes to the queue. It needs WorkerID (an
	// eagerly claimed task is recovered through the worker's heartbeat, like any claim).
	EagerDispatch bool
	// EagerHopBudget bounds how many released tasks one slot executes eagerly, one after the
	// other, before it hands the rest of the run to the queue and takes the next delivery, so
	// a long chain does not keep a slot from other runs (default 32).
	EagerHopBudget int
	// MaxInvokeDepth bounds how deeply invokeWorkflow nodes nest runs: a run started by a task
	// of a run started by a task ... is at most this many levels below the run no task started;
	// a node that would go deeper fails with reason invoke_depth (default 8).
	MaxInvokeDepth int
	// InvokePollInterval is how often a task waiting for its child run checks the child, in
	// case the notification of its end was lost (default 30 s).
	InvokePollInterval time.Duration
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	c.NodeTimeout = cmp.Or(c.NodeTimeout, 30*time.Second)
	c.RetryBaseDelay = cmp.Or(c.RetryBaseDelay, time.Second)
	c.RetryMaxDelay = cmp.Or(c.RetryMaxDelay, 5*time.Minute)
	c.MaxOutputBytes = cmp.Or(c.MaxOutputBytes, 2<<20)
	c.EvalBudget = c.EvalBudget.WithDefaults()
	c.PreparedVersions = cmp.Or(c.PreparedVersions, 256)
	c.MaxRedeliveries = cmp.Or(c.MaxRedeliveries, 5)
	c.ThrottleMaxWait = cmp.Or(c.ThrottleMaxWait, DefaultThrottleMaxWait)
	c.EagerHopBudget = cmp.Or(c.EagerHopBudget, DefaultEagerHopBudget)
	c.MaxInvokeDepth = cmp.Or(c.MaxInvokeDepth, DefaultMaxInvokeDepth)
	c.InvokePollInterval = cmp.Or(c.InvokePollInterval, DefaultInvokePollInterval)
	return c
}

// MaxRetryDelay bounds RetryMaxDelay: a retry further away than a day is an outage, not a
// backoff.
const MaxRetryDelay = 24 * time.Hour

// validate checks a configuration with its defaults filled in.
func (c Config) validate() error {
	var errs []error
	if c.NodeTimeout <= 0 || c.NodeTimeout > nodes.MaxTimeout {
		errs = append(errs, fmt.Errorf("engine: NodeTimeout must be above 0 and at most %v, got %v", nodes.MaxTimeout, c.NodeTimeout))
	}
	if c.RetryBaseDelay <= 0 || c.RetryMaxDelay <= 0 || c.RetryMaxDelay > MaxRetryDelay || c.RetryBaseDelay > c.RetryMaxDelay {
		errs = append(errs, fmt.Errorf("engine: need 0 < RetryBaseDelay (%v) <= RetryMaxDelay (%v) <= %v", c.RetryBaseDelay, c.RetryMaxDelay, MaxRetryDelay))
	}
	if c.RunTimeout < 0 {
		errs = append(errs, fmt.Errorf("engine: RunTimeout must not be negative, got %v", c.RunTimeout))
	}
	if c.MaxOutputBytes <= 0 {
		errs = append(errs, fmt.Errorf("engine: MaxOutputBytes must be positive, got %d", c.MaxOutputBytes))
	}
	if c.EvalBudget.Steps <= 0 || c.EvalBudget.Bytes <= 0 {
		errs = append(errs, fmt.Errorf("engine: EvalBudget steps and bytes must be positive, got %+v", c.EvalBudget))
	}
	if c.ThrottleMaxWait <= 0 || c.ThrottleMaxWait > MaxRetryDelay {
		errs = append(errs, fmt.Errorf("engine: ThrottleMaxWait must be above 0 and at most %v, got %v", MaxRetryDelay, c.ThrottleMaxWait))
	}
	if c.EagerHopBudget < 1 || c.EagerHopBudget > MaxEagerHopBudget {
		errs = append(errs, fmt.Errorf("engine: EagerHopBudget must be between 1 and %d, got %d", MaxEagerHopBudget, c.EagerHopBudget))
	}
	if c.MaxInvokeDepth < 1 || c.MaxInvokeDepth > MaxInvokeDepthLimit {
		errs = append(errs, fmt.Errorf("engine: MaxInvokeDepth must be between 1 and %d, got %d", MaxInvokeDepthLimit, c.MaxInvokeDepth))
	}
	if c.InvokePollInterval <= 0 || c.InvokePollInterval > MaxRetryDelay {
		errs = append(errs, fmt.Errorf("engine: InvokePollInterval must be above 0 and at most %v, got %v", MaxRetryDelay, c.InvokePollInterval))
	}
	if c.PreparedVersions <= 0 {
		errs = append(errs, fmt.Errorf("engine: PreparedVersions must be positive, got %d", c.PreparedVersions))
	}
	return errors.Join(errs...)
}

// Store is what the engine needs from PostgreSQL.
type Store interface {
	// CreateRun stores a run and all its tasks in one transaction. With an idempotency key
	// that already has a run, it returns that run with created false.
	CreateRun(ctx context.Context, r NewRun) (runID string, created bool, err error)
	// RunTraceContext returns the W3C traceparent stored with a run ("" when it has none).
	RunTraceContext(ctx context.Context, runID string) (string, error)
	// ClaimTask moves a task from queued to running as its next attempt, or takes over a
	// running task as a redelivery of the same attempt, and records workerID as its holder. A
	// running task whose holder is another live worker still executing it is not taken over.
	// ErrNotClaimable when the delivery must be dropped.
	ClaimTask(ctx context.Context, taskID, workerID string, now time.Time) (Claim, error)
	// Interrupted records why a claimed delivery ended without an outcome and releases the
	// task from its worker, so the next delivery may take it over at once. It reports false
	// when the task is no longer in the state the delivery claimed (cancelled, taken over).
	Interrupted(ctx context.Context, c Claim, cause string) (bool, error)
	// Heartbeat records that a worker is alive until now+lease and executing tasks.
	Heartbeat(ctx context.Context, b Heartbeat) error
	// RemoveWorker deletes a stopped worker's row: its running tasks are recoverable at once.
	RemoveWorker(ctx context.Context, workerID string) error
	// WaitingTask returns a task parked by a delay or wait node; ErrNotClaimable when it is no
	// longer waiting.
	WaitingTask(ctx context.Context, taskID string) (Claim, error)
	// ResumeTarget reads a task an event is addressed to, whatever its state, with its run's
	// status; workflow.ErrNotFound when there is no such task.
	ResumeTarget(ctx context.Context, taskID string) (ResumeTarget, error)
	// ResumeTokenTask returns the task whose resume token has this digest;
	// workflow.ErrNotFound when none has.
	ResumeTokenTask(ctx context.Context, hash []byte) (taskID string, err error)
	// Definition returns a workflow version's definition (immutable), with its workflow's id
	// and name and the version's number.
	Definition(ctx context.Context, versionID string) (VersionDefinition, error)
	// PeekTask reads a task a delivery may claim (queued, or running on a re-delivery, in a
	// running run) without claiming or locking it: Attempt and Redeliveries are what a claim
	// would give it (a claim from running is a redelivery of the same attempt) and Status the
	// task's status. ErrNotClaimable when the delivery must be dropped.
	PeekTask(ctx context.Context, taskID string) (Claim, error)
	// RunValues reads what a node's templates address in the $run and $nodes contexts: for
	// each read, the JSON value at its path in the run's input (empty TaskID) or in a completed
	// task's output, nil when there is none; with allOutputs, also every completed task's
	// output by node id.
	RunValues(ctx context.Context, runID string, reads []ValueRead, allOutputs bool) ([]json.RawMessage, map[string]json.RawMessage, error)
	// InRun runs fn in a transaction holding the run's row lock, so every transition of one
	// run is serialised. It returns ErrRunFinished (without calling fn) when the run is
	// terminal and ErrNotFound when it does not exist.
	InRun(ctx context.Context, runID string, fn func(RunTx) error) error
	// DueTasks lists deliveries that should be in the queue: tasks queued or waiting whose due
	// time is before q.Before, running tasks whose worker is gone (recoveries), and tasks
	// running since before q.StaleBefore.
	DueTasks(ctx context.Context, q DueQuery) ([]DueTask, error)
	// StillDue returns which of the given tasks are still queued, waiting or running, so the
	// reconciler does not re-enqueue tasks that finished since it listed them.
	StillDue(ctx context.Context, taskIDs []string) (map[string]bool, error)
	// OverdueRuns lists running runs past their deadline.
	OverdueRuns(ctx context.Context, now time.Time, limit int) ([]string, error)
	// SourceRun reads a run a retry or re-run is made from, with every task's status, input,
	// output and handles; ErrNotFound when it does not exist.
	SourceRun(ctx context.Context, runID string) (SourceRun, error)
	// CurrentVersion returns the id of a workflow's current version.
	CurrentVersion(ctx context.Context, workflowID string) (string, error)
	// InvokeTarget resolves the version an invokeWorkflow node starts and reads its run's
	// nesting depth; workflow.ErrNotFound when the workflow or version does not exist.
	InvokeTarget(ctx context.Context, q InvokeQuery) (InvokeTarget, error)
	// ChildRun reads the child run a task started under an idempotency key;
	// workflow.ErrNotFound when there is none.
	ChildRun(ctx context.Context, q ChildQuery) (ChildRun, error)
	// ChildRuns lists the queued or running child runs of the given tasks.
	ChildRuns(ctx context.Context, parentTaskIDs []string) ([]string, error)
}

// RunTx is one transaction on a locked run. Writes whose result the engine does not need are
// queued and sent with the next read or the commit, so a transition costs few round trips; a
// guard that fails (ErrLostRace, ErrRunFinished) surfaces at that point and rolls back the
// whole transaction.
type RunTx interface {
	// FinishTask moves a task from one status (and attempt) to another. If the task is not in
	// that state (a late or duplicate delivery lost the race) the transaction fails with
	// ErrLostRace.
	FinishTask(ctx context.Context, f TaskFinish) error
	// ResolveEdges decrements each target's unresolved count by Edges and increments its
	// activated count by Taken, returning the targets' counts afterwards.
	ResolveEdges(ctx context.Context, runID string, res []EdgeResolution) ([]TargetState, error)
	// Parents returns the status, chosen handles and output of the given nodes' tasks.
	Parents(ctx context.Context, runID string, nodeIDs []string) ([]ParentState, error)
	// ReleaseTasks moves pending tasks to queued with their input.
	ReleaseTasks(ctx context.Context, runID string, rel []Release, now time.Time) error
	// SkipTasks moves pending tasks to skipped.
	SkipTasks(ctx context.Context, runID string, nodeIDs []string, now time.Time) error
	// AbortTasks ends every non-terminal task of the run except one: running ones become
	// cancelled, the others skipped (or all cancelled when cancelAll). It returns what it
	// ended, with the status each had.
	AbortTasks(ctx context.Context, runID, exceptTaskID string, cancelAll bool, now time.Time) ([]AbortedTask, error)
	// AddLogs appends run log lines.
	AddLogs(ctx context.Context, logs []LogEntry) error
	// AddElements creates a forEach task's element tasks (the first released of them queued,
	// the rest pending), counts them on the forEach task and adds them to the run's counter.
	AddElements(ctx context.Context, runID, forEachTaskID string, tasks []NewTask, released int, now time.Time) error
	// ElementFinished counts one finished element on the waiting forEach task of node
	// forEachNodeID and counts the next element released when one is left.
	ElementFinished(ctx context.Context, runID, forEachNodeID string) (ElementProgress, error)
	// AddResumeToken stores the digest of a waiting task's resume token.
	AddResumeToken(ctx context.Context, t ResumeToken) error
	// SettleRun subtracts newly terminal tasks from the run's counter; when it reaches 0 the
	// run becomes succeeded (or failed if a task failed), its result is written and a system
	// log "Workflow run <status>" is added. Once the transaction committed, end holds the run's
	// status and start time.
	SettleRun(ctx context.Context, runID string, terminal int, now time.Time, end *RunEnd) error
	// EndRun forces the run to a terminal status now, with an error and extra result keys;
	// end is filled as for SettleRun.
	EndRun(ctx context.Context, runID, status, errMsg string, extra map[string]any, now time.Time, end *RunEnd) error
}

// Queue is what the engine needs from the task queue. Enqueue is idempotent per task and kind.
type Queue interface {
	// Enqueue delivers t at (or, when at is zero or past, as soon as possible). It reports
	// false when the delivery was already in the queue.
	Enqueue(ctx context.Context, t TaskRef, at time.Time) (bool, error)
	// Stop tells an in-flight execution to stop and removes a scheduled delivery, best effort.
	Stop(ctx context.Context, t TaskRef, status string) error
}

// Deps are the engine's collaborators. Observer, Slots, Now and Log are optional.
type Deps struct {
	Store    Store
	Queue    Queue
	Registry Nodes
	Observer Observer
	// Slots is the worker's pool of task slots, which queue deliveries hold too; eager
	// dispatch runs released tasks on the free ones (nil: only on the slot that released
	// them).
	Slots Slots
	Now   func() time.Time
	Log   *slog.Logger
}

// Engine orchestrates runs.
type Engine struct {
	inflight sync.Map // task id → struct{}: deliveries this process is executing
	eager    sync.Map // task id → context.CancelFunc: the eager executions among them
	cfg      Config
	store    Store
	queue    Queue
	nodes    Nodes
	obs      Observer
	slots    Slots
	now      func() time.Time
	log      *slog.Logger
	versions *lru.Cache[string, *version] // by version id; versions are immutable
}

// New returns an engine, or an error naming every invalid setting of cfg.
func New(cfg Config, d Deps) (*Engine, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, store: d.Store, queue: d.Queue, nodes: d.Registry, obs: d.Observer, slots: d.Slots, now: d.Now, log: d.Log}
	var err error
	if e.versions, err = lru.New[string, *version](cfg.PreparedVersions); err != nil {
		return nil, fmt.Errorf("engine: prepared versions: %w", err)
	}
	if e.obs == nil {
		e.obs = nopObserver{}
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.cfg.WorkerID == "" {
		e.cfg.EagerDispatch = false // a claim must name its worker to be recovered through its heartbeat
	}
	return e, nil
}
