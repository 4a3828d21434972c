// Command pgheadroom checks that the PostgreSQL the tests use (TEST_DATABASE_URL) has room for
// the test suite's connections before `make test` starts: the suite's budget (TEST_PG_CONNS,
// see internal/testenv) plus two connections per test process running at once (-p, the
// number of CPUs by default). It fails, saying what to change, when max_connections cannot
// fit the suite, and warns when other clients hold so many connections right now that the
// suite may run out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

func main() {
	procs := flag.Int("p", runtime.NumCPU(), "test processes `go test` runs at once (its -p)")
	flag.Parse()
	msg, err := check(*procs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgheadroom:", err)
		os.Exit(1)
	}
	fmt.Println("pgheadroom:", msg)
}

// perProcess is what each test process holds beside its tests' budget: the connection
// holding its budget slots and the one that creates a test database now and then.
const perProcess = 2

func check(procs int) (string, error) {
	url := testenv.AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("cannot reach PostgreSQL (TEST_DATABASE_URL): %v", err)
	}
	defer conn.Close(ctx)
	// reserved_connections exists from PostgreSQL 16 on.
	var maxConns, superReserved, reserved, inUse int
	err = conn.QueryRow(ctx, `SELECT current_setting('max_connections')::int,
		current_setting('superuser_reserved_connections')::int,
		coalesce(current_setting('reserved_connections', true), '0')::int,
		(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int`).
		Scan(&maxConns, &superReserved, &reserved, &inUse)
	if err != nil {
		return "", fmt.Errorf("read max_connections: %w", err)
	}
	budget := testenv.Budget()
	need := budget + perProcess*max(procs, 1)
	capacity := maxConns - superReserved - reserved
	if capacity < need {
		return "", fmt.Errorf("PostgreSQL allows max_connections=%d (%d reserved), but the test suite needs up to %d: "+
			"TEST_PG_CONNS=%d for its tests plus %d per test process with -p %d. Raise max_connections, or lower TEST_PG_CONNS "+
			"(tests then wait for each other longer)", maxConns, superReserved+reserved, need, budget, perProcess, procs)
	}
	free := capacity - inUse + 1 // this check's own connection goes away
	if free < need {
		return fmt.Sprintf("WARNING: only %d of max_connections=%d are free now (%d in use by other clients); the test suite needs up to %d "+
			"(TEST_PG_CONNS=%d plus %d per test process with -p %d), so it may fail with \"too many clients\"",
			free, maxConns, inUse-1, need, budget, perProcess, procs), nil
	}
	return fmt.Sprintf("max_connections=%d, %d in use by other clients, the test suite needs up to %d (TEST_PG_CONNS=%d plus %d per test process with -p %d)",
		maxConns, inUse-1, need, budget, perProcess, procs), nil
}
