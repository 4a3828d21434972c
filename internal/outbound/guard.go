package outbound

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"
)

// BlockedAddressError is returned when a request would connect to an address the SSRF guard
// refuses. It is checked on every resolved IP before dialling (and again in the dialer's
// Control hook), so DNS rebinding and redirects cannot get around it.
type BlockedAddressError struct {
	Addr   string
	Reason string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s", e.Addr, e.Reason)
}

// rangeClass is what the guard does with the addresses of a special-purpose range.
type rangeClass int

const (
	// never: refused whatever the configuration.
	never rangeClass = iota
	// private: refused unless AllowPrivate (loopback, private-use, shared, unique-local).
	private
	// embedding: the range carries IPv4 addresses (NAT64, 6to4, Teredo); they are judged too.
	embedding
	// metadata: cloud instance metadata endpoints, refused whatever the configuration.
	metadata
)

// specialRange is one entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries (and
// the multicast registries), with the registry's name for it.
type specialRange struct {
	prefix netip.Prefix
	name   string
	class  rangeClass
	// embedded extracts the IPv4 addresses an embedding range carries.
	embedded func(netip.Addr) []netip.Addr
}

func entry(prefix, name string, class rangeClass) specialRange {
	return specialRange{prefix: netip.MustParsePrefix(prefix), name: name, class: class}
}

func embeds(prefix, name string, extract func(b [16]byte) []netip.Addr) specialRange {
	return specialRange{prefix: netip.MustParsePrefix(prefix), name: name, class: embedding,
		embedded: func(ip netip.Addr) []netip.Addr { return extract(ip.As16()) }}
}

func v4(b []byte) netip.Addr { return netip.AddrFrom4([4]byte(b)) }

// specialRanges is the guard's one table. The most specific matching prefix decides; an address
// no prefix matches is a global unicast address and allowed. IPv4-mapped IPv6 addresses
// (::ffff:0:0/96) are unmapped and judged as the IPv4 address they are.
var specialRanges = []specialRange{
	// IPv4 (iana-ipv4-special-registry, iana-multicast-addresses).
	entry("0.0.0.0/8", `"This network"`, never),
	entry("0.0.0.0/32", `"This host on this network"`, never),
	entry("10.0.0.0/8", "Private-Use", private),
	entry("100.64.0.0/10", "Shared Address Space", private),
	entry("127.0.0.0/8", "Loopback", private),
	entry("169.254.0.0/16", "Link Local", never),
	entry("172.16.0.0/12", "Private-Use", private),
	entry("192.0.0.0/24", "IETF Protocol Assignments", never),
	entry("192.0.2.0/24", "Documentation (TEST-NET-1)", never),
	entry("192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", never),
	entry("192.168.0.0/16", "Private-Use", private),
	entry("198.18.0.0/15", "Benchmarking", never),
	entry("198.51.100.0/24", "Documentation (TEST-NET-2)", never),
	entry("203.0.113.0/24", "Documentation (TEST-NET-3)", never),
	entry("224.0.0.0/4", "Multicast", never),
	entry("240.0.0.0/4", "Reserved", never),
	entry("255.255.255.255/32", "Limited Broadcast", never),
	entry("169.254.169.254/32", "cloud metadata (AWS, GCP, Azure, OCI)", metadata),
	entry("100.100.100.200/32", "cloud metadata (Alibaba Cloud)", metadata),

	// IPv6 (iana-ipv6-special-registry, ipv6-multicast-addresses).
	entry("::/128", "Unspecified Address", never),
	entry("::1/128", "Loopback Address", private),
	entry("::/96", "IPv4-Compatible IPv6 Address (deprecated)", never),
	entry("::ffff:0:0:0/96", "IPv4-translated Address", never),
	embeds("64:ff9b::/96", "IPv4-IPv6 Translation (NAT64)", func(b [16]byte) []netip.Addr { return []netip.Addr{v4(b[12:16])} }),
	entry("64:ff9b:1::/48", "Local-use IPv4/IPv6 Translation", private),
	entry("100::/64", "Discard-Only Address Block", never),
	entry("100:0:0:1::/64", "Dummy IPv6 Prefix", never),
	entry("2001::/23", "IETF Protocol Assignments", never),
	embeds("2001::/32", "TEREDO", func(b [16]byte) []netip.Addr {
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]} // stored obfuscated (RFC 4380)
		return []netip.Addr{v4(b[4:8]), netip.AddrFrom4(client)}
	}),
	entry("2001:db8::/32", "Documentation", never),
	embeds("2002::/16", "6to4", func(b [16]byte) []netip.Addr { return []netip.Addr{v4(b[2:6])} }),
	entry("3fff::/20", "Documentation", never),
	entry("5f00::/16", "Segment Routing (SRv6) SIDs", never),
	entry("fc00::/7", "Unique-Local", private),
	entry("fe80::/10", "Link-Local Unicast", never),
	entry("fec0::/10", "Site-Local (deprecated)", never),
	entry("ff00::/8", "Multicast", never),
	entry("fd00:ec2::254/128", "cloud metadata (AWS)", metadata),
}

// lookupRange returns the most specific special-purpose range holding ip.
func lookupRange(ip netip.Addr) (specialRange, bool) {
	var best specialRange
	found := false
	for _, r := range specialRanges {
		if r.prefix.Contains(ip) && (!found || r.prefix.Bits() > best.prefix.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

// privateHint is how an operator allows loopback and private targets.
const privateHint = "loopback and private addresses are refused (set OUTBOUND_ALLOW_PRIVATE=true to allow them)"

// checkAddr decides whether a resolved address may be dialled: never for the ranges the table
// marks so (cloud metadata, link-local, documentation, benchmarking, reserved, multicast, ...),
// loopback and private ranges only when allowPrivate, and an address that embeds an IPv4
// address (IPv4-mapped, NAT64, 6to4, Teredo) only if the embedded one is allowed too.
func checkAddr(ip netip.Addr, allowPrivate bool) (reason string, ok bool) {
	ip = ip.WithZone("").Unmap() // a zoned address matches no prefix; a mapped one is IPv4
	if !ip.IsValid() {
		return "not an IP address", false
	}
	r, found := lookupRange(ip)
	if !found {
		return "", true
	}
	switch r.class {
	case metadata:
		return fmt.Sprintf("%s is a %s address; cloud metadata addresses are never allowed", ip, r.name), false
	case never:
		return fmt.Sprintf("%s is in %s (%s), which is never allowed", ip, r.prefix, r.name), false
	case private:
		if allowPrivate {
			return "", true
		}
		return fmt.Sprintf("%s is in %s (%s); %s", ip, r.prefix, r.name, privateHint), false
	}
	for _, inner := range r.embedded(ip) {
		if reason, ok := checkAddr(inner, allowPrivate); !ok {
			return fmt.Sprintf("%s (%s) embeds %s: %s", ip, r.name, inner, reason), false
		}
	}
	return "", true
}

// Resolver looks up the addresses of a host; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// DialFunc opens a connection to an address the guard allowed (always an IP and a port).
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// guardedDial resolves the target itself, judges every address and dials only allowed ones,
// in the resolver's order (RFC 6724), within timeout in all and each with an equal share of the
// time left (at least minDialShare, as net.Dialer does), so that one address that never answers
// does not use up the connection's time. If no address is allowed it returns the first refusal.
func guardedDial(resolver Resolver, dial DialFunc, allowPrivate bool, timeout time.Duration) DialFunc {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel() // an established connection outlives its dial's context
		host, portText, err := net.SplitHostPort(address)
		if err != nil {
			return nil, &BlockedAddressError{Addr: address, Reason: "unparsable address"}
		}
		port, err := strconv.ParseUint(portText, 10, 16)
		if err != nil {
			return nil, &BlockedAddressError{Addr: address, Reason: "not a numeric port"}
		}
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = []netip.Addr{ip}
		} else if ips, err = resolver.LookupNetIP(ctx, ipNetwork(network), host); err != nil {
			return nil, err
		}
		var allowed []string
		var refused error
		for _, ip := range ips {
			target := netip.AddrPortFrom(ip.Unmap(), uint16(port)).String()
			if reason, ok := checkAddr(ip, allowPrivate); !ok {
				if refused == nil {
					refused = &BlockedAddressError{Addr: target, Reason: reason}
				}
				continue
			}
			allowed = append(allowed, target)
		}
		if len(allowed) == 0 {
			if refused == nil {
				refused = &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
			}
			return nil, refused
		}
		var failed error
		for i, target := range allowed {
			attempt, cancel := shareOfDeadline(ctx, len(allowed)-i)
			conn, err := dial(attempt, network, target)
			cancel()
			if err == nil {
				return conn, nil
			}
			if failed == nil {
				failed = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		return nil, failed
	}
}

// minDialShare is the least time one of several addresses gets to connect.
const minDialShare = 2 * time.Second

// shareOfDeadline bounds one of n remaining connection attempts to an equal share of ctx's
// time left, at least minDialShare. Cancelling it after a successful dial leaves the
// connection alone.
func shareOfDeadline(ctx context.Context, n int) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok || n <= 1 {
		return ctx, func() {}
	}
	left := time.Until(deadline)
	share := max(left/time.Duration(n), minDialShare)
	if share >= left {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, share)
}

func ipNetwork(network string) string {
	switch network {
	case "tcp4":
		return "ip4"
	case "tcp6":
		return "ip6"
	}
	return "ip"
}

// dialControl returns a net.Dialer Control hook enforcing checkAddr once more on the socket's
// address, right before the connect.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return &BlockedAddressError{Addr: address, Reason: "unparsable address"}
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return &BlockedAddressError{Addr: address, Reason: "not an IP address"}
		}
		if reason, ok := checkAddr(ip, allowPrivate); !ok {
			return &BlockedAddressError{Addr: address, Reason: reason}
		}
		return nil
	}
}
