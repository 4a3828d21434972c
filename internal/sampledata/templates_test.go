package sampledata

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// apiTemplate is the test's view of a template object (section 5 without id and timestamps).
type apiTemplate struct {
	Name                string          `json:"name"`
	Description         *string         `json:"description"`
	Provider            string          `json:"provider"`
	Category            string          `json:"category"`
	Method              string          `json:"method"`
	URL                 string          `json:"url"`
	Headers             []header        `json:"headers"`
	BodyTemplate        *string         `json:"bodyTemplate"`
	Parameters          []any           `json:"parameters"`
	TimeoutMs           int             `json:"timeoutMs"`
	ExpectedStatusCodes []int           `json:"expectedStatusCodes"`
	SampleResponse      json.RawMessage `json:"sampleResponse"`
	Documentation       *string         `json:"documentation"`
	Tags                []string        `json:"tags"`
	IsActive            *bool           `json:"isActive"`
	IsCustom            *bool           `json:"isCustom"`
}

// templateKeys are the keys every template object carries, so that no consumer sees a null
// where the front end expects an array (section 5).
var templateKeys = []string{
	"name", "description", "provider", "category", "method", "url", "headers", "bodyTemplate",
	"parameters", "timeoutMs", "expectedStatusCodes", "sampleResponse", "documentation", "tags",
	"isActive", "isCustom",
}

func decodeTemplate(t *testing.T, raw json.RawMessage) apiTemplate {
	t.Helper()
	var tpl apiTemplate
	strictDecode(t, raw, &tpl)
	return tpl
}

func TestAPITemplates(t *testing.T) {
	t.Parallel()
	raws, err := APITemplates(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	type summary struct{ Provider, Name, Method, Category string }
	want := []summary{
		{"apollo", "Person Enrichment", "POST", "enrichment"},
		{"apollo", "Company Search", "GET", "enrichment"},
		{"zoominfo", "Contact Enrichment", "POST", "enrichment"},
		{"hubspot", "Create Contact", "POST", "crm"},
		{"hubspot", "Update Contact Score", "PATCH", "lead-scoring"},
		{"lemlist", "Send Email Campaign", "POST", "email"},
		{"clearbit", "Company Enrichment", "GET", "enrichment"},
		{"jsonplaceholder", "Get User Data", "GET", "data"},
		{"jsonplaceholder", "Create Post", "POST", "data"},
	}
	var got []summary
	categories := map[string]int{}
	for _, raw := range raws {
		tpl := decodeTemplate(t, raw)
		got = append(got, summary{tpl.Provider, tpl.Name, tpl.Method, tpl.Category})
		categories[tpl.Category]++
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("templates (-want +got):\n%s", diff)
	}
	wantCategories := map[string]int{"enrichment": 4, "data": 2, "crm": 1, "lead-scoring": 1, "email": 1}
	if diff := cmp.Diff(wantCategories, categories); diff != "" {
		t.Errorf("category counts (-want +got):\n%s", diff)
	}
}

func TestAPITemplateFields(t *testing.T) {
	t.Parallel()
	raws, err := APITemplates(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range raws {
		tpl := decodeTemplate(t, raw)
		t.Run(tpl.Name, func(t *testing.T) {
			t.Parallel()
			var keys map[string]json.RawMessage
			if err := json.Unmarshal(raw, &keys); err != nil {
				t.Fatal(err)
			}
			for _, k := range templateKeys {
				if _, ok := keys[k]; !ok {
					t.Errorf("missing key %q", k)
				}
			}
			for _, k := range []string{"headers", "parameters", "tags", "expectedStatusCodes"} {
				if v := strings.TrimSpace(string(keys[k])); !strings.HasPrefix(v, "[") {
					t.Errorf("%s must be an array, got %s", k, v)
				}
			}
			if tpl.IsActive == nil || !*tpl.IsActive || tpl.IsCustom == nil || *tpl.IsCustom {
				t.Error("want isActive true and isCustom false")
			}
			if tpl.TimeoutMs != 10000 || !slices.Equal(tpl.ExpectedStatusCodes, []int{200, 201, 202, 204}) {
				t.Errorf("timeoutMs %d, expectedStatusCodes %v: want the defaults", tpl.TimeoutMs, tpl.ExpectedStatusCodes)
			}
			if len(tpl.Tags) == 0 || tpl.Description == nil || tpl.Documentation == nil || !isObject(tpl.SampleResponse) {
				t.Error("want tags, description, documentation and an object sampleResponse")
			}
			for _, h := range tpl.Headers {
				if h.ID == "" || h.Key == "" || h.Value == "" || h.Enabled == nil || !*h.Enabled {
					t.Errorf("header %+v needs id, key, value and enabled:true", h)
				}
				if (h.Key == "Authorization" || strings.HasPrefix(h.Key, "X-Api")) && len(references(h.Value)) == 0 {
					t.Errorf("header %q must carry a {{placeholder}} secret, not a literal", h.Key)
				}
			}
			checkTemplateTarget(t, tpl)
		})
	}
}

func checkTemplateTarget(t *testing.T, tpl apiTemplate) {
	t.Helper()
	if tpl.Provider == "jsonplaceholder" {
		if !strings.HasPrefix(tpl.URL, "https://jsonplaceholder.typicode.com/") {
			t.Errorf("url %q: want the public JSONPlaceholder API", tpl.URL)
		}
	} else if route, ok := mockRoute(tpl.Method, tpl.URL); !ok {
		t.Errorf("%s %s is not a mock route of section 7", tpl.Method, tpl.URL)
	} else if !slices.Contains(tpl.ExpectedStatusCodes, route.status) {
		t.Errorf("expectedStatusCodes %v miss %d, the status of %s", tpl.ExpectedStatusCodes, route.status, route.pattern)
	}
	switch tpl.Method {
	case "GET":
		if tpl.BodyTemplate != nil {
			t.Error("GET sends no body: bodyTemplate must be null")
		}
	default:
		if tpl.BodyTemplate == nil || !json.Valid([]byte(withNumbers(*tpl.BodyTemplate))) {
			t.Error("bodyTemplate must be JSON once placeholders are filled")
		}
	}
}

func TestWithNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		valid bool
	}{
		{`{"a": "{{x}}", "b": {{ y }}}`, true},
		{`{"a": {{x}}}`, true},
		{`{"a": {{x}}`, false},
		{`{"a": "{{x}}" "b": 1}`, false},
	}
	for _, tt := range tests {
		if got := json.Valid([]byte(withNumbers(tt.in))); got != tt.valid {
			t.Errorf("valid(withNumbers(%s)) = %v, want %v", tt.in, got, tt.valid)
		}
	}
}
