// Package apptest starts a whole SequenceFlow process (the dev role: API, worker, reconciler)
// for tests, on a fresh database, its own queue and a random local port.
package apptest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// Server is a running process.
type Server struct {
	URL  string
	App  *app.App
	Cfg  app.Config
	stop func()
}

// Stop shuts the process down gracefully (also done at the end of the test).
func (s *Server) Stop() { s.stop() }

// Start runs a dev-role process until the test ends. configure may adjust the config (it
// starts with a unique queue, a small pool, fast retries and reconciliation); unless it sets
// DatabaseURL, the process gets a fresh database afterwards, reserving DBMaxConns of the
// suite's connection budget.
func Start(t testing.TB, configure func(*app.Config)) *Server {
	t.Helper()
	return StartRole(t, app.RoleDev, configure)
}

// StartRole is Start for a process of the given role; it must serve the API.
func StartRole(t testing.TB, role app.Role, configure func(*app.Config)) *Server {
	t.Helper()
	return start(t, role, configure, nil)
}

// StartLogged is StartRole that also writes the process's log to w: every record at Debug
// level, as JSON lines stamped with trace and span ids and repeated warnings limited like the
// binary's. Writes are
// serialized; read w only under its own lock or after Stop.
func StartLogged(t testing.TB, role app.Role, w io.Writer, configure func(*app.Config)) *Server {
	t.Helper()
	return start(t, role, configure, w)
}

func start(t testing.TB, role app.Role, configure func(*app.Config), logTo io.Writer) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := app.Config{
		RedisURL:   testenv.RedisURL(),
		Queue:      testenv.QueueName(t),
		APIBaseURL: "http://" + ln.Addr().String(),
		Listener:   ln,
		// Many test processes share one PostgreSQL: a small pool, and as many task slots as it
		// can serve.
		WorkerConcurrency: 5,
		DBMaxConns:        5 + app.PoolHeadroom,
		RetryBaseDelay:    20 * time.Millisecond,
		ReconcileInterval: 200 * time.Millisecond,
		ReconcileAfter:    time.Second,
		ShutdownTimeout:   2 * time.Second,
		SeedSamples:       true,
	}
	allowPrivate := true // test endpoints listen on 127.0.0.1
	cfg.OutboundAllowPrivate = &allowPrivate
	if configure != nil {
		configure(&cfg)
	}
	if cfg.DatabaseURL == "" {
		// The process opens at most DBMaxConns connections plus the run watcher's listening
		// one: that is what it reserves of the suite's connection budget.
		cfg.DatabaseURL = testenv.DatabaseConns(t, cfg.DBMaxConns+1)
	}
	var outs []io.Writer
	if os.Getenv("TEST_LOG") != "" {
		outs = append(outs, os.Stderr)
	}
	if logTo != nil {
		outs = append(outs, logTo)
	}
	logOut := io.Discard
	if len(outs) > 0 {
		logOut = io.MultiWriter(outs...)
	}
	log := slog.New(telemetry.NewLogLimit(telemetry.LogHandler{Handler: slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})},
		telemetry.LogLimitConfig{})).With("role", string(role))
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, role, log)
	if err != nil {
		cancel()
		t.Fatalf("apptest: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("apptest: process ended with: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("apptest: process did not stop within 30 s")
			}
			a.Close()
		})
	}
	t.Cleanup(stop)
	s := &Server{URL: cfg.APIBaseURL, App: a, Cfg: cfg, stop: stop}
	s.waitReady(t)
	return s
}

func (s *Server) waitReady(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", s.URL[len("http://"):], time.Second)
		if err == nil {
			conn.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("apptest: API at %s did not start", s.URL)
}
