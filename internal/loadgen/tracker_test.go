package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeService answers the routes sfload uses. A run becomes succeeded after polls status
// reads of it (or list reads of its workflow); runs named in stuck never end.
type fakeService struct {
	mu      sync.Mutex
	polls   int
	runs    map[string][]string // workflow → runs
	reads   map[string]int
	stuck   map[string]bool
	nextRun int
}

func newFake(t *testing.T, polls int) (*fakeService, *Client) {
	f := &fakeService{polls: polls, runs: map[string][]string{}, reads: map[string]int{}, stuck: map[string]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, NewClient(srv.URL)
}

func (f *fakeService) status(run string) string {
	f.reads[run]++
	if !f.stuck[run] && f.reads[run] >= f.polls {
		return "succeeded"
	}
	return "running"
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/workflows":
		var body struct {
			Name     string          `json:"name"`
			Workflow json.RawMessage `json:"workflow"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Name == "" || len(body.Workflow) == 0 {
			http.Error(w, `{"message":"bad body"}`, http.StatusBadRequest)
			return
		}
		id := fmt.Sprintf("wf%d", len(f.runs))
		f.runs[id] = nil
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%q}`, id)
	case r.Method == http.MethodPost && len(parts) == 3 && parts[2] == "execute-async":
		var body struct {
			Input map[string]any `json:"input"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.nextRun++
		id := fmt.Sprintf("run%d", f.nextRun)
		f.runs[parts[1]] = append(f.runs[parts[1]], id)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"runId":%q}`, id)
	case r.Method == http.MethodGet && len(parts) == 4 && parts[1] == "runs" && parts[3] == "status":
		fmt.Fprintf(w, `{"status":%q,"tasks":[],"logs":[]}`, f.status(parts[2]))
	case r.Method == http.MethodGet && len(parts) == 3 && parts[2] == "runs":
		var list []RunState
		for _, id := range f.runs[parts[1]] {
			list = append(list, RunState{ID: id, Status: f.status(id)})
		}
		_ = json.NewEncoder(w).Encode(list)
	case r.URL.Path == "/health":
		fmt.Fprint(w, `{"status":"ok"}`)
	default:
		http.Error(w, `{"message":"not found"}`, http.StatusNotFound)
	}
}

func TestClientErrorsNameTheStatus(t *testing.T) {
	t.Parallel()
	_, c := newFake(t, 1)
	_, err := c.RunStatus(context.Background(), "x/y")
	if err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Errorf("RunStatus of an unknown route: %v, want an HTTP 404 error", err)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Errorf("Health: %v", err)
	}
}

func TestTrackers(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{PollStatus, PollList} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			f, c := newFake(t, 3)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var tr Tracker = &StatusTracker{Client: c, Interval: 2 * time.Millisecond}
			if mode == PollList {
				lt := &ListTracker{Client: c, Interval: 2 * time.Millisecond}
				go lt.Run(ctx)
				tr = lt
			}
			wid, err := c.CreateWorkflow(ctx, "w", mustWorkload(t).Definition)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 10)
			for i := range 10 {
				run, err := c.StartRun(ctx, wid, map[string]any{"seq": i})
				if err != nil {
					t.Fatal(err)
				}
				if i == 7 {
					f.mu.Lock()
					f.stuck[run] = true
					f.mu.Unlock()
				}
				wg.Go(func() {
					status, err := tr.Wait(ctx, wid, run, time.Now().Add(300*time.Millisecond))
					switch {
					case i == 7 && !errors.Is(err, ErrStuck):
						errs <- fmt.Errorf("run %d: got %q, %v; want ErrStuck", i, status, err)
					case i != 7 && (err != nil || status != "succeeded"):
						errs <- fmt.Errorf("run %d: got %q, %v; want succeeded", i, status, err)
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if got := c.Starts.Load(); got != 10 {
				t.Errorf("counted %d starts, want 10", got)
			}
			if mode == PollStatus && c.StatusPolls.Load() < 27 || mode == PollList && c.ListPolls.Load() < 3 {
				t.Errorf("polls counted: status %d, list %d", c.StatusPolls.Load(), c.ListPolls.Load())
			}
		})
	}
}

func mustWorkload(t *testing.T) Workload {
	t.Helper()
	w, err := NewWorkload(ShapeChain, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestCheckLocal(t *testing.T) {
	t.Parallel()
	for url, ok := range map[string]bool{
		"http://localhost:3000":     true,
		"http://127.0.0.1:3000/":    true,
		"http://[::1]:3000":         true,
		"https://127.0.0.5":         true,
		"http://example.com:3000":   false,
		"http://10.0.0.1:3000":      false,
		"localhost:3000":            false,
		"ftp://127.0.0.1/workflows": false,
	} {
		if err := CheckLocal(url); (err == nil) != ok {
			t.Errorf("CheckLocal(%q) = %v, want ok=%v", url, err, ok)
		}
	}
}
