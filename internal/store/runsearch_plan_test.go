package store_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// fillRuns writes n runs of 21 workflows (3 versions each) in one statement, started one
// second apart going back from now: workflow 21 holds one run in 1000, the others share the
// rest; 70 % succeeded (one in 50 with a failed node that
// continued, charge0 to charge6, and one in 5000 with node refund failed), 15 % failed (each
// with a failed node and an error), 5 % cancelled, 5 % running, 5 % queued; one in 10 has an
// idempotency key. Failed nodes' errors name a request by the md5 of the row number.
// Common and rare values of each filter let the checks see the planner choose between
// walking the list's order and looking the rare value up. Run ids are derived from the row number, so a
// test can name runs without reading them.
func fillRuns(ctx context.Context, conn *pgx.Conn, n int) error {
	_, err := conn.Exec(ctx, `
		INSERT INTO workflows (id, name, current_version, created_at, updated_at)
		SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(w), 12, '0'))::uuid, 'workflow ' || w, 3, now(), now()
		FROM generate_series(1, 21) w;
		INSERT INTO workflow_versions (id, workflow_id, version, definition, created_at)
		SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(w * 10 + v), 12, '0'))::uuid,
		       ('00000000-0000-4000-8000-' || lpad(to_hex(w), 12, '0'))::uuid, v, '{"nodes":[],"edges":[]}', now()
		FROM generate_series(1, 21) w, generate_series(1, 3) v`)
	if err != nil {
		return fmt.Errorf("fill workflows: %w", err)
	}
	_, err = conn.Exec(ctx, `
		INSERT INTO runs (id, workflow_id, version_id, status, input, error, idempotency_key, pending_tasks, failed_tasks,
		                  failed_nodes, failed_errors, started_at, finished_at)
		SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(i), 12, '0'))::uuid,
		       ('00000000-0000-4000-8000-' || lpad(to_hex(w), 12, '0'))::uuid,
		       ('00000000-0000-4000-9000-' || lpad(to_hex(w * 10 + v), 12, '0'))::uuid,
		       status, '{}', CASE WHEN status = 'failed' THEN 'node charge' || (i % 7) || ' failed: HTTP ' || (500 + i % 4) || ' from api.example.com' END,
		       CASE WHEN i % 10 = 0 THEN 'key-' || i END,
		       CASE WHEN status IN ('queued', 'running') THEN 1 ELSE 0 END,
		       CASE WHEN failed THEN 1 ELSE 0 END,
		       CASE WHEN i % 5000 = 7 THEN ARRAY['refund'] WHEN failed THEN ARRAY['charge' || (i % 7)] END,
		       CASE WHEN failed THEN 'request ' || md5(i::text) || ' answered HTTP ' || (500 + i % 4) END,
		       started, CASE WHEN status NOT IN ('queued', 'running') THEN started + interval '2 seconds' END
		FROM (SELECT i, CASE WHEN i % 1000 = 3 THEN 21 ELSE 1 + i % 20 END AS w, 1 + (i / 20) % 3 AS v, now() - i * interval '1 second' AS started,
		             CASE WHEN i % 20 < 14 THEN 'succeeded' WHEN i % 20 < 17 THEN 'failed' WHEN i % 20 = 17 THEN 'cancelled'
		                  WHEN i % 20 = 18 THEN 'running' ELSE 'queued' END AS status,
		             i % 20 BETWEEN 14 AND 16 OR i % 50 = 1 OR i % 5000 = 7 AS failed
		      FROM generate_series(1, $1::int) i) g`, n)
	if err != nil {
		return fmt.Errorf("fill runs: %w", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE workflows, workflow_versions, runs`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// planCase is one search whose plan is checked: the indexes of runs (any of) that serve it;
// those of orderedCases must be read by an index scan, in the list's order, never sorted whole.
type planCase struct {
	name    string
	filter  workflow.RunFilter
	cursor  bool
	indexes []string
}

// orderedCases are read in order from their index.
var orderedCases = []string{"no filter", "second page", "one status", "has failed nodes", "workflow", "version", "time range",
	"failed runs of a workflow since last night"}

func planCases() []planCase {
	yes := true
	wf := "00000000-0000-4000-8000-000000000003"
	rareWorkflow := "00000000-0000-4000-8000-000000000015" // workflow 21
	lastNight := time.Now().Add(-12 * time.Hour)
	sum := md5.Sum([]byte("15")) // run 15 failed
	rareError := strings.ToUpper(hex.EncodeToString(sum[:])[:12])
	return []planCase{
		{"no filter", workflow.RunFilter{}, false, []string{"runs_started_idx"}},
		{"second page", workflow.RunFilter{}, true, []string{"runs_started_idx"}},
		{"one status", workflow.RunFilter{Statuses: []string{"failed"}}, false, []string{"runs_status_started_idx"}},
		// A fifth of the runs: walking the list's order, filtered, reads at most 5 for each run
		// kept, and the planner may rightly prefer that to merging the statuses' ranges.
		{"two statuses", workflow.RunFilter{Statuses: []string{"failed", "cancelled"}}, true, []string{"runs_status_started_idx", "runs_started_idx"}},
		{"two rare statuses", workflow.RunFilter{Statuses: []string{"queued", "cancelled"}, StartedBefore: time.Now().Add(-time.Hour)}, true,
			[]string{"runs_status_started_idx", "runs_started_idx"}},
		{"has failed nodes", workflow.RunFilter{HasFailedNodes: &yes}, false, []string{"runs_failed_nodes_started_idx"}},
		{"succeeded with failed nodes", workflow.RunFilter{Statuses: []string{"succeeded"}, HasFailedNodes: &yes}, false,
			[]string{"runs_failed_nodes_started_idx", "runs_status_started_idx"}},
		// A twentieth of the runs, spread evenly over the list's order: walking that order,
		// filtered, reads about 20 for each run kept, which costs about what reading the
		// workflow's own index does, so the planner may take either.
		{"workflow", workflow.RunFilter{WorkflowID: wf}, false,
			[]string{"runs_workflow_started_idx", "runs_workflow_status_started_idx", "runs_started_idx"}},
		// One run in 1000: looked up by workflow (any index led by it), never found by walking
		// the list's order.
		{"rare workflow", workflow.RunFilter{WorkflowID: rareWorkflow}, false,
			[]string{"runs_workflow_started_idx", "runs_workflow_status_started_idx", "runs_workflow_id_idempotency_key_key"}},
		{"version", workflow.RunFilter{WorkflowID: wf, Version: 2}, false, []string{"runs_version_started_idx"}},
		{"time range", workflow.RunFilter{StartedAfter: lastNight.Add(-time.Hour), StartedBefore: lastNight}, false, []string{"runs_started_idx"}},
		{"idempotency key", workflow.RunFilter{IdempotencyKey: "key-5000"}, false, []string{"runs_idempotency_key_idx"}},
		{"idempotency key of a workflow", workflow.RunFilter{WorkflowID: wf, IdempotencyKey: "key-5000"}, false,
			[]string{"runs_workflow_id_idempotency_key_key", "runs_idempotency_key_idx"}},
		{"common failed node", workflow.RunFilter{FailedNode: "charge3"}, false, []string{"runs_failed_nodes_idx", "runs_failed_nodes_started_idx"}},
		{"rare failed node", workflow.RunFilter{FailedNode: "refund"}, false, []string{"runs_failed_nodes_idx"}},
		{"common error text", workflow.RunFilter{Error: "http 503"}, false, nil},
		{"rare error text", workflow.RunFilter{Error: rareError}, false, []string{"runs_failed_errors_trgm_idx"}},
		{"rare error text, second page", workflow.RunFilter{Error: rareError}, true, []string{"runs_failed_errors_trgm_idx"}},
		{"failed runs of a workflow since last night", workflow.RunFilter{WorkflowID: wf, Statuses: []string{"failed"}, StartedAfter: lastNight}, false,
			[]string{"runs_workflow_status_started_idx"}},
		{"every filter", workflow.RunFilter{WorkflowID: wf, Version: 1, Statuses: []string{"failed", "succeeded"}, HasFailedNodes: &yes,
			StartedAfter: lastNight, FailedNode: "charge3", Error: "HTTP 50"}, true, nil},
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON) output.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
	TotalTime float64    `json:"Actual Total Time"`
}

func (n planNode) walk(f func(planNode)) {
	f(n)
	for _, c := range n.Plans {
		c.walk(f)
	}
}

// explain plans (and with analyze, runs) a case's query and returns its plan and, with
// analyze, the execution time in milliseconds.
func explain(ctx context.Context, conn *pgx.Conn, c planCase, analyze bool) (planNode, float64, error) {
	page := workflow.Page{}
	if c.cursor {
		page.Cursor = store.CursorAt(time.Now().Add(-6*time.Hour), "00000000-0000-4000-a000-000000000000")
	}
	sql, args, err := store.SearchQuery(c.filter, page)
	if err != nil {
		return planNode{}, 0, err
	}
	opts := "FORMAT JSON"
	if analyze {
		opts = "ANALYZE, BUFFERS, FORMAT JSON"
	}
	var raw []byte
	if err := conn.QueryRow(ctx, "EXPLAIN ("+opts+") "+sql, args...).Scan(&raw); err != nil {
		return planNode{}, 0, fmt.Errorf("explain: %w", err)
	}
	var out []struct {
		Plan          planNode `json:"Plan"`
		ExecutionTime float64  `json:"Execution Time"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		return planNode{}, 0, fmt.Errorf("read plan %s: %v", raw, err)
	}
	return out[0].Plan, out[0].ExecutionTime, nil
}

// planProblem says what is wrong with a case's plan: a sequential scan of runs or tasks, or
// none of the case's indexes read; "" when nothing is.
func planProblem(c planCase, plan planNode) string {
	var used []string
	var problem string
	plan.walk(func(n planNode) {
		if n.Index != "" {
			used = append(used, n.Index)
		}
		if n.NodeType == "Seq Scan" && (n.Relation == "runs" || n.Relation == "tasks") {
			problem = "a sequential scan of " + n.Relation
		}
	})
	if problem == "" && len(c.indexes) > 0 && !slices.ContainsFunc(used, func(i string) bool { return slices.Contains(c.indexes, i) }) {
		problem = fmt.Sprintf("reads none of %v (reads %v)", c.indexes, used)
	}
	if problem == "" && slices.Contains(orderedCases, c.name) {
		inOrder := false
		plan.walk(func(n planNode) {
			inOrder = inOrder || (n.NodeType == "Index Scan" || n.NodeType == "Index Only Scan") && slices.Contains(c.indexes, n.Index)
		})
		if !inOrder {
			problem = fmt.Sprintf("reads none of %v in order (an index scan)", c.indexes)
		}
	}
	if problem == "" && !slices.ContainsFunc(used, func(i string) bool { return strings.HasPrefix(i, "runs_") }) {
		problem = fmt.Sprintf("reads no index of runs (reads %v)", used)
	}
	return problem
}

func planJSON(plan planNode) string {
	b, _ := json.MarshalIndent(plan, "", " ")
	return string(b)
}

// Every filter of the run search is served by its index (migration 00011), checked on 100,000
// runs with sequential scans disabled: on a table this small a scan may be cheapest, but with
// it ruled out the planner shows which index it finds for each query; a filter no index serves
// would show a full index scan of another index, which the case's index list refuses.
func TestSearchRunsPlansUseTheirIndexes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := testenv.Conn(t)
	if err := fillRuns(ctx, conn, 100000); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for _, c := range planCases() {
		plan, _, err := explain(ctx, conn, c, false)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if p := planProblem(c, plan); p != "" {
			t.Errorf("%s: the plan %s:\n%s", c.name, p, planJSON(plan))
		}
	}
}

// BenchmarkSearchRunsMillion fills its own database with 1,000,000 runs, checks that every
// search case's plan reads its index and never scans runs or tasks, and reports each case's
// execution time (EXPLAIN ANALYZE, best of 3) as a metric and a Markdown table
// (make bench-search; docs/BENCHMARKS.md). SEARCH_BENCH_RUNS changes the number of runs.
func BenchmarkSearchRunsMillion(b *testing.B) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	n := 1000000
	if s := os.Getenv("SEARCH_BENCH_RUNS"); s != "" {
		if _, err := fmt.Sscan(s, &n); err != nil {
			b.Fatalf("SEARCH_BENCH_RUNS=%q: %v", s, err)
		}
	}
	start := time.Now()
	if err := fillRuns(ctx, conn, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d runs in %s", n, time.Since(start).Round(time.Millisecond))
	table := []string{"| search | index read | execution (ms) |", "| --- | --- | ---: |"}
	b.ResetTimer()
	for range b.N {
		for _, c := range planCases() {
			best := -1.0
			var plan planNode
			for range 3 {
				p, ms, err := explain(ctx, conn, c, true)
				if err != nil {
					b.Fatalf("%s: %v", c.name, err)
				}
				if best < 0 || ms < best {
					best, plan = ms, p
				}
			}
			if p := planProblem(c, plan); p != "" {
				b.Fatalf("%s: the plan %s:\n%s", c.name, p, planJSON(plan))
			}
			var used []string
			plan.walk(func(n planNode) {
				if n.Index != "" && !slices.Contains(used, n.Index) {
					used = append(used, n.Index)
				}
			})
			b.ReportMetric(best, strings.ReplaceAll(c.name, " ", "_")+"-ms")
			table = append(table, fmt.Sprintf("| %s | %s | %.2f |", c.name, strings.Join(used, ", "), best))
		}
	}
	b.Logf("runs: %d\n%s", n, strings.Join(table, "\n"))
}
