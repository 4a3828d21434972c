package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Causes of a redelivery, as reported to the Observer (a fixed set: metric labels).
const (
	CausePanic    = "panic"    // the previous delivery panicked
	CauseError    = "error"    // it ended on an infrastructure error (database, queue)
	CauseShutdown = "shutdown" // its worker stopped and handed it back
	CauseLost     = "lost"     // its worker died or lost its lease: nobody could say why
)

// errPanic marks a delivery that panicked.
var errPanic = errors.New("panic")

// errUnstored means the task was failed because the database refused what its transition
// tried to store; the delivery is acknowledged.
var errUnstored = errors.New("task failed: the database refused its values")

// maxCauseBytes bounds the interruption cause kept on a task and quoted in logs.
const maxCauseBytes = 500

// interrupted records why a claimed delivery ends without an outcome and releases the task, so
// the next delivery takes it over at once and can say why; it returns the error the queue gets,
// which makes it deliver the task again. The record is best effort: when it cannot be written
// (the database is what failed), the next claim reports the cause as lost.
func (e *Engine) interrupted(ctx context.Context, c Claim, cause error) error {
	kind := CauseError
	switch {
	case errors.Is(cause, errPanic):
		kind = CausePanic
	case ctx.Err() != nil:
		kind = CauseShutdown
	}
	detail := kind + ": " + truncate(cause.Error(), maxCauseBytes)
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	recorded, err := e.store.Interrupted(wctx, c, detail)
	if err != nil {
		e.log.DebugContext(ctx, "record delivery interruption", LogTaskID, c.TaskID, LogError, err)
	}
	if recorded || err != nil { // else the task ended meanwhile (its run was cancelled): nothing was interrupted
		e.log.LogAttrs(ctx, slog.LevelWarn, "task delivery ended without an outcome; the queue delivers it again", append(c.LogAttrs(),
			slog.Int("attempt", c.Attempt), slog.Int("redeliveries", c.Redeliveries), slog.String("cause", kind),
			slog.String(LogError, truncate(cause.Error(), maxCauseBytes)))...)
	}
	return fmt.Errorf("task %s: %w", c.TaskID, cause)
}

// interruptionCause splits a recorded interruption into its cause (one of the Cause
// constants) and its text; an empty record means the worker was lost.
func interruptionCause(recorded string) (cause, detail string) {
	kind, _, _ := strings.Cut(recorded, ":")
	switch kind {
	case CausePanic, CauseError, CauseShutdown:
		return kind, recorded
	}
	return CauseLost, "the worker executing it stopped or lost its lease"
}

// redelivered handles a claim that took over a running task: it reports the redelivery and,
// past Config.MaxRedeliveries, fails the task permanently with the reason. A non-empty
// outcome means the delivery ends here.
func (e *Engine) redelivered(ctx context.Context, c Claim) (Execution, error) {
	cause, detail := interruptionCause(c.Interruption)
	e.obs.Redelivered(ctx, Redelivery{NodeType: c.NodeType, Cause: cause, Detail: detail, Attempt: c.Attempt,
		Redeliveries: c.Redeliveries, PreviousWorker: c.PreviousWorker})
	e.log.LogAttrs(ctx, slog.LevelWarn, "task delivered again", append(c.LogAttrs(),
		slog.Int("attempt", c.Attempt), slog.Int("redelivery", c.Redeliveries), slog.Int("max_redeliveries", e.cfg.MaxRedeliveries),
		slog.String("cause", cause), slog.String("detail", detail), slog.String("previous_worker", c.PreviousWorker))...)
	now := e.now()
	if c.Redeliveries <= e.cfg.MaxRedeliveries {
		line := LogEntry{RunID: c.RunID, NodeID: c.NodeID, Type: workflow.LogError, At: now,
			Message: fmt.Sprintf("Node %s: its previous delivery ended without an outcome (%s); delivering it again (redelivery %d of at most %d)",
				c.NodeID, detail, c.Redeliveries, e.cfg.MaxRedeliveries),
			Data: map[string]any{"reason": "redelivery", "cause": cause, "attempt": c.Attempt, "redelivery": c.Redeliveries}}
		if err := e.store.InRun(ctx, c.RunID, func(tx RunTx) error { return tx.AddLogs(ctx, []LogEntry{line}) }); err != nil {
			e.log.DebugContext(ctx, "log redelivery", LogTaskID, c.TaskID, LogError, err)
		}
		return Execution{}, nil
	}
	msg := fmt.Sprintf("Node %s failed: %d deliveries ended without an outcome (last: %s); giving up after %d redeliveries",
		c.NodeID, c.Redeliveries, detail, e.cfg.MaxRedeliveries)
	return failed("redeliveries", msg), e.fail(ctx, c, "redeliveries", msg, nil)
}

// failUnstorable fails a task whose transition the database refused (ErrUnstorable), without
// the values it refused; it returns errUnstored once the failure is recorded.
func (e *Engine) failUnstorable(ctx context.Context, c Claim, from, what string, refused error) error {
	msg := fmt.Sprintf("Node %s failed: the database refused to store its %s (%v); the task failed without it", c.NodeID, what, refused)
	if err := e.failFrom(ctx, c, from, "unstorable", msg, nil); err != nil {
		return err
	}
	return errUnstored
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
