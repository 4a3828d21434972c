package deploy_test

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/app"
)

// configVariables are the variables app.ConfigFromEnv reads.
func configVariables() map[string]bool {
	read := map[string]bool{}
	_, _ = app.ConfigFromEnv(func(name string) string { read[name] = true; return "" }, app.RoleDev)
	return read
}

// checkAppEnvironment checks that api, worker and migrate are configured with variables the
// binary reads, with values it accepts, pointing at the stack's own services.
func checkAppEnvironment(t *testing.T, cf *composeFile, env map[string]string) {
	t.Helper()
	known := configVariables()
	if !known["DATABASE_URL"] || !known["REDIS_URL"] {
		t.Fatalf("app.ConfigFromEnv read %v: expected DATABASE_URL and REDIS_URL among them", sortedKeys(known))
	}
	configs := map[string]app.Config{}
	for _, name := range []string{"migrate", "api", "worker"} {
		s := cf.Services[name]
		resolved := map[string]string{}
		for _, k := range sortedKeys(s.Environment) {
			switch {
			case known[k], strings.HasPrefix(k, "OTEL_"):
			default:
				t.Errorf("%s sets %s, which no role reads (a typo? see internal/app/config.go)", name, k)
			}
			resolved[k] = mustInterpolate(t, s.Environment[k], env)
		}
		cfg, err := app.ConfigFromEnv(func(k string) string { return resolved[k] }, app.Role(name))
		if err != nil {
			t.Errorf("%s: the binary rejects this environment: %v", name, err)
			continue
		}
		configs[name] = cfg
		if host := urlHost(t, cfg.DatabaseURL); host != "postgres" {
			t.Errorf("%s DATABASE_URL points at %q, want the postgres service", name, host)
		}
		if host := urlHost(t, cfg.RedisURL); host != "redis" {
			t.Errorf("%s REDIS_URL points at %q, want the redis service", name, host)
		}
		if name == "migrate" {
			continue
		}
		want := map[string]string{
			"API_BASE_URL":                "http://api:3000",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://jaeger:4318",
			"OTEL_SERVICE_NAME":           "sequenceflow-" + name,
		}
		for k, v := range want {
			if resolved[k] != v {
				t.Errorf("%s %s = %q, want %q", name, k, resolved[k], v)
			}
		}
		for _, k := range []string{"JAEGER_UI_URL", "OUTBOUND_ALLOW_PRIVATE", "LOG_LEVEL"} {
			if resolved[k] == "" {
				t.Errorf("%s does not set %s", name, k)
			}
		}
		if !slices.Contains([]string{"debug", "info", "warn", "error"}, resolved["LOG_LEVEL"]) {
			t.Errorf("%s LOG_LEVEL %q, want debug, info, warn or error", name, resolved["LOG_LEVEL"])
		}
	}
	if cfg, ok := configs["api"]; ok {
		checkHealthURL(t, "api", cf.Services["api"], cfg.Port)
		published := false
		for _, p := range cf.Services["api"].Ports {
			published = published || strings.HasSuffix(mustInterpolate(t, p, env), ":"+strconv.Itoa(cfg.Port))
		}
		if !published {
			t.Errorf("api publishes %v, none of them its PORT %d", cf.Services["api"].Ports, cfg.Port)
		}
	}
	if cfg, ok := configs["worker"]; ok {
		_, port, err := net.SplitHostPort(cfg.MetricsAddr)
		if err != nil {
			t.Fatalf("worker METRICS_ADDR %q: %v (set it explicitly; the health check depends on it)", cfg.MetricsAddr, err)
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			t.Fatalf("worker METRICS_ADDR %q: port is not a number", cfg.MetricsAddr)
		}
		checkHealthURL(t, "worker", cf.Services["worker"], n)
		if !slices.Contains(cf.Services["worker"].Expose, port) {
			t.Errorf("worker exposes %v, want its metrics port %s for Prometheus", cf.Services["worker"].Expose, port)
		}
	}
}

// checkHealthURL checks that the service's health check asks /healthz on port.
func checkHealthURL(t *testing.T, name string, s *service, port int) {
	t.Helper()
	if s.Healthcheck == nil || len(s.Healthcheck.Test) == 0 {
		return // reported by checkHealthchecks
	}
	last := s.Healthcheck.Test[len(s.Healthcheck.Test)-1]
	u, err := url.Parse(last)
	if err != nil || u.Port() != strconv.Itoa(port) || u.Path != "/healthz" {
		t.Errorf("%s health check %q: want http://127.0.0.1:%d/healthz", name, s.Healthcheck.Test, port)
	}
}

func urlHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("URL %q: %v", raw, err)
		return ""
	}
	return u.Hostname()
}
