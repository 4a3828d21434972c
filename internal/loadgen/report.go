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
	HopLatency     Summary       `json:"hopLatency"`
	StartLatency   Summary       `json:"startLatency"`

	// Measured says the database was read: latencies and counts come from its timestamps.
	Measured   bool `json:"measured"`
	Duplicates int  `json:"duplicates"`
	JoinRuns   int  `json:"joinRuns,omitempty"`
	JoinExact  int  `json:"joinExact,omitempty"`
	// Branches counts runs per branch taken (ifelse).
	Branches map[string]int `json:"branches,omitempty"`
	// APIFailures counts apiCall nodes whose response was not a success (apicall).
	APIFailures int `json:"apiFailures,omitempty"`

	// Transactions is the database's xact_commit + xact_rollback delta over the phase;
	// Polls the status or list requests made to track runs, PollCost the transactions one of
	// them costs (calibrated). Zero Transactions means not measured.
	Transactions int64   `json:"transactions,omitempty"`
	Polls        int64   `json:"polls,omitempty"`
	PollCost     float64 `json:"pollCost,omitempty"`
	TxPerNode    float64 `json:"txPerNode,omitempty"`
	// TxPerNodeNoPoll is (Transactions − Polls × PollCost) / NodeExecutions.
	TxPerNodeNoPoll float64 `json:"txPerNodeNoPoll,omitempty"`

	// FloorRatio is NodesPerSec / the floor's hops/s of the same invocation (chain shapes).
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
	"run p50/p95/p99 ms", "hop p50/p95/p99 ms", "dup", "join once", "tx/node", "tx/node excl. polls", "of floor"}

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
	tx, txNoPoll := dash, dash
	if r.Transactions > 0 {
		tx = fmt.Sprintf("%.2f", r.TxPerNode)
		if r.Floor {
			txNoPoll = tx
		} else if r.PollCost > 0 {
			txNoPoll = fmt.Sprintf("%.2f", r.TxPerNodeNoPoll)
		}
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
		triple(r.RunLatency), triple(r.HopLatency), dup, join, tx, txNoPoll, ratio}
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

// Targets of issue 2 ("Performance").
const (
	TargetConcurrency = 20
	TargetFloorRatio  = 0.60
	TargetTxPerNode   = 2.0
	TargetHopP50Light = 3 * time.Millisecond
)

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
		if r.Concurrency == TargetConcurrency {
			line += fmt.Sprintf(" (target ≥ %.0f %%): %s", 100*TargetFloorRatio, verdict(r.FloorRatio >= TargetFloorRatio))
		} else {
			line += fmt.Sprintf(" (the target applies at c=%d)", TargetConcurrency)
		}
		lines = append(lines, line)
	}
	for _, r := range results {
		if r.Transactions > 0 && !r.Floor {
			s := fmt.Sprintf("%s at %s: %.2f PostgreSQL transactions per node execution", r.Name, r.Mode, r.TxPerNode)
			val := r.TxPerNode
			if r.PollCost > 0 {
				s += fmt.Sprintf(", %.2f without the tracking polls", r.TxPerNodeNoPoll)
				val = r.TxPerNodeNoPoll
			}
			lines = append(lines, fmt.Sprintf("%s (target ≤ %.0f): %s", s, TargetTxPerNode, verdict(val <= TargetTxPerNode)))
		}
	}
	for _, r := range results {
		if !r.Floor && r.Concurrency == 1 && r.HopLatency.N > 0 {
			floor := ""
			if f, ok := floorAt[r.Mode]; ok && f.HopLatency.N > 0 {
				floor = fmt.Sprintf(", floor %s ms", ms(f.HopLatency.P50))
			}
			lines = append(lines, fmt.Sprintf("%s at light load (%s): hop p50 %s ms%s (target ≤ %s ms): %s",
				r.Name, r.Mode, ms(r.HopLatency.P50), floor, ms(TargetHopP50Light), verdict(r.HopLatency.P50 <= TargetHopP50Light)))
		}
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
