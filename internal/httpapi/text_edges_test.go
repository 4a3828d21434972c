package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// Text PostgreSQL cannot store, ids in a non-canonical form and undecodable query strings are
// answered with a 4xx naming the field on every route that takes them, never a 500.
func TestUnstorableTextAndOddIDs(t *testing.T) {
	t.Parallel()
	base := start(t)
	id := createWorkflow(t, base, "small", smallDef())
	nulName := `{"name":"bad\u0000name","workflow":{"nodes":[],"edges":[]}}`
	call(t, "POST", base+"/workflows", nulName).wantProblem(t, "name", "NUL")
	call(t, "PUT", base+"/workflows/"+id, `{"name":"x","nodes":[],"edges":[],"id":"\u0000"}`).wantProblem(t, "id", "NUL")
	call(t, "POST", base+"/workflows", "{\"name\":\"caf\xe9\",\"workflow\":{\"nodes\":[],\"edges\":[]}}").wantProblem(t, "body", "UTF-8")
	for _, route := range []string{"execute-async", "trigger", "execute"} {
		url := base + "/workflows/" + id + "/" + route
		call(t, "POST", url, `{"input":{"city":{"list":["ok","\u0000"]}}}`).wantProblem(t, "input.city.list[1]", "NUL")
		call(t, "POST", url, `{"input":{},"idempotencyKey":"k\u0000"}`).wantProblem(t, "idempotencyKey", "NUL")
		call(t, "POST", url, `{}`, "Idempotency-Key", "key-\xff").wantProblem(t, "Idempotency-Key", "UTF-8")
	}
	call(t, "POST", base+"/api-templates", `{"name":"t\u0000","provider":"p","category":"c","method":"GET","url":"http://x"}`).wantProblem(t, "name", "NUL")
	for _, q := range []string{"provider=%zz", "provider=%00", "category=%ff", "provider=%"} {
		call(t, "GET", base+"/api-templates?"+q, nil).wantProblem(t, strings.SplitN(q, "=", 2)[0])
	}

	// URN, braced and hyphen-less spellings of a real id name nothing.
	for _, odd := range []string{"urn:uuid:" + id, "{" + id + "}", strings.ReplaceAll(id, "-", ""), "urn:uuid:" + strings.ToUpper(id)} {
		call(t, "GET", base+"/workflows/"+odd, nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
		call(t, "PUT", base+"/workflows/"+odd, `{"name":"x","nodes":[],"edges":[]}`).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
		call(t, "GET", base+"/workflows/"+odd+"/runs", nil).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
		call(t, "POST", base+"/workflows/"+odd+"/execute-async", `{}`).wantError(t, http.StatusNotFound, "Workflow not found", "Not Found")
		call(t, "POST", base+"/workflows/runs/"+odd+"/cancel", nil).wantError(t, http.StatusNotFound, "Workflow run not found", "Not Found")
		call(t, "GET", base+"/api-templates/"+odd, nil).object(t, http.StatusNotFound)
		call(t, "DELETE", base+"/workflows/"+odd, nil).object(t, http.StatusOK)
	}
	if got := call(t, "GET", base+"/workflows/"+id, nil).object(t, http.StatusOK); got["name"] != "small" {
		t.Errorf("the workflow after odd-id requests: %v", got)
	}
}
