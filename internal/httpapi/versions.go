package httpapi

import (
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

const versionNotFound = "Workflow version not found"

// versionSummaryView is a version in the version list: its number, whether it is current,
// when it was made, its definition hash (workflow.DefinitionHash) and its size.
type versionSummaryView struct {
	Version   int     `json:"version"`
	Current   bool    `json:"current"`
	CreatedAt isoTime `json:"createdAt"`
	Hash      string  `json:"hash"`
	Nodes     int     `json:"nodes"`
	Edges     int     `json:"edges"`
}

// versionView is one version with its definition, nodes and edges as the workflow routes
// show them.
type versionView struct {
	WorkflowID string `json:"workflowId"`
	versionSummaryView
	Nodes []workflow.Node `json:"nodes"`
	Edges []workflow.Edge `json:"edges"`
}

func summarizeVersion(v workflow.Version) (versionSummaryView, error) {
	hash, err := workflow.DefinitionHash(v.Definition)
	return versionSummaryView{Version: v.Version, Current: v.Current, CreatedAt: isoTime(v.CreatedAt), Hash: hash,
		Nodes: len(v.Definition.Nodes), Edges: len(v.Definition.Edges)}, err
}

// listVersions answers one page of a workflow's versions, newest first:
// {"versions": [...], "nextCursor"} (null after the last page).
func (a *API) listVersions(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, workflowNotFound)
		return
	}
	page, err := pageOf(r)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	versions, next, err := a.Workflows.ListVersions(r.Context(), id, page)
	if err != nil {
		a.fail(w, r, err, workflowNotFound)
		return
	}
	out := make([]versionSummaryView, len(versions))
	for i, v := range versions {
		if out[i], err = summarizeVersion(v); err != nil {
			a.fail(w, r, err, workflowNotFound)
			return
		}
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": out, "nextCursor": nextCursor})
}

// getVersion answers one version of a workflow with its definition.
func (a *API) getVersion(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	n, err := strconv.Atoi(chi.URLParam(r, "version"))
	if !ok || err != nil || n < 1 {
		a.fail(w, r, workflow.ErrNotFound, versionNotFound)
		return
	}
	v, err := a.Workflows.GetVersion(r.Context(), id, n)
	if err != nil {
		a.fail(w, r, err, versionNotFound)
		return
	}
	summary, err := summarizeVersion(v)
	if err != nil {
		a.fail(w, r, err, versionNotFound)
		return
	}
	view := versionView{WorkflowID: v.WorkflowID, versionSummaryView: summary, Nodes: v.Definition.Nodes, Edges: v.Definition.Edges}
	if view.Nodes == nil {
		view.Nodes = []workflow.Node{}
	}
	if view.Edges == nil {
		view.Edges = []workflow.Edge{}
	}
	writeJSON(w, http.StatusOK, view)
}
