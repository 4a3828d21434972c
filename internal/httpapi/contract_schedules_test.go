package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// The schedule routes: create (cron with a time zone, or an interval) answers the schedule
// with its first fire time; list, get, pause, resume and delete; every invalid field is 422
// naming it, and unknown workflows and schedules 404. A 1 s schedule of a running process
// starts runs by itself, one per tick, recorded as the schedule's last run.
func TestScheduleRoutes(t *testing.T) {
	t.Parallel()
	base := start(t)
	wfID := createWorkflow(t, base, "scheduled", smallDef())
	before := time.Now().UTC().Truncate(time.Millisecond)

	created := call(t, "POST", base+"/workflows/"+wfID+"/schedules", map[string]any{
		"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin", "input": map[string]any{"city": "Berlin"}, "name": "weekday report",
		"overlap": "cancelPrevious", "catchUp": "all", "catchUpLimit": 5,
	}).object(t, http.StatusCreated)
	cronID := uuidField(t, created, "id")
	next := iso(t, created, "nextFireAt")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if local := next.In(berlin); !next.After(before) || local.Hour() != 9 || local.Minute() != 0 || local.Weekday() == time.Saturday || local.Weekday() == time.Sunday {
		t.Errorf("nextFireAt %v (%v in Berlin), want the next weekday 09:00 in Berlin", next, local)
	}
	for k, want := range map[string]any{"workflowId": wfID, "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin", "name": "weekday report",
		"overlap": "cancelPrevious", "catchUp": "all", "catchUpLimit": float64(5), "paused": false, "version": "current",
		"lastFireAt": nil, "lastRunId": nil} {
		if diff := cmp.Diff(want, created[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
	if diff := cmp.Diff(map[string]any{"city": "Berlin"}, created["input"]); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	if _, ok := created["interval"]; ok {
		t.Errorf("a cron schedule has an interval: %v", created)
	}
	iso(t, created, "createdAt")
	iso(t, created, "updatedAt")

	// Defaults of an interval schedule.
	every := call(t, "POST", base+"/workflows/"+wfID+"/schedules", map[string]any{"interval": "1s", "overlap": "allow", "version": 1}).object(t, http.StatusCreated)
	everyID := uuidField(t, every, "id")
	for k, want := range map[string]any{"interval": "1s", "timezone": "UTC", "overlap": "allow", "catchUp": "one", "catchUpLimit": float64(10),
		"version": float64(1), "input": map[string]any{}} {
		if diff := cmp.Diff(want, every[k]); diff != "" {
			t.Errorf("interval schedule %s (-want +got):\n%s", k, diff)
		}
	}

	// List and get.
	list := asObjects(t, call(t, "GET", base+"/workflows/"+wfID+"/schedules", nil).array(t, http.StatusOK))
	if len(list) != 2 || list[0]["id"] != cronID || list[1]["id"] != everyID {
		t.Errorf("list: %v", list)
	}
	if got := call(t, "GET", base+"/schedules/"+cronID, nil).object(t, http.StatusOK); got["id"] != cronID || got["cron"] != "0 9 * * 1-5" {
		t.Errorf("get: %v", got)
	}

	// The 1 s schedule fires by itself: its last run is a run of the workflow that ran.
	var runID string
	testenv.WaitFor(t, 30*time.Second, "the interval schedule to start a run", func() bool {
		got := call(t, "GET", base+"/schedules/"+everyID, nil).object(t, http.StatusOK)
		runID, _ = got["lastRunId"].(string)
		return runID != ""
	})
	if run := waitRun(t, base, runID); run["status"] != "succeeded" || run["workflowId"] != wfID {
		t.Errorf("the scheduled run: %v", run)
	}
	runs := call(t, "GET", base+"/runs?workflowId="+wfID, nil).object(t, http.StatusOK)
	for _, r := range asObjects(t, arrayField(t, runs, "runs")) {
		if key, _ := r["idempotencyKey"].(string); !strings.HasPrefix(key, "schedule:"+everyID+":") {
			t.Errorf("run %v has idempotency key %q, want schedule:%s:<tick>", r["id"], key, everyID)
		}
	}

	// Pause, then resume.
	paused := call(t, "POST", base+"/schedules/"+everyID+"/pause", nil).object(t, http.StatusOK)
	if paused["paused"] != true {
		t.Errorf("pause: %v", paused)
	}
	resumed := call(t, "POST", base+"/schedules/"+everyID+"/resume", nil).object(t, http.StatusOK)
	if resumed["paused"] != false || iso(t, resumed, "nextFireAt").Before(iso(t, paused, "nextFireAt")) {
		t.Errorf("resume: %v after %v", resumed, paused)
	}

	// Delete: 204, then 404 everywhere.
	if r := call(t, "DELETE", base+"/schedules/"+everyID, nil); r.status != http.StatusNoContent || len(r.raw) != 0 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	for _, r := range []resp{
		call(t, "DELETE", base+"/schedules/"+everyID, nil),
		call(t, "GET", base+"/schedules/"+everyID, nil),
		call(t, "POST", base+"/schedules/"+everyID+"/pause", nil),
		call(t, "POST", base+"/schedules/"+missingID+"/resume", nil),
		call(t, "GET", base+"/schedules/not-a-uuid", nil),
	} {
		r.wantError(t, http.StatusNotFound, "Schedule not found", "Not Found")
	}
	for _, r := range []resp{
		call(t, "POST", base+"/workflows/"+missingID+"/schedules", map[string]any{"interval": "1m"}),
		call(t, "GET", base+"/workflows/"+missingID+"/schedules", nil),
		call(t, "POST", base+"/workflows/nope/schedules", map[string]any{"interval": "1m"}),
	} {
		r.wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
	}

	// Invalid fields: 422 naming each.
	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"cron": "61 * * * *"}, "cron:"},
		{map[string]any{"cron": "@every 5s"}, "cron:"},
		{map[string]any{"cron": "*/5 * * * *", "timezone": "Mars/Olympus"}, "timezone:"},
		{map[string]any{"interval": "500ms"}, "interval:"},
		{map[string]any{"interval": "soon"}, "interval:"},
		{map[string]any{"interval": "1m", "cron": "* * * * *"}, "cron:"},
		{map[string]any{}, "cron:"},
		{map[string]any{"interval": "1m", "overlap": "queue"}, "overlap:"},
		{map[string]any{"interval": "1m", "catchUp": "some"}, "catchUp:"},
		{map[string]any{"interval": "1m", "catchUp": "all", "catchUpLimit": 101}, "catchUpLimit:"},
		{map[string]any{"interval": "1m", "version": "pinned"}, "version:"},
		{map[string]any{"interval": "1m", "version": 7}, "version: the workflow has no version 7"},
		{map[string]any{"interval": "1m", "input": []int{1}}, "input:"},
		{map[string]any{"interval": "1m", "every": "day"}, "every"},
		{map[string]any{"interval": 60}, "interval"},
		{"{", "body"},
	} {
		wantUnprocessable(t, call(t, "POST", base+"/workflows/"+wfID+"/schedules", tc.body), tc.field)
	}
	got := call(t, "POST", base+"/workflows/"+wfID+"/schedules", map[string]any{"interval": "0s"}).object(t, http.StatusUnprocessableEntity)
	if got["statusCode"] != float64(422) || got["error"] != "Unprocessable Entity" {
		t.Errorf("422 body %v", got)
	}

	// Deleting the workflow deletes its schedules.
	call(t, "DELETE", base+"/workflows/"+wfID+"?force=true", nil).object(t, http.StatusOK)
	call(t, "GET", base+"/schedules/"+cronID, nil).wantError(t, http.StatusNotFound, "Schedule not found", "Not Found")

	s := call(t, "GET", base+"/metrics", nil)
	if !strings.Contains(string(s.raw), "sequenceflow_schedule_ticks_fired_total") || !strings.Contains(string(s.raw), `sequenceflow_schedule_ticks_skipped_total{reason="overlap"}`) {
		t.Error("/metrics lacks the schedule metrics")
	}
}
