package testenv

import (
	"context"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Statements counts the SQL statements a pool sends, single queries and every query of a
// batch alike: set it as the pool's tracer (store.Config.Tracer, app.Config.QueryTracer).
type Statements struct {
	mu  sync.Mutex
	sql []string
	// ended are the queries (not batches) PostgreSQL answered, in the order it did.
	ended []string
}

// startedSQL carries a query's text from its start to its end.
type startedSQL struct{}

// TraceQueryStart records a query.
func (s *Statements) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	s.record(data.SQL)
	return context.WithValue(ctx, startedSQL{}, data.SQL)
}

// TraceQueryEnd records that a query was answered.
func (s *Statements) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	sql, _ := ctx.Value(startedSQL{}).(string)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = append(s.ended, sql)
}

// TraceBatchStart does nothing; the batch's queries are recorded one by one.
func (s *Statements) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

// TraceBatchQuery records a query of a batch.
func (s *Statements) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	s.record(data.SQL)
}

// TraceBatchEnd does nothing.
func (s *Statements) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

func (s *Statements) record(sql string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sql = append(s.sql, sql)
}

// Len is how many statements were sent so far.
func (s *Statements) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sql)
}

// Since returns the statements sent after the first n.
func (s *Statements) Since(n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sql[min(n, len(s.sql)):]...)
}

// Count is how many statements so far contain part.
func (s *Statements) Count(part string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return countContaining(s.sql, part)
}

// Answered is how many queries that contain part PostgreSQL has answered: unlike Count, a
// statement sent but not yet executed is not counted.
func (s *Statements) Answered(part string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return countContaining(s.ended, part)
}

func countContaining(sql []string, part string) int {
	n := 0
	for _, q := range sql {
		if strings.Contains(q, part) {
			n++
		}
	}
	return n
}
