package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one phase of a benchmark: one workload under one load.
type Result struct {
	// Name is the workload ("chain-10") or "floor-10" for the floor.
	Name  string `json:"name"`
	Shape string `json:"shape"`
	// Floor marks the bare-asynq floor; its node executions are hops.
	Floor bool `json:"floor,omitempty"`
	// Mode is the load: "c=20" or "r=50/s".
	Mode        string  `json:"mode"`
	Concurrency int     `json:"concurrency,omitempty"`
	Rate        float64 `json:"rate,omitempty"`

	Started     int `json:"started"`
	Succeeded   int `json:"succeeded"`
	Failed      int `json:"failed"`
	Stuck       int `json:"stuck"`
	StartErrors int `json:"startErrors"`
	// Skipped counts open-loop starts that were due while too many runs were in flight.
	Skipped int `json:"skipped,omitempty"`

	// Wall is first run start → last run finish (database clock when measured there).
	Wall           time.Duration `json:"wallNs"`
	NodeExecutions int           `json:"nodeExecutions"`
	RunsPerSec     float64       `json:"runsPerSec"`
	NodesPerSec    float64       `json:"nodesPerSec"`
	RunLatency     Summary       `json:"runLatency"`
	// HopLatency is parent completion → child start of the tasks that went through the queue;
	// Eager counts the tasks claimed in their parent's transaction (eager dispatch), which
	// have no hop of their own to measure (their start is the parent's completion).
	HopLatency Summary `json:"hopLatency"`
	Eager      int     `json:"eager,omitempty"`
	// StepLatency is parent completion → child completion, whatever the dispatch path (for
	// the floor: one hop's completion stamp → the next's).
	StepLatency  Summary `json:"stepLatency"`
	StartLatency Summary `json:"startLatency"`

	// Measured says the database was read: latencies and counts come from its timestamps.
	Measured   bool `json:"measured"`
	Duplicates int  `json:"duplicates"`
	JoinRuns   int  `json:"joinRuns,omitempty"`
	JoinExact  int  `json:"joinExact,omitempty"`
	// Branches counts runs per branch taken (ifelse).
	Branches map[string]int `json:"branches,omitempty"`
	// APIFailures counts apiCall nodes whose response was not a success (apicall), out of
	// APICalls completed apiCall nodes.
	APIFailures int `json:"apiFailures,omitempty"`
	APICalls    int `json:"apiCalls,omitempty"`

	// Transactions is the database's xact_commit + xact_rollback delta over the phase;
	// Polls the status or list requests made to track runs, PollCost the transactions one of
	// them costs (calibrated). Zero Transactions means not measured.
	Transactions int64   `json:"transactions,omitempty"`
	Polls        int64   `json:"polls,omitempty"`
	PollCost     float64 `json:"pollCost,omitempty"`
	TxPerNode    float64 `json:"txPerNode,omitempty"`
	// TxPerNodeNoPoll is (Transactions − Polls × PollCost) / NodeExecutions.
	TxPerNodeNoPoll float64 `json:"txPerNodeNoPoll,omitempty"`
	// Starts are the run starts requested in the phase, StartCost the transactions one costs
	// (calibrated), TxPerNodeNet (Transactions − Polls × PollCost − Starts × StartCost) /
	// NodeExecutions: what the nodes themselves cost.
	Starts       int64   `json:"starts,omitempty"`
	StartCost    float64 `json:"startCost,omitempty"`
	TxPerNodeNet float64 `json:"txPerNodeNet,omitempty"`

	// FloorRatio is NodesPerSec / the floor's hops/s of the same invocation.
	FloorRatio float64 `json:"floorRatio,omitempty"`
}

// Violations lists what makes a result incorrect: stuck, failed or unstarted runs,
// duplicate executions, a join that did not run exactly once.
func (r Result) Violations() []string {
	var v []string
	if r.Stuck > 0 {
		v = append(v, fmt.Sprintf("%d stuck", r.Stuck))
	}
	if r.Failed > 0 {
		v = append(v, fmt.Sprintf("%d failed", r.Failed))
	}
	if r.StartErrors > 0 {
		v = append(v, fmt.Sprintf("%d start errors", r.StartErrors))
	}
	if r.Duplicates > 0 {
		v = append(v, fmt.Sprintf("%d duplicate executions", r.Duplicates))
	}
	if r.APIFailures > 0 {
		v = append(v, fmt.Sprintf("%d API calls failed", r.APIFailures))
	}
	if r.JoinRuns != r.JoinExact {
		v = append(v, fmt.Sprintf("join ran other than once in %d runs", r.JoinRuns-r.JoinExact))
	}
	return v
}

// SaveResults writes results as JSON.
func SaveResults(path string, results []Result) error {
	raw, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// LoadResults reads results written by SaveResults.
func LoadResults(path string) ([]Result, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []Result
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Table formats.
const (
	FormatText     = "text"
	FormatMarkdown = "markdown"
)

var tableHeader = []string{"workload", "load", "runs", "ok", "failed", "stuck", "runs/s", "nodes/s",
	"run p50/p95/p99 ms", "hop p50/p95/p99 ms", "eager %", "step p50/p95/p99 ms", "dup", "join once", "tx/node",
	"tx/node excl. polls", "tx/node excl. polls, starts", "of floor"}

// WriteTable writes one row per result, as aligned text or a Markdown table.
func WriteTable(w io.Writer, format string, results []Result) error {
	rows := [][]string{tableHeader}
	for _, r := range results {
		rows = append(rows, tableRow(r))
	}
	if format == FormatMarkdown {
		for i, row := range rows {
			if _, err := fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | ")); err != nil {
				return err
			}
			if i == 0 {
				sep := make([]string, len(row))
				for j := range sep {
					sep[j] = "---"
				}
				if _, err := fmt.Fprintf(w, "|%s|\n", strings.Join(sep, "|")); err != nil {
					return err
				}
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, row := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(row, "\t")+"\t"); err != nil {
			return err
		}
	}
	return tw.Flush()
}

func tableRow(r Result) []string {
	dash := "–"
	join := dash
	if r.JoinRuns > 0 || r.JoinExact > 0 {
		join = fmt.Sprintf("%d/%d", r.JoinExact, r.JoinRuns)
	}
	dup := dash
	if r.Measured {
		dup = fmt.Sprint(r.Duplicates)
	}
	tx, txNoPoll, txNet := dash, dash, dash
	if r.Transactions > 0 {
		tx = fmt.Sprintf("%.2f", r.TxPerNode)
		switch {
		case r.Floor:
			txNoPoll, txNet = tx, tx
		case r.PollCost > 0:
			txNoPoll = fmt.Sprintf("%.2f", r.TxPerNodeNoPoll)
			if r.StartCost > 0 {
				txNet = fmt.Sprintf("%.2f", r.TxPerNodeNet)
			}
		}
	}
	eager := dash
	if share, ok := r.EagerShare(); ok {
		eager = fmt.Sprintf("%.0f %%", 100*share)
	}
	ratio := dash
	if r.FloorRatio > 0 {
		ratio = fmt.Sprintf("%.0f %%", 100*r.FloorRatio)
	}
	name := r.Name
	if len(r.Branches) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(r.Branches)) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.Branches[k]))
		}
		name += " (" + strings.Join(parts, ", ") + ")"
	}
	return []string{name, r.Mode, fmt.Sprint(r.Started), fmt.Sprint(r.Succeeded), fmt.Sprint(r.Failed),
		fmt.Sprint(r.Stuck), fmt.Sprintf("%.1f", r.RunsPerSec), fmt.Sprintf("%.0f", r.NodesPerSec),
		triple(r.RunLatency), triple(r.HopLatency), eager, triple(r.StepLatency), dup, join, tx, txNoPoll, txNet, ratio}
}

// EagerShare is the share of the measured hops (tasks started after a completed parent) that
// were claimed in their parent's transaction; false when the phase measured no hop.
func (r Result) EagerShare() (float64, bool) {
	hops := r.Eager + r.HopLatency.N
	if !r.Measured || hops == 0 {
		return 0, false
	}
	return float64(r.Eager) / float64(hops), true
}

func triple(s Summary) string {
	if s.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s / %s", ms(s.P50), ms(s.P95), ms(s.P99))
}

// ms formats a duration in milliseconds with precision suited to its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case math.Abs(v) < 10:
		return fmt.Sprintf("%.2f", v)
	case math.Abs(v) < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// Targets of the performance issue. The throughput and transaction targets apply at
// TargetConcurrency runs in flight; the light-load target at one.
const (
	TargetConcurrency = 20
	// TargetTxPerPureNode and TargetTxPerAPINode bound the transactions per node execution
	// without the load generator's polls and the runs' starts: pure nodes (chain, fanout,
	// ifelse) and apiCall nodes.
	TargetTxPerPureNode = 1.0
	TargetTxPerAPINode  = 2.0
	// TargetStepP50Light bounds the light-load hop of eagerly dispatched hops, judged on the
	// step (parent completion → child completion) of chain-10, which bounds the hop from
	// above whatever the dispatch path.
	TargetStepP50Light = time.Millisecond
	// TargetLightWorkload is the workload the light-load target is judged on.
	TargetLightWorkload = "chain-10"
)

// TargetFloorRatio is the share of the floor's hops/s a workload's node executions/s must
// reach at TargetConcurrency; false for a workload without a target.
func TargetFloorRatio(workload string) (float64, bool) {
	switch workload {
	case "chain-10":
		return 1.00, true
	case "fanout-10", "ifelse":
		return 0.80, true
	case "apicall":
		return 0.60, true
	}
	return 0, false
}

// workloadName is a result's workload without the label sfload -label appended.
func workloadName(r Result) string {
	if f := strings.Fields(r.Name); len(f) > 0 {
		return f[0]
	}
	return r.Name
}

// WriteTargets writes how the results compare with the targets. Light load is concurrency 1.
func WriteTargets(w io.Writer, results []Result) error {
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	var lines []string
	floorAt := map[string]Result{}
	for _, r := range results {
		if r.Floor {
			floorAt[r.Mode] = r
		}
	}
	for _, r := range results {
		if r.FloorRatio <= 0 {
			continue
		}
		line := fmt.Sprintf("%s at %s: %.0f %% of the floor", r.Name, r.Mode, 100*r.FloorRatio)
		target, ok := TargetFloorRatio(workloadName(r))
		switch {
		case !ok:
			line += " (no target)"
		case r.Concurrency == TargetConcurrency:
			line += fmt.Sprintf(" (target ≥ %.0f %%): %s", 100*target, verdict(r.FloorRatio >= target))
		default:
			line += fmt.Sprintf(" (the target applies at c=%d)", TargetConcurrency)
		}
		lines = append(lines, line)
	}
	for _, r := range results {
		if r.Transactions > 0 && !r.Floor {
			lines = append(lines, txTarget(r, results, verdict))
		}
	}
	for _, r := range results {
		if r.Floor || r.Concurrency != 1 || r.StepLatency.N == 0 {
			continue
		}
		line := fmt.Sprintf("%s at light load (%s): step p50 %s ms (parent completion → child completion, every dispatch path)", r.Name, r.Mode, ms(r.StepLatency.P50))
		if f, ok := floorAt[r.Mode]; ok && f.StepLatency.N > 0 {
			line += fmt.Sprintf(", floor %s ms", ms(f.StepLatency.P50))
		}
		if share, ok := r.EagerShare(); ok {
			line += fmt.Sprintf("; %.0f %% of hops eager", 100*share)
		}
		if r.HopLatency.N > 0 {
			line += fmt.Sprintf(", queued hops' p50 %s ms", ms(r.HopLatency.P50))
		}
		if workloadName(r) == TargetLightWorkload {
			line += fmt.Sprintf(" (target: hop p50 ≤ %s ms for eagerly dispatched hops, judged on the step p50): %s",
				ms(TargetStepP50Light), verdict(r.StepLatency.P50 <= TargetStepP50Light))
		} else {
			line += fmt.Sprintf(" (the target is judged on %s)", TargetLightWorkload)
		}
		lines = append(lines, line)
	}
	stuck, dup, bad := 0, 0, 0
	for _, r := range results {
		stuck += r.Stuck
		dup += r.Duplicates + r.JoinRuns - r.JoinExact
		bad += r.Failed + r.StartErrors + r.APIFailures
	}
	lines = append(lines, fmt.Sprintf("correctness: %d stuck, %d duplicate executions, %d failed or unstarted runs or API calls (target 0/0/0): %s",
		stuck, dup, bad, verdict(stuck == 0 && dup == 0 && bad == 0)))
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, "  "+l); err != nil {
			return err
		}
	}
	return nil
}

// txTarget is the transaction target's line of a service result. The targets are judged on
// the figure without the tracking polls and the runs' starts, when both were calibrated. An
// apicall run's pure nodes are charged at the chain's figure of the same load, when the
// results have one, and the rest is the apiCall nodes'; without a chain the whole shape is
// judged at the apiCall bound.
func txTarget(r Result, results []Result, verdict func(bool) string) string {
	line := fmt.Sprintf("%s at %s: %.2f PostgreSQL transactions per node execution", r.Name, r.Mode, r.TxPerNode)
	val, figure := r.TxPerNode, "with the polls and starts"
	if r.PollCost > 0 {
		line += fmt.Sprintf(", %.2f without the tracking polls", r.TxPerNodeNoPoll)
		val, figure = r.TxPerNodeNoPoll, "without the polls, with the starts"
		if r.StartCost > 0 {
			line += fmt.Sprintf(", %.2f without the polls and the run starts (%.2f per start)", r.TxPerNodeNet, r.StartCost)
			val, figure = r.TxPerNodeNet, "without the polls and the starts"
		}
	}
	if r.Shape != ShapeAPICall {
		return fmt.Sprintf("%s (target ≤ %.1f per pure node, judged %s): %s", line, TargetTxPerPureNode, figure, verdict(val <= TargetTxPerPureNode))
	}
	var chain *Result
	for i, c := range results {
		if c.Shape == ShapeChain && !c.Floor && c.Mode == r.Mode && c.Transactions > 0 && c.NodeExecutions > 0 {
			chain = &results[i]
			break
		}
	}
	if chain == nil || r.APICalls == 0 || r.APICalls > r.NodeExecutions {
		return fmt.Sprintf("%s (target ≤ %.1f per apiCall node; no chain at %s to separate the pure nodes, so the whole shape is judged at ≤ %.1f per node, %s): %s",
			line, TargetTxPerAPINode, r.Mode, TargetTxPerAPINode, figure, verdict(val <= TargetTxPerAPINode))
	}
	pure := chain.TxPerNode
	if r.StartCost > 0 && chain.StartCost > 0 {
		pure = chain.TxPerNodeNet
	} else if r.PollCost > 0 && chain.PollCost > 0 {
		pure = chain.TxPerNodeNoPoll
	}
	pureNodes := r.NodeExecutions - r.APICalls
	perAPI := (val*float64(r.NodeExecutions) - float64(pureNodes)*pure) / float64(r.APICalls)
	return fmt.Sprintf("%s; per apiCall node %.2f = (%.2f × %d node executions − %d pure nodes × %.2f, %s's figure) / %d apiCall nodes (target ≤ %.1f per apiCall node, judged %s): %s",
		line, perAPI, val, r.NodeExecutions, pureNodes, pure, chain.Name, r.APICalls, TargetTxPerAPINode, figure, verdict(perAPI <= TargetTxPerAPINode))
}
