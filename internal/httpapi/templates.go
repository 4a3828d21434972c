package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/apitemplate"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

const templateNotFound = "API template not found"

type templateView struct {
	apitemplate.Template
	CreatedAt isoTime `json:"createdAt"`
	UpdatedAt isoTime `json:"updatedAt"`
}

func viewTemplate(t apitemplate.Template) templateView {
	if len(t.SampleResponse) == 0 {
		t.SampleResponse = json.RawMessage("null")
	}
	return templateView{Template: t, CreatedAt: isoTime(t.CreatedAt), UpdatedAt: isoTime(t.UpdatedAt)}
}

func viewTemplates(list []apitemplate.Template) []templateView {
	out := make([]templateView, len(list))
	for i, t := range list {
		out[i] = viewTemplate(t)
	}
	return out
}

func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) {
	q, err := queryValues(r)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	f := apitemplate.Filter{Provider: q.Get("provider"), Category: q.Get("category")}
	list, err := a.Templates.ListTemplates(r.Context(), f)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	writeJSON(w, http.StatusOK, viewTemplates(list))
}

// groupedTemplates answers {"<provider>": {"<category>": [template, ...]}} from the active list.
func (a *API) groupedTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := a.Templates.ListTemplates(r.Context(), apitemplate.Filter{})
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	grouped := map[string]map[string][]templateView{}
	for _, t := range list {
		if grouped[t.Provider] == nil {
			grouped[t.Provider] = map[string][]templateView{}
		}
		grouped[t.Provider][t.Category] = append(grouped[t.Provider][t.Category], viewTemplate(t))
	}
	writeJSON(w, http.StatusOK, grouped)
}

func (a *API) getTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, templateNotFound)
		return
	}
	t, err := a.Templates.GetTemplate(r.Context(), id)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	writeJSON(w, http.StatusOK, viewTemplate(t))
}

// templateFields are the writable template properties; id and timestamps are accepted and
// ignored, isCustom is forced on create.
var templateFields = []string{"name", "description", "provider", "category", "method", "url", "headers", "bodyTemplate",
	"parameters", "timeoutMs", "expectedStatusCodes", "sampleResponse", "documentation", "tags", "isActive", "isCustom",
	"id", "createdAt", "updatedAt"}

// decodeTemplate overlays a JSON object on base and checks the result.
func decodeTemplate(base apitemplate.Template, body []byte, partial bool) (apitemplate.Template, error) {
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil {
		return base, jsonProblem(err, "body")
	}
	if len(patch) == 0 && partial {
		return base, workflow.Invalid("body", "must change at least one property")
	}
	v := &workflow.ValidationError{}
	for k := range patch {
		if !slices.Contains(templateFields, k) {
			v.Add(k, "property %s should not exist", k)
		}
	}
	if err := v.OrNil(); err != nil {
		return base, err
	}
	delete(patch, "id")
	delete(patch, "createdAt")
	delete(patch, "updatedAt")
	merged, err := json.Marshal(base)
	if err != nil {
		return base, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(merged, &all); err != nil {
		return base, err
	}
	for k, raw := range patch {
		all[k] = raw
	}
	merged, _ = json.Marshal(all)
	out := base
	dec := json.NewDecoder(bytes.NewReader(merged))
	if err := dec.Decode(&out); err != nil {
		return base, jsonProblem(err, "body")
	}
	out.Method = strings.ToUpper(out.Method)
	for field, val := range map[string]string{"name": out.Name, "provider": out.Provider, "category": out.Category, "url": out.URL} {
		if strings.TrimSpace(val) == "" {
			v.Add(field, "should not be empty")
		}
	}
	if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}, out.Method) {
		v.Add("method", "must be one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS")
	}
	if out.TimeoutMs < 1 || out.TimeoutMs > 600000 {
		v.Add("timeoutMs", "must be between 1 and 600000")
	}
	for field, raw := range map[string]json.RawMessage{"headers": out.Headers, "parameters": out.Parameters, "tags": out.Tags, "expectedStatusCodes": out.ExpectedStatusCodes} {
		if k := rawKind(raw); k != '[' {
			v.Add(field, "must be an array")
		}
	}
	return out, v.OrNil()
}

func newTemplate() apitemplate.Template {
	return apitemplate.Template{
		Headers: json.RawMessage(`[]`), Parameters: json.RawMessage(`[]`), Tags: json.RawMessage(`[]`),
		ExpectedStatusCodes: json.RawMessage(`[200,201,202,204]`), TimeoutMs: 10000, IsActive: true, Method: "GET",
	}
}

func (a *API) createTemplate(w http.ResponseWriter, r *http.Request) {
	body, err := a.readBody(w, r)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	base := newTemplate()
	base.Method = ""
	t, err := decodeTemplate(base, body, false)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	t.IsCustom = true
	created, err := a.Templates.CreateTemplate(r.Context(), t, a.Now())
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	writeJSON(w, http.StatusCreated, viewTemplate(created))
}

func (a *API) updateTemplate(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		a.fail(w, r, workflow.ErrNotFound, templateNotFound)
		return
	}
	body, err := a.readBody(w, r)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	current, err := a.Templates.GetTemplate(r.Context(), id)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	t, err := decodeTemplate(current, body, true)
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	updated, err := a.Templates.UpdateTemplate(r.Context(), t, a.Now())
	if err != nil {
		a.fail(w, r, err, templateNotFound)
		return
	}
	writeJSON(w, http.StatusOK, viewTemplate(updated))
}

func (a *API) deleteTemplate(w http.ResponseWriter, r *http.Request) {
	if id, ok := pathID(r, "id"); ok {
		if err := a.Templates.DeleteTemplate(r.Context(), id, a.Now()); err != nil {
			a.fail(w, r, err, templateNotFound)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
}
