package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// faultPostgresBound bounds recovery after PostgreSQL comes back: tasks whose transitions failed
// are redelivered by asynq with the infrastructure backoff (100 ms doubling, capped at 30 s), and
// the reconciler re-enqueues anything left queued.
const faultPostgresBound = 90 * time.Second

// faultPostgresDown is how long the server stays unreachable.
const faultPostgresDown = 3 * time.Second

// TestFaultPostgresOutage terminates every PostgreSQL connection of an api and two workers
// (pg_terminate_backend) while apiCalls run, delays are parked and joins are half released, then
// makes the server unreachable for a few seconds. While it is down the API answers 503 with a
// body that says so and a Retry-After header (never a 500), and no process exits; once it is
// back every run succeeds along its branch with every engine effect exactly once. A call whose
// completion could not be recorded is redelivered, so a task may take a second attempt.
func TestFaultPostgresOutage(t *testing.T) {
	const runs = 30
	ctx := context.Background()
	dbURL := stackDatabase(t, 2, 4)
	database, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(database.Path, "/")
	pg := newTCPProxy(t, database.Host)
	database.Host = pg.addr
	slow := newSlowEndpoint(t, 300*time.Millisecond)
	redis := startRedisServer(t)
	apiPort := freePort(t)
	env := withEnv(processEnv(t, database.String(), redis.url(), apiPort),
		"WORKER_CONCURRENCY", "4", "RECONCILE_INTERVAL", "200ms", "RECONCILE_AFTER", "2s")
	stack := startFaultStack(t, env, apiPort, 2)
	procs := append([]*proc{stack.api}, stack.workers...)

	// The admin connection goes to the server directly, not through the proxy.
	admin, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)

	started := time.Now()
	batch := faultStart(t, stack.apiURL, slow.URL, runs, 4)
	var wf struct {
		ID string `json:"id"`
	}
	procPost(t, stack.apiURL+"/workflows", faultWorkflow(slow.URL), &wf, http.StatusCreated)

	var before map[string]int
	testenv.WaitFor(t, 60*time.Second, "calls in flight, a delay parked and a join half released", func() bool {
		if inFlight, _ := slow.snapshot(); len(inFlight) == 0 {
			return false
		}
		before = faultSnapshot(stack.apiURL, batch)
		return before["wait:waiting"] > 0 && before["join:half-released"] > 0
	})

	var terminated int
	if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
		dbName).Scan(&terminated); err != nil {
		t.Fatal(err)
	}
	if terminated == 0 {
		t.Fatal("no backend of the processes was terminated")
	}
	// Requests just after the connections were killed either succeed on a fresh connection or
	// are refused with 503; never a 500.
	for range 20 {
		status, body, err := procHTTP(stack.apiURL + "/workflows/" + wf.ID)
		if err != nil || (status != http.StatusOK && status != http.StatusServiceUnavailable) {
			t.Fatalf("GET a workflow after its connections were terminated: %d %s (%v), want 200 or 503", status, body, err)
		}
	}

	pg.close()
	down := time.Now()
	refused := 0
	for time.Since(down) < faultPostgresDown {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/workflows", ""},
			{"GET", "/workflows/runs/" + batch[0].id + "/status", ""},
			{"POST", "/workflows/" + wf.ID + "/execute-async", `{"input":{"key":"during-outage","n":0}}`},
		} {
			status, header, body := rawRequest(t, req.method, stack.apiURL+req.path, req.body)
			var e struct {
				StatusCode int    `json:"statusCode"`
				Message    string `json:"message"`
				Error      string `json:"error"`
			}
			if status != http.StatusServiceUnavailable || json.Unmarshal([]byte(body), &e) != nil ||
				e.StatusCode != http.StatusServiceUnavailable || !strings.Contains(e.Message, "database is unavailable") || header.Get("Retry-After") == "" {
				t.Fatalf("%s %s with PostgreSQL down: %d %s (Retry-After %q), want 503 with a body saying the database is unavailable and a Retry-After",
					req.method, req.path, status, body, header.Get("Retry-After"))
			}
			refused++
		}
		for _, p := range procs {
			if p.exited() {
				t.Fatalf("%s exited while PostgreSQL was down: %v", p.name, p.err)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	pg.open(t)
	back := time.Now()
	t.Logf("terminated %d backends %v after the batch started; server unreachable for %v; %d API requests answered 503 meanwhile; tasks just before: running %d, queued %d, waiting delays %d, joins half released %d, runs succeeded %d",
		terminated, down.Sub(started).Round(time.Millisecond), back.Sub(down).Round(time.Millisecond), refused,
		before["running"], before["queued"], before["wait:waiting"], before["join:half-released"], before["run:succeeded"])

	final, last := faultWaitAll(t, stack.apiURL, batch, faultPostgresBound, procs...)
	tally := faultCheck(t, batch, final, 2, slow.requestCounts())
	t.Logf("RESULT postgres-outage: runs %d, succeeded correctly %d, wrong %d, duplicated effects %d, redelivered %d %v, all terminal %v after PostgreSQL came back (bound %v)",
		runs, tally.succeeded, tally.wrong, tally.duplicated, len(tally.retried), tally.retried, last.Sub(back).Round(time.Millisecond), testenv.Scaled(faultPostgresBound))
}

// rawRequest sends one request and returns its status, headers and body.
func rawRequest(t *testing.T, method, url, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Timeout: 10 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return res.StatusCode, res.Header, string(raw)
}
