package schedule

import "time"

// SetAfterStart makes s call fn after each tick's run is started and before its claim
// commits; an error from fn abandons the claim there, as a crash would.
func SetAfterStart(s *Scheduler, fn func(scheduleID string, fireAt time.Time) error) {
	s.afterStart = fn
}
