package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"
)

// logStarting writes the process's start-up line: what it is and where it listens, never a
// connection string or a key.
func (a *App) logStarting(ln net.Listener) {
	attrs := []slog.Attr{slog.String("version", a.cfg.Version), slog.String("instance_id", a.instanceID), slog.String("queue", a.cfg.Queue)}
	if a.role == RoleWorker || a.role == RoleDev {
		attrs = append(attrs, slog.String("worker_id", a.instanceID), slog.Int("concurrency", a.cfg.WorkerConcurrency),
			slog.String("shutdown_timeout", a.cfg.ShutdownTimeout.String()))
	}
	if a.role == RoleAPI || a.role == RoleDev {
		addr := a.cfg.ListenAddress(a.role)
		if ln != nil {
			addr = ln.Addr().String()
		}
		attrs = append(attrs, slog.String("listen_addr", addr))
	}
	if ln := a.cfg.MetricsListener; ln != nil {
		attrs = append(attrs, slog.String("metrics_addr", ln.Addr().String()))
	} else if addr := a.metricsAddr(); addr != "" {
		attrs = append(attrs, slog.String("metrics_addr", addr))
	}
	a.log.LogAttrs(context.Background(), slog.LevelInfo, "starting", attrs...)
}

// shutdownLog follows a process from the moment it starts shutting down: why, how many task
// executions it had in flight, how many of them finished (drained) and how long it took.
type shutdownLog struct {
	a     *App
	began chan struct{}
	at    time.Time
	why   string
	held  int // executions in flight when the shutdown began
}

// watch waits until ctx (the process's components' context) ends and logs that the shutdown
// began.
func (a *App) watchShutdown(ctx context.Context) *shutdownLog {
	s := &shutdownLog{a: a, began: make(chan struct{})}
	go func() {
		<-ctx.Done()
		s.at, s.why = time.Now(), shutdownReason(ctx)
		s.held = a.inFlight()
		a.log.Info("shutting down", "reason", s.why, "in_flight", s.held)
		close(s.began)
	}()
	return s
}

// done logs the end of the shutdown, with err what Run returns.
func (s *shutdownLog) done(err error) {
	<-s.began
	left := s.a.inFlight()
	attrs := []any{"reason", s.why, "duration", time.Since(s.at).Round(time.Millisecond).String(),
		"drained", max(0, s.held-left), "handed_back", left}
	if err != nil {
		s.a.log.Error("stopped", append(attrs, "error", err)...)
		return
	}
	s.a.log.Info("stopped", attrs...)
}

// shutdownReason says what ended ctx: a signal, the caller, or the component that failed.
func shutdownReason(ctx context.Context) string {
	cause := context.Cause(ctx)
	if cause == nil || errors.Is(cause, context.Canceled) {
		return "stop requested (signal or caller)"
	}
	return cause.Error()
}

// inFlight counts the task executions of this process (0 for the api role).
func (a *App) inFlight() int {
	if a.Engine == nil {
		return 0
	}
	return a.Engine.InFlight()
}
