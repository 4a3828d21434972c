package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// A notification that a task's child run finished is a delivery of its own: a scheduled
// wake-up of the same task does not absorb it, and it is idempotent in its turn.
func TestNotificationIsApartFromTheScheduledWakeUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rc, err := queue.Connect(ctx, testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	c := queue.NewClient(rc, testenv.QueueName(t))
	wake := engine.TaskRef{TaskID: "3f2b8c1e-7d4a-4e6b-9a5c-1b2c3d4e5f60", RunID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", Kind: engine.KindWake}
	if added, err := c.Enqueue(ctx, wake, time.Now().Add(time.Hour)); err != nil || !added {
		t.Fatalf("scheduled wake-up: added %v, %v", added, err)
	}
	notify := wake
	notify.Notify = true
	if added, err := c.Enqueue(ctx, notify, time.Time{}); err != nil || !added {
		t.Fatalf("notification beside a scheduled wake-up: added %v, %v; want added", added, err)
	}
	if added, err := c.Enqueue(ctx, notify, time.Time{}); err != nil || added {
		t.Fatalf("the same notification again: added %v, %v; want a no-op", added, err)
	}
}
