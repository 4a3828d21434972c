package outbound_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/outbound"
)

// The guard's decision over the IANA special-purpose registries: global unicast is allowed,
// private-use, shared, loopback and unique-local only when private targets are allowed, and
// everything else in the registries never; addresses that embed IPv4 (mapped, NAT64, 6to4,
// Teredo) are judged by what they embed. A refusal names the registry's entry.
func TestCheckAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr         string
		strict, open bool
		reason       string // substring of the refusal
	}{
		{"8.8.8.8", true, true, ""},
		{"172.32.0.1", true, true, ""},
		{"198.20.0.1", true, true, ""},
		{"2606:4700::1111", true, true, ""},
		{"0.0.0.0", false, false, "This host on this network"},
		{"0.1.2.3", false, false, "This network"},
		{"10.1.2.3", false, true, "Private-Use"},
		{"100.64.0.1", false, true, "Shared Address Space"},
		{"100.100.100.200", false, false, "metadata"},
		{"127.0.0.1", false, true, "Loopback"},
		{"127.255.0.9", false, true, "Loopback"},
		{"169.254.169.254", false, false, "cloud metadata addresses are never allowed"},
		{"169.254.10.10", false, false, "Link Local"},
		{"172.16.0.1", false, true, "Private-Use"},
		{"192.0.0.8", false, false, "IETF Protocol Assignments"},
		{"192.0.2.1", false, false, "TEST-NET-1"},
		{"192.88.99.1", false, false, "6to4 Relay Anycast"},
		{"192.168.1.1", false, true, "Private-Use"},
		{"198.18.0.1", false, false, "Benchmarking"},
		{"198.19.255.255", false, false, "Benchmarking"},
		{"198.51.100.7", false, false, "TEST-NET-2"},
		{"203.0.113.9", false, false, "TEST-NET-3"},
		{"224.0.0.1", false, false, "Multicast"},
		{"239.255.255.250", false, false, "Multicast"},
		{"240.0.0.1", false, false, "Reserved"},
		{"255.255.255.255", false, false, "Limited Broadcast"},
		{"::", false, false, "Unspecified Address"},
		{"::1", false, true, "Loopback Address"},
		{"::ffff:127.0.0.1", false, true, "Loopback"},
		{"::ffff:169.254.169.254", false, false, "metadata"},
		{"::ffff:8.8.8.8", true, true, ""},
		{"::127.0.0.1", false, false, "IPv4-Compatible"},
		{"::8.8.8.8", false, false, "IPv4-Compatible"},
		{"::ffff:0:10.0.0.1", false, false, "IPv4-translated"},
		{"64:ff9b::8.8.8.8", true, true, ""},
		{"64:ff9b::10.0.0.1", false, true, "embeds 10.0.0.1"},
		{"64:ff9b::169.254.169.254", false, false, "metadata"},
		{"64:ff9b:1::8.8.8.8", false, true, "Local-use IPv4/IPv6 Translation"},
		{"2002:808:808::1", true, true, ""},
		{"2002:a00:1::1", false, true, "6to4) embeds 10.0.0.1"},
		{"2002:a9fe:a9fe::1", false, false, "metadata"},
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", true, true, ""},                  // server 65.54.227.120, client 8.8.8.8
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", false, true, "embeds 127.0.0.1"}, // client 127.0.0.1
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false, "TEST-NET-1"},      // client 192.0.2.45
		{"2001:0:a00:1:8000:63bf:f7f7:f7f7", false, true, "embeds 10.0.0.1"},      // server 10.0.0.1
		{"2001:2::1", false, false, "IETF Protocol Assignments"},
		{"2001:db8::1", false, false, "Documentation"},
		{"3fff::1", false, false, "Documentation"},
		{"100::1", false, false, "Discard-Only"},
		{"5f00::1", false, false, "SRv6"},
		{"fc00::1", false, true, "Unique-Local"},
		{"fd12:3456::1", false, true, "Unique-Local"},
		{"fd00:ec2::254", false, false, "metadata"},
		{"fe80::1", false, false, "Link-Local Unicast"},
		{"fe80::1%eth0", false, false, "Link-Local Unicast"},
		{"fd00::1%eth0", false, true, "Unique-Local"},
		{"fec0::1", false, false, "Site-Local"},
		{"ff02::1", false, false, "Multicast"},
		{"ff05::1:3", false, false, "Multicast"},
	}
	for _, tc := range tests {
		ip := netip.MustParseAddr(tc.addr)
		for _, allow := range []bool{false, true} {
			want := tc.strict
			if allow {
				want = tc.open
			}
			reason, ok := outbound.CheckAddr(ip, allow)
			if ok != want {
				t.Errorf("%s (allowPrivate %v): allowed %v (%s), want %v", tc.addr, allow, ok, reason, want)
			}
			if !ok && !strings.Contains(reason, tc.reason) {
				t.Errorf("%s (allowPrivate %v): reason %q, want it to mention %q", tc.addr, allow, reason, tc.reason)
			}
			if !ok && !allow && tc.open && !strings.Contains(reason, "OUTBOUND_ALLOW_PRIVATE") {
				t.Errorf("%s: reason %q does not say how to allow private targets", tc.addr, reason)
			}
		}
	}
}

// fakeResolver hands the guard the addresses of made-up host names.
type fakeResolver map[string][]string

func (r fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range r[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if len(out) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

var errNotLoopback = errors.New("the test dialer connects to loopback only")

// loopbackDialer records every address it is asked to connect to and connects only to
// loopback: whatever the guard decides, no packet leaves the machine.
type loopbackDialer struct {
	mu    sync.Mutex
	asked []string
}

func (d *loopbackDialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.asked = append(d.asked, address)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, errNotLoopback
	}
	return (&net.Dialer{}).DialContext(ctx, network, address)
}

func (d *loopbackDialer) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	asked := d.asked
	d.asked = nil
	return asked
}

// The guard refuses at dial time, on the addresses a name resolves to, before the dialer is
// asked for anything: names of metadata, private, mapped, NAT64, Teredo and unique-local
// addresses, IP literals, a redirect to metadata. A name with both a refused and an allowed
// address connects to the allowed one only. Allowed private addresses reach the dialer (which
// connects to loopback only).
func TestSSRFGuardAtDial(t *testing.T) {
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/to-metadata" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(local.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(local.URL, "http://"))
	resolver := fakeResolver{
		"metadata.test": {"169.254.169.254"},
		"private.test":  {"10.0.0.5"},
		"mapped.test":   {"::ffff:169.254.169.254"},
		"nat64.test":    {"64:ff9b::a9fe:a9fe"},
		"teredo.test":   {"2001:0:4136:e378:8000:63bf:80ff:fffe"},
		"ula.test":      {"fd00::1"},
		"docs.test":     {"192.0.2.10", "2001:db8::10"},
		"mixed.test":    {"169.254.169.254", "10.0.0.5", "127.0.0.1"},
		"loopback.test": {"127.0.0.1"},
	}
	dialer := &loopbackDialer{}
	strict := outbound.NewClient(outbound.Config{Resolver: resolver, Dial: dialer.dial})
	open := outbound.NewClient(outbound.Config{AllowPrivate: true, Resolver: resolver, Dial: dialer.dial})
	at := func(host string) string { return "http://" + host + ":" + port + "/" }

	tests := []struct {
		name    string
		client  *outbound.Client
		url     string
		blocked string   // substring of the refusal; "" means the request is answered
		dialled []string // addresses the dialer is asked for, in order
	}{
		{"metadata name", open, at("metadata.test"), "metadata", nil},
		{"private name, strict", strict, at("private.test"), "Private-Use", nil},
		{"private name, allowed", open, at("private.test"), "", []string{"10.0.0.5:" + port}},
		{"IPv4-mapped metadata", open, at("mapped.test"), "metadata", nil},
		{"NAT64 metadata", open, at("nat64.test"), "metadata", nil},
		{"Teredo loopback, strict", strict, at("teredo.test"), "embeds 127.0.0.1", nil},
		{"unique-local, strict", strict, at("ula.test"), "Unique-Local", nil},
		{"documentation, both families", open, at("docs.test"), "TEST-NET-1", nil},
		{"mixed, strict", strict, at("mixed.test"), "metadata", nil},
		{"mixed, allowed", open, at("mixed.test"), "", []string{"10.0.0.5:" + port, "127.0.0.1:" + port}},
		{"loopback name, strict", strict, at("loopback.test"), "Loopback", nil},
		{"loopback name, allowed", open, at("loopback.test"), "", []string{"127.0.0.1:" + port}},
		{"metadata literal", open, "http://169.254.169.254/latest/meta-data/", "metadata", nil},
		{"IPv6 link-local literal", open, "http://[fe80::1%25eth0]/", "Link-Local", nil},
		{"broadcast literal", open, "http://255.255.255.255/", "Limited Broadcast", nil},
		{"redirect to metadata", open, local.URL + "/to-metadata", "metadata", []string{"127.0.0.1:" + port}},
	}
	for _, tc := range tests { // one at a time: the dialer's record is shared
		err := get(tc.client, tc.url)
		dialled := dialer.take()
		switch {
		case tc.blocked != "":
			if !outbound.IsBlocked(err) || !strings.Contains(err.Error(), tc.blocked) {
				t.Errorf("%s: GET %s: %v, want refused (%s)", tc.name, tc.url, err, tc.blocked)
			}
		case slices.Contains(dialled, "127.0.0.1:"+port):
			if err != nil {
				t.Errorf("%s: GET %s: %v, want the loopback target's answer", tc.name, tc.url, err)
			}
		case !errors.Is(err, errNotLoopback):
			t.Errorf("%s: GET %s: %v, want it allowed through to the dialer", tc.name, tc.url, err)
		}
		if !slices.Equal(dialled, tc.dialled) {
			t.Errorf("%s: the dialer was asked for %v, want %v", tc.name, dialled, tc.dialled)
		}
	}
	strict.CloseIdle()
	open.CloseIdle()
}

func get(c *outbound.Client, url string) error {
	req, err := http.NewRequestWithContext(context.Background(), "GET", url, nil)
	if err != nil {
		return err
	}
	_, err = c.Do(req)
	return err
}

// Every IPv4 range of the table holds through every IPv6 form that embeds an IPv4 address:
// an IPv4-mapped address is judged exactly as its IPv4 address, and one refused IPv4 address
// is refused inside NAT64, 6to4 and Teredo (server or client) addresses too; the deprecated
// IPv4-compatible and IPv4-translated forms are always refused.
func TestEmbeddedIPv4IsJudgedLikeIPv4(t *testing.T) {
	t.Parallel()
	samples := []netip.Addr{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("1.1.1.1")}
	for _, p := range outbound.SpecialPrefixes() {
		if p.Addr().Is4() {
			last := p.Addr().As4()
			for i := p.Bits(); i < 32; i++ {
				last[i/8] |= 1 << (7 - i%8)
			}
			samples = append(samples, p.Addr(), netip.AddrFrom4(last))
			if next := p.Addr().Next(); p.Contains(next) {
				samples = append(samples, next)
			}
		}
	}
	for _, v4 := range samples {
		b := v4.As4()
		obf := [4]byte{^b[0], ^b[1], ^b[2], ^b[3]}
		forms := map[string]netip.Addr{
			"NAT64":           netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 12: b[0], b[1], b[2], b[3]}),
			"6to4":            netip.AddrFrom16([16]byte{0x20, 0x02, b[0], b[1], b[2], b[3], 15: 1}),
			"Teredo server":   netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0, b[0], b[1], b[2], b[3], 12: 0xf7, 0xf7, 0xf7, 0xf7}),
			"Teredo client":   netip.AddrFrom16([16]byte{0x20, 0x01, 0, 0, 8, 8, 8, 8, 12: obf[0], obf[1], obf[2], obf[3]}),
			"IPv4-compat":     netip.AddrFrom16([16]byte{12: b[0], b[1], b[2], b[3]}),
			"IPv4-translated": netip.AddrFrom16([16]byte{8: 0xff, 0xff, 0, 0, b[0], b[1], b[2], b[3]}),
		}
		if v4.Compare(netip.MustParseAddr("0.0.0.1")) <= 0 {
			delete(forms, "IPv4-compat") // :: and ::1 are the unspecified and loopback addresses
		}
		for _, allow := range []bool{false, true} {
			_, ok := outbound.CheckAddr(v4, allow)
			if _, mapped := outbound.CheckAddr(netip.AddrFrom16(v4.As16()), allow); mapped != ok {
				t.Errorf("%s (allowPrivate %v): allowed %v, but as IPv4-mapped %v", v4, allow, ok, mapped)
			}
			for name, form := range forms {
				_, embedded := outbound.CheckAddr(form, allow)
				if embedded && !ok {
					t.Errorf("%s (allowPrivate %v) is refused, but %s form %s is allowed", v4, allow, name, form)
				}
				if (name == "IPv4-compat" || name == "IPv4-translated") && embedded {
					t.Errorf("%s form %s is allowed, want deprecated forms always refused", name, form)
				}
			}
		}
	}
}

// When a name has several allowed addresses and the first never answers, the next one still
// gets its share of the dial timeout (the dialer is told to give up on the first).
func TestDialMovesOnFromAnAddressThatNeverAnswers(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	loopback := &loopbackDialer{}
	silent := "10.0.0.9:" + port
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		if address == silent { // a blackholed address: nothing is sent, nothing answers
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return loopback.dial(ctx, network, address)
	}
	c := outbound.NewClient(outbound.Config{AllowPrivate: true, Dial: dial, DialTimeout: 4 * time.Second,
		Resolver: fakeResolver{"twice.test": {"10.0.0.9", "127.0.0.1"}}})
	defer c.CloseIdle()
	if _, err := send(c, "http://twice.test:"+port+"/", time.Minute); err != nil {
		t.Fatalf("%v, want the second address reached within the dial timeout", err)
	}
	if asked := loopback.take(); !slices.Equal(asked, []string{"127.0.0.1:" + port}) {
		t.Fatalf("the loopback dialer was asked for %v", asked)
	}
}
