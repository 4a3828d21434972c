package outbound_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

func get(c *outbound.Client, url string) error {
	req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	if err != nil {
		return err
	}
	_, err = c.Do(req)
	return err
}

// The SSRF guard checks the resolved address at dial time: link-local and metadata addresses
// are always refused, loopback and private ones unless allowed, and a redirect cannot bypass
// it. Refusals happen before any packet is sent.
func TestSSRFGuard(t *testing.T) {
	t.Parallel()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-metadata" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(local.Close)
	strict := outbound.NewClient(outbound.Config{})
	open := outbound.NewClient(outbound.Config{AllowPrivate: true})

	tests := []struct {
		name    string
		client  *outbound.Client
		url     string
		blocked string // substring of the refusal; "" means allowed
	}{
		{"loopback refused by default", strict, local.URL, "loopback and private"},
		{"localhost name resolves to loopback", strict, strings.Replace(local.URL, "127.0.0.1", "localhost", 1), "loopback and private"},
		{"loopback allowed when configured", open, local.URL, ""},
		{"metadata always refused", open, "http://169.254.169.254/latest/meta-data/", "metadata"},
		{"link-local always refused", open, "http://169.254.10.10/", "link-local"},
		{"IPv6 link-local refused", open, "http://[fe80::1]/", "link-local"},
		{"redirect to metadata refused", open, local.URL + "/to-metadata", "metadata"},
		{"private range refused by default", strict, "http://10.1.2.3/", "loopback and private"},
		{"unspecified refused", open, "http://0.0.0.0/", "unspecified"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := get(tc.client, tc.url)
			if tc.blocked == "" {
				if err != nil {
					t.Fatalf("GET %s: %v, want allowed", tc.url, err)
				}
				return
			}
			if !outbound.IsBlocked(err) || !strings.Contains(err.Error(), tc.blocked) {
				t.Fatalf("GET %s: %v, want refused (%s)", tc.url, err, tc.blocked)
			}
		})
	}
}
