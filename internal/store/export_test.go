package store

import (
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// SearchQuery is the SQL and arguments of one page of a run search, for the tests of its plans.
func SearchQuery(f workflow.RunFilter, page workflow.Page) (string, []any, error) {
	q, err := buildSearch(f, page, false)
	return q.sql, q.args, err
}

// CursorAt is the cursor of the position after a run started at at with id.
func CursorAt(at time.Time, id string) string { return cursor{at: at, key: id}.String() }
