// Package store is SequenceFlow's PostgreSQL layer (pgx/v5): every query lives here, every
// multi-statement change runs in one transaction, and driver errors are translated into the
// workflow package's domain errors at this boundary.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/migrations"
)

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Config configures the connection pool.
type Config struct {
	URL      string
	MaxConns int32
	// Tracer, if set, observes every query (e.g. an OpenTelemetry pgx tracer).
	Tracer pgx.QueryTracer
}

// Open connects to PostgreSQL and checks the connection. Its error names the URL (without
// password) and says what to do.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.MaxConns < 0 {
		return nil, fmt.Errorf("store: MaxConns must not be negative (0: pgxpool's default), got %d", cfg.MaxConns)
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL %q is not a valid PostgreSQL URL: %w", redact(cfg.URL), err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if cfg.Tracer != nil {
		pc.ConnConfig.Tracer = cfg.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redact(cfg.URL), err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, connectError(cfg.URL, err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool for health checks and pool metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Migrate applies every pending migration.
func (s *Store) Migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := newProvider(db)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// SchemaVersion returns the applied schema version and the version this binary expects.
func (s *Store) SchemaVersion(ctx context.Context) (current, expected int64, err error) {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := newProvider(db)
	if err != nil {
		return 0, 0, err
	}
	current, err = p.GetDBVersion(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		expected = sources[len(sources)-1].Version
	}
	return current, expected, nil
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	// The session lock makes concurrent migrators (a migrate job and AUTO_MIGRATE processes)
	// apply each migration once.
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return nil, fmt.Errorf("load migrations: %w", err)
	}
	return p, nil
}

// translate maps driver errors to domain errors, by SQLSTATE and precisely: a value the
// database refuses is the request's fault (ErrInvalidData), a missing parent row means what the
// request addressed went away (ErrNotFound), and a statement the server gave up on is
// ErrUnavailable (see unavailable).
func translate(err error) error {
	if err == nil || errors.Is(err, workflow.ErrUnavailable) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return workflow.ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique violation
			return fmt.Errorf("%w: %s", workflow.ErrConflict, pe.Detail)
		case pe.Code == "23503": // foreign key violation: the workflow or version was deleted meanwhile
			return fmt.Errorf("%w: %s", workflow.ErrNotFound, pe.Message)
		case strings.HasPrefix(pe.Code, "22"): // data exception: NUL or invalid text, malformed value, out of range
			return fmt.Errorf("%w: %s", workflow.ErrInvalidData, pe.Message)
		}
	}
	return markUnavailable(err)
}

// markUnavailable wraps err with ErrUnavailable when it means the database is out of reach.
func markUnavailable(err error) error {
	if err != nil && !errors.Is(err, workflow.ErrUnavailable) && unavailable(err) {
		return fmt.Errorf("%w: %w", workflow.ErrUnavailable, err)
	}
	return err
}

// unavailable reports whether err means PostgreSQL could not be reached or dropped the
// connection (down, restarting, out of connections, the backend terminated), as opposed to
// a failed statement or a caller that gave up.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// Class 08: connection exception; 57P01-57P03: admin shutdown, crash shutdown, cannot
		// connect now; class 53: insufficient resources (too many connections, out of memory or
		// disk); 57014: a statement cancelled by statement_timeout; 55P03: lock_timeout.
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "53") ||
			pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "57014" || pe.Code == "55P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// retryable reports whether a transaction failed on a serialization failure or deadlock and
// may simply be run again.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// connectError explains a failed connection in one line with what to do about it.
func connectError(url string, err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "3D000":
			return fmt.Errorf("PostgreSQL at %s: %s: create it (createdb), start with the dev role (it creates its database) or set DATABASE_URL", redact(url), pe.Message)
		case "28P01", "28000":
			return fmt.Errorf("PostgreSQL at %s refused the credentials (%s): fix the user or password in DATABASE_URL", redact(url), pe.Message)
		}
	}
	return fmt.Errorf("cannot reach PostgreSQL at %s (%s): start PostgreSQL or set DATABASE_URL", redact(url), rootCause(err))
}

// rootCause reduces a connection error to one short line, such as "connect: connection
// refused".
func rootCause(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + ": " + op.Err.Error()
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func redact(url string) string {
	pc, err := pgconn.ParseConfig(url)
	if err != nil {
		return "(unparsable URL)"
	}
	return fmt.Sprintf("%s:%d/%s (user %s)", pc.Host, pc.Port, pc.Database, pc.User)
}

// EnsureDatabase creates the database named in url when it does not exist yet, connecting to
// the server's "postgres" database to do so. The dev role uses it so a fresh machine needs no
// manual set-up.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL %q is not a valid PostgreSQL URL: %w", redact(url), err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return connectError(url, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42P04" { // created concurrently
			return nil
		}
		return fmt.Errorf("create database %q: %w", name, err)
	}
	return nil
}
