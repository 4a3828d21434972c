package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// A workflow's versions: listed newest first with their hashes, each readable with its
// definition, and each startable by number.
func TestContractVersions(t *testing.T) {
	t.Parallel()
	base := start(t)
	v1 := smallDef()
	id := createWorkflow(t, base, "versioned", v1)
	v2 := workflowtest.New().Input("in").Notify("note", "Bye {{city}}").Chain("in", "note").Build()
	call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "versioned", "workflow": v2}).object(t, http.StatusOK)
	// v3 repeats v1: same definition, same hash.
	call(t, "PUT", base+"/workflows/"+id, map[string]any{"name": "versioned", "workflow": v1}).object(t, http.StatusOK)

	hash := func(def workflow.Definition) string {
		h, err := workflow.DefinitionHash(def)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	list := call(t, "GET", base+"/workflows/"+id+"/versions", nil).object(t, http.StatusOK)
	if list["nextCursor"] != nil {
		t.Errorf("nextCursor = %v on the only page, want null", list["nextCursor"])
	}
	versions := asObjects(t, arrayField(t, list, "versions"))
	if len(versions) != 3 {
		t.Fatalf("%d versions, want 3: %v", len(versions), versions)
	}
	for i, want := range []struct {
		version float64
		current bool
		hash    string
	}{{3, true, hash(v1)}, {2, false, hash(v2)}, {1, false, hash(v1)}} {
		got := versions[i]
		if got["version"] != want.version || got["current"] != want.current || got["hash"] != want.hash || got["nodes"] != float64(2) || got["edges"] != float64(1) {
			t.Errorf("versions[%d] = %v, want version %v current %v hash %s with 2 nodes and 1 edge", i, got, want.version, want.current, want.hash)
		}
		iso(t, got, "createdAt")
	}
	if versions[0]["hash"] == versions[1]["hash"] || !strings.HasPrefix(str(t, versions[0], "hash"), "sha256:") {
		t.Errorf("hashes %v and %v: want distinct sha256: hashes for different definitions", versions[0]["hash"], versions[1]["hash"])
	}

	// Pages of one, newest first, until a null cursor.
	var seen []float64
	path := "/workflows/" + id + "/versions?limit=1"
	for range 4 {
		page := call(t, "GET", base+path, nil).object(t, http.StatusOK)
		for _, v := range asObjects(t, arrayField(t, page, "versions")) {
			seen = append(seen, num(t, v, "version"))
		}
		next, _ := page["nextCursor"].(string)
		if next == "" {
			break
		}
		path = "/workflows/" + id + "/versions?limit=1&cursor=" + next
	}
	if len(seen) != 3 || seen[0] != 3 || seen[1] != 2 || seen[2] != 1 {
		t.Errorf("paged versions = %v, want [3 2 1]", seen)
	}
	call(t, "GET", base+"/workflows/"+id+"/versions?cursor=zz", nil).wantProblem(t, "cursor")
	call(t, "GET", base+"/workflows/"+id+"/versions?limit=0", nil).wantProblem(t, "limit")

	one := call(t, "GET", base+"/workflows/"+id+"/versions/2", nil).object(t, http.StatusOK)
	if one["workflowId"] != id || one["version"] != float64(2) || one["current"] != false || one["hash"] != hash(v2) {
		t.Errorf("version 2 = %v", one)
	}
	sameJSON(t, "version 2's nodes", v2.Nodes, one["nodes"])
	sameJSON(t, "version 2's edges", v2.Edges, one["edges"])
	for _, p := range []string{"/versions/4", "/versions/0", "/versions/abc", "/versions/-1"} {
		call(t, "GET", base+"/workflows/"+id+p, nil).wantError(t, http.StatusNotFound, "Workflow version not found", "Not Found")
	}
	call(t, "GET", base+"/workflows/"+missingID+"/versions/1", nil).wantError(t, http.StatusNotFound, "Workflow version not found", "Not Found")
	call(t, "GET", base+"/workflows/"+missingID+"/versions", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")

	// A run of version 2 executes version 2's definition; without a version, the current one.
	byNumber := call(t, "POST", base+"/workflows/"+id+"/execute-async", map[string]any{"input": map[string]any{"city": "Oslo"}, "version": 2}).object(t, http.StatusCreated)
	run := waitRun(t, base, uuidField(t, byNumber, "runId"))
	if run["version"] != float64(2) || !strings.Contains(lastNodeOutput(t, run), "Bye Oslo") {
		t.Errorf("run of version 2: version %v, output %q; want version 2 saying Bye Oslo", run["version"], lastNodeOutput(t, run))
	}
	current := waitRun(t, base, startRun(t, base, id, map[string]any{"city": "Oslo"}))
	if current["version"] != float64(3) || !strings.Contains(lastNodeOutput(t, current), "Hello Oslo") {
		t.Errorf("run of the current version: version %v, output %q; want version 3 saying Hello Oslo", current["version"], lastNodeOutput(t, current))
	}
	for _, bad := range []any{0, -1, 1.5, "2", true} {
		call(t, "POST", base+"/workflows/"+id+"/execute-async", map[string]any{"version": bad}).wantProblem(t, "version")
	}
	call(t, "POST", base+"/workflows/"+id+"/execute-async", map[string]any{"version": 9}).wantProblem(t, "version", "no version 9")
	call(t, "POST", base+"/workflows/"+missingID+"/execute-async", map[string]any{"version": 1}).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")

	// An idempotency key names one request, version included.
	keyed := map[string]any{"idempotencyKey": "versioned-once", "version": 1}
	first := call(t, "POST", base+"/workflows/"+id+"/execute-async", keyed).object(t, http.StatusCreated)
	again := call(t, "POST", base+"/workflows/"+id+"/execute-async", keyed).object(t, http.StatusCreated)
	if first["runId"] != again["runId"] {
		t.Errorf("the same keyed request started two runs: %v and %v", first["runId"], again["runId"])
	}
	keyed["version"] = 2
	call(t, "POST", base+"/workflows/"+id+"/execute-async", keyed).expect(t, http.StatusUnprocessableEntity)
}

// lastNodeOutput is the message of a run's last node-output log line.
func lastNodeOutput(t *testing.T, run map[string]any) string {
	t.Helper()
	out := ""
	for _, l := range asObjects(t, arrayField(t, run, "logs")) {
		if l["type"] == "node-output" {
			out, _ = l["message"].(string)
		}
	}
	return out
}
