// Package testenv gives tests real, isolated services: a fresh PostgreSQL database with the
// schema applied (cloned from a migrated template, so it is cheap) within the suite's
// connection budget, and a Redis URL plus a queue name of their own whose keys are deleted
// when the test ends. It also holds the one way tests wait: WaitFor, with deadlines scaled
// by TimeScale.
//
// Environment: TEST_DATABASE_URL (an admin connection, default
// postgres://postgres:postgres@127.0.0.1:5432/postgres), TEST_REDIS_URL (default
// redis://127.0.0.1:6379/9), TEST_PG_CONNS (the connection budget of the whole suite, default
// DefaultBudget) and TEST_TIME_SCALE (the deadline factor, see TimeScale).
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/migrations"
)

// AdminURL is the admin connection the tests create their databases with (TEST_DATABASE_URL).
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis the tests use.
func RedisURL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/9"
}

// QueueName returns a queue name no other test uses; its asynq keys in RedisURL are deleted
// when the test ends (after the cleanups registered later, such as stopping the processes
// that use it).
func QueueName(t testing.TB) string {
	t.Helper()
	name := "test-" + strings.ReplaceAll(uuid.NewString()[:13], "-", "")
	t.Cleanup(func() {
		if err := DeleteQueue(RedisURL(), name); err != nil {
			t.Errorf("testenv: delete queue %s: %v", name, err)
		}
	})
	return name
}

// withDatabase returns the admin URL with another database name.
func withDatabase(admin, name string) string {
	u, err := url.Parse(admin)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Database is DatabaseConns for a test that opens at most DefaultConns connections to it.
func Database(t testing.TB) string {
	t.Helper()
	return DatabaseConns(t, DefaultConns)
}

// Conn connects to a fresh, migrated database (Database), for a test that reads its schema or
// plans on one connection; the connection is closed when the test ends.
func Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), Database(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// DatabaseConns creates a fresh, migrated database for a test whose code and processes open
// at most conns connections to it at once, and drops it afterwards. It first reserves conns
// slots of the suite's connection budget (waiting while other tests hold them) until the
// test ends. It returns the database URL.
func DatabaseConns(t testing.TB, conns int) string {
	t.Helper()
	slots.reserve(t, conns)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("testenv: cannot reach PostgreSQL at %s: %v (start it, or set TEST_DATABASE_URL)", AdminURL(), err)
	}
	defer admin.Close(ctx)
	tmpl, err := template(ctx, admin)
	if err != nil {
		t.Fatalf("testenv: template database: %v", err)
	}
	name := "sftest_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	var createErr error
	for range 20 {
		if _, createErr = admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, tmpl)); createErr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond) // another package is cloning the template right now
	}
	if createErr != nil {
		t.Fatalf("testenv: create database: %v", createErr)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, AdminURL())
		if err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name)); err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	return withDatabase(AdminURL(), name)
}

// template returns the name of a migrated template database for the current migrations,
// creating it once (under an advisory lock, so concurrent test packages agree).
func template(ctx context.Context, admin *pgx.Conn) (string, error) {
	name := "sftest_tmpl_" + migrationsHash()
	if _, err := admin.Exec(ctx, `SELECT pg_advisory_lock(727001)`); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), `SELECT pg_advisory_unlock(727001)`) //nolint:errcheck // released with the connection anyway
	var exists bool
	if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_build"
	if _, err := admin.Exec(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, building)); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`CREATE DATABASE %s`, building)); err != nil {
		return "", err
	}
	st, err := store.Open(ctx, store.Config{URL: withDatabase(AdminURL(), building)})
	if err != nil {
		return "", err
	}
	err = st.Migrate(ctx)
	st.Close()
	if err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf(`ALTER DATABASE %s RENAME TO %s`, building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func migrationsHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS, path)
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}
