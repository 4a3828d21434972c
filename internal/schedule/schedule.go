package schedule

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// MaxPerWorkflow bounds a workflow's schedules, and so the list route's answer.
const MaxPerWorkflow = 100

// ErrTooMany refuses a schedule beyond MaxPerWorkflow.
var ErrTooMany = fmt.Errorf("%w: the workflow already has %d schedules, the most allowed", workflow.ErrConflict, MaxPerWorkflow)

// MaxNameLength bounds a schedule's name, in characters.
const MaxNameLength = 200

// Schedule is a stored schedule.
type Schedule struct {
	ID         string
	WorkflowID string
	Name       string
	// Cron (with Timezone) or Interval: exactly one is set.
	Cron     string
	Timezone string
	Interval time.Duration
	// Input is the input of every run it starts (a JSON object).
	Input json.RawMessage
	// Version pins a workflow version number; 0 runs the current version at each tick.
	Version      int
	Overlap      Overlap
	CatchUp      CatchUp
	CatchUpLimit int
	Paused       bool
	// NextFireAt is the next tick to fire; LastFireAt and LastRunID the latest tick that
	// started a run and that run (zero and "" before the first).
	NextFireAt time.Time
	LastFireAt time.Time
	LastRunID  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Spec is the schedule's timetable.
func (s Schedule) Spec() (Spec, error) {
	if s.Cron != "" {
		return ParseCron(s.Cron, s.Timezone)
	}
	if s.Interval < MinInterval {
		return Spec{}, fmt.Errorf("schedule %s has no cron expression and an interval of %v", s.ID, s.Interval)
	}
	return Every(s.Interval, s.CreatedAt), nil
}

// Request is what a client asks for to create a schedule; the API decodes it from JSON.
type Request struct {
	Name     string
	Cron     string
	Timezone string
	Interval string
	Input    json.RawMessage
	// Version is a version number to pin, 0 for the current version.
	Version      int
	Overlap      string
	CatchUp      string
	CatchUpLimit *int
	Paused       bool
}

// New checks a request and returns the schedule it creates at now, with id, its first fire
// time computed. Every problem is reported, each naming its field.
func New(id, workflowID string, r Request, now time.Time) (Schedule, error) {
	now = now.UTC().Truncate(time.Millisecond)
	s := Schedule{ID: id, WorkflowID: workflowID, Name: strings.TrimSpace(r.Name), Input: r.Input, Version: r.Version,
		Overlap: Overlap(r.Overlap), CatchUp: CatchUp(r.CatchUp), CatchUpLimit: DefaultCatchUpLimit, Paused: r.Paused,
		CreatedAt: now, UpdatedAt: now}
	if len(s.Input) == 0 || string(s.Input) == "null" {
		s.Input = json.RawMessage(`{}`)
	}
	v := &workflow.ValidationError{}
	if utf8.RuneCountInString(s.Name) > MaxNameLength {
		v.Add("name", "must be at most %d characters", MaxNameLength)
	}
	var spec Spec
	switch {
	case r.Cron != "" && r.Interval != "":
		v.Add("cron", "give either cron or interval, not both")
	case r.Cron != "":
		var err error
		if spec, err = ParseCron(r.Cron, r.Timezone); err != nil {
			addProblems(v, err)
		}
		s.Cron, s.Timezone = strings.TrimSpace(r.Cron), r.Timezone
		if s.Timezone == "" {
			s.Timezone = "UTC"
		}
	case r.Interval != "":
		d, err := ParseInterval(r.Interval)
		if err != nil {
			addProblems(v, err)
		}
		if r.Timezone != "" {
			if _, err := LoadTimezone(r.Timezone); err != nil {
				v.Add("timezone", "%v", err)
			}
		}
		s.Interval, s.Timezone = d, "UTC"
		if r.Timezone != "" {
			s.Timezone = r.Timezone
		}
		spec = Every(d, now)
	default:
		v.Add("cron", "give a cron expression (cron) or an interval (interval)")
	}
	switch s.Overlap {
	case "":
		s.Overlap = OverlapSkip
	case OverlapSkip, OverlapAllow, OverlapCancelPrevious:
	default:
		v.Add("overlap", "must be skip, allow or cancelPrevious, got %q", r.Overlap)
	}
	switch s.CatchUp {
	case "":
		s.CatchUp = CatchUpOne
	case CatchUpNone, CatchUpOne, CatchUpAll:
	default:
		v.Add("catchUp", "must be none, one or all, got %q", r.CatchUp)
	}
	if r.CatchUpLimit != nil {
		if *r.CatchUpLimit < 1 || *r.CatchUpLimit > MaxCatchUpLimit {
			v.Add("catchUpLimit", "must be from 1 to %d, got %d", MaxCatchUpLimit, *r.CatchUpLimit)
		}
		s.CatchUpLimit = *r.CatchUpLimit
	}
	if r.Version < 0 {
		v.Add("version", "must be \"current\" or a version number of at least 1")
	}
	if err := v.OrNil(); err != nil {
		return Schedule{}, err
	}
	s.NextFireAt = spec.Next(now)
	return s, nil
}

func addProblems(v *workflow.ValidationError, err error) {
	var ve *workflow.ValidationError
	if errors.As(err, &ve) {
		v.Problems = append(v.Problems, ve.Problems...)
		return
	}
	v.Add("", "%v", err)
}
