// Command sequenceflow runs SequenceFlow in one of its roles: api, worker, migrate or dev
// (API and worker in one process, schema migrated and sample data seeded).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/alertlog"
	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/queue"
	"github.com/sequenceflow/sequenceflow/internal/telemetry"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: sequenceflow <role>
       sequenceflow healthcheck <url>
       sequenceflow alert-log <addr>
       sequenceflow version

roles:
  api      REST API, mock endpoints
  worker   executes tasks from the queue; reconciles lost work
  migrate  applies database migrations and exits
  dev      api + worker in one process, migrations applied, sample data seeded

healthcheck exits 0 when the URL answers 2xx within 3 s, 1 otherwise (the container
HEALTHCHECK: the image has no shell or curl).

alert-log receives Alertmanager's webhook notifications on addr (POST /alerts), logs one
JSON line per alert and lists the latest at GET /alerts: the stacks' default receiver.

Configuration comes from environment variables; see README.md.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sequenceflow:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 1 && args[0] == "version" {
		fmt.Println(version)
		return nil
	}
	if len(args) == 2 && args[0] == "healthcheck" {
		return healthcheck(args[1])
	}
	if len(args) == 2 && args[0] == "alert-log" {
		return alertLog(args[1])
	}
	if len(args) != 1 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, usage)
		if len(args) == 1 {
			return nil
		}
		return fmt.Errorf("missing role")
	}
	role, err := app.ParseRole(args[0])
	if err != nil {
		return err
	}
	cfg, err := app.ConfigFromEnv(os.Getenv, role)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	cfg.Version = version
	// Warnings and errors repeating in a loop (an unreachable Redis or PostgreSQL) are limited
	// per message; see README.md, "Logs".
	log := slog.New(telemetry.NewLogLimit(telemetry.LogHandler{Handler: slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel(cfg.LogLevel)})},
		telemetry.LogLimitConfig{})).With("role", string(role))
	slog.SetDefault(log)
	redis.SetLogger(queue.RedisLogger{Log: log})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, role, log)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Run(ctx)
}

// healthcheck probes url once: nil on a 2xx answer within 3 s.
func healthcheck(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck: %s answered %s", url, resp.Status)
	}
	return nil
}

func logLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// alertLog serves the alert receiver on addr until SIGTERM or SIGINT.
func alertLog(addr string) error {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil)).With("role", "alert-log")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv := &http.Server{Addr: addr, Handler: alertlog.New(log, nil), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Info("alert receiver listening", "addr", addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
