// Package schedule starts workflow runs on a timetable: a cron expression in a time zone, or a
// fixed interval. Its pure part (this file and plan.go) computes fire times, catch-up after
// downtime and the overlap decision; the Scheduler (scheduler.go) claims due schedules from
// PostgreSQL in every worker, leader-free, and starts each tick's run with an idempotency key
// naming the schedule and the tick, so a tick starts one run however many schedulers race for
// it and whichever of them crashes. It talks to the database and the engine through the small
// interfaces declared here.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Bounds of a schedule's timetable.
const (
	// MinInterval is the shortest interval: a tick costs a transaction and a run.
	MinInterval = time.Second
	// MaxInterval is the longest interval (a year); a cron expression covers anything rarer.
	MaxInterval = 366 * 24 * time.Hour
	// MaxCronLength bounds a cron expression.
	MaxCronLength = 200
)

// cronParser accepts five fields (minute first) or six (seconds first), and the descriptors
// @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Spec is when a schedule fires: a cron expression read in a time zone, or a fixed interval
// counted from an anchor (the schedule's creation). Every tick is a whole millisecond.
type Spec struct {
	cron     cron.Schedule
	loc      *time.Location
	interval time.Duration
	anchor   time.Time
}

// ParseCron reads a cron expression in an IANA time zone ("" is UTC). Its errors are
// *workflow.ValidationError naming the field at fault: cron or timezone.
func ParseCron(expr, timezone string) (Spec, error) {
	loc, err := LoadTimezone(timezone)
	if err != nil {
		return Spec{}, workflow.Invalid("timezone", "%v", err)
	}
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return Spec{}, workflow.Invalid("cron", "must not be empty")
	case len(expr) > MaxCronLength:
		return Spec{}, workflow.Invalid("cron", "must be at most %d characters", MaxCronLength)
	case strings.HasPrefix(expr, "@every"):
		return Spec{}, workflow.Invalid("cron", "@every is not a cron expression: use interval")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return Spec{}, workflow.Invalid("cron", "a time zone prefix is not accepted: use timezone")
	}
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return Spec{}, workflow.Invalid("cron", "%q is not a cron expression (5 fields, 6 with seconds first, or a descriptor such as @hourly): %v", expr, err)
	}
	s := Spec{cron: sched, loc: loc}
	if s.Next(time.Now()).IsZero() {
		return Spec{}, workflow.Invalid("cron", "%q never fires", expr)
	}
	return s, nil
}

// ParseInterval reads a Go duration (30s, 5m, 1h30m) from MinInterval to MaxInterval, in whole
// milliseconds.
func ParseInterval(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	switch {
	case err != nil:
		return 0, workflow.Invalid("interval", "%q is not a duration such as 30s, 5m or 1h", s)
	case d < MinInterval:
		return 0, workflow.Invalid("interval", "must be at least %v, got %v", MinInterval, d)
	case d > MaxInterval:
		return 0, workflow.Invalid("interval", "must be at most %v, got %v", MaxInterval, d)
	case d%time.Millisecond != 0:
		return 0, workflow.Invalid("interval", "must be a whole number of milliseconds, got %v", d)
	}
	return d, nil
}

// Every is a fixed interval whose ticks are anchor + k·interval for k ≥ 1.
func Every(interval time.Duration, anchor time.Time) Spec {
	return Spec{interval: interval, anchor: anchor.UTC().Truncate(time.Millisecond)}
}

// LoadTimezone loads an IANA time zone; "" is UTC. Local is refused: it depends on the host.
func LoadTimezone(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, errors.New(`"Local" depends on the host: name an IANA zone such as Europe/Berlin`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Berlin or UTC", name)
	}
	return loc, nil
}

// Next returns the first tick strictly after t (UTC), or the zero time when there is none (a
// cron expression that matches no date in the next five years).
func (s Spec) Next(t time.Time) time.Time {
	if s.cron == nil {
		if t.Before(s.anchor) {
			return s.anchor.Add(s.interval)
		}
		k := t.Sub(s.anchor)/s.interval + 1
		return s.anchor.Add(k * s.interval)
	}
	next := s.cron.Next(t.In(s.loc))
	if next.IsZero() {
		return next
	}
	return next.UTC().Truncate(time.Millisecond)
}

// IsInterval reports whether the spec is a fixed interval.
func (s Spec) IsInterval() bool { return s.cron == nil }
