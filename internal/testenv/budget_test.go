package testenv

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Lock classes of the budgets under test, apart from the suite's own.
const (
	testSlotClass      = 727902
	testTurnstileClass = 727903
)

// Two test processes (two sessions) share a budget of 3: while one holds 2 slots, the other's
// reservation of 2 waits for them, and gets them once they are released.
func TestBudgetReservationWaitsForSlotsOfAnotherProcess(t *testing.T) {
	first, second := newBudget(testSlotClass, testTurnstileClass, 3), newBudget(testSlotClass, testTurnstileClass, 3)
	t.Cleanup(first.close)
	t.Cleanup(second.close)
	var inUse atomic.Int64
	held, err := first.acquire(2, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	inUse.Add(2)

	var acquired atomic.Bool
	done := make(chan error, 1)
	go func() {
		got, err := second.acquire(2, func(int, int) {})
		if err == nil {
			acquired.Store(true)
			if n := inUse.Add(int64(len(got))); n > 3 {
				err = fmt.Errorf("%d slots in use in a budget of 3", n)
			}
			inUse.Add(-int64(len(got)))
			second.release(got)
		}
		done <- err
	}()
	// The second process is collecting (it holds the turnstile) or, wrongly, already done.
	WaitFor(t, 30*time.Second, "the second reservation to start collecting slots", func() bool {
		return acquired.Load() || turnstileHeld(t, testTurnstileClass)
	})
	if acquired.Load() {
		t.Fatal("the second reservation got 2 slots while the first held 2 of 3")
	}
	inUse.Add(-2)
	first.release(held)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !acquired.Load() {
		t.Fatal("the second reservation never got its slots")
	}
}

// Many processes reserving different amounts at once never hold more than the budget
// together, and all of them get their turn (no two wait on each other forever).
func TestBudgetNeverExceeded(t *testing.T) {
	const size, processes = 5, 6
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, processes)
	for p := range processes {
		b := newBudget(testSlotClass, testTurnstileClass, size)
		t.Cleanup(b.close)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 5 {
				n := 1 + (p+round)%size
				got, err := b.acquire(n, func(int, int) {})
				if err != nil {
					errs <- err
					return
				}
				now := inUse.Add(int64(len(got)))
				for old := peak.Load(); now > old && !peak.CompareAndSwap(old, now); old = peak.Load() {
				}
				if len(got) != n {
					errs <- fmt.Errorf("asked for %d slots, got %d", n, len(got))
				}
				holdBriefly(t, b) // others try to take slots meanwhile
				inUse.Add(-int64(len(got)))
				b.release(got)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p > size {
		t.Fatalf("%d slots in use at once in a budget of %d", p, size)
	}
}

// A reservation larger than the budget is capped at the budget, so such a test runs alone
// instead of waiting forever.
func TestBudgetCapsLargeReservation(t *testing.T) {
	b := newBudget(testSlotClass, testTurnstileClass, 2)
	t.Cleanup(b.close)
	got, err := b.acquire(50, func(int, int) {})
	if err != nil {
		t.Fatal(err)
	}
	defer b.release(got)
	if len(got) != 2 {
		t.Fatalf("got %d slots, want the whole budget of 2", len(got))
	}
}

func turnstileHeld(t *testing.T, class int) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = 0 AND objsubid = 2 AND granted`, class).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// holdBriefly makes a few round trips on the budget's own session.
func holdBriefly(t *testing.T, b *budget) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for range 5 {
		if _, err := b.conn.Exec(context.Background(), `SELECT 1`); err != nil {
			t.Error(err)
		}
	}
}
