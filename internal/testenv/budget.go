package testenv

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The suite's PostgreSQL connection budget. `go test ./...` runs up to -p test binaries at
// once, each with its own parallel tests, so no limit inside one process bounds what the
// suite holds on a shared server. Instead every test database reserves the connections its
// test opens to it as slots of one budget that all test processes share: slot i is the
// session advisory lock (slotLockClass, i), and a process holds its slots on one connection of
// its own. A reservation is taken whole, and only one process at a time takes slots (it holds
// the advisory lock (turnstileLockClass, 0) meanwhile), so two tests can never each hold part
// of what they need and wait for the rest. A crashed test process frees its slots with its
// connection.
const (
	slotLockClass      = 727002
	turnstileLockClass = 727003

	// DefaultBudget is the suite's budget when TEST_PG_CONNS is not set: the largest stack a
	// test runs (an api and two workers of concurrency 10) fits, and with the per-process
	// connections (one holding the slots, one creating a database now and then) a full run
	// stays near a third of a stock server's max_connections of 100.
	DefaultBudget = 28

	// DefaultConns is what Database reserves, and so the pool size of a store a test opens
	// on it.
	DefaultConns = 4
)

// Budget is the number of connection slots all test processes share: TEST_PG_CONNS when set,
// otherwise DefaultBudget.
func Budget() int {
	v := os.Getenv("TEST_PG_CONNS")
	if v == "" {
		return DefaultBudget
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		panic(fmt.Sprintf("testenv: TEST_PG_CONNS=%q: want a positive number of connections", v))
	}
	return n
}

// budget is this process's share of the suite's slots.
type budget struct {
	slotClass, turnstileClass int // advisory lock classes of the slots and of the turnstile
	size                      int // slots in the budget; 0 means Budget()

	take sync.Mutex // one reservation at a time in this process

	mu     sync.Mutex // guards conn, held and byTest
	conn   *pgx.Conn  // holds the slot locks of this process
	held   map[int]bool
	byTest map[testing.TB]bool
}

func newBudget(slotClass, turnstileClass, size int) *budget {
	return &budget{slotClass: slotClass, turnstileClass: turnstileClass, size: size, held: map[int]bool{}, byTest: map[testing.TB]bool{}}
}

// slots is the process-wide budget: the slots belong to the test process, not to one test.
var slots = newBudget(slotLockClass, turnstileLockClass, 0)

// reserve takes n slots for t until it ends, waiting (up to Scaled(15 min)) while other tests
// hold the budget. n is capped at the budget, so a test that needs more than the whole
// budget runs alone. A test reserves once: its later databases share the first reservation.
func (b *budget) reserve(t testing.TB, n int) {
	t.Helper()
	b.mu.Lock()
	if b.byTest[t] {
		b.mu.Unlock()
		return
	}
	b.byTest[t] = true
	b.mu.Unlock()
	started := time.Now()
	got, err := b.acquire(n, func(n, size int) {
		t.Logf("testenv: waiting for %d of the suite's %d PostgreSQL connection slots (TEST_PG_CONNS)", n, size)
	})
	t.Cleanup(func() {
		b.release(got)
		b.mu.Lock()
		delete(b.byTest, t)
		b.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if waited := time.Since(started); waited > 5*time.Second {
		t.Logf("testenv: waited %v for %d PostgreSQL connection slots", waited.Round(time.Millisecond), len(got))
	}
}

// acquire takes n slots (capped at the budget) and returns them; slow is called once if
// they are not free within 5 s.
func (b *budget) acquire(n int, slow func(n, size int)) ([]int, error) {
	size := b.size
	if size == 0 {
		size = Budget()
	}
	n = min(max(n, 1), size)
	b.take.Lock()
	defer b.take.Unlock()
	return b.collect(n, size, slow)
}

// collect takes the turnstile, then n free slots, then gives the turnstile back.
func (b *budget) collect(n, size int, slow func(n, size int)) ([]int, error) {
	timeout := Scaled(15 * time.Minute)
	started := time.Now()
	logged := false
	waiting := func() {
		if !logged && time.Since(started) > 5*time.Second {
			slow(n, size)
			logged = true
		}
	}
	var lockErr error
	if !poll(timeout, pollInterval, func() bool {
		ok, err := b.tryLock(b.turnstileClass, 0)
		if err != nil {
			lockErr = err
			return true
		}
		waiting()
		return ok
	}) {
		return nil, fmt.Errorf("no turn to reserve %d PostgreSQL connection slots in %v: other test processes hold it", n, timeout)
	}
	if lockErr != nil {
		return nil, fmt.Errorf("reserve PostgreSQL connection slots: %w", lockErr)
	}
	defer b.unlock(b.turnstileClass, 0)
	var got []int
	full := poll(timeout, pollInterval, func() bool {
		var free []int
		free, lockErr = b.tryLockFree(size, n-len(got))
		got = append(got, free...)
		waiting()
		return len(got) == n || lockErr != nil
	})
	switch {
	case lockErr != nil:
		return got, fmt.Errorf("reserve PostgreSQL connection slots: %w", lockErr)
	case !full:
		return got, fmt.Errorf("only %d of %d PostgreSQL connection slots free after %v (TEST_PG_CONNS=%d): other tests hold the rest", len(got), n, timeout, size)
	}
	return got, nil
}

// pollInterval is how often a waiting reservation tries again: one query each time.
const pollInterval = 50 * time.Millisecond

// tryLockFree takes up to n of the budget's slots that are free, in one round trip, and
// returns them.
func (b *budget) tryLockFree(size, n int) ([]int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.connect(); err != nil {
		return nil, err
	}
	var candidates []int32
	for slot := range size {
		if !b.held[slot] {
			candidates = append(candidates, int32(slot))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Try every candidate (so the answer does not depend on the order PostgreSQL evaluates
	// them in), then give back what is more than n.
	var locked []int32
	if err := b.conn.QueryRow(ctx, `SELECT coalesce(array_agg(s ORDER BY s), '{}') FROM unnest($2::int[]) AS s WHERE pg_try_advisory_lock($1, s)`,
		b.slotClass, candidates).Scan(&locked); err != nil {
		return nil, err
	}
	var got []int
	for _, slot := range locked {
		if len(got) == n {
			if _, err := b.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, b.slotClass, slot); err != nil {
				return got, err
			}
			continue
		}
		b.held[int(slot)] = true
		got = append(got, int(slot))
	}
	return got, nil
}

// connect opens the process's session if it has none (b.mu held).
func (b *budget) connect() error {
	if b.conn != nil && !b.conn.IsClosed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return fmt.Errorf("cannot reach PostgreSQL at %s: %v (start it, or set TEST_DATABASE_URL)", AdminURL(), err)
	}
	b.conn = conn
	clear(b.held) // a new session holds nothing
	return nil
}

// tryLock tries the session advisory lock (class, key) on the process's connection.
func (b *budget) tryLock(class, key int) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.connect(); err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ok bool
	if err := b.conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2)`, class, key).Scan(&ok); err != nil {
		return false, err
	}
	return ok, nil
}

func (b *budget) unlock(class, key int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == nil || b.conn.IsClosed() {
		return // the session, and with it the lock, is gone
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = b.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, class, key) // a failure closes the session, which frees the lock too
}

func (b *budget) release(got []int) {
	for _, slot := range got {
		b.unlock(b.slotClass, slot)
		b.mu.Lock()
		delete(b.held, slot)
		b.mu.Unlock()
	}
}

// close ends the session holding the slots, which frees any still held.
func (b *budget) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.conn.Close(ctx)
		b.conn = nil
	}
	clear(b.held)
}
