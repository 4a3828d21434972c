package queue

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/engine"
)

// Handler executes deliveries; *engine.Engine satisfies it.
type Handler interface {
	Execute(ctx context.Context, ref engine.TaskRef) error
	Wake(ctx context.Context, ref engine.TaskRef) error
}

// Stopper is a Handler that executes tasks outside queue deliveries too (eager dispatch):
// StopTask stops its execution of a task, if it has one. *engine.Engine satisfies it.
type Stopper interface {
	StopTask(taskID string)
}

// ServerConfig tunes the worker.
type ServerConfig struct {
	Queue       string
	Concurrency int
	// PollInterval is how long an idle worker waits before polling an empty queue again.
	// asynq's default (1 s) would dominate a run's latency; the default here is 2 ms.
	PollInterval time.Duration
	// DelayedCheckInterval is how often scheduled deliveries (delays, retries) are moved to the
	// queue; asynq's default is 5 s, the default here 100 ms.
	DelayedCheckInterval time.Duration
	// ShutdownTimeout bounds how long in-flight tasks may finish on shutdown before they are
	// handed back to the queue (default 10 s).
	ShutdownTimeout time.Duration
	// Middleware wraps every task handler (tracing, metrics), outermost first, inside the
	// slot every delivery holds.
	Middleware []asynq.MiddlewareFunc
	// Slots is the worker's pool of task slots, shared with eager executions (nil: a pool
	// of Concurrency slots of the server's own). Its size should be Concurrency.
	Slots *Slots
}

// WithDefaults fills unset fields.
func (c ServerConfig) WithDefaults() ServerConfig {
	c.Queue = cmp.Or(c.Queue, "sequenceflow")
	c.Concurrency = cmp.Or(c.Concurrency, 10)
	c.PollInterval = cmp.Or(c.PollInterval, 2*time.Millisecond)
	c.DelayedCheckInterval = cmp.Or(c.DelayedCheckInterval, 100*time.Millisecond)
	c.ShutdownTimeout = cmp.Or(c.ShutdownTimeout, 10*time.Second)
	return c
}

// validate checks a configuration with its defaults filled in: asynq would silently replace
// a negative value with its own default.
func (c ServerConfig) validate() error {
	var errs []error
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("queue: Concurrency must be at least 1, got %d", c.Concurrency))
	}
	for _, d := range []struct {
		name  string
		value time.Duration
	}{{"PollInterval", c.PollInterval}, {"DelayedCheckInterval", c.DelayedCheckInterval}, {"ShutdownTimeout", c.ShutdownTimeout}} {
		if d.value <= 0 {
			errs = append(errs, fmt.Errorf("queue: %s must be positive, got %v", d.name, d.value))
		}
	}
	return errors.Join(errs...)
}

// Server runs tasks from the queue.
type Server struct {
	srv   *asynq.Server
	mux   *asynq.ServeMux
	rc    redis.UniversalClient
	queue string
	h     Handler
	log   *slog.Logger
}

// NewServer returns a worker server on a shared Redis connection, or an error naming every
// invalid setting of cfg.
func NewServer(rc redis.UniversalClient, cfg ServerConfig, h Handler, log *slog.Logger) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	srv := asynq.NewServerFromRedisClient(rc, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   map[string]int{cfg.Queue: 1},
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: cfg.DelayedCheckInterval,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		RetryDelayFunc:           retryDelay,
		IsFailure: func(err error) bool {
			var r *engine.RetryLater
			return !errors.As(err, &r)
		},
		Logger:   slogAdapter{log},
		LogLevel: asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	if cfg.Slots == nil {
		cfg.Slots = NewSlots(cfg.Concurrency)
	}
	mux.Use(cfg.Slots.middleware())
	mux.Use(cfg.Middleware...)
	mux.HandleFunc(TypeExecute, func(ctx context.Context, t *asynq.Task) error {
		ref, err := decode(t, engine.KindExecute)
		if err != nil {
			return err
		}
		return h.Execute(ctx, ref)
	})
	mux.HandleFunc(TypeWake, func(ctx context.Context, t *asynq.Task) error {
		ref, err := decode(t, engine.KindWake)
		if err != nil {
			return err
		}
		return h.Wake(ctx, ref)
	})
	return &Server{srv: srv, mux: mux, rc: rc, queue: cfg.Queue, h: h, log: log}, nil
}

// Run processes tasks until ctx ends, then stops taking work, lets in-flight tasks finish up to
// the shutdown timeout and hands the rest back to the queue.
func (s *Server) Run(ctx context.Context) error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	stopped := make(chan struct{})
	if st, ok := s.h.(Stopper); ok {
		go func() {
			defer close(stopped)
			s.listenStops(ctx, st)
		}()
	} else {
		close(stopped)
	}
	<-ctx.Done()
	s.srv.Shutdown()
	<-stopped
	return nil
}

// listenStops passes the stops Client.Stop publishes to st until ctx ends. The subscription
// reconnects by itself after a lost connection; a stop missed meanwhile only lets an
// execution finish, and its result is dropped.
func (s *Server) listenStops(ctx context.Context, st Stopper) {
	sub := s.rc.Subscribe(ctx, stopChannel(s.queue))
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			st.StopTask(msg.Payload)
		}
	}
}

func decode(t *asynq.Task, kind string) (engine.TaskRef, error) {
	var p payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.TaskID == "" {
		return engine.TaskRef{}, fmt.Errorf("malformed %s payload: %w", t.Type(), errors.Join(err, asynq.SkipRetry))
	}
	return engine.TaskRef{TaskID: p.TaskID, RunID: p.RunID, Kind: kind, NodeType: p.NodeType, TraceContext: t.Headers()[traceHeader]}, nil
}

// retryDelay honours the engine's backoff for node retries; infrastructure errors back off
// exponentially from 100 ms to 30 s.
// Delays are rounded so the redelivery is never early (see ceilSecond).
func retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	d := min(100*time.Millisecond<<min(n, 10), 30*time.Second)
	var r *engine.RetryLater
	if errors.As(err, &r) {
		d = r.Delay
	}
	now := time.Now()
	return ceilSecond(now.Add(d)).Sub(now)
}

// slogAdapter routes asynq's logs to slog.
type slogAdapter struct{ log *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.log.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Info(args ...any)  { a.log.Info(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Warn(args ...any)  { a.log.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Error(args ...any) { a.log.Error(fmt.Sprint(args...), "component", "asynq") }
func (a slogAdapter) Fatal(args ...any) {
	a.log.Error(fmt.Sprint(args...), "component", "asynq", "fatal", true)
}

// RedisLogger routes go-redis's internal messages (dial retries and the like) to slog at debug
// level; the process reports unreachable Redis itself, in one line. Install it with
// redis.SetLogger in main.
type RedisLogger struct{ Log *slog.Logger }

// Printf implements go-redis's logging interface.
func (l RedisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.Log.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}
