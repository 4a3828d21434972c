package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// ListErrorChars is the length of the error preview a run list shows, in characters.
const ListErrorChars = 200

// ListRuns returns one page of a workflow's runs matching f (whose WorkflowID it sets), newest
// first, and the cursor of the next page (empty after the last); ErrNotFound when the workflow
// is missing. See SearchRuns.
func (s *Store) ListRuns(ctx context.Context, workflowID string, f workflow.RunFilter, page workflow.Page) ([]workflow.RunSummary, string, error) {
	workflowID, err := lookupID("list runs of workflow", workflowID)
	if err != nil {
		return nil, "", err
	}
	f.WorkflowID = workflowID
	q, err := buildSearch(f, page, false)
	if err != nil {
		return nil, "", err
	}
	ok, err := s.WorkflowExists(ctx, workflowID)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return nil, "", fmt.Errorf("list runs of %s: %w", workflowID, workflow.ErrNotFound)
	}
	out, next, err := s.searchPage(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("list runs of %s: %w", workflowID, err)
	}
	return out, next, nil
}

// SearchRuns returns one page of the runs of every workflow matching f, newest first, and the
// cursor of the next page (empty after the last). A filter value that cannot be a workflow id,
// status or the like is a validation error naming its query parameter; a workflow or version
// that does not exist matches no run.
//
// The cursor is a position in the list's order (started_at, then id, neither of which ever
// changes), so paging is stable however runs are inserted meanwhile: a run already listed
// never appears again and no run is skipped; runs started after the first page was read are
// newer than it and come only on a new first page. A run whose status changes between pages
// shows wherever its status matches when its page is read.
func (s *Store) SearchRuns(ctx context.Context, f workflow.RunFilter, page workflow.Page) ([]workflow.RunSummary, string, error) {
	q, err := buildSearch(f, page, false)
	if err != nil {
		return nil, "", err
	}
	out, next, err := s.searchPage(ctx, q)
	if err != nil {
		return nil, "", fmt.Errorf("search runs: %w", err)
	}
	return out, next, nil
}

// SearchRunIDs is SearchRuns answering the ids only, for acting on every matching run page by
// page (bulk retry or cancel): each page reads only the index entries and rows it returns.
func (s *Store) SearchRunIDs(ctx context.Context, f workflow.RunFilter, page workflow.Page) ([]string, string, error) {
	q, err := buildSearch(f, page, true)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.pool.Query(ctx, q.sql, q.args...)
	if err != nil {
		return nil, "", fmt.Errorf("search runs: %w", translate(err))
	}
	type key struct {
		id string
		at time.Time
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (key, error) {
		var k key
		return k, r.Scan(&k.id, &k.at)
	})
	if err != nil {
		return nil, "", fmt.Errorf("search runs: %w", translate(err))
	}
	ids := make([]string, 0, len(keys))
	for _, k := range keys {
		ids = append(ids, k.id)
	}
	if len(ids) <= q.limit {
		return ids, "", nil
	}
	last := keys[q.limit-1]
	return ids[:q.limit], cursor{at: last.at, key: last.id}.String(), nil
}

func (s *Store) searchPage(ctx context.Context, q searchQuery) ([]workflow.RunSummary, string, error) {
	rows, err := s.pool.Query(ctx, q.sql, q.args...)
	if err != nil {
		return nil, "", translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (workflow.RunSummary, error) {
		var s workflow.RunSummary
		err := r.Scan(&s.ID, &s.WorkflowID, &s.WorkflowName, &s.Version, &s.Status, &s.FailedNodes, &s.StartedAt, &s.FinishedAt,
			&s.Error, &s.ErrorTruncated, &s.IdempotencyKey, &s.TraceContext)
		return s, err
	})
	if err != nil {
		return nil, "", translate(err)
	}
	if len(out) <= q.limit {
		return out, "", nil
	}
	last := out[q.limit-1]
	return out[:q.limit], cursor{at: last.StartedAt, key: last.ID}.String(), nil
}

// searchQuery is a run search's SQL and arguments; it reads limit+1 runs, to know whether a
// next page exists.
type searchQuery struct {
	sql   string
	args  []any
	limit int
}

// buildSearch checks a filter and page and builds the query of one page. The matching runs'
// ids are chosen first, in order, from the runs table alone (each filter a condition an index
// of migrations 00009 and 00011 serves); only that page of runs is then joined with its
// workflow and version. Several statuses are read as one ordered range each and merged, so a
// page never reads more than a page per status from the status indexes.
func buildSearch(f workflow.RunFilter, page workflow.Page, idsOnly bool) (searchQuery, error) {
	limit, err := pageLimit(page, DefaultRunPage, MaxRunPage)
	if err != nil {
		return searchQuery{}, err
	}
	if err := f.Check(); err != nil {
		return searchQuery{}, err
	}
	statuses, err := runStatuses(f.Statuses)
	if err != nil {
		return searchQuery{}, err
	}
	var after *cursor
	if page.Cursor != "" {
		c, err := parseCursor(page.Cursor, canonicalID)
		if err != nil {
			return searchQuery{}, err
		}
		after = &c
	}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var conds []string
	if f.WorkflowID != "" {
		if !canonicalID(f.WorkflowID) {
			return searchQuery{}, workflow.Invalid("workflowId", "%.80q is not a workflow id", f.WorkflowID)
		}
		w := arg(strings.ToLower(f.WorkflowID))
		if f.Version > 0 {
			// The version's id names the workflow too. Saying workflow_id as well would let the
			// planner AND two bitmaps and sort the version's runs rather than read them in order
			// from runs_version_started_idx (200 ms for 17,000 runs on a million, see
			// docs/BENCHMARKS.md).
			conds = append(conds, "r.version_id = (SELECT id FROM workflow_versions WHERE workflow_id = "+w+"::uuid AND version = "+arg(f.Version)+"::int)")
		} else {
			conds = append(conds, "r.workflow_id = "+w+"::uuid")
		}
	}
	if !f.StartedAfter.IsZero() {
		conds = append(conds, "r.started_at >= "+arg(f.StartedAfter)+"::timestamptz")
	}
	if !f.StartedBefore.IsZero() {
		conds = append(conds, "r.started_at < "+arg(f.StartedBefore)+"::timestamptz")
	}
	if f.IdempotencyKey != "" {
		conds = append(conds, "r.idempotency_key = "+arg(f.IdempotencyKey)+"::text")
	}
	if f.HasFailedNodes != nil {
		if *f.HasFailedNodes {
			conds = append(conds, "r.failed_tasks > 0")
		} else {
			conds = append(conds, "r.failed_tasks = 0")
		}
	}
	if f.FailedNode != "" {
		// failed_tasks > 0 holds wherever failed_nodes is set; saying it lets a common node's
		// runs be read in order from runs_failed_nodes_started_idx.
		conds = append(conds, "r.failed_tasks > 0 AND r.failed_nodes @> ARRAY["+arg(f.FailedNode)+"::text]")
	}
	if f.Error != "" {
		p := arg("%" + likeEscaper.Replace(f.Error) + "%")
		conds = append(conds, "(r.error ILIKE "+p+"::text OR r.failed_errors ILIKE "+p+"::text)")
	}
	if after != nil {
		at := arg(after.at)
		conds = append(conds, "r.started_at <= "+at+"::timestamptz AND (r.started_at < "+at+"::timestamptz OR r.id > "+arg(after.key)+"::uuid)")
	}
	lim := arg(limit + 1)
	where := func(extra ...string) string {
		all := append(append([]string{}, extra...), conds...)
		if len(all) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(all, " AND ")
	}
	var ids string
	switch len(statuses) {
	case 0:
		ids = `SELECT r.id, r.started_at FROM runs r` + where() + ` ORDER BY r.started_at DESC, r.id LIMIT ` + lim
	case 1:
		ids = `SELECT r.id, r.started_at FROM runs r` + where("r.status = "+arg(statuses[0])+"::text") + ` ORDER BY r.started_at DESC, r.id LIMIT ` + lim
	default:
		ids = `SELECT p.id, p.started_at FROM unnest(` + arg(statuses) + `::text[]) AS s(status)
			CROSS JOIN LATERAL (SELECT r.id, r.started_at FROM runs r` + where("r.status = s.status") + `
				ORDER BY r.started_at DESC, r.id LIMIT ` + lim + `) p
			ORDER BY p.started_at DESC, p.id LIMIT ` + lim
	}
	q := searchQuery{args: args, limit: limit}
	if idsOnly {
		q.sql = `SELECT m.id::text, m.started_at FROM (` + ids + `) m ORDER BY m.started_at DESC, m.id`
		return q, nil
	}
	q.sql = `
		SELECT r.id::text, r.workflow_id::text, w.name, v.version, r.status, r.failed_tasks, r.started_at, r.finished_at,
		       coalesce(` + listErrorPreview + `, ''), ` + listErrorCut + `, coalesce(r.idempotency_key, ''), coalesce(r.trace_context, '')
		FROM (` + ids + `) m
		JOIN runs r ON r.id = m.id
		JOIN workflow_versions v ON v.id = r.version_id
		JOIN workflows w ON w.id = r.workflow_id
		ORDER BY m.started_at DESC, m.id`
	return q, nil
}

var (
	likeEscaper      = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	listErrorPreview = fmt.Sprintf(`left(r.error, %d)`, ListErrorChars)
	listErrorCut     = fmt.Sprintf(`coalesce(octet_length(left(r.error, %[1]d)) < octet_length(r.error), false)`, ListErrorChars)
)
