package httpapi

import (
	"testing"
	"time"
)

// A session names the key it was opened with: signed with the same secret, it is refused once
// that key is no longer configured.
func TestMonitoringSessionNamesItsKey(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	secret := []byte("a fixed secret for this test only")
	before := newMonitoringAuth([]string{"kept", "revoked"}, now, secret)
	after := newMonitoringAuth([]string{"kept"}, now, secret)
	kept, _ := before.issue(0)
	revoked, _ := before.issue(1)
	if !after.valid(kept) {
		t.Error("a session of a key still configured is refused")
	}
	if after.valid(revoked) {
		t.Error("a session of a key no longer configured is accepted")
	}
}
