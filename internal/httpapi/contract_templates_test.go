package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sequenceflow/sequenceflow/internal/testenv"
)

// checkTemplate checks every field's JSON type (section 5) and returns the template.
func checkTemplate(t *testing.T, v any) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("template = %#v, want an object", v)
	}
	uuidField(t, m, "id")
	for _, k := range []string{"name", "provider", "category", "method", "url"} {
		if str(t, m, k) == "" {
			t.Errorf("%s is empty", k)
		}
	}
	for _, k := range []string{"description", "bodyTemplate", "documentation"} {
		if v, ok := m[k]; !ok {
			t.Errorf("%s is missing", k)
		} else if _, s := v.(string); v != nil && !s {
			t.Errorf("%s = %#v, want a string or null", k, v)
		}
	}
	for _, h := range asObjects(t, arrayField(t, m, "headers")) {
		str(t, h, "id")
		str(t, h, "key")
		str(t, h, "value")
		if _, ok := h["enabled"].(bool); !ok {
			t.Errorf("header %v has no boolean enabled", h)
		}
	}
	arrayField(t, m, "parameters")
	for _, tag := range arrayField(t, m, "tags") {
		if _, ok := tag.(string); !ok {
			t.Errorf("tag %#v is not a string", tag)
		}
	}
	codes := arrayField(t, m, "expectedStatusCodes")
	for _, c := range codes {
		if _, ok := c.(float64); !ok {
			t.Errorf("expected status code %#v is not a number", c)
		}
	}
	if num(t, m, "timeoutMs") <= 0 {
		t.Errorf("timeoutMs = %v", m["timeoutMs"])
	}
	if _, ok := m["sampleResponse"]; !ok {
		t.Error("sampleResponse is missing")
	}
	for _, k := range []string{"isActive", "isCustom"} {
		if _, ok := m[k].(bool); !ok {
			t.Errorf("%s = %#v, want a boolean", k, m[k])
		}
	}
	iso(t, m, "createdAt")
	iso(t, m, "updatedAt")
	return m
}

// listTemplates returns "provider/category/name" of each template the query lists.
func listTemplates(t *testing.T, base, query string) ([]string, []map[string]any) {
	t.Helper()
	list := call(t, "GET", base+"/api-templates"+query, nil).array(t, http.StatusOK)
	names := []string{}
	var out []map[string]any
	for _, v := range list {
		m := checkTemplate(t, v)
		names = append(names, m["provider"].(string)+"/"+m["category"].(string)+"/"+m["name"].(string))
		out = append(out, m)
	}
	return names, out
}

var seededTemplates = []string{ // ordered provider, category, name
	"apollo/enrichment/Company Search",
	"apollo/enrichment/Person Enrichment",
	"clearbit/enrichment/Company Enrichment",
	"hubspot/crm/Create Contact",
	"hubspot/lead-scoring/Update Contact Score",
	"jsonplaceholder/data/Create Post",
	"jsonplaceholder/data/Get User Data",
	"lemlist/email/Send Email Campaign",
	"zoominfo/enrichment/Contact Enrichment",
}

func TestContractTemplatesRead(t *testing.T) {
	t.Parallel()
	base := start(t)
	names, all := listTemplates(t, base, "")
	if diff := cmp.Diff(seededTemplates, names); diff != "" {
		t.Errorf("seeded templates (-want +got):\n%s", diff)
	}
	for _, m := range all {
		if m["isActive"] != true || m["isCustom"] != false {
			t.Errorf("%v: isActive %v isCustom %v, want true and false", m["name"], m["isActive"], m["isCustom"])
		}
	}

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?provider=apollo", []string{"apollo/enrichment/Company Search", "apollo/enrichment/Person Enrichment"}},
		{"?provider=hubspot", []string{"hubspot/crm/Create Contact", "hubspot/lead-scoring/Update Contact Score"}},
		{"?category=enrichment", []string{"apollo/enrichment/Company Search", "apollo/enrichment/Person Enrichment",
			"clearbit/enrichment/Company Enrichment", "zoominfo/enrichment/Contact Enrichment"}},
		{"?category=data", []string{"jsonplaceholder/data/Create Post", "jsonplaceholder/data/Get User Data"}},
		{"?provider=hubspot&category=enrichment", []string{"hubspot/crm/Create Contact", "hubspot/lead-scoring/Update Contact Score"}},
		{"?category=enrichment&provider=lemlist", []string{"lemlist/email/Send Email Campaign"}},
		{"?provider=&category=email", []string{"lemlist/email/Send Email Campaign"}},
		{"?provider=nobody", []string{}},
		{"?category=nothing", []string{}},
		{"?provider=" + url.QueryEscape("apollo' OR 1=1 --"), []string{}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got, _ := listTemplates(t, base, tc.query)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if raw := call(t, "GET", base+"/api-templates?provider=nobody", nil); string(raw.raw) != "[]\n" && string(raw.raw) != "[]" {
		t.Errorf("unknown provider body = %q, want []", raw.raw)
	}

	t.Run("grouped", func(t *testing.T) {
		grouped := call(t, "GET", base+"/api-templates/grouped", nil).object(t, http.StatusOK)
		got := map[string][]string{} // "provider/category" -> names, in the group's order
		for provider, v := range grouped {
			cats, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("grouped[%s] = %#v, want an object", provider, v)
			}
			for category, list := range cats {
				arr, ok := list.([]any)
				if !ok {
					t.Fatalf("grouped[%s][%s] = %#v, want an array", provider, category, list)
				}
				for _, v := range arr {
					m := checkTemplate(t, v)
					if m["provider"] != provider || m["category"] != category {
						t.Errorf("%v/%v template filed under %s/%s", m["provider"], m["category"], provider, category)
					}
					got[provider+"/"+category] = append(got[provider+"/"+category], m["name"].(string))
				}
			}
		}
		want := map[string][]string{}
		for _, n := range seededTemplates {
			i := strings.LastIndex(n, "/")
			want[n[:i]] = append(want[n[:i]], n[i+1:])
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("grouped (-want +got):\n%s", diff)
		}
	})

	t.Run("by id", func(t *testing.T) {
		for _, m := range all {
			got := call(t, "GET", base+"/api-templates/"+m["id"].(string), nil).object(t, http.StatusOK)
			if diff := cmp.Diff(m, got); diff != "" {
				t.Errorf("GET %v differs from the list (-list +got):\n%s", m["name"], diff)
			}
		}
		call(t, "GET", base+"/api-templates/"+missingID, nil).wantError(t, http.StatusNotFound, "API template not found", "Not Found")
		call(t, "GET", base+"/api-templates/abc", nil).wantError(t, http.StatusNotFound, "API template not found", "Not Found")
	})
}

func TestContractTemplatesWrite(t *testing.T) {
	t.Parallel()
	base := start(t)
	before := time.Now().Add(-time.Second)
	created := checkTemplate(t, call(t, "POST", base+"/api-templates", map[string]any{
		"name": "Ping", "provider": "custom", "category": "custom", "method": "POST", "url": "https://example.com/ping/{{id}}",
		"isCustom": false,
	}).object(t, http.StatusCreated))
	id := created["id"].(string)
	want := map[string]any{
		"id": id, "name": "Ping", "description": nil, "provider": "custom", "category": "custom", "method": "POST",
		"url": "https://example.com/ping/{{id}}", "headers": []any{}, "bodyTemplate": nil, "parameters": []any{},
		"timeoutMs": float64(10000), "expectedStatusCodes": []any{200.0, 201.0, 202.0, 204.0}, "sampleResponse": nil,
		"documentation": nil, "tags": []any{}, "isActive": true, "isCustom": true,
		"createdAt": created["createdAt"], "updatedAt": created["updatedAt"],
	}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created template (-want +got):\n%s", diff)
	}
	if at := iso(t, created, "createdAt"); at.Before(before) {
		t.Errorf("createdAt %v is not now", at)
	}
	if diff := cmp.Diff(created, call(t, "GET", base+"/api-templates/"+id, nil).object(t, http.StatusOK)); diff != "" {
		t.Errorf("GET after POST (-post +get):\n%s", diff)
	}
	if names, _ := listTemplates(t, base, "?provider=custom"); !cmp.Equal(names, []string{"custom/custom/Ping"}) {
		t.Errorf("custom templates = %v", names)
	}

	t.Run("create refused", func(t *testing.T) {
		msgs := call(t, "POST", base+"/api-templates", map[string]any{"method": "GET"}).wantProblem(t, "name")
		for _, field := range []string{"provider", "category", "url"} {
			found := false
			for _, m := range msgs {
				found = found || containsAll(m, field)
			}
			if !found {
				t.Errorf("no message names %s: %q", field, msgs)
			}
		}
		full := map[string]any{"name": "x", "provider": "p", "category": "c", "url": "https://example.com"}
		with := func(k string, v any) map[string]any {
			m := map[string]any{}
			for k, v := range full {
				m[k] = v
			}
			m[k] = v
			return m
		}
		call(t, "POST", base+"/api-templates", with("method", "FETCH")).wantProblem(t, "method")
		call(t, "POST", base+"/api-templates", with("surprise", 1)).wantProblem(t, "surprise")
		call(t, "POST", base+"/api-templates", with("tags", "not-an-array")).wantProblem(t, "tags")
		call(t, "POST", base+"/api-templates", "[]").wantProblem(t, "body")
		if names, _ := listTemplates(t, base, ""); len(names) != len(seededTemplates)+1 {
			t.Errorf("%d templates listed after refused creates, want %d", len(names), len(seededTemplates)+1)
		}
	})

	t.Run("update", func(t *testing.T) {
		ms := time.Now().UnixMilli()
		testenv.WaitFor(t, time.Second, "the clock to tick", func() bool { return time.Now().UnixMilli() > ms+1 })
		got := checkTemplate(t, call(t, "PUT", base+"/api-templates/"+id,
			map[string]any{"description": "pings", "tags": []string{"health"}, "timeoutMs": 2500}).object(t, http.StatusOK))
		upd := map[string]any{}
		for k, v := range created {
			upd[k] = v
		}
		upd["description"], upd["tags"], upd["timeoutMs"], upd["updatedAt"] = "pings", []any{"health"}, float64(2500), got["updatedAt"]
		if diff := cmp.Diff(upd, got); diff != "" {
			t.Errorf("updated template (-want +got):\n%s", diff)
		}
		if !iso(t, got, "updatedAt").After(iso(t, created, "updatedAt")) {
			t.Errorf("updatedAt %v not bumped past %v", got["updatedAt"], created["updatedAt"])
		}
		if diff := cmp.Diff(got, call(t, "GET", base+"/api-templates/"+id, nil).object(t, http.StatusOK)); diff != "" {
			t.Errorf("GET after PUT (-put +get):\n%s", diff)
		}
		call(t, "PUT", base+"/api-templates/"+id, map[string]any{"nonsense": true}).wantProblem(t, "nonsense")
		call(t, "PUT", base+"/api-templates/"+id, map[string]any{}).wantProblem(t, "body")
		call(t, "PUT", base+"/api-templates/"+id, map[string]any{"method": "FETCH"}).wantProblem(t, "method")
		call(t, "PUT", base+"/api-templates/"+id, map[string]any{"name": ""}).wantProblem(t, "name")
		if after := call(t, "GET", base+"/api-templates/"+id, nil).object(t, http.StatusOK); !cmp.Equal(after, got) {
			t.Errorf("refused PUTs changed the template: %v", after)
		}
		call(t, "PUT", base+"/api-templates/"+missingID, map[string]any{"name": "x"}).wantError(t, http.StatusNotFound, "API template not found", "Not Found")
		call(t, "PUT", base+"/api-templates/abc", map[string]any{"name": "x"}).wantError(t, http.StatusNotFound, "API template not found", "Not Found")
	})

	t.Run("delete", func(t *testing.T) {
		for _, del := range []string{id, missingID, "abc", id} {
			got := call(t, "DELETE", base+"/api-templates/"+del, nil).object(t, http.StatusOK)
			if diff := cmp.Diff(map[string]any{"success": true}, got); diff != "" {
				t.Errorf("DELETE %s (-want +got):\n%s", del, diff)
			}
		}
		if names, _ := listTemplates(t, base, ""); !cmp.Equal(names, seededTemplates) {
			t.Errorf("after delete the list is %v, want only the seeded templates", names)
		}
		if names, _ := listTemplates(t, base, "?provider=custom"); len(names) != 0 {
			t.Errorf("deleted template still listed by provider: %v", names)
		}
		grouped := call(t, "GET", base+"/api-templates/grouped", nil).object(t, http.StatusOK)
		if _, ok := grouped["custom"]; ok {
			t.Errorf("deleted template still grouped: %v", grouped["custom"])
		}
		got := checkTemplate(t, call(t, "GET", base+"/api-templates/"+id, nil).object(t, http.StatusOK))
		if got["isActive"] != false || got["name"] != "Ping" {
			t.Errorf("soft-deleted template = %v, want readable with isActive false", got)
		}
	})

	t.Run("filter ordering", func(t *testing.T) {
		var ids []string
		for _, tpl := range [][3]string{{"acme", "b-cat", "Alpha"}, {"acme", "a-cat", "Zulu"}, {"prov-b", "a-cat", "Alpha"}} {
			got := call(t, "POST", base+"/api-templates", map[string]any{"provider": tpl[0], "category": tpl[1], "name": tpl[2],
				"method": "GET", "url": "https://example.com"}).object(t, http.StatusCreated)
			ids = append(ids, got["id"].(string))
		}
		// provider: ordered category, then name; category: ordered provider, then name.
		if got, _ := listTemplates(t, base, "?provider=acme"); !cmp.Equal(got, []string{"acme/a-cat/Zulu", "acme/b-cat/Alpha"}) {
			t.Errorf("?provider=acme = %v, want ordered by category then name", got)
		}
		if got, _ := listTemplates(t, base, "?category=a-cat"); !cmp.Equal(got, []string{"acme/a-cat/Zulu", "prov-b/a-cat/Alpha"}) {
			t.Errorf("?category=a-cat = %v, want ordered by provider then name", got)
		}
		for _, id := range ids {
			call(t, "DELETE", base+"/api-templates/"+id, nil).object(t, http.StatusOK)
		}
	})
}
