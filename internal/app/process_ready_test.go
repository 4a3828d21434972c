package app_test

import (
	"net/url"
	"testing"
	"time"
)

// TestProcessReadyzFollowsDependencies runs an api and a worker process against a PostgreSQL
// behind a proxy the test can close and a Redis it can kill: /readyz answers 503 naming the
// missing dependency while it is away and 200 once it is back, and /healthz (liveness) stays 200
// throughout, so an orchestrator does not restart a process for an outage it cannot fix.
func TestProcessReadyzFollowsDependencies(t *testing.T) {
	database, err := url.Parse(stackDatabase(t, 1, 10))
	if err != nil {
		t.Fatal(err)
	}
	pg := newTCPProxy(t, database.Host)
	database.Host = pg.addr
	redis := startRedisServer(t)
	ports := freePorts(t, 2)
	apiPort, workerPort := ports[0], ports[1]
	env := processEnv(t, database.String(), redis.url(), apiPort)
	api := startProc(t, "api", withEnv(env, "METRICS_ADDR", "off"), "api")
	worker := startProc(t, "worker", withEnv(env, "METRICS_ADDR", "127.0.0.1:"+workerPort), "worker")
	bases := map[*proc]string{api: "http://127.0.0.1:" + apiPort, worker: "http://127.0.0.1:" + workerPort}

	// expect waits until both processes report readiness want (with body text naming why)
	// and checks that both are still alive.
	expect := func(step string, want int, contains string) {
		t.Helper()
		for p, base := range bases {
			waitStatus(t, base+"/readyz", want, contains, 30*time.Second, api, worker)
			if status, body, err := procHTTP(base + "/healthz"); err != nil || status != 200 {
				t.Errorf("%s: %s /healthz answered %d %q (%v), want 200: liveness must not follow dependencies", step, p.name, status, body, err)
			}
		}
	}
	expect("start", 200, "ready")

	pg.close()
	expect("PostgreSQL down", 503, "PostgreSQL")
	pg.open(t)
	expect("PostgreSQL back", 200, "ready")

	redis.stop(t)
	expect("Redis down", 503, "Redis")
	redis.start(t)
	expect("Redis back", 200, "ready")
}
