package mockapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/go-cmp/cmp"
)

// mountedUnderChi mounts the handler as the API server does, next to routes
// of its own that overlap the prefix.
func mountedUnderChi(h http.Handler) http.Handler {
	r := chi.NewRouter()
	r.Get("/workflows/{id}", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "workflow") })
	r.Mount(Prefix, h)
	return r
}

func TestServedMountedAndStandalone(t *testing.T) {
	t.Parallel()
	servers := map[string]http.Handler{
		"standalone":    newTestHandler(1),
		"chi mount":     mountedUnderChi(newTestHandler(1)),
		"chi handle /*": func() http.Handler { r := chi.NewRouter(); r.Handle(Prefix+"/*", newTestHandler(1)); return r }(),
	}
	for name, h := range servers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w := send(t, h, http.MethodGet, "/workflows/api/test-weather?city=dubai", "").mustStatus(t, 200)
			if got := w.num(t, "temperature"); got != 35 {
				t.Errorf("temperature %v, want 35", got)
			}
			send(t, h, http.MethodPost, "/workflows/api/mock/salesforce/leads", "").mustStatus(t, 201)
			send(t, h, http.MethodPatch, "/workflows/api/mock/hubspot/contacts/7", "").mustStatus(t, 200)
			nf := send(t, h, http.MethodGet, "/workflows/api/mock/nope", "").mustStatus(t, 404)
			if got := nf.str(t, "message"); got != "Cannot GET /workflows/api/mock/nope" {
				t.Errorf("404 message %q: the full original path must survive chi's Mount", got)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	h := mountedUnderChi(newTestHandler(1))
	tests := []struct {
		name, method, target, message string
	}{
		{"unknown mock", "GET", "/workflows/api/mock/x", "Cannot GET /workflows/api/mock/x"},
		{"query kept like originalUrl", "GET", "/workflows/api/mock/x?a=1", "Cannot GET /workflows/api/mock/x?a=1"},
		{"GET on a POST route", "GET", "/workflows/api/mock/apollo/person-enrichment",
			"Cannot GET /workflows/api/mock/apollo/person-enrichment"},
		{"POST on a GET route", "POST", "/workflows/api/test-weather", "Cannot POST /workflows/api/test-weather"},
		{"PUT on the PATCH route", "PUT", "/workflows/api/mock/hubspot/contacts/1",
			"Cannot PUT /workflows/api/mock/hubspot/contacts/1"},
		{"README's nested test-weather does not exist", "GET", "/workflows/api/mock/workflows/api/test-weather",
			"Cannot GET /workflows/api/mock/workflows/api/test-weather"},
		{"mock root", "GET", "/workflows/api/mock", "Cannot GET /workflows/api/mock"},
		{"manager route is POST only", "GET", "/workflows/api/mock/building/notifications/manager",
			"Cannot GET /workflows/api/mock/building/notifications/manager"},
		{"clearbit needs a domain", "GET", "/workflows/api/mock/clearbit/companies/",
			"Cannot GET /workflows/api/mock/clearbit/companies/"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, h, tc.method, tc.target, "").mustStatus(t, http.StatusNotFound)
			want := map[string]any{"statusCode": float64(404), "message": tc.message, "error": "Not Found"}
			if diff := cmp.Diff(want, res.obj); diff != "" {
				t.Errorf("404 body (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(res.raw, `{"statusCode":404,"message":`) {
				t.Errorf("key order: %s", res.raw)
			}
		})
	}
}

func TestHeadAnswersLikeGet(t *testing.T) {
	t.Parallel()
	h := newTestHandler(1)
	req := httptest.NewRequest(http.MethodHead, "/workflows/api/mock/weather/tokyo", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != jsonCT {
		t.Fatalf("HEAD: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestParentRouterSeesMountedRoutes(t *testing.T) {
	t.Parallel()
	r := chi.NewRouter()
	r.Mount(Prefix, newTestHandler(1))
	var patterns []string
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		patterns = append(patterns, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"GET /workflows/api/test-weather",
		"POST /workflows/api/mock/building/backup-cooling/activate",
		"GET /workflows/api/mock/weather/{city}",
	} {
		if !strings.Contains(strings.Join(patterns, "\n"), want) {
			t.Errorf("chi.Walk lacks %q; got:\n%s", want, strings.Join(patterns, "\n"))
		}
	}
}

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	h := New(Config{})
	before := time.Now().UnixMilli()
	res := send(t, h, http.MethodGet, "/workflows/api/mock/weather/dubai", "").mustStatus(t, 200)
	after := time.Now().UnixMilli()
	ts, err := time.Parse(isoLayout, res.str(t, "timestamp"))
	if err != nil {
		t.Fatalf("timestamp %q: %v", res.str(t, "timestamp"), err)
	}
	if ms := ts.UnixMilli(); ms < before || ms > after {
		t.Errorf("timestamp %v not from time.Now (between %d and %d)", ts, before, after)
	}
}

// TestConcurrentRequests shares one handler, clock and *rand.Rand between
// many goroutines; run with -race it proves the random source is guarded.
func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	h := mountedUnderChi(newTestHandler(7))
	cases := allRouteCases()
	const workers, perWorker = 16, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				tc := cases[(w*perWorker+i)%len(cases)]
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				req := httptest.NewRequest(tc.method, Prefix+tc.path, body)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.status || !json.Valid(rec.Body.Bytes()) {
					errs <- fmt.Errorf("%s %s: %d %s", tc.method, tc.path, rec.Code, rec.Body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
