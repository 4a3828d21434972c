package outbound

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// BlockedAddressError is returned when a request would connect to an address the SSRF guard
// refuses. It is checked on the resolved IP at dial time, so DNS rebinding and redirects
// cannot get around it.
type BlockedAddressError struct {
	Addr   string
	Reason string
}

func (e *BlockedAddressError) Error() string {
	return fmt.Sprintf("refused to connect to %s: %s", e.Addr, e.Reason)
}

var (
	cgnat    = netip.MustParsePrefix("100.64.0.0/10")
	metadata = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}
)

// checkAddr decides whether a resolved address may be dialled. Link-local and cloud metadata
// addresses are always refused; loopback, private and shared (CGNAT) ranges only when
// allowPrivate.
func checkAddr(ip netip.Addr, allowPrivate bool) (reason string, ok bool) {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return "not an IP address", false
	case containsAddr(metadata, ip):
		return "cloud metadata addresses are never allowed", false
	case ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast():
		return "link-local addresses are never allowed", false
	case ip.IsUnspecified() || ip.IsMulticast():
		return "unspecified and multicast addresses are never allowed", false
	case ip.IsLoopback() || ip.IsPrivate() || cgnat.Contains(ip):
		if allowPrivate {
			return "", true
		}
		return "loopback and private addresses are refused (set OUTBOUND_ALLOW_PRIVATE=true to allow them)", false
	}
	return "", true
}

func containsAddr(list []netip.Addr, ip netip.Addr) bool {
	for _, a := range list {
		if a == ip {
			return true
		}
	}
	return false
}

// dialControl returns a net.Dialer Control hook enforcing checkAddr before any packet is sent.
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
