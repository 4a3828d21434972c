package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

const workflowNotFound = "Workflow not found"

type workflowSummaryView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	UpdatedAt int64  `json:"updatedAt"`
}

type workflowView struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Version   int             `json:"version"`
	Nodes     []workflow.Node `json:"nodes"`
	Edges     []workflow.Edge `json:"edges"`
	CreatedAt int64           `json:"createdAt"`
	UpdatedAt int64           `json:"updatedAt"`
}

func viewWorkflow(w workflow.Workflow) workflowView {
	v := workflowView{ID: w.ID, Name: w.Name, Version: w.Version, Nodes: w.Definition.Nodes, Edges: w.Definition.Edges,
		CreatedAt: millis(w.CreatedAt), UpdatedAt: millis(w.UpdatedAt)}
	if v.Nodes == nil {
		v.Nodes = []workflow.Node{}
	}
	if v.Edges == nil {
		v.Edges = []workflow.Edge{}
	}
	return v
}

// pathID returns a path parameter that must be a UUID in its canonical form (8-4-4-4-12 hex
// digits, any case); anything else, including the other spellings uuid.Parse accepts
// (urn:uuid:, braces, no hyphens), cannot name a stored object, so callers answer 404.
func pathID(r *http.Request, name string) (string, bool) {
	id := chi.URLParam(r, name)
	if !canonicalID(id) {
		return "", false
	}
	return strings.ToLower(id), true
}

// canonicalID reports whether s is a UUID in its canonical 8-4-4-4-12 form, any case.
func canonicalID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

func (a *API) listWorkflows(w http.ResponseWriter, r *http.Request) {
	list, err := a.Workflows.ListWorkflows(r.Context())
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	out := make([]workflowSummaryView, len(list))
	for i, s := range list {
		out[i] = workflowSummaryView{ID: s.ID, Name: s.Name, UpdatedAt: millis(s.UpdatedAt)}
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) getWorkflow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, workflowNotFound)
		return
	}
	wf, err := a.Workflows.GetWorkflow(r.Context(), id)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	writeJSON(w, http.StatusOK, viewWorkflow(wf))
}

// createBody is POST /workflows: {"name", "workflow": {"nodes", "edges"}}.
type createBody struct {
	Name     *string  `json:"name"`
	Workflow *graphIn `json:"workflow"`
}

func (a *API) createWorkflow(w http.ResponseWriter, r *http.Request) {
	body, err := a.readBody(w, r)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	var in createBody
	if err := decodeStrict(body, &in, "body"); err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	if in.Workflow == nil {
		a.fail(w, r, workflow.Invalid("workflow", "must be an object with nodes and edges"), workflowNotFound)
		return
	}
	name, def, err := a.checkDefinition(in.Name, *in.Workflow)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	wf, err := a.Workflows.CreateWorkflow(r.Context(), name, def, a.Now())
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	writeJSON(w, http.StatusCreated, viewWorkflow(wf))
}

// updateBody is PUT /workflows/{id} in either form: flat {"id", "name", "version", "nodes",
// "edges", "createdAt", "updatedAt"} (what GET /workflows/{id} returns and the front end
// sends back) or nested {"name", "workflow", "createdAt"}. The id, version and timestamps are
// checked but ignored: the path names the workflow, and every update writes a new version
// with timestamps the database manages.
type updateBody struct {
	ID        *string          `json:"id"`
	Name      *string          `json:"name"`
	Version   *json.RawMessage `json:"version"`
	Nodes     *[]nodeIn        `json:"nodes"`
	Edges     *[]edgeIn        `json:"edges"`
	Workflow  *graphIn         `json:"workflow"`
	CreatedAt *json.RawMessage `json:"createdAt"`
	UpdatedAt *json.RawMessage `json:"updatedAt"`
}

func (a *API) updateWorkflow(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, workflowNotFound)
		return
	}
	body, err := a.readBody(w, r)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	var in updateBody
	if err := decodeStrict(body, &in, "body"); err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	v := &workflow.ValidationError{}
	for field, raw := range map[string]*json.RawMessage{"createdAt": in.CreatedAt, "updatedAt": in.UpdatedAt} {
		var n int64
		if raw != nil && string(*raw) != "null" && json.Unmarshal(*raw, &n) != nil {
			v.Add(field, "must be an integer (epoch milliseconds)")
		}
	}
	if raw := in.Version; raw != nil && string(*raw) != "null" {
		var n int64
		if json.Unmarshal(*raw, &n) != nil || n < 1 {
			v.Add("version", "must be a positive integer (the version GET returned; it is ignored)")
		}
	}
	if err := v.OrNil(); err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	var g graphIn
	switch {
	case in.Nodes != nil && in.Edges != nil:
		g = graphIn{Nodes: in.Nodes, Edges: in.Edges}
	case in.Workflow != nil:
		g = *in.Workflow
	default:
		a.fail(w, r, workflow.Invalid("body", "must carry nodes and edges, or workflow: {nodes, edges}"), workflowNotFound)
		return
	}
	name, def, err := a.checkDefinition(in.Name, g)
	if err == nil {
		err = workflow.CheckSelfInvoke(def, id)
	}
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	wf, err := a.Workflows.UpdateWorkflow(r.Context(), id, name, def, a.Now())
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	writeJSON(w, http.StatusOK, viewWorkflow(wf))
}

// checkDefinition validates a name and a graph: shapes, then graph rules and node configs.
func (a *API) checkDefinition(name *string, g graphIn) (string, workflow.Definition, error) {
	v := &workflow.ValidationError{}
	if name == nil || strings.TrimSpace(*name) == "" {
		v.Add("", "name should not be empty") // the seed's wording
	}
	def, err := g.toDefinition()
	if err != nil {
		return "", def, appendProblems(v, err)
	}
	if err := v.OrNil(); err != nil {
		return "", def, err
	}
	if err := workflow.Validate(def, a.cfg.Limits, a.ValidateConfig); err != nil {
		return "", def, err
	}
	return *name, def, nil
}

func appendProblems(v *workflow.ValidationError, err error) error {
	if ve, ok := err.(*workflow.ValidationError); ok {
		v.Problems = append(v.Problems, ve.Problems...)
		return v
	}
	return err
}

// deleteWorkflow deletes a workflow and its history. With runs queued or running it answers
// 409, unless force=true: then it cancels them first (a run finishing meanwhile is fine).
func (a *API) deleteWorkflow(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	force := false
	if s := q.Get("force"); s != "" {
		if force, err = strconv.ParseBool(s); err != nil {
			a.fail(w, r, workflow.Invalid("force", "must be true or false"), workflowNotFound)
			return
		}
	}
	id, ok := pathID(r, "id")
	if !ok {
		writeJSON(w, http.StatusOK, map[string]bool{"deleted": true}) // the seed answers so for any id
		return
	}
	err = a.Workflows.DeleteWorkflow(r.Context(), id)
	// A run may start between the cancels and the delete; a few rounds catch up with a client
	// that keeps starting runs, which then gets the conflict.
	for round := 0; force && round < 3 && errors.Is(err, workflow.ErrRunsInFlight); round++ {
		if err = a.cancelInFlight(r, id); err == nil {
			err = a.Workflows.DeleteWorkflow(r.Context(), id)
		}
	}
	if errors.Is(err, workflow.ErrRunsInFlight) {
		err = errorf(http.StatusConflict, "Workflow has runs queued or running; cancel them or delete with ?force=true")
	}
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
}

// cancelInFlight cancels every run of a workflow that is queued or running.
func (a *API) cancelInFlight(r *http.Request, workflowID string) error {
	ids, err := a.Workflows.RunsInFlightOf(r.Context(), workflowID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := a.Engine.Cancel(r.Context(), id); err != nil && !errors.Is(err, workflow.ErrConflict) && !errors.Is(err, workflow.ErrNotFound) {
			return err
		}
	}
	return nil
}
