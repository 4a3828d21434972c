package schedule

import (
	"time"
)

// Overlap says what a tick does while the run of the schedule's previous tick is still in
// flight.
type Overlap string

// Overlap policies.
const (
	// OverlapSkip skips the tick (the default): at most one run of the schedule at a time.
	OverlapSkip Overlap = "skip"
	// OverlapAllow starts the tick's run anyway.
	OverlapAllow Overlap = "allow"
	// OverlapCancelPrevious cancels the previous run, then starts the tick's.
	OverlapCancelPrevious Overlap = "cancelPrevious"
)

// CatchUp says which ticks missed while no scheduler ran (downtime, a database outage) fire
// once a scheduler runs again. A tick is missed when it is more than the scheduler's
// MisfireThreshold late; ticks less late always fire.
type CatchUp string

// Catch-up policies.
const (
	// CatchUpNone fires no missed tick.
	CatchUpNone CatchUp = "none"
	// CatchUpOne fires the latest missed tick once (the default), unless a tick on time fires.
	CatchUpOne CatchUp = "one"
	// CatchUpAll fires every missed tick, oldest first, up to the schedule's catch-up limit:
	// the newest ones are kept and older ones are skipped.
	CatchUpAll CatchUp = "all"
)

// Bounds of the catch-up limit.
const (
	DefaultCatchUpLimit = 10
	MaxCatchUpLimit     = 100
)

// maxTicks bounds the ticks one plan looks at, newest kept: a long outage of a schedule that
// fires every second is not walked tick by tick beyond it; older ticks are counted as missed
// only up to it.
const maxTicks = 10_000

// Action is what one tick does, decided by Decide.
type Action int

// Actions.
const (
	Start Action = iota
	Skip
	CancelThenStart
)

// Decide is the overlap decision for one tick: previousActive says whether the run of the
// schedule's previous tick is still queued or running.
func Decide(o Overlap, previousActive bool) Action {
	if !previousActive {
		return Start
	}
	switch o {
	case OverlapAllow:
		return Start
	case OverlapCancelPrevious:
		return CancelThenStart
	}
	return Skip
}

// Plan is what one claim of a due schedule does: the ticks to fire (oldest first), how many
// missed ticks the catch-up policy skips, and the schedule's next fire time after the claim.
type Plan struct {
	Fire   []time.Time
	Missed int
	Next   time.Time
}

// Plan decides which ticks from due (the schedule's stored next fire time, itself a tick) up
// to now fire. Ticks at most misfire late fire whatever the policy; older ones follow c
// (limit bounds CatchUpAll). Next is the first tick after now.
func (s Spec) Plan(due, now time.Time, c CatchUp, limit int, misfire time.Duration) Plan {
	ticks, total := s.ticks(due, now)
	p := Plan{Next: s.Next(now)}
	// ticks is oldest first; the late ones come before the ones on time.
	late := 0
	for late < len(ticks) && now.Sub(ticks[late]) > misfire {
		late++
	}
	onTime := ticks[late:]
	lateTotal := total - len(onTime)
	switch c {
	case CatchUpAll:
		take := min(late, max(limit, 0))
		p.Fire = append(p.Fire, ticks[late-take:late]...)
		p.Missed = lateTotal - take
	case CatchUpOne:
		if len(onTime) == 0 && late > 0 {
			p.Fire = append(p.Fire, ticks[late-1])
			p.Missed = lateTotal - 1
		} else {
			p.Missed = lateTotal
		}
	default:
		p.Missed = lateTotal
	}
	p.Fire = append(p.Fire, onTime...)
	return p
}

// ticks lists the ticks from due to now, both included, oldest first: at most maxTicks, the
// newest; total counts them all (up to what the walk reached).
func (s Spec) ticks(due, now time.Time) (ticks []time.Time, total int) {
	if due.After(now) || due.IsZero() {
		return nil, 0
	}
	if s.IsInterval() {
		// Closed form: due + k·interval, without walking a long outage.
		n := int(now.Sub(due)/s.interval) + 1
		first := max(n-maxTicks, 0)
		for k := first; k < n; k++ {
			ticks = append(ticks, due.Add(time.Duration(k)*s.interval))
		}
		return ticks, n
	}
	walked := 0
	for t := due; !t.IsZero() && !t.After(now) && walked < 10*maxTicks; t = s.Next(t) {
		ticks = append(ticks, t)
		walked++
		if len(ticks) > 2*maxTicks {
			ticks = append(ticks[:0], ticks[len(ticks)-maxTicks:]...)
		}
	}
	if len(ticks) > maxTicks {
		ticks = ticks[len(ticks)-maxTicks:]
	}
	return ticks, walked
}

// ResumeAt is the next fire time of a schedule resumed at now whose stored next fire time is
// next. The ticks of the pause are not made up in a storm: with CatchUpNone the schedule goes
// on at the first tick after now; otherwise the latest tick of the pause (if any) fires once,
// at the next poll.
func (s Spec) ResumeAt(next, now time.Time, c CatchUp) time.Time {
	if next.After(now) {
		return next
	}
	if c == CatchUpNone {
		return s.Next(now)
	}
	ticks, _ := s.ticks(next, now)
	if len(ticks) == 0 {
		return s.Next(now)
	}
	return ticks[len(ticks)-1]
}
