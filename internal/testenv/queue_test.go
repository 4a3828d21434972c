package testenv

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// A test's queue leaves nothing in Redis once the test ends: not its pending and scheduled
// tasks, not the task hashes, not the daily counters asynq writes when a task is processed,
// and not its entry in asynq's set of queues.
func TestQueueNameDeletesQueueKeys(t *testing.T) {
	var queue string
	t.Run("a test using a queue", func(t *testing.T) {
		queue = QueueName(t)
		opts, err := redis.ParseURL(RedisURL())
		if err != nil {
			t.Fatal(err)
		}
		conn := asynq.RedisClientOpt{Addr: opts.Addr, DB: opts.DB, Username: opts.Username, Password: opts.Password}
		client := asynq.NewClient(conn)
		defer client.Close()
		for _, opt := range []asynq.Option{asynq.ProcessIn(time.Hour), asynq.TaskID("processed")} {
			if _, err := client.Enqueue(asynq.NewTask("test", nil), asynq.Queue(queue), opt); err != nil {
				t.Fatal(err)
			}
		}
		var processed atomic.Int64
		srv := asynq.NewServer(conn, asynq.Config{Queues: map[string]int{queue: 1}, Concurrency: 1, LogLevel: asynq.FatalLevel})
		if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { processed.Add(1); return nil })); err != nil {
			t.Fatal(err)
		}
		WaitFor(t, 20*time.Second, "the task to be processed", func() bool { return processed.Load() == 1 })
		srv.Shutdown()
		if n, err := QueueKeys(RedisURL(), queue); err != nil || n == 0 {
			t.Fatalf("the queue has %d keys (%v) while in use; the test proves nothing", n, err)
		}
	})
	n, err := QueueKeys(RedisURL(), queue)
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d keys of queue %s remain in Redis after its test ended", n, queue)
	}
}
