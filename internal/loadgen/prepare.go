package loadgen

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

var benchDatabaseName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ResetDatabases drops (disconnecting their sessions) and recreates the named databases through
// an admin connection, so a benchmark starts on empty ones.
func ResetDatabases(ctx context.Context, adminURL string, names []string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(ctx)
	for _, name := range names {
		if !benchDatabaseName.MatchString(name) {
			return fmt.Errorf("database name %q: use lower-case letters, digits and _", name)
		}
		if name == conn.Config().Database {
			return fmt.Errorf("database %q is the admin connection's own", name)
		}
		id := pgx.Identifier{name}.Sanitize()
		if _, err := conn.Exec(ctx, `DROP DATABASE IF EXISTS `+id+` WITH (FORCE)`); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+id); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
	}
	return nil
}

// EmptyQueues deletes asynq queues with whatever they hold, and their counters.
func EmptyQueues(ctx context.Context, redisURL string, queues []string) error {
	rc, err := redisClient(redisURL)
	if err != nil {
		return err
	}
	defer rc.Close()
	return deleteQueues(ctx, rc, queues)
}

func deleteQueues(ctx context.Context, rc redis.UniversalClient, queues []string) error {
	in := asynq.NewInspectorFromRedisClient(rc)
	for _, q := range queues {
		if err := in.DeleteQueue(q, true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			return fmt.Errorf("empty queue %s: %w", q, err)
		}
		// DeleteQueue leaves the processed and failed counters (asynq:{q}:processed...).
		var cursor uint64
		for range 10000 {
			keys, next, err := rc.Scan(ctx, cursor, "asynq:{"+q+"}:*", 500).Result()
			if err != nil {
				return fmt.Errorf("list keys of queue %s: %w", q, err)
			}
			if len(keys) > 0 {
				if err := rc.Del(ctx, keys...).Err(); err != nil {
					return fmt.Errorf("delete keys of queue %s: %w", q, err)
				}
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return nil
}
