package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

const origin = "http://app.example:5173"

func TestContractCORS(t *testing.T) {
	t.Parallel()
	base := start(t)
	wf := createWorkflow(t, base, "cors", smallDef())
	run := startRun(t, base, wf, nil)
	waitRun(t, base, run)
	tmpl := call(t, "GET", base+"/api-templates", nil).array(t, http.StatusOK)[0].(map[string]any)["id"].(string)

	// A representative path of every route of section 2, with the method the browser asks for.
	routes := []struct{ method, path string }{
		{"GET", "/health"},
		{"GET", "/workflows"},
		{"GET", "/workflows/" + wf},
		{"POST", "/workflows"},
		{"PUT", "/workflows/" + wf},
		{"DELETE", "/workflows/" + wf},
		{"POST", "/workflows/" + wf + "/execute"},
		{"POST", "/workflows/" + wf + "/execute-async"},
		{"POST", "/workflows/" + wf + "/trigger"},
		{"GET", "/workflows/" + wf + "/runs"},
		{"GET", "/workflows/runs/" + run + "/status"},
		{"GET", "/workflows/" + wf + "/runs/" + run + "/status"},
		{"GET", "/workflows/" + wf + "/runs/" + run},
		{"GET", "/workflows/runs/" + run + "/logs"},
		{"GET", "/workflows/" + wf + "/runs/" + run + "/logs"},
		{"POST", "/workflows/runs/" + run + "/cancel"},
		{"POST", "/workflows/" + wf + "/runs/" + run + "/cancel"},
		{"GET", "/api-templates?provider=apollo"},
		{"GET", "/api-templates/grouped"},
		{"GET", "/api-templates/" + tmpl},
		{"POST", "/api-templates"},
		{"PUT", "/api-templates/" + tmpl},
		{"DELETE", "/api-templates/" + tmpl},
		{"GET", "/workflows/api/test-weather?city=Dubai"},
		{"POST", "/workflows/api/mock/apollo/person-enrichment"},
		{"PATCH", "/workflows/api/mock/hubspot/contacts/c-1"},
		{"GET", "/workflows/api/mock/building/notifications/n-1/status"},
		{"GET", "/nope"},
	}
	const reqHeaders = "content-type,x-requested-with"
	for _, rt := range routes {
		t.Run("preflight "+rt.method+" "+rt.path, func(t *testing.T) {
			r := call(t, "OPTIONS", base+rt.path, nil, "Origin", origin,
				"Access-Control-Request-Method", rt.method, "Access-Control-Request-Headers", reqHeaders)
			if r.status != http.StatusNoContent {
				t.Fatalf("status %d, want 204; body %s", r.status, r.raw)
			}
			if len(r.raw) != 0 {
				t.Errorf("preflight body %q, want none", r.raw)
			}
			h := r.header
			if got := h.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("Allow-Origin %q, want %q", got, origin)
			}
			if got := h.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("Allow-Credentials %q, want true", got)
			}
			methods := strings.Split(h.Get("Access-Control-Allow-Methods"), ",")
			for _, m := range []string{"GET", "POST", "PUT", "DELETE", rt.method} {
				found := false
				for _, got := range methods {
					found = found || strings.TrimSpace(got) == m
				}
				if !found {
					t.Errorf("Allow-Methods %q lacks %s", h.Get("Access-Control-Allow-Methods"), m)
				}
			}
			if got := h.Get("Access-Control-Allow-Headers"); !strings.EqualFold(got, reqHeaders) {
				t.Errorf("Allow-Headers %q, want %q echoed", got, reqHeaders)
			}
		})
	}
	// Preflights did nothing: the workflow, its run and the template are untouched.
	call(t, "GET", base+"/workflows/"+wf, nil).object(t, http.StatusOK)
	if got := runStatus(t, base, run); got["status"] != "succeeded" {
		t.Errorf("run status after preflights = %v", got["status"])
	}
	if got := call(t, "GET", base+"/api-templates/"+tmpl, nil).object(t, http.StatusOK); got["isActive"] != true {
		t.Errorf("template after preflights: isActive %v", got["isActive"])
	}

	t.Run("simple requests", func(t *testing.T) {
		for _, tc := range []struct {
			method, path string
			status       int
		}{
			{"GET", "/workflows", http.StatusOK},
			{"GET", "/health", http.StatusOK},
			{"GET", "/workflows/" + missingID, http.StatusNotFound},
			{"POST", "/workflows", http.StatusBadRequest},
			{"GET", "/workflows/api/test-weather", http.StatusOK},
		} {
			r := call(t, tc.method, base+tc.path, map[string]any{}, "Origin", origin)
			if r.status != tc.status {
				t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, r.status, tc.status)
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != origin {
				t.Errorf("%s %s: Allow-Origin %q, want %q", tc.method, tc.path, got, origin)
			}
			if got := r.header.Get("Access-Control-Allow-Credentials"); got != "true" {
				t.Errorf("%s %s: Allow-Credentials %q, want true", tc.method, tc.path, got)
			}
		}
		r := call(t, "GET", base+"/workflows", nil)
		if got := r.header.Get("Access-Control-Allow-Origin"); got != "" {
			t.Errorf("request without Origin got Allow-Origin %q", got)
		}
	})
}
