package outbound

import "net/netip"

// CheckAddr exposes the guard's decision to the tests.
func CheckAddr(ip netip.Addr, allowPrivate bool) (string, bool) { return checkAddr(ip, allowPrivate) }

// BreakerHosts is how many host breakers c keeps.
func (c *Client) BreakerHosts() int { return c.breakers.hosts() }
