// Package outboundtest provides HTTP targets that misbehave on purpose (hang, reset, fail,
// stream forever) for tests of the outbound client and of the engine's API-call nodes.
package outboundtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile is a target that misbehaves in one way. It records when each request arrived, the
// connections it accepted and holds open (http.Server.ConnState, plus hijacked connections until
// the handler closes them), the handlers that ended because the client went away and the body
// bytes it wrote.
type Hostile struct {
	*httptest.Server
	Accepted  atomic.Int32
	Abandoned atomic.Int32
	Written   atomic.Int64
	release   chan struct{} // closed at cleanup so that no handler outlives the test

	mu    sync.Mutex
	times []time.Time
	open  map[net.Conn]bool
}

// Behaviour answers (or does not answer) one request.
type Behaviour func(h *Hostile, w http.ResponseWriter, r *http.Request)

// NewHostile starts a target with the given behaviour, closed when the test ends.
func NewHostile(t testing.TB, behave Behaviour) *Hostile {
	t.Helper()
	h := &Hostile{release: make(chan struct{}), open: map[net.Conn]bool{}}
	h.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.times = append(h.times, time.Now())
		h.mu.Unlock()
		behave(h, w, r)
	}))
	h.Config.ConnState = func(c net.Conn, s http.ConnState) {
		h.mu.Lock()
		defer h.mu.Unlock()
		switch s {
		case http.StateNew:
			h.Accepted.Add(1)
			h.open[c] = true
		case http.StateClosed:
			delete(h.open, c)
		}
	}
	h.Start()
	t.Cleanup(func() {
		close(h.release)
		h.Close()
	})
	return h
}

// Requests returns when each request arrived, oldest first.
func (h *Hostile) Requests() []time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]time.Time(nil), h.times...)
}

// OpenConns is how many connections the target holds open right now.
func (h *Hostile) OpenConns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.open)
}

// hijackedClosed forgets a connection the handler took over and closed.
func (h *Hostile) hijackedClosed(c net.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.open, c)
}

// Hang accepts the request and never answers.
func Hang(h *Hostile, _ http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
		h.Abandoned.Add(1)
	case <-h.release:
	}
}

// Reset drops the connection with a TCP RST (SO_LINGER 0) instead of answering.
func Reset(h *Hostile, w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	h.hijackedClosed(conn)
}

// CutMidBody sends a 200 with a Content-Length it does not honour, then drops the connection
// half-way through the body.
func CutMidBody(h *Hostile, w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"partial\":")
	_ = buf.Flush()
	_ = conn.Close()
	h.hijackedClosed(conn)
}

// Status answers with a fixed status, headers (name, value pairs) and a small JSON body.
func Status(code int, header ...string) Behaviour {
	return func(_ *Hostile, w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"error":"go away"}`))
	}
}

// Endless streams a body that never ends, chunk bytes every pause (no pause: as fast as the
// client reads).
func Endless(chunk int, pause time.Duration) Behaviour {
	return func(h *Hostile, w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		buf := []byte(strings.Repeat("x", chunk))
		w.WriteHeader(http.StatusOK)
		for {
			n, err := w.Write(buf)
			h.Written.Add(int64(n))
			if err == nil {
				err = rc.Flush()
			}
			if err != nil {
				h.Abandoned.Add(1)
				return
			}
			if pause > 0 {
				select {
				case <-r.Context().Done():
					h.Abandoned.Add(1)
					return
				case <-h.release:
					return
				case <-time.After(pause):
				}
			}
		}
	}
}
