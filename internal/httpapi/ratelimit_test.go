package httpapi

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// fixedClock is a clock that moves only when told.
type fixedClock struct{ t time.Time }

func (c *fixedClock) now() time.Time { return c.t }

// takes reports whether a run start from remoteAddr with the given header pairs gets a token.
func takes(l *runLimiter, remoteAddr string, headers ...string) bool {
	r := httptest.NewRequest("POST", "/workflows/x/execute-async", nil)
	r.RemoteAddr = remoteAddr
	for i := 0; i+1 < len(headers); i += 2 {
		r.Header.Set(headers[i], headers[i+1])
	}
	ok, _ := l.allow(l.client(r))
	return ok
}

// Without enforced keys a client is its address: keys, forwarding headers and source ports it
// invents do not give it a fresh bucket; an IPv6 client is its /64.
func TestRunLimiterBucketsByAddressWithoutKeys(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Unix(1_700_000_000, 0)}
	l := newRunLimiter(1, 2, false, clock.now)
	if !takes(l, "203.0.113.7:40000") || !takes(l, "203.0.113.7:40001", "X-API-Key", "invented") {
		t.Fatal("the burst of 2 was refused")
	}
	for _, h := range [][]string{
		{"X-API-Key", "another-invented-key"},
		{"Authorization", "Bearer invented"},
		{"X-Forwarded-For", "198.51.100.1"},
		{"X-Real-IP", "198.51.100.2"},
		{"Forwarded", "for=198.51.100.3"},
	} {
		if takes(l, "203.0.113.7:40002", h...) {
			t.Errorf("a run start with %s: %s got a fresh bucket", h[0], h[1])
		}
	}
	if takes(l, "[::ffff:203.0.113.7]:40003") {
		t.Error("the IPv4-mapped IPv6 spelling of the address got a fresh bucket")
	}
	if !takes(l, "198.51.100.9:40000") {
		t.Error("another address shares the first one's bucket")
	}

	takes(l, "[2001:db8:1:2::1]:5000")
	takes(l, "[2001:db8:1:2::2]:5000")
	if takes(l, "[2001:db8:1:2:ffff::9]:5000") {
		t.Error("another address of the same IPv6 /64 got a fresh bucket")
	}
	if !takes(l, "[2001:db8:1:3::1]:5000") {
		t.Error("another /64 shares the first one's bucket")
	}
	clock.t = clock.t.Add(time.Second)
	if !takes(l, "203.0.113.7:40004") {
		t.Error("a token was not refilled after a second")
	}
}

// With enforced keys a client is its (already checked) key, wherever it connects from.
func TestRunLimiterBucketsByKeyWhenEnforced(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Unix(1_700_000_000, 0)}
	l := newRunLimiter(1, 1, true, clock.now)
	if !takes(l, "203.0.113.7:1", "X-API-Key", "k-one") {
		t.Fatal("first start refused")
	}
	if takes(l, "198.51.100.1:1", "Authorization", "Bearer k-one") {
		t.Error("the same key from another address got a fresh bucket")
	}
	if !takes(l, "203.0.113.7:1", "X-API-Key", "k-two") {
		t.Error("another key shares the first key's bucket")
	}
}

// However many clients arrive, at most maxRunBuckets buckets are kept, and the clients seen
// most recently keep theirs.
func TestRunLimiterBucketsAreBounded(t *testing.T) {
	t.Parallel()
	clock := &fixedClock{t: time.Unix(1_700_000_000, 0)}
	l := newRunLimiter(1, 1, false, clock.now)
	client := func(i int) string { return fmt.Sprintf("ip:10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }
	for i := range 3 * maxRunBuckets {
		l.allow(client(i))
	}
	if n := l.buckets.Len(); n != maxRunBuckets {
		t.Fatalf("%d buckets after %d clients, want the cap %d", n, 3*maxRunBuckets, maxRunBuckets)
	}
	if ok, _ := l.allow(client(3*maxRunBuckets - 1)); ok {
		t.Error("the most recent client lost its bucket")
	}
}
