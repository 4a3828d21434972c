package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sequenceflow/sequenceflow/internal/app"
	"github.com/sequenceflow/sequenceflow/internal/app/apptest"
)

// A Redis that answers pings but refuses writes (out of memory under noeviction, or turned
// into a read-only replica) makes /readyz answer 503 naming the refusal and run starts answer
// 503 with Retry-After instead of accepting work the queue cannot take; both recover when
// Redis accepts writes again.
func TestRedisRefusingWritesIsUnavailable(t *testing.T) {
	t.Parallel()
	rs := startRedisServer(t)
	srv := apptest.Start(t, func(c *app.Config) { c.RedisURL = rs.url() })
	admin := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + rs.port})
	defer admin.Close()
	ctx := context.Background()
	res, err := http.Get(srv.URL + "/workflows")
	if err != nil {
		t.Fatal(err)
	}
	var workflows []map[string]any
	err = json.NewDecoder(res.Body).Decode(&workflows)
	res.Body.Close()
	if err != nil || len(workflows) == 0 {
		t.Fatalf("list workflows: %v (%d)", err, len(workflows))
	}
	wid, _ := workflows[0]["id"].(string)

	type answer struct {
		status     int
		body       string
		retryAfter string
	}
	send := func(method, path string) answer {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(`{"input":{}}`))
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{res.StatusCode, string(b), res.Header.Get("Retry-After")}
	}
	// waitAnswer waits (the probe caches its answer for a second) until path answers want.
	waitAnswer := func(method, path string, want int) answer {
		t.Helper()
		var got answer
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if got = send(method, path); got.status == want {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s answered %d %s, want %d", method, path, got.status, got.body, want)
			}
		}
	}
	start := "/workflows/" + wid + "/execute-async"
	waitAnswer("GET", "/readyz", 200)
	waitAnswer("POST", start, 201)

	for _, refusal := range []struct {
		name, reason string
		refuse       func() error
		restore      func() error
	}{
		{"out of memory", "OOM",
			func() error {
				return admin.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err() // then maxmemory below
			},
			func() error { return admin.ConfigSet(ctx, "maxmemory", "0").Err() }},
		{"read-only replica", "READONLY",
			func() error { return admin.Do(ctx, "REPLICAOF", "127.0.0.1", freePort(t)).Err() },
			func() error { return admin.Do(ctx, "REPLICAOF", "NO", "ONE").Err() }},
	} {
		if err := refusal.refuse(); err != nil {
			t.Fatal(err)
		}
		if refusal.reason == "OOM" {
			if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
				t.Fatal(err)
			}
		}
		ready := waitAnswer("GET", "/readyz", 503)
		if !strings.Contains(ready.body, "refuses writes") || !strings.Contains(ready.body, refusal.reason) {
			t.Errorf("%s: /readyz body %s, want the refusal named", refusal.name, ready.body)
		}
		refused := waitAnswer("POST", start, 503)
		if refused.retryAfter == "" || strings.Contains(refused.body, "Internal") {
			t.Errorf("%s: run start answered %s with Retry-After %q, want a 503 with Retry-After", refusal.name, refused.body, refused.retryAfter)
		}
		if err := refusal.restore(); err != nil {
			t.Fatal(err)
		}
		waitAnswer("GET", "/readyz", 200)
		waitAnswer("POST", start, 201)
	}
}
