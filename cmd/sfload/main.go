// Command sfload is SequenceFlow's load generator. It drives a running service through its
// REST API only (workflows of a few shapes, runs started at a fixed concurrency or a fixed
// rate and tracked until they end), reads the service's PostgreSQL database for measurement
// only, runs the bare-asynq floor the engine is compared with, and reports. See
// docs/BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/loadgen"
)

const usage = `usage:
  sfload [flags]                      run workloads against a running service (and the floor)
  sfload report [flags] results.json…  print saved results together
  sfload prepare [flags]              recreate benchmark databases and empty asynq queues
  sfload history [flags]              write old finished runs into a service's database (retention benchmark)
  sfload limits                       print the largest size of each sized shape the service's workflow limits allow

Run "sfload -h" or "sfload report -h" for the flags.
`

// errViolations makes the exit status 3: the load ran, but some run was stuck, failed or
// executed a node twice.
var errViolations = errors.New("correctness violations")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errViolations):
		fmt.Fprintln(os.Stderr, "sfload:", err)
		os.Exit(3)
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintln(os.Stderr, "sfload:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "report" {
		return report(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "prepare" {
		return prepare(ctx, args[1:], stderr)
	}
	if len(args) > 0 && args[0] == "history" {
		return history(ctx, args[1:], stderr)
	}
	if err := serviceLimits(os.Getenv); err != nil {
		return err
	}
	if len(args) > 0 && args[0] == "limits" {
		for _, shape := range []string{loadgen.ShapeChain, loadgen.ShapeFanout} {
			fmt.Fprintf(stdout, "%s %d\n", shape, loadgen.MaxSize(shape))
		}
		return nil
	}
	if len(args) > 0 && args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	return load(ctx, args, stdout, stderr)
}

func load(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sfload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg          loadgen.Config
		shapes       string
		allowRemote  bool
		timeout      time.Duration
		out, format  string
		check        bool
		logLevel     string
		transactions bool
		floorDB      string
		label        string
	)
	fs.StringVar(&cfg.BaseURL, "base", "http://localhost:3000", "the service's REST API")
	fs.StringVar(&cfg.APIBase, "api-base", "", "where the service reaches its own mock endpoints, for the apicall shape (default -base)")
	fs.BoolVar(&allowRemote, "allow-remote", false, "allow a base URL that is not on this machine")
	fs.StringVar(&shapes, "shapes", loadgen.ShapeChain, "comma-separated shapes to run in order: "+strings.Join(loadgen.Shapes, ", "))
	fs.IntVar(&cfg.ChainN, "n", 10, "nodes in the chain shape (and hops of a floor chain)")
	fs.IntVar(&cfg.FanoutN, "fanout", 10, "parallel nodes of the fanout shape")
	fs.IntVar(&cfg.Load.Concurrency, "concurrency", 0, "runs kept in flight, closed loop (default 20 unless -rate)")
	fs.Float64Var(&cfg.Load.Rate, "rate", 0, "runs started per second, open loop")
	fs.IntVar(&cfg.Load.Runs, "runs", 0, "runs to start per shape (default 200 unless -duration)")
	fs.DurationVar(&cfg.Load.Duration, "duration", 0, "how long to start runs per shape")
	fs.IntVar(&cfg.Load.MaxInFlight, "max-inflight", 2000, "open loop: runs in flight beyond which a due start is skipped")
	fs.DurationVar(&cfg.RunTimeout, "run-timeout", time.Minute, "a run not finished this long after its start counts as stuck")
	fs.DurationVar(&timeout, "timeout", 15*time.Minute, "overall bound of the invocation")
	fs.StringVar(&cfg.Poll, "poll", loadgen.PollList, "how runs are tracked: list (GET /workflows/{id}/runs, one request per interval) or status (GET /workflows/runs/{id}/status per run per interval)")
	fs.DurationVar(&cfg.PollInterval, "poll-interval", 0, "tracking interval (default 20ms for list, 25ms for status)")
	fs.IntVar(&cfg.RunsPerWorkflow, "runs-per-workflow", 100, "runs per workflow copy, which bounds the run lists polled")
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "the service's PostgreSQL database, read for measurement only (enables database timestamps, duplicates and transactions)")
	fs.StringVar(&cfg.StatsDatabase, "stats-database", "postgres", "database on the same server through which pg_stat_database is read")
	fs.BoolVar(&transactions, "tx", true, "count PostgreSQL transactions per node execution (needs -database-url; adds settle waits)")
	fs.DurationVar(&cfg.Settle, "settle", 11*time.Second, "wait before reading transaction counters (PostgreSQL publishes idle backends' counts after 10 s)")
	fs.IntVar(&cfg.Calibrations, "calibrations", 300, "tracking polls made to measure the transactions one costs")
	fs.BoolVar(&cfg.Floor, "floor", false, "first run the floor: bare asynq chains of -n hops, one PostgreSQL transaction per hop")
	fs.BoolVar(&cfg.FloorOnly, "floor-only", false, "run only the floor")
	fs.StringVar(&floorDB, "floor-database-url", "", "PostgreSQL database for the floor's scratch schema (default -database-url)")
	fs.StringVar(&cfg.FloorCfg.RedisURL, "floor-redis-url", "redis://127.0.0.1:6379/11", "Redis for the floor's asynq queue")
	fs.StringVar(&cfg.FloorCfg.Queue, "floor-queue", "sfload-floor", "the floor's asynq queue (emptied before and after)")
	fs.IntVar(&cfg.FloorRuns, "floor-runs", 0, "chains the floor runs (default -runs)")
	fs.IntVar(&cfg.FloorCfg.Workers, "floor-workers", 10, "the floor's asynq Concurrency (the service's WORKER_CONCURRENCY)")
	fs.StringVar(&out, "out", "", "also write the results as JSON to this file")
	fs.StringVar(&format, "format", loadgen.FormatText, "table format: text or markdown")
	fs.BoolVar(&check, "check", true, "exit with status 3 when a run was stuck, failed or ran a node twice")
	fs.StringVar(&logLevel, "log-level", "warn", "log level of sfload's own diagnostics")
	fs.StringVar(&label, "label", "", "appended to each workload's name in the results, to tell runs of the same workload apart in one report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q\n%s", fs.Args(), usage)
	}
	if cfg.Load.Concurrency == 0 && cfg.Load.Rate == 0 {
		cfg.Load.Concurrency = 20
	}
	if cfg.Load.Runs == 0 && cfg.Load.Duration == 0 {
		cfg.Load.Runs = 200
	}
	cfg.Shapes = splitList(shapes)
	cfg.Transactions = transactions && cfg.DatabaseURL != ""
	cfg.FloorCfg.DatabaseURL = floorDB
	if floorDB == "" {
		cfg.FloorCfg.DatabaseURL = cfg.DatabaseURL
	}
	if !allowRemote {
		for _, u := range []string{cfg.BaseURL, cfg.APIBase} {
			if u == "" {
				continue
			}
			if err := loadgen.CheckLocal(u); err != nil {
				return err
			}
		}
	}
	if format != loadgen.FormatText && format != loadgen.FormatMarkdown {
		return fmt.Errorf("-format must be text or markdown, got %q", format)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	results, err := loadgen.Run(ctx, cfg, stdout, log)
	if label != "" {
		for i := range results {
			results[i].Name += " " + label
		}
	}
	if len(results) > 0 {
		if werr := printResults(stdout, format, results); werr != nil {
			return werr
		}
		if out != "" {
			if werr := loadgen.SaveResults(out, results); werr != nil {
				return werr
			}
		}
	}
	if err != nil {
		return err
	}
	return violations(check, results)
}

func report(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sfload report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", loadgen.FormatText, "table format: text or markdown")
	check := fs.Bool("check", false, "exit with status 3 when a run was stuck, failed or ran a node twice")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("report: name at least one results file")
	}
	var all []loadgen.Result
	for _, path := range fs.Args() {
		rs, err := loadgen.LoadResults(path)
		if err != nil {
			return err
		}
		all = append(all, rs...)
	}
	if err := printResults(stdout, *format, all); err != nil {
		return err
	}
	return violations(*check, all)
}

func prepare(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sfload prepare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	admin := fs.String("admin-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL connection allowed to create databases")
	databases := fs.String("databases", "", "comma-separated databases to drop and create empty")
	redisURL := fs.String("redis-url", "", "Redis holding the queues")
	queues := fs.String("queues", "", "comma-separated asynq queues to delete")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if dbs := splitList(*databases); len(dbs) > 0 {
		if err := loadgen.ResetDatabases(ctx, *admin, dbs); err != nil {
			return err
		}
	}
	if qs := splitList(*queues); len(qs) > 0 {
		if *redisURL == "" {
			return errors.New("prepare: -queues needs -redis-url")
		}
		return loadgen.EmptyQueues(ctx, *redisURL, qs)
	}
	return nil
}

func history(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("sfload history", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.HistoryConfig
	databaseURL := fs.String("database-url", "", "the service's migrated PostgreSQL database (written to)")
	fs.IntVar(&cfg.Runs, "runs", 1_000_000, "finished runs to write")
	fs.IntVar(&cfg.Tasks, "tasks", 2, "tasks per run")
	fs.IntVar(&cfg.Logs, "logs", 2, "log lines per run")
	fs.DurationVar(&cfg.Age, "age", 60*24*time.Hour, "how long ago the runs finished")
	fs.IntVar(&cfg.Chunk, "chunk", 50_000, "runs per INSERT statement")
	timeout := fs.Duration("timeout", time.Hour, "overall bound")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *databaseURL == "" {
		return errors.New("history: -database-url is required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return loadgen.FillHistory(ctx, *databaseURL, cfg, stderr)
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func printResults(w io.Writer, format string, results []loadgen.Result) error {
	fmt.Fprintln(w)
	if err := loadgen.WriteTable(w, format, results); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nTargets:")
	return loadgen.WriteTargets(w, results)
}

func violations(check bool, results []loadgen.Result) error {
	if !check {
		return nil
	}
	var lines []string
	for _, r := range results {
		if v := r.Violations(); len(v) > 0 {
			lines = append(lines, fmt.Sprintf("%s %s: %s", r.Name, r.Mode, strings.Join(v, ", ")))
		}
	}
	if len(lines) > 0 {
		return fmt.Errorf("%w: %s", errViolations, strings.Join(lines, "; "))
	}
	return nil
}

// serviceLimits sets the workflow limits the sized shapes must fit in from MAX_WORKFLOW_NODES
// and MAX_WORKFLOW_EDGES, when set: the values the service under test runs with.
func serviceLimits(getenv func(string) string) error {
	for name, dst := range map[string]*int{"MAX_WORKFLOW_NODES": &loadgen.Limits.MaxNodes, "MAX_WORKFLOW_EDGES": &loadgen.Limits.MaxEdges} {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%q: want a positive whole number (the service's value)", name, v)
		}
		*dst = n
	}
	return nil
}
