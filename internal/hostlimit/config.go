// Package hostlimit enforces per-host limits on outbound calls across every worker: a request
// rate with a burst (GCRA, github.com/go-redis/redis_rate), a maximum of calls in flight (a
// Redis semaphore whose holders have leases, so a crashed worker's slot comes back when its
// lease ends), and a pause a host asked for with Retry-After. Hosts without a limit are not
// looked up in Redis at all.
package hostlimit

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxHosts bounds the entries of a limits configuration, and so the host label values of the
// limiter's metrics.
const MaxHosts = 256

// Bounds of one entry's numbers.
const (
	MaxRate     = 1_000_000
	MaxBurst    = 1_000_000
	MaxInFlight = 10_000
)

// Limit is the limit of one target host.
type Limit struct {
	// Host is the host as outbound requests name it: lower case, with its port unless it is
	// the scheme's default ("api.example.com", "localhost:3000").
	Host string
	// Rate requests per Per (a second or a minute), with Burst requests at once; Rate 0 means
	// no rate limit (only MaxInFlight applies).
	Rate  int
	Per   time.Duration
	Burst int
	// MaxInFlight bounds the calls to Host in flight across every worker; 0 means no bound.
	MaxInFlight int
}

// String writes the limit in the syntax ParseLimits reads.
func (l Limit) String() string {
	rate := "none"
	if l.Rate > 0 {
		unit := "s"
		if l.Per == time.Minute {
			unit = "m"
		}
		rate = fmt.Sprintf("%d/%s:%d", l.Rate, unit, l.Burst)
	} else {
		rate += ":"
	}
	if l.MaxInFlight > 0 {
		rate += ":" + strconv.Itoa(l.MaxInFlight)
	}
	return l.Host + "=" + rate
}

// ParseLimits reads OUTBOUND_HOST_LIMITS: entries separated by commas (spaces around them are
// ignored), each
//
//	host[:port]=RATE[:BURST[:INFLIGHT]]
//
// where RATE is N/s, N/m (requests per second or per minute) or "none" (no rate limit),
// BURST is how many requests may go at once (default N; empty with "none"), and INFLIGHT the
// maximum of calls in flight across every worker (default: no bound). At least one of RATE
// and INFLIGHT must limit. An empty string is no limits. Every problem is reported, each
// naming its entry.
func ParseLimits(s string) ([]Limit, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	entries := strings.Split(s, ",")
	var problems []string
	if len(entries) > MaxHosts {
		return nil, fmt.Errorf("%d entries, more than the limit of %d hosts", len(entries), MaxHosts)
	}
	var out []Limit
	seen := map[string]int{}
	for i, entry := range entries {
		entry = strings.TrimSpace(entry)
		l, err := parseEntry(entry)
		if err != nil {
			problems = append(problems, fmt.Sprintf("entry %d %q: %v", i+1, entry, err))
			continue
		}
		if first, dup := seen[l.Host]; dup {
			problems = append(problems, fmt.Sprintf("entry %d %q: host %s is already limited by entry %d", i+1, entry, l.Host, first))
			continue
		}
		seen[l.Host] = i + 1
		out = append(out, l)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return out, nil
}

func parseEntry(entry string) (Limit, error) {
	if entry == "" {
		return Limit{}, fmt.Errorf("empty entry (a comma too many?)")
	}
	hostPart, spec, ok := strings.Cut(entry, "=")
	if !ok {
		return Limit{}, fmt.Errorf("want host[:port]=RATE[:BURST[:INFLIGHT]], e.g. api.example.com=10/s:20:5")
	}
	host, err := parseHost(strings.TrimSpace(hostPart))
	if err != nil {
		return Limit{}, err
	}
	l := Limit{Host: host}
	parts := strings.Split(strings.TrimSpace(spec), ":")
	if len(parts) > 3 {
		return Limit{}, fmt.Errorf("want RATE[:BURST[:INFLIGHT]] after the host, got %d fields", len(parts))
	}
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	rate, burst, inflight := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1]), strings.TrimSpace(parts[2])
	switch {
	case rate == "none":
		if burst != "" {
			return Limit{}, fmt.Errorf("a burst needs a rate, got rate none and burst %q", burst)
		}
	default:
		n, unit, ok := strings.Cut(rate, "/")
		if !ok || (unit != "s" && unit != "m") {
			return Limit{}, fmt.Errorf("rate must be N/s, N/m or none, got %q", rate)
		}
		if l.Rate, err = bounded("rate", n, 1, MaxRate); err != nil {
			return Limit{}, err
		}
		l.Per, l.Burst = time.Second, l.Rate
		if unit == "m" {
			l.Per = time.Minute
		}
		if burst != "" {
			if l.Burst, err = bounded("burst", burst, 1, MaxBurst); err != nil {
				return Limit{}, err
			}
		}
	}
	if inflight != "" {
		if l.MaxInFlight, err = bounded("in-flight maximum", inflight, 1, MaxInFlight); err != nil {
			return Limit{}, err
		}
	}
	if l.Rate == 0 && l.MaxInFlight == 0 {
		return Limit{}, fmt.Errorf("rate none without an in-flight maximum limits nothing")
	}
	return l, nil
}

func bounded(what, s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d, got %q", what, lo, hi, s)
	}
	return n, nil
}

// parseHost checks a host[:port] and writes it the way outbound requests name their host.
func parseHost(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("host is empty")
	}
	if strings.Contains(s, "://") || strings.ContainsAny(s, "/?#@ \t*") {
		return "", fmt.Errorf("host must be a host name or address with an optional port (no scheme, path, user or wildcard), got %q", s)
	}
	s = strings.ToLower(s)
	name, port := s, ""
	switch h, p, err := net.SplitHostPort(s); {
	case err == nil && p == "":
		return "", fmt.Errorf("port is empty in %q", s)
	case err == nil:
		name, port = h, p
	case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
		name = s[1 : len(s)-1]
	case strings.Count(s, ":") == 1 || strings.HasPrefix(s, "["):
		return "", fmt.Errorf("host %q: %v", s, err)
	}
	if name == "" {
		return "", fmt.Errorf("host name is empty in %q", s)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("port must be from 1 to 65535, got %q", port)
		}
		if port == "80" || port == "443" {
			return "", fmt.Errorf("write the host without its default port %s: requests to it are named %s", port, hostOnly(name))
		}
	}
	if strings.Contains(name, ":") && port == "" {
		return "[" + name + "]", nil // a bare IPv6 address, as a URL writes it
	}
	return s, nil
}

func hostOnly(name string) string {
	if strings.Contains(name, ":") {
		return "[" + name + "]"
	}
	return name
}

// Hosts returns the hosts of limits, sorted.
func Hosts(limits []Limit) []string {
	out := make([]string, 0, len(limits))
	for _, l := range limits {
		out = append(out, l.Host)
	}
	slices.Sort(out)
	return out
}
