package app_test

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestProcessHealthcheckCommand checks `sequenceflow healthcheck URL`, the probe of the
// distroless image's HEALTHCHECK (it has no shell or curl): exit 0 on a 2xx answer, 1 on any
// other answer, on a refused connection and on a server that does not answer in time.
func TestProcessHealthcheckCommand(t *testing.T) {
	bin := processBinaryPath(t)
	handler := func(status int, delay time.Duration) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	refused := "http://127.0.0.1:" + freePort(t)
	for _, tc := range []struct {
		name string
		url  string
		exit int
	}{
		{"healthy", handler(http.StatusOK, 0) + "/healthz", 0},
		{"unhealthy", handler(http.StatusServiceUnavailable, 0) + "/healthz", 1},
		{"wrong path", handler(http.StatusOK, 0) + "/nothing", 1},
		{"refused", refused + "/healthz", 1},
		{"hangs", handler(http.StatusOK, time.Minute) + "/healthz", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			cmd := exec.Command(bin, "healthcheck", tc.url)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput()
			code := 0
			if exit, ok := err.(*exec.ExitError); ok {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.exit {
				t.Errorf("healthcheck %s exited %d, want %d (Docker: 0 healthy, 1 unhealthy); output %q", tc.url, code, tc.exit, out)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("healthcheck took %v; the image's HEALTHCHECK gives it 3 s", took)
			}
		})
	}
}

// TestProcessVersion checks that -ldflags "-X main.version=..." (the Dockerfile's VERSION build
// argument) reaches `sequenceflow version`.
func TestProcessVersion(t *testing.T) {
	out, err := exec.Command(processBinaryPath(t), "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != processBinaryVersion {
		t.Errorf("sequenceflow version printed %q (%v), want %q: main needs `var version = \"dev\"` set by -X main.version", out, err, processBinaryVersion)
	}
}
