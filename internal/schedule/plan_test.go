package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func mustCron(t *testing.T, expr, tz string) Spec {
	t.Helper()
	s, err := ParseCron(expr, tz)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNextCron(t *testing.T) {
	t.Parallel()
	tests := []struct {
		expr, tz string
		after    time.Time
		want     time.Time
	}{
		{"*/5 * * * *", "", t0.Add(time.Minute), t0.Add(5 * time.Minute)},
		{"*/5 * * * *", "", t0, t0.Add(5 * time.Minute)}, // strictly after
		{"*/10 * * * * *", "UTC", t0.Add(time.Second), t0.Add(10 * time.Second)},
		{"@hourly", "", t0.Add(time.Minute), t0.Add(time.Hour)},
		// 09:00 in Berlin is 08:00 UTC in winter (CET) and 07:00 UTC in summer (CEST).
		{"0 9 * * *", "Europe/Berlin", t0, time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)},
		{"0 9 * * *", "Europe/Berlin", time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC), time.Date(2026, 7, 2, 7, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := mustCron(t, tt.expr, tt.tz).Next(tt.after); !got.Equal(tt.want) {
			t.Errorf("%q in %q after %v: next %v, want %v", tt.expr, tt.tz, tt.after, got, tt.want)
		}
	}
}

func TestNextInterval(t *testing.T) {
	t.Parallel()
	s := Every(30*time.Second, t0)
	for _, tt := range []struct{ after, want time.Time }{
		{t0.Add(-time.Hour), t0.Add(30 * time.Second)},
		{t0, t0.Add(30 * time.Second)},
		{t0.Add(29 * time.Second), t0.Add(30 * time.Second)},
		{t0.Add(30 * time.Second), t0.Add(60 * time.Second)},
		{t0.Add(10*time.Hour + 1), t0.Add(10*time.Hour + 30*time.Second)},
	} {
		if got := s.Next(tt.after); !got.Equal(tt.want) {
			t.Errorf("after %v: next %v, want %v", tt.after, got, tt.want)
		}
	}
}

// Each bad field is refused naming the field.
func TestParseRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		expr, tz, field string
	}{
		{"", "", "cron"},
		{"* * *", "", "cron"},
		{"61 * * * *", "", "cron"},
		{"@every 5s", "", "cron"},
		{"CRON_TZ=UTC * * * * *", "", "cron"},
		{"0 0 30 2 *", "", "cron"}, // February 30th never comes
		{strings.Repeat("*", MaxCronLength+1), "", "cron"},
		{"* * * * *", "Mars/Olympus", "timezone"},
		{"* * * * *", "Local", "timezone"},
	} {
		_, err := ParseCron(tt.expr, tt.tz)
		assertField(t, err, tt.field, tt.expr+" in "+tt.tz)
	}
	for _, in := range []string{"", "soon", "999ms", "0s", "-5s", "1500us", "9000h"} {
		_, err := ParseInterval(in)
		assertField(t, err, "interval", in)
	}
	if d, err := ParseInterval("1m30s"); err != nil || d != 90*time.Second {
		t.Errorf("1m30s: %v, %v", d, err)
	}
}

func assertField(t *testing.T, err error, field, what string) {
	t.Helper()
	var ve *workflow.ValidationError
	if !errors.As(err, &ve) {
		t.Errorf("%s: error %v, want a validation error", what, err)
		return
	}
	for _, p := range ve.Problems {
		if p.Field == field {
			return
		}
	}
	t.Errorf("%s: problems %v name no field %q", what, ve.Messages(), field)
}

func TestNewDefaultsAndRefusals(t *testing.T) {
	t.Parallel()
	s, err := New("id", "wf", Request{Interval: "30s"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if s.Overlap != OverlapSkip || s.CatchUp != CatchUpOne || s.CatchUpLimit != DefaultCatchUpLimit || s.Timezone != "UTC" ||
		string(s.Input) != "{}" || !s.NextFireAt.Equal(t0.Add(30*time.Second)) {
		t.Errorf("defaults: %+v", s)
	}
	limit := 0
	for _, tt := range []struct {
		r     Request
		field string
	}{
		{Request{}, "cron"},
		{Request{Cron: "* * * * *", Interval: "1m"}, "cron"},
		{Request{Interval: "1m", Timezone: "Nowhere/Else"}, "timezone"},
		{Request{Interval: "1m", Overlap: "queue"}, "overlap"},
		{Request{Interval: "1m", CatchUp: "some"}, "catchUp"},
		{Request{Interval: "1m", CatchUpLimit: &limit}, "catchUpLimit"},
		{Request{Interval: "1m", Name: strings.Repeat("n", MaxNameLength+1)}, "name"},
	} {
		_, err := New("id", "wf", tt.r, t0)
		assertField(t, err, tt.field, tt.field)
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		o      Overlap
		active bool
		want   Action
	}{
		{OverlapSkip, false, Start}, {OverlapSkip, true, Skip},
		{OverlapAllow, false, Start}, {OverlapAllow, true, Start},
		{OverlapCancelPrevious, false, Start}, {OverlapCancelPrevious, true, CancelThenStart},
	} {
		if got := Decide(tt.o, tt.active); got != tt.want {
			t.Errorf("Decide(%s, %v) = %v, want %v", tt.o, tt.active, got, tt.want)
		}
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	s := Every(time.Minute, t0)
	due := t0.Add(time.Minute)
	misfire := 10 * time.Second
	sec := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }
	tests := []struct {
		name       string
		now        time.Time
		c          CatchUp
		limit      int
		fire       []time.Time
		missed     int
		wantNextAt time.Time
	}{
		{"on time", sec(60), CatchUpNone, 10, []time.Time{sec(60)}, 0, sec(120)},
		{"slightly late still fires", sec(69), CatchUpNone, 10, []time.Time{sec(60)}, 0, sec(120)},
		{"not due", sec(59), CatchUpAll, 10, nil, 0, sec(60)},
		// Downtime from 12:01 to 12:10:30: ticks 12:01..12:10 are missed.
		{"none", sec(630), CatchUpNone, 10, nil, 10, sec(660)},
		{"one", sec(630), CatchUpOne, 10, []time.Time{sec(600)}, 9, sec(660)},
		{"all within limit", sec(630), CatchUpAll, 10, ticksFrom(sec(60), time.Minute, 10), 0, sec(660)},
		{"all beyond limit keeps the newest", sec(630), CatchUpAll, 3, ticksFrom(sec(480), time.Minute, 3), 7, sec(660)},
		// The 12:10 tick is on time: it fires under every policy, and "one" adds nothing to it.
		{"one with a tick on time", sec(605), CatchUpOne, 10, []time.Time{sec(600)}, 9, sec(660)},
		{"none with a tick on time", sec(605), CatchUpNone, 10, []time.Time{sec(600)}, 9, sec(660)},
		{"all with a tick on time", sec(605), CatchUpAll, 2, []time.Time{sec(480), sec(540), sec(600)}, 7, sec(660)},
	}
	for _, tt := range tests {
		p := s.Plan(due, tt.now, tt.c, tt.limit, misfire)
		if !equalTimes(p.Fire, tt.fire) || p.Missed != tt.missed || !p.Next.Equal(tt.wantNextAt) {
			t.Errorf("%s: plan fire %v missed %d next %v; want %v, %d, %v", tt.name, p.Fire, p.Missed, p.Next, tt.fire, tt.missed, tt.wantNextAt)
		}
	}
}

// A long outage of a schedule firing every second is not walked tick by tick without bound:
// an interval is computed in closed form (the 5 newest missed ticks and the 11 on time fire),
// a cron walk stops after 10·maxTicks ticks (5 of those fire); either goes on after now.
func TestPlanLongOutageIsBounded(t *testing.T) {
	t.Parallel()
	now := t0.Add(30 * 24 * time.Hour)
	for _, tt := range []struct {
		s    Spec
		fire int
	}{{Every(time.Second, t0), 5 + 11}, {mustCron(t, "* * * * * *", ""), 5}} {
		p := tt.s.Plan(t0.Add(time.Second), now, CatchUpAll, 5, 10*time.Second)
		if len(p.Fire) != tt.fire {
			t.Errorf("fired %d ticks, want %d", len(p.Fire), tt.fire)
		}
		if p.Missed <= 0 || !p.Next.After(now) {
			t.Errorf("missed %d, next %v", p.Missed, p.Next)
		}
	}
}

func TestResumeAt(t *testing.T) {
	t.Parallel()
	s := Every(time.Minute, t0)
	paused := t0.Add(time.Minute) // the tick that was next when paused
	now := t0.Add(10*time.Minute + 5*time.Second)
	if got := s.ResumeAt(paused, now, CatchUpNone); !got.Equal(t0.Add(11 * time.Minute)) {
		t.Errorf("none: %v", got)
	}
	for _, c := range []CatchUp{CatchUpOne, CatchUpAll} {
		if got := s.ResumeAt(paused, now, c); !got.Equal(t0.Add(10 * time.Minute)) {
			t.Errorf("%s: %v, want the latest tick of the pause only", c, got)
		}
	}
	future := now.Add(time.Minute)
	if got := s.ResumeAt(future, now, CatchUpAll); !got.Equal(future) {
		t.Errorf("a next fire time still ahead changed: %v", got)
	}
}

func TestTickKey(t *testing.T) {
	t.Parallel()
	if got := TickKey("abc", time.UnixMilli(1700000000123)); got != "schedule:abc:1700000000123" {
		t.Errorf("key %q", got)
	}
}

func ticksFrom(start time.Time, step time.Duration, n int) []time.Time {
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i) * step)
	}
	return out
}

func equalTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
