package loadgen

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// startService runs a dev-role SequenceFlow on a fresh database until the test ends and
// returns its base URL and database URL.
func startService(t *testing.T) (baseURL, databaseURL string) {
	t.Helper()
	srv := apptest.Start(t, func(c *app.Config) { c.SeedSamples = false })
	return srv.URL, srv.Cfg.DatabaseURL
}

// One invocation end to end against a real service, PostgreSQL and Redis: the floor, then
// every shape, measured from the database.
func TestRunAgainstService(t *testing.T) {
	// A test reserves its connections once, for all its databases: the floor's asynq workers
	// and their pool (10 + 2), the meter (2) and the service (apptest's pool of 8).
	floorDB := testenv.DatabaseConns(t, 12+2+8)
	base, db := startService(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var progress strings.Builder
	const runs = 8
	// The counts are exact only with the default settle time (11 s): PostgreSQL keeps an idle
	// backend's counts for up to 10 s when it published less than a second before, so a shorter
	// settle leaves a window's last transactions out (a run start measured at 0.8).
	floorQueue := testenv.QueueName(t)
	results, err := Run(ctx, Config{
		BaseURL: base, Shapes: Shapes, ChainN: 5, FanoutN: 3,
		Load:        Load{Concurrency: 4, Runs: runs},
		DatabaseURL: db, Transactions: true, Calibrations: 20,
		Floor:    true,
		FloorCfg: FloorConfig{DatabaseURL: floorDB, RedisURL: testenv.RedisURL(), Queue: floorQueue},
	}, &progress, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("Run: %v\nprogress:\n%s", err, progress.String())
	}
	if len(results) != 5 {
		t.Fatalf("got %d results, want the floor and 4 shapes", len(results))
	}
	floor := results[0]
	if !floor.Floor || floor.Name != "floor-5" || floor.Succeeded != runs || floor.NodeExecutions != runs*5 || floor.HopLatency.N != runs*4 ||
		floor.StepLatency.N != runs*4 || floor.Eager != 0 {
		t.Errorf("floor result = %+v", floor)
	}
	// One transaction per hop; nothing else touches the floor's database.
	if floor.Transactions < runs*5 || floor.Transactions > runs*5+5 {
		t.Errorf("floor counted %d transactions for %d hops", floor.Transactions, runs*5)
	}
	executions := map[string]int{"chain-5": 5, "fanout-3": 5, "ifelse": 5, "apicall": 3}
	for _, r := range results[1:] {
		if v := r.Violations(); len(v) > 0 {
			t.Errorf("%s: %v", r.Name, v)
		}
		if !r.Measured || r.Started != runs || r.Succeeded != runs || r.NodeExecutions != runs*executions[r.Name] {
			t.Errorf("%s: started %d succeeded %d node executions %d measured %v, want %d, %d, %d, true",
				r.Name, r.Started, r.Succeeded, r.NodeExecutions, r.Measured, runs, runs, runs*executions[r.Name])
		}
		if r.RunLatency.N != runs || r.StepLatency.N == 0 || r.Wall <= 0 || r.NodesPerSec <= 0 {
			t.Errorf("%s: latencies %+v / %+v, wall %s", r.Name, r.RunLatency, r.StepLatency, r.Wall)
		}
		// Every executed node with a parent started either through the queue or eagerly.
		if r.HopLatency.N+r.Eager != r.StepLatency.N {
			t.Errorf("%s: %d queued hops + %d eager != %d steps", r.Name, r.HopLatency.N, r.Eager, r.StepLatency.N)
		}
		if r.PollCost <= 0 || r.Polls == 0 {
			t.Errorf("%s: poll cost %v over %d polls, want both measured", r.Name, r.PollCost, r.Polls)
		}
		// A start costs at least its own transaction (the run and its tasks).
		if r.StartCost < 1 || r.Starts != runs || r.TxPerNodeNet >= r.TxPerNodeNoPoll {
			t.Errorf("%s: start cost %v over %d starts, %.2f tx/node without polls and starts (%.2f without polls)",
				r.Name, r.StartCost, r.Starts, r.TxPerNodeNet, r.TxPerNodeNoPoll)
		}
	}
	byName := map[string]Result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	if r := byName["fanout-3"]; r.JoinRuns != runs || r.JoinExact != runs {
		t.Errorf("fanout join ran once in %d of %d runs", r.JoinExact, r.JoinRuns)
	}
	if r := byName["ifelse"]; r.Branches["high"] != runs/2 || r.Branches["low"] != runs/2 {
		t.Errorf("ifelse branches = %v, want %d each", r.Branches, runs/2)
	}
	if r := byName["chain-5"]; r.FloorRatio <= 0 {
		t.Errorf("chain has no ratio to the floor")
	}
	rc, err := redisClient(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if left, err := rc.Keys(ctx, "asynq:{"+floorQueue+"}:*").Result(); err != nil || len(left) > 0 {
		t.Errorf("the floor left Redis keys %v (%v)", left, err)
	}
}

// Without a database the results come from polling alone.
func TestRunClientSideOnly(t *testing.T) {
	t.Parallel()
	_, c := newFake(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var progress strings.Builder
	results, err := Run(ctx, Config{BaseURL: c.base, Shapes: []string{ShapeChain, ShapeIfElse}, Load: Load{Concurrency: 3, Runs: 9},
		PollInterval: 2 * time.Millisecond, RunsPerWorkflow: 4}, &progress, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("got %d results", len(results))
	}
	for _, r := range results {
		if r.Measured || r.Started != 9 || r.Succeeded != 9 || r.RunLatency.N != 9 {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
	if !strings.Contains(progress.String(), "phase 2/2: ifelse, c=3, bound 9 runs") {
		t.Errorf("progress:\n%s", progress.String())
	}
}
