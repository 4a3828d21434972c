package testenv

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DeleteQueue deletes every key asynq keeps for the queue in the Redis at redisURL: its task
// lists, sets and task hashes, its daily processed/failed counters (which asynq keeps for
// 90 days), and its entry in the set of known queues. Servers' and workers' heartbeat keys
// expire by themselves.
func DeleteQueue(redisURL, queue string) error {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("TEST_REDIS_URL %q: %w", redisURL, err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Every key of a queue carries the hash tag {queue}, so one pattern finds them all.
	iter := rc.Scan(ctx, 0, "asynq:{"+queue+"}:*", 500).Iterator()
	var batch []string
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := rc.Unlink(ctx, batch...).Err()
		batch = batch[:0]
		return err
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return rc.SRem(ctx, "asynq:queues", queue).Err()
}

// QueueKeys counts the keys asynq keeps for the queue in the Redis at redisURL.
func QueueKeys(redisURL, queue string) (int, error) {
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		return 0, fmt.Errorf("TEST_REDIS_URL %q: %w", redisURL, err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := 0
	iter := rc.Scan(ctx, 0, "asynq:{"+queue+"}:*", 500).Iterator()
	for iter.Next(ctx) {
		n++
	}
	member, err := rc.SIsMember(ctx, "asynq:queues", queue).Result()
	if member {
		n++
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	return n, err
}
