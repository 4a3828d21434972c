package outbound

import "net/netip"

// CheckAddr exposes the guard's decision to the tests.
func CheckAddr(ip netip.Addr, allowPrivate bool) (string, bool) { return checkAddr(ip, allowPrivate) }

// BreakerHosts is how many host breakers c keeps.
func (c *Client) BreakerHosts() int { return c.breakers.hosts() }

// SpecialPrefixes lists the prefixes of the guard's table.
func SpecialPrefixes() []netip.Prefix {
	out := make([]netip.Prefix, len(specialRanges))
	for i, r := range specialRanges {
		out[i] = r.prefix
	}
	return out
}
