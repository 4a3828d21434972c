package hostlimit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/hostlimit"
)

func TestParseLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []hostlimit.Limit
	}{
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "api.example.com=10/s", want: []hostlimit.Limit{{Host: "api.example.com", Rate: 10, Per: time.Second, Burst: 10}}},
		{in: "api.example.com=10/s:20", want: []hostlimit.Limit{{Host: "api.example.com", Rate: 10, Per: time.Second, Burst: 20}}},
		{in: "API.Example.com=600/m:5:3", want: []hostlimit.Limit{{Host: "api.example.com", Rate: 600, Per: time.Minute, Burst: 5, MaxInFlight: 3}}},
		{in: "api.example.com=10/s::4", want: []hostlimit.Limit{{Host: "api.example.com", Rate: 10, Per: time.Second, Burst: 10, MaxInFlight: 4}}},
		{in: "legacy.internal=none::2", want: []hostlimit.Limit{{Host: "legacy.internal", MaxInFlight: 2}}},
		{in: "a.example=1/s, localhost:3000=5/s:5:2 ,[::1]:8080=3/m", want: []hostlimit.Limit{
			{Host: "a.example", Rate: 1, Per: time.Second, Burst: 1},
			{Host: "localhost:3000", Rate: 5, Per: time.Second, Burst: 5, MaxInFlight: 2},
			{Host: "[::1]:8080", Rate: 3, Per: time.Minute, Burst: 3},
		}},
		{in: "[2001:db8::1]=1/s", want: []hostlimit.Limit{{Host: "[2001:db8::1]", Rate: 1, Per: time.Second, Burst: 1}}},
		{in: "127.0.0.1:9000=2/s:1", want: []hostlimit.Limit{{Host: "127.0.0.1:9000", Rate: 2, Per: time.Second, Burst: 1}}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := hostlimit.ParseLimits(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("limits (-want +got):\n%s", diff)
			}
			// What String writes parses back to the same limit.
			for _, l := range got {
				again, err := hostlimit.ParseLimits(l.String())
				if err != nil || len(again) != 1 || again[0] != l {
					t.Fatalf("%q parsed back as %+v, %v", l.String(), again, err)
				}
			}
		})
	}
}

func TestParseLimitsNamesTheBadEntry(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, says string }{
		{in: "api.example.com", says: `entry 1 "api.example.com": want host[:port]=RATE`},
		{in: "a.example=1/s,,b.example=2/s", says: "entry 2 \"\": empty entry"},
		{in: "a.example=10", says: `rate must be N/s, N/m or none, got "10"`},
		{in: "a.example=10/h", says: `rate must be N/s, N/m or none, got "10/h"`},
		{in: "a.example=0/s", says: "rate must be a whole number from 1 to 1000000"},
		{in: "a.example=1.5/s", says: "rate must be a whole number"},
		{in: "a.example=10/s:0", says: "burst must be a whole number from 1"},
		{in: "a.example=10/s:5:0", says: "in-flight maximum must be a whole number from 1 to 10000"},
		{in: "a.example=10/s:5:2:1", says: "got 4 fields"},
		{in: "a.example=none", says: "limits nothing"},
		{in: "a.example=none:5:2", says: "a burst needs a rate"},
		{in: "https://a.example=1/s", says: "no scheme, path"},
		{in: "a.example/path=1/s", says: "no scheme, path"},
		{in: "*.example.com=1/s", says: "wildcard"},
		{in: "=1/s", says: "host is empty"},
		{in: "a.example:80=1/s", says: "without its default port 80"},
		{in: "a.example:443=1/s", says: "without its default port 443"},
		{in: "a.example:0=1/s", says: "port must be from 1 to 65535"},
		{in: "a.example:http=1/s", says: "port must be from 1 to 65535"},
		{in: "a.example:=1/s", says: "port is empty"},
		{in: "a.example=1/s, b.example=2/s, A.example=3/s", says: `entry 3 "A.example=3/s": host a.example is already limited by entry 1`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			_, err := hostlimit.ParseLimits(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("error %v, want one saying %q", err, tc.says)
			}
		})
	}
}

func TestParseLimitsReportsEveryBadEntry(t *testing.T) {
	t.Parallel()
	_, err := hostlimit.ParseLimits("a.example=1/s,b.example=x,c.example=2/s,d.example=none")
	if err == nil || !strings.Contains(err.Error(), "entry 2") || !strings.Contains(err.Error(), "entry 4") || strings.Contains(err.Error(), "entry 3") {
		t.Fatalf("error %v, want entries 2 and 4 named and no other", err)
	}
}

func TestParseLimitsBoundsTheEntries(t *testing.T) {
	t.Parallel()
	entries := make([]string, hostlimit.MaxHosts)
	for i := range entries {
		entries[i] = fmt.Sprintf("h%d.example=1/s", i)
	}
	if _, err := hostlimit.ParseLimits(strings.Join(entries, ",")); err != nil {
		t.Fatalf("%d hosts: %v", hostlimit.MaxHosts, err)
	}
	entries = append(entries, "one-more.example=1/s")
	if _, err := hostlimit.ParseLimits(strings.Join(entries, ",")); err == nil || !strings.Contains(err.Error(), "more than the limit of 256 hosts") {
		t.Fatalf("%d hosts: error %v, want the limit named", len(entries), err)
	}
}
