package outboundtest

import (
	"context"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// LoopbackResolver resolves every name to 127.0.0.1, so one local server can be any number
// of hosts, except names starting with "blocked." which resolve to the cloud metadata address
// the SSRF guard always refuses (nothing is ever sent to it).
type LoopbackResolver struct{}

// LookupNetIP implements outbound.Resolver.
func (LoopbackResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if strings.HasPrefix(host, "blocked.") {
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
}

// EveryOutcome sends one request of each outcome through c, which must resolve with
// LoopbackResolver, allow private addresses and open a breaker after one failure: a 200, a 404,
// a 503 (which opens that host's breaker), a call rejected by that open breaker, a timeout, a
// connection reset and a host the SSRF guard refuses. It returns the host (as the breaker
// labels it) of each outcome's request.
func EveryOutcome(t testing.TB, c *outbound.Client) map[string]string {
	t.Helper()
	ok, missing, broken := NewHostile(t, Status(http.StatusOK)), NewHostile(t, Status(http.StatusNotFound)), NewHostile(t, Status(http.StatusServiceUnavailable))
	hang, reset := NewHostile(t, Hang), NewHostile(t, Reset)
	host := func(h *Hostile) string { return strings.TrimPrefix(h.URL, "http://") }
	hosts := map[string]string{
		outbound.OutcomeSuccess: host(ok), outbound.OutcomeHTTP4xx: host(missing), outbound.OutcomeHTTP5xx: host(broken),
		outbound.OutcomeRejected: host(broken), outbound.OutcomeTimeout: host(hang), outbound.OutcomeNetwork: host(reset),
		outbound.OutcomeRefused: "blocked.test",
	}
	call := func(url string, timeout time.Duration) (*outbound.Response, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		return c.Do(req)
	}
	for _, s := range []*Hostile{ok, missing, broken} {
		if resp, err := call(s.URL, 10*time.Second); err != nil {
			t.Fatalf("GET %s: %v, want a response", s.URL, err)
		} else if resp.StatusCode >= 500 {
			if _, err := call(s.URL, 10*time.Second); !outbound.IsBreakerOpen(err) {
				t.Fatalf("GET %s after a %d: %v, want the breaker open", s.URL, resp.StatusCode, err)
			}
		}
	}
	if _, err := call(hang.URL, 100*time.Millisecond); !outbound.IsTimeout(err) {
		t.Fatalf("GET %s: %v, want a timeout", hang.URL, err)
	}
	if _, err := call(reset.URL, 10*time.Second); err == nil || outbound.IsTimeout(err) {
		t.Fatalf("GET %s: %v, want a connection error", reset.URL, err)
	}
	if _, err := call("http://blocked.test/", 10*time.Second); !outbound.IsBlocked(err) {
		t.Fatalf("GET http://blocked.test/: %v, want refused by the guard", err)
	}
	return hosts
}
