package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"

	"github.com/go-chi/chi/v5"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// Resumer delivers events to tasks waiting for one (wait nodes); the API's Engine provides it
// when it can.
type Resumer interface {
	Resume(ctx context.Context, req engine.ResumeRequest) (engine.Resumed, error)
}

const (
	waitNotFound   = "Workflow run or node not found"
	resumeNotFound = "Resume URL not found"
)

// resumeToken is the shape of a resume URL's token: 32 random bytes in unpadded base64url.
var resumeToken = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// resumedView answers a delivered event: the task it completed and the handle it took.
type resumedView struct {
	RunID  string `json:"runId"`
	NodeID string `json:"nodeId"`
	TaskID string `json:"taskId"`
	Status string `json:"status"`
	Handle string `json:"handle"`
}

// deliverEvent is POST /workflows[/{id}]/runs/{runID}/events/{nodeID}: the body (any JSON
// value, empty for {}) is the event the wait node continues with.
func (a *API) deliverEvent(w http.ResponseWriter, r *http.Request) {
	key, ok := runKeyOf(r)
	nodeID := chi.URLParam(r, "nodeID")
	if !ok || nodeID == "" {
		a.fail(w, r, workflow.ErrNotFound, waitNotFound)
		return
	}
	a.resume(w, r, engine.ResumeRequest{RunID: key.RunID, WorkflowID: key.WorkflowID, NodeID: nodeID, Via: "events"}, waitNotFound)
}

// resumeByToken is POST /resume/{token}: the public resume URL of one waiting task, whose
// token is its only credential (see the router).
func (a *API) resumeByToken(w http.ResponseWriter, r *http.Request) {
	token := chi.URLParam(r, "token")
	if !resumeToken.MatchString(token) {
		a.fail(w, r, workflow.ErrNotFound, resumeNotFound)
		return
	}
	a.resume(w, r, engine.ResumeRequest{Token: token, Via: "resumeUrl"}, resumeNotFound)
}

func (a *API) resume(w http.ResponseWriter, r *http.Request, req engine.ResumeRequest, notFound string) {
	body, err := a.readBody(w, r)
	if err == nil && len(body) > a.cfg.MaxInputBytes {
		err = errorf(http.StatusRequestEntityTooLarge, "event is %d bytes, larger than the limit of %d bytes", len(body), a.cfg.MaxInputBytes)
	}
	if err == nil && rawKind(body) != 0 && !json.Valid(body) {
		err = workflow.Invalid("body", "must be JSON (the event the wait node continues with)")
	}
	var done engine.Resumed
	if err == nil {
		req.Payload = body
		rs, ok := a.Engine.(Resumer)
		if !ok {
			err = errorf(http.StatusNotImplemented, "Events are not available on this server")
		} else {
			done, err = rs.Resume(r.Context(), req)
		}
	}
	var refusal *engine.ResumeRefusal
	if errors.As(err, &refusal) {
		status := http.StatusConflict
		if refusal.Kind == engine.RefusedNotWaitNode {
			status = http.StatusUnprocessableEntity
		}
		err = errorf(status, "%s", refusal.Reason)
	}
	if err != nil {
		a.fail(w, r, err, notFound)
		return
	}
	writeJSON(w, http.StatusOK, resumedView{RunID: done.RunID, NodeID: done.NodeID, TaskID: done.TaskID, Status: done.Status, Handle: workflow.HandleOut})
}
