package store_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// A retry's run is stored with its lineage and its tasks as planned: a reused task completed
// with its output, handles (NULL, empty and chosen ones kept apart) and counters, the run's
// counter counting only the tasks still to finish; SourceRun reads them back.
func TestStoreRerunTasksAndSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	parentID, _, err := st.CreateRun(ctx, newRun(w, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	r := newRun(w, "", nil)
	r.ParentRunID, r.Origin, r.RerunFromNodeID = parentID, engine.OriginRerun, "note"
	r.Deadline = r.Now.Add(90 * time.Second)
	r.Tasks = []engine.NewTask{
		{ID: engine.TaskID(r.ID, "in"), NodeID: "in", NodeType: workflow.TypeInputText, Status: workflow.TaskCompleted, Input: json.RawMessage(`{}`), Output: json.RawMessage(`{"a":1}`)},
		{ID: engine.TaskID(r.ID, "if"), NodeID: "if", NodeType: workflow.TypeIfElse, Status: workflow.TaskCompleted, Output: json.RawMessage(`{}`), Handles: []string{"out-true"}, Activated: 1},
		{ID: engine.TaskID(r.ID, "d"), NodeID: "d", NodeType: workflow.TypeDecision, Status: workflow.TaskCompleted, Output: json.RawMessage(`{}`), Handles: []string{},
			Outcome: engine.TaskOutcomeFailedContinued, Error: "boom"},
		{ID: engine.TaskID(r.ID, "no"), NodeID: "no", NodeType: workflow.TypeNotification, Status: workflow.TaskSkipped},
		{ID: engine.TaskID(r.ID, "note"), NodeID: "note", NodeType: workflow.TypeNotification, Status: workflow.TaskQueued, Input: json.RawMessage(`{"a":1}`), Activated: 1},
		{ID: engine.TaskID(r.ID, "last"), NodeID: "last", NodeType: workflow.TypeNotification, Status: workflow.TaskPending, Unresolved: 1},
	}
	id, created, err := st.CreateRun(ctx, r)
	if err != nil || !created {
		t.Fatalf("create: %v %v", created, err)
	}
	var pending int
	if err := st.Pool().QueryRow(ctx, `SELECT pending_tasks FROM runs WHERE id = $1`, id).Scan(&pending); err != nil || pending != 2 {
		t.Errorf("pending_tasks %d (%v), want 2", pending, err)
	}
	src, err := st.SourceRun(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if src.WorkflowID != w.ID || src.VersionID != w.VersionID || src.Status != workflow.RunRunning || src.Timeout != 90*time.Second || src.FailedNodes != 0 {
		t.Errorf("source %+v", src)
	}
	byNode := map[string]engine.PriorTask{}
	for _, p := range src.Tasks {
		byNode[p.NodeID] = p
	}
	if p := byNode["in"]; p.Status != workflow.TaskCompleted || string(p.Output) != `{"a": 1}` || p.Handles != nil {
		t.Errorf("in: %+v", p)
	}
	if p := byNode["if"]; !slices.Equal(p.Handles, []string{"out-true"}) {
		t.Errorf("if handles %#v", p.Handles)
	}
	if p := byNode["d"]; p.Handles == nil || len(p.Handles) != 0 || p.Outcome != engine.TaskOutcomeFailedContinued || p.Error != "boom" {
		t.Errorf("d: %+v (handles %#v)", p, p.Handles)
	}
	if p := byNode["no"]; p.Status != workflow.TaskSkipped || p.Output != nil {
		t.Errorf("no: %+v", p)
	}
	var activated, unresolved int
	if err := st.Pool().QueryRow(ctx, `SELECT activated_parents, unresolved_parents FROM tasks WHERE run_id = $1 AND node_id = 'last'`, id).Scan(&activated, &unresolved); err != nil || activated != 0 || unresolved != 1 {
		t.Errorf("last: activated %d unresolved %d (%v)", activated, unresolved, err)
	}
	v, err := st.RunView(ctx, workflow.RunKey{RunID: id}, workflow.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Lineage.ParentRunID != parentID || v.Lineage.Origin != engine.OriginRerun || v.Lineage.RerunFromNodeID != "note" {
		t.Errorf("lineage %+v", v.Lineage)
	}
}

// A run's detail lists at most store.MaxReruns runs made from it, newest first; deleting the
// parent keeps them and clears their parent.
func TestStoreRerunsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := openStore(t, testenv.Database(t))
	w := newWorkflow(t, st)
	parentID, _, err := st.CreateRun(ctx, newRun(w, "", nil))
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour)
	var children []string
	for i := range store.MaxReruns + 5 {
		r := newRun(w, "", nil)
		r.Now = base.Add(time.Duration(i) * time.Second)
		r.ParentRunID, r.Origin = parentID, engine.OriginRetry
		id, _, err := st.CreateRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, id)
	}
	v, err := st.RunView(ctx, workflow.RunKey{RunID: parentID}, workflow.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Lineage.Reruns) != store.MaxReruns {
		t.Fatalf("%d reruns listed, want %d", len(v.Lineage.Reruns), store.MaxReruns)
	}
	for i, x := range v.Lineage.Reruns {
		if want := children[len(children)-1-i]; x.ID != want || x.Origin != engine.OriginRetry || x.Status != workflow.RunRunning {
			t.Fatalf("rerun %d: %+v, want %s (newest first)", i, x, want)
		}
	}
	if _, err := st.Pool().Exec(ctx, `DELETE FROM runs WHERE id = $1`, parentID); err != nil {
		t.Fatal(err)
	}
	v, err = st.RunView(ctx, workflow.RunKey{RunID: children[0]}, workflow.Page{})
	if err != nil || v.Lineage.ParentRunID != "" || v.Lineage.Origin != engine.OriginRetry {
		t.Errorf("after deleting the parent: %+v, %v; want no parent, kind kept", v.Lineage, err)
	}
}
