package store_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// cutProxy forwards TCP connections to PostgreSQL until cut, which closes the listener and
// every connection, as when the server goes away.
type cutProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }() //nolint:errcheck // a closed side ends the copy
			go func() { io.Copy(c, up); c.Close() }()  //nolint:errcheck // a closed side ends the copy
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A connection that PostgreSQL terminates (pg_terminate_backend, a restart) surfaces as
// ErrUnavailable, which the API answers with 503, and the pool recovers on the next call.
func TestTerminatedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := testenv.Database(t)
	st, err := store.Open(ctx, store.Config{URL: dbURL, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ListWorkflows(ctx); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(dbURL)
	admin, err := pgx.Connect(ctx, adminURL(dbURL))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	terminate := func() {
		t.Helper()
		var n int
		if err := admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1`, u.Path[1:]).Scan(&n); err != nil || n == 0 {
			t.Fatalf("terminated %d backends: %v", n, err)
		}
	}

	terminate()
	_, err = st.ListWorkflows(ctx)
	if !errors.Is(err, workflow.ErrUnavailable) {
		t.Fatalf("list after the backend was terminated: %v, want ErrUnavailable", err)
	}
	if _, err := st.ListWorkflows(ctx); err != nil {
		t.Fatalf("the pool did not recover after a terminated connection: %v", err)
	}

	// A run transition whose connection is terminated is unavailable too, not a guard error.
	terminate()
	err = st.InRun(ctx, uuid.NewString(), func(engine.RunTx) error { return nil })
	if !errors.Is(err, workflow.ErrUnavailable) {
		t.Fatalf("run transaction after the backend was terminated: %v, want ErrUnavailable", err)
	}

	// Ordinary failures keep their meaning.
	if _, err := st.GetWorkflow(ctx, uuid.NewString()); !errors.Is(err, workflow.ErrNotFound) || errors.Is(err, workflow.ErrUnavailable) {
		t.Fatalf("missing workflow: %v, want ErrNotFound only", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.ListWorkflows(cancelled); err == nil || errors.Is(err, workflow.ErrUnavailable) {
		t.Fatalf("cancelled request: %v, want an error that is not ErrUnavailable", err)
	}
}

// A server that goes away (connections dropped, then refused) is ErrUnavailable on every read
// and write path the API uses.
func TestUnreachableServerIsUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	u, err := url.Parse(testenv.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	st, err := store.Open(ctx, store.Config{URL: u.String(), MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ListWorkflows(ctx); err != nil {
		t.Fatal(err)
	}
	proxy.cut()
	calls := map[string]func() error{
		"list workflows": func() error { _, err := st.ListWorkflows(ctx); return err },
		"get workflow":   func() error { _, err := st.GetWorkflow(ctx, uuid.NewString()); return err },
		"get run":        func() error { _, err := st.GetRun(ctx, uuid.NewString()); return err },
		"list runs": func() error {
			_, _, err := st.ListRuns(ctx, uuid.NewString(), workflow.RunFilter{}, workflow.Page{})
			return err
		},
		"run logs": func() error {
			_, _, err := st.RunLogs(ctx, workflow.RunKey{RunID: uuid.NewString()}, workflow.Page{})
			return err
		},
		"delete":         func() error { return st.DeleteWorkflow(ctx, uuid.NewString()) },
		"run transition": func() error { return st.InRun(ctx, uuid.NewString(), func(engine.RunTx) error { return nil }) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, workflow.ErrUnavailable) {
			t.Errorf("%s with the server gone: %v, want ErrUnavailable", name, err)
		}
	}
}

// adminURL is the test database's server with the maintenance database, for terminating
// backends from outside the pool under test.
func adminURL(dbURL string) string {
	u, _ := url.Parse(dbURL)
	u.Path = "/postgres"
	return u.String()
}
