package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/schedule"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

const scheduleNotFound = "Schedule not found"

// ScheduleStore reads and writes schedules (store.Store).
type ScheduleStore interface {
	CreateSchedule(ctx context.Context, s schedule.Schedule) (schedule.Schedule, error)
	GetSchedule(ctx context.Context, id string) (schedule.Schedule, error)
	ListSchedules(ctx context.Context, workflowID string) ([]schedule.Schedule, error)
	DeleteSchedule(ctx context.Context, id string) error
	PauseSchedule(ctx context.Context, id string, now time.Time) (schedule.Schedule, error)
	ResumeSchedule(ctx context.Context, id string, now time.Time) (schedule.Schedule, error)
}

// scheduleBody is POST /workflows/{id}/schedules.
type scheduleBody struct {
	Name         *string         `json:"name"`
	Cron         *string         `json:"cron"`
	Timezone     *string         `json:"timezone"`
	Interval     *string         `json:"interval"`
	Input        json.RawMessage `json:"input"`
	Version      json.RawMessage `json:"version"`
	Overlap      *string         `json:"overlap"`
	CatchUp      *string         `json:"catchUp"`
	CatchUpLimit *float64        `json:"catchUpLimit"`
	Paused       *bool           `json:"paused"`
}

// scheduleView is a schedule as the API answers it. version is "current" or a number;
// lastFireAt and lastRunId are null before the first tick that started a run.
type scheduleView struct {
	ID           string          `json:"id"`
	WorkflowID   string          `json:"workflowId"`
	Name         string          `json:"name,omitempty"`
	Cron         string          `json:"cron,omitempty"`
	Interval     string          `json:"interval,omitempty"`
	Timezone     string          `json:"timezone"`
	Input        json.RawMessage `json:"input"`
	Version      any             `json:"version"`
	Overlap      string          `json:"overlap"`
	CatchUp      string          `json:"catchUp"`
	CatchUpLimit int             `json:"catchUpLimit"`
	Paused       bool            `json:"paused"`
	NextFireAt   isoTime         `json:"nextFireAt"`
	LastFireAt   *isoTime        `json:"lastFireAt"`
	LastRunID    *string         `json:"lastRunId"`
	CreatedAt    isoTime         `json:"createdAt"`
	UpdatedAt    isoTime         `json:"updatedAt"`
}

func viewSchedule(s schedule.Schedule) scheduleView {
	v := scheduleView{ID: s.ID, WorkflowID: s.WorkflowID, Name: s.Name, Cron: s.Cron, Timezone: s.Timezone, Input: s.Input,
		Version: "current", Overlap: string(s.Overlap), CatchUp: string(s.CatchUp), CatchUpLimit: s.CatchUpLimit, Paused: s.Paused,
		NextFireAt: isoTime(s.NextFireAt), CreatedAt: isoTime(s.CreatedAt), UpdatedAt: isoTime(s.UpdatedAt)}
	if s.Interval > 0 {
		v.Interval = s.Interval.String()
	}
	if s.Version > 0 {
		v.Version = s.Version
	}
	if !s.LastFireAt.IsZero() {
		v.LastFireAt = isoPtr(&s.LastFireAt)
	}
	if s.LastRunID != "" {
		v.LastRunID = &s.LastRunID
	}
	return v
}

// scheduleError answers a schedule route's invalid request 422, naming the field.
func scheduleError(err error) error {
	var ve *workflow.ValidationError
	switch {
	case errors.As(err, &ve):
		return &httpError{status: http.StatusUnprocessableEntity, message: ve.Messages()}
	case errors.Is(err, schedule.ErrTooMany):
		return errorf(http.StatusConflict, "The workflow already has %d schedules, the most allowed; delete one first", schedule.MaxPerWorkflow)
	}
	return err
}

func (a *API) schedules() (ScheduleStore, error) {
	if a.Schedules == nil {
		return nil, errorf(http.StatusNotImplemented, "Schedules are not available on this server")
	}
	return a.Schedules, nil
}

// createSchedule is POST /workflows/{id}/schedules.
func (a *API) createSchedule(w http.ResponseWriter, r *http.Request) {
	sc, err := a.newSchedule(w, r)
	if err != nil {
		a.fail(w, r, scheduleError(err), workflowNotFound)
		return
	}
	writeJSON(w, http.StatusCreated, viewSchedule(sc))
}

func (a *API) newSchedule(w http.ResponseWriter, r *http.Request) (schedule.Schedule, error) {
	st, err := a.schedules()
	if err != nil {
		return schedule.Schedule{}, err
	}
	id, ok := pathID(r, "id")
	if !ok {
		return schedule.Schedule{}, workflow.ErrNotFound
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return schedule.Schedule{}, err
	}
	var in scheduleBody
	if err := decodeStrict(body, &in, "body"); err != nil {
		return schedule.Schedule{}, err
	}
	v := &workflow.ValidationError{}
	req := schedule.Request{Name: str(in.Name), Cron: str(in.Cron), Timezone: str(in.Timezone), Interval: str(in.Interval),
		Overlap: str(in.Overlap), CatchUp: str(in.CatchUp), Paused: in.Paused != nil && *in.Paused}
	if in.Cron != nil && strings.TrimSpace(*in.Cron) == "" {
		v.Add("cron", "must not be empty")
	}
	if in.Interval != nil && strings.TrimSpace(*in.Interval) == "" {
		v.Add("interval", "must not be empty")
	}
	req.Input = objectOr(v, "input", in.Input, "{}")
	if len(req.Input) > a.cfg.MaxInputBytes {
		return schedule.Schedule{}, errorf(http.StatusRequestEntityTooLarge, "input is %d bytes, larger than the limit of %d bytes", len(req.Input), a.cfg.MaxInputBytes)
	}
	req.Version = scheduleVersion(v, in.Version)
	if in.CatchUpLimit != nil {
		n := *in.CatchUpLimit
		if n != math.Trunc(n) || n < 1 || n > schedule.MaxCatchUpLimit {
			v.Add("catchUpLimit", "must be a whole number from 1 to %d", schedule.MaxCatchUpLimit)
		} else {
			limit := int(n)
			req.CatchUpLimit = &limit
		}
	}
	if err := v.OrNil(); err != nil {
		return schedule.Schedule{}, err
	}
	sc, err := schedule.New(uuid.NewString(), id, req, a.Now())
	if err != nil {
		return schedule.Schedule{}, err
	}
	if sc.Version > 0 {
		if _, err := a.Workflows.VersionID(r.Context(), id, sc.Version); errors.Is(err, workflow.ErrNotFound) {
			// The workflow may exist without that version: say which is missing.
			if _, cerr := a.Workflows.CurrentVersion(r.Context(), id); cerr == nil {
				return schedule.Schedule{}, workflow.Invalid("version", "the workflow has no version %d", sc.Version)
			}
			return schedule.Schedule{}, err
		} else if err != nil {
			return schedule.Schedule{}, err
		}
	}
	return st.CreateSchedule(r.Context(), sc)
}

// scheduleVersion reads a schedule's version: "current" (or absent, or null) is 0, a number
// pins that version.
func scheduleVersion(v *workflow.ValidationError, raw json.RawMessage) int {
	switch rawKind(raw) {
	case 0, 'n':
		return 0
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil && s == "current" {
			return 0
		}
	default:
		var n float64
		if err := json.Unmarshal(raw, &n); err == nil && n == math.Trunc(n) && n >= 1 && n <= math.MaxInt32 {
			return int(n)
		}
	}
	v.Add("version", `must be "current" or a version number of at least 1`)
	return 0
}

// listSchedules is GET /workflows/{id}/schedules: the workflow's schedules, oldest first.
func (a *API) listSchedules(w http.ResponseWriter, r *http.Request) {
	list, err := func() ([]schedule.Schedule, error) {
		st, err := a.schedules()
		if err != nil {
			return nil, err
		}
		id, ok := pathID(r, "id")
		if !ok {
			return nil, workflow.ErrNotFound
		}
		return st.ListSchedules(r.Context(), id)
	}()
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	out := make([]scheduleView, len(list))
	for i, s := range list {
		out[i] = viewSchedule(s)
	}
	writeJSON(w, http.StatusOK, out)
}

// scheduleRoute runs one operation on the schedule a route addresses.
func (a *API) scheduleRoute(w http.ResponseWriter, r *http.Request, status int, op func(ScheduleStore, string) (schedule.Schedule, error)) {
	sc, err := func() (schedule.Schedule, error) {
		st, err := a.schedules()
		if err != nil {
			return schedule.Schedule{}, err
		}
		id, ok := pathID(r, "scheduleID")
		if !ok {
			return schedule.Schedule{}, workflow.ErrNotFound
		}
		return op(st, id)
	}()
	if err != nil {
		a.fail(w, r, err, scheduleNotFound)
		return
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, viewSchedule(sc))
}

// getSchedule is GET /schedules/{scheduleID}.
func (a *API) getSchedule(w http.ResponseWriter, r *http.Request) {
	a.scheduleRoute(w, r, http.StatusOK, func(st ScheduleStore, id string) (schedule.Schedule, error) {
		return st.GetSchedule(r.Context(), id)
	})
}

// deleteSchedule is DELETE /schedules/{scheduleID}: 204.
func (a *API) deleteSchedule(w http.ResponseWriter, r *http.Request) {
	a.scheduleRoute(w, r, http.StatusNoContent, func(st ScheduleStore, id string) (schedule.Schedule, error) {
		return schedule.Schedule{}, st.DeleteSchedule(r.Context(), id)
	})
}

// pauseSchedule is POST /schedules/{scheduleID}/pause.
func (a *API) pauseSchedule(w http.ResponseWriter, r *http.Request) {
	a.scheduleRoute(w, r, http.StatusOK, func(st ScheduleStore, id string) (schedule.Schedule, error) {
		return st.PauseSchedule(r.Context(), id, a.Now())
	})
}

// resumeSchedule is POST /schedules/{scheduleID}/resume: the next fire time is recomputed
// from now (schedule.Spec.ResumeAt).
func (a *API) resumeSchedule(w http.ResponseWriter, r *http.Request) {
	a.scheduleRoute(w, r, http.StatusOK, func(st ScheduleStore, id string) (schedule.Schedule, error) {
		return st.ResumeSchedule(r.Context(), id, a.Now())
	})
}
