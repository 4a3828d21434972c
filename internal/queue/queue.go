// Package queue wires the engine to asynq: task payloads (ids only; state lives in
// PostgreSQL), idempotent enqueue keyed by task id, stop and removal of deliveries, and the
// worker server with its latency-tuned polling.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// Task type names.
const (
	TypeExecute = "sequenceflow:execute"
	TypeWake    = "sequenceflow:wake"
)

// traceHeader carries the W3C traceparent of the span that released a task.
const traceHeader = "traceparent"

// MaxRetry bounds asynq-level redeliveries of one task (node retries are counted by the engine;
// this covers infrastructure errors such as PostgreSQL being unreachable). After it the task is
// archived and the reconciler brings it back.
const MaxRetry = 25

type payload struct {
	TaskID   string `json:"taskId"`
	RunID    string `json:"runId"`
	NodeType string `json:"nodeType,omitempty"`
}

// Connect parses a redis:// URL and checks that Redis answers. Its error names the URL and
// says what to do.
func Connect(ctx context.Context, url string) (redis.UniversalClient, error) {
	opt, err := asynq.ParseRedisURI(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL %q is not a valid Redis URL: %w", url, err)
	}
	rc, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("REDIS_URL %q: unsupported Redis connection type", url)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rc.Ping(pingCtx).Err(); err != nil {
		rc.Close()
		return nil, fmt.Errorf("cannot reach Redis at %s (%v): start Redis or set REDIS_URL", redactRedis(url), err)
	}
	return rc, nil
}

func redactRedis(url string) string {
	if at := strings.LastIndex(url, "@"); at >= 0 {
		if scheme := strings.Index(url, "://"); scheme >= 0 && scheme < at {
			return url[:scheme+3] + "…" + url[at:]
		}
	}
	return url
}

// Client enqueues and stops deliveries. It implements engine.Queue.
type Client struct {
	queue     string
	rc        redis.UniversalClient
	client    *asynq.Client
	inspector *asynq.Inspector
	active    *activeWatch
}

// NewClient returns a client on a shared Redis connection and queue name.
func NewClient(rc redis.UniversalClient, queue string) *Client {
	return &Client{queue: queue, rc: rc, client: asynq.NewClientFromRedisClient(rc), inspector: asynq.NewInspectorFromRedisClient(rc),
		active: newActiveWatch()}
}

// Inspector exposes the asynq inspector (queue stats, monitoring UI).
func (c *Client) Inspector() *asynq.Inspector { return c.inspector }

// Queue is the asynq queue name.
func (c *Client) Queue() string { return c.queue }

// deliveryID is the asynq TaskID of a delivery: the task id for executions, and a suffixed id
// for delay wake-ups and for notifications (a child run finished), so each kind is
// idempotent on its own. A recovery of a task whose
// worker was lost has an id of its own per redelivery: the lost delivery may still be in Redis
// as active, and would make an enqueue under the task id a no-op until asynq recovers it.
func deliveryID(ref engine.TaskRef) string {
	switch {
	case ref.Kind == engine.KindWake && ref.Notify:
		return ref.TaskID + ":wake:notify"
	case ref.Kind == engine.KindWake:
		return ref.TaskID + ":wake"
	case ref.Recovery > 0:
		return fmt.Sprintf("%s:r%d", ref.TaskID, ref.Recovery)
	}
	return ref.TaskID
}

// Enqueue adds a delivery unless one with the same id is already queued, scheduled or
// running; a leftover archived or completed entry is replaced. A delivery that is active in
// Redis while no live asynq server processes it (its worker died before its claim reached
// PostgreSQL) is enqueued again under an id of its own (orphanSuffix): asynq hands an
// orphaned delivery back only once its lease expired, up to 2 min later, and until then an
// enqueue under its id is a no-op.
func (c *Client) Enqueue(ctx context.Context, ref engine.TaskRef, at time.Time) (bool, error) {
	body, err := json.Marshal(payload{TaskID: ref.TaskID, RunID: ref.RunID, NodeType: ref.NodeType})
	if err != nil {
		return false, err
	}
	typ := TypeExecute
	if ref.Kind == engine.KindWake {
		typ = TypeWake
	}
	var headers map[string]string
	if ref.TraceContext != "" {
		headers = map[string]string{traceHeader: ref.TraceContext}
	}
	task := asynq.NewTaskWithHeaders(typ, body, headers)
	id := deliveryID(ref)
	added, active, err := c.enqueue(ctx, task, id, at)
	if err != nil || added || !active || !c.active.orphaned(id, func() bool { return c.listed(id) }, time.Now()) {
		return added, err
	}
	added, _, err = c.enqueue(ctx, task, id+orphanSuffix, at)
	return added, err
}

// orphanSuffix marks the delivery id of a task enqueued again because its first delivery was
// orphaned: handed to a worker that died before its claim reached PostgreSQL (an execution
// waiting for a slot or its first read, a wake-up), so the task is still queued or waiting
// there while Redis keeps the delivery active until asynq's recoverer hands it back, 55 s to
// 2 min later. Every reconciler computes the same id, so that enqueue stays idempotent, and
// the engine drops whichever of the two deliveries comes second.
const orphanSuffix = ":orphan"

// enqueue adds task under delivery id, replacing a leftover archived or completed entry.
// active reports that it was not added because the delivery under id is active.
func (c *Client) enqueue(ctx context.Context, task *asynq.Task, id string, at time.Time) (added, active bool, err error) {
	opts := []asynq.Option{asynq.TaskID(id), asynq.Queue(c.queue), asynq.MaxRetry(MaxRetry)}
	if !at.IsZero() && at.After(time.Now()) {
		opts = append(opts, asynq.ProcessAt(ceilSecond(at)))
	}
	_, err = c.client.EnqueueContext(ctx, task, opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		info, ierr := c.inspector.GetTaskInfo(c.queue, id)
		if ierr != nil || (info.State != asynq.TaskStateArchived && info.State != asynq.TaskStateCompleted) {
			return false, ierr == nil && info.State == asynq.TaskStateActive, nil
		}
		if derr := c.inspector.DeleteTask(c.queue, id); derr != nil {
			return false, false, nil
		}
		_, err = c.client.EnqueueContext(ctx, task, opts...)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return false, false, nil
		}
	}
	if err != nil {
		return false, false, fmt.Errorf("enqueue %s: %w", id, err)
	}
	return true, false, nil
}

// listed reports whether a live asynq server lists delivery id among the tasks its workers
// process. An active delivery no server lists is orphaned once it has been active for longer
// than a live server takes to list it (activeWatch): a server's state expires 10 s after its
// last heartbeat, and a live one lists a delivery it took at its next heartbeat, within 5 s.
// When the servers cannot be listed it reports true.
func (c *Client) listed(id string) bool {
	servers, err := c.inspector.Servers()
	if err != nil {
		return true
	}
	for _, s := range servers {
		for _, w := range s.ActiveWorkers {
			if w.TaskID == id && w.Queue == c.queue {
				return true
			}
		}
	}
	return false
}

// Stop cancels a running execution or removes a queued or scheduled delivery, best effort.
// A running task may be executing as a queue delivery or eagerly, on the worker that released
// it: the stop goes to both (stopChannel reaches the workers' engines).
func (c *Client) Stop(ctx context.Context, ref engine.TaskRef, status string) error {
	if status == "running" {
		return errors.Join(c.inspector.CancelProcessing(deliveryID(ref)), c.rc.Publish(ctx, c.stopChannel(), ref.TaskID).Err())
	}
	err := c.inspector.DeleteTask(c.queue, deliveryID(ref))
	if errors.Is(err, asynq.ErrTaskNotFound) {
		return nil
	}
	return err
}

// stopChannel is the Redis channel on which Stop names the running tasks to stop to the
// workers of the queue.
func (c *Client) stopChannel() string { return stopChannel(c.queue) }

func stopChannel(queue string) string { return "sequenceflow:" + queue + ":stop" }

// Close releases the client (not the shared Redis connection).
func (c *Client) Close() error { return nil }

// ceilSecond rounds up to a whole second: asynq keeps scheduled deliveries with one-second
// resolution (it truncates), so rounding up makes a delivery never early and at most 1 s late.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}
