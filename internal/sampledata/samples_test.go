package sampledata

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// route is a mock endpoint of API-CONTRACT.md section 7 and the status it answers.
type route struct {
	pattern string // "METHOD /path", ":name" matches one segment
	status  int
}

var mockRoutes = []route{
	{"GET /workflows/api/test-weather", 200},
	{"POST /workflows/api/mock/apollo/person-enrichment", 201},
	{"GET /workflows/api/mock/apollo/company-search", 200},
	{"POST /workflows/api/mock/zoominfo/contact-enrichment", 201},
	{"POST /workflows/api/mock/hubspot/contacts", 201},
	{"PATCH /workflows/api/mock/hubspot/contacts/:contactId", 200},
	{"POST /workflows/api/mock/lemlist/campaigns/:campaignId/leads", 201},
	{"GET /workflows/api/mock/clearbit/companies/:domain", 200},
	{"POST /workflows/api/mock/outreach/prospects", 201},
	{"POST /workflows/api/mock/salesforce/leads", 201},
	{"GET /workflows/api/mock/weather/:city", 200},
	{"POST /workflows/api/mock/lead-scoring/analyze", 201},
	{"POST /workflows/api/mock/notifications/ae-alert", 201},
	{"POST /workflows/api/mock/email/follow-up", 201},
	{"POST /workflows/api/mock/campaigns/gifting-sequence", 201},
	{"POST /workflows/api/mock/campaigns/drip-campaign", 201},
	{"GET /workflows/api/mock/building/temperature", 200},
	{"GET /workflows/api/mock/sensors/temperature/live", 200},
	{"POST /workflows/api/mock/triggers/temperature-alert", 201},
	{"POST /workflows/api/mock/building/ac/control", 201},
	{"POST /workflows/api/mock/building/notifications/manager", 201},
	{"GET /workflows/api/mock/building/notifications/:notificationId/status", 200},
	{"POST /workflows/api/mock/building/backup-cooling/activate", 201},
}

// mockRoute finds the mock route a URL under testBaseURL calls.
func mockRoute(method, rawURL string) (route, bool) {
	rest, ok := strings.CutPrefix(rawURL, testBaseURL)
	if !ok {
		return route{}, false
	}
	path, _, _ := strings.Cut(rest, "?")
	got := strings.Split(path, "/")
	for _, r := range mockRoutes {
		m, p, _ := strings.Cut(r.pattern, " ")
		want := strings.Split(p, "/")
		if m != method || len(want) != len(got) {
			continue
		}
		match := true
		for i := range want {
			if got[i] != want[i] && !(strings.HasPrefix(want[i], ":") && got[i] != "") {
				match = false
				break
			}
		}
		if match {
			return r, true
		}
	}
	return route{}, false
}

type field struct{ key, defaultValue string }

type ifElseRule struct {
	targetField string
	threshold   float64
}

// TestWorkflowShapes pins each sample to the graph of section 12.
func TestWorkflowShapes(t *testing.T) {
	t.Parallel()
	want := map[string]struct {
		nodes  []string
		edges  []string
		calls  []string
		fields []field
		delays []float64 // seconds
		rules  []ifElseRule
	}{
		"🌤️ Simple Weather Alert": {
			nodes:  []string{"city-input", "weather-api", "weather-report"},
			edges:  []string{"city-input:out->weather-api:in", "weather-api:out->weather-report:in"},
			calls:  []string{"GET /workflows/api/test-weather"},
			fields: []field{{"city", ""}, {"user_email", ""}},
		},
		"👤 Person Enrichment": {
			nodes:  []string{"person-input", "enrichment-api", "enrichment-summary"},
			edges:  []string{"person-input:out->enrichment-api:in", "enrichment-api:out->enrichment-summary:in"},
			calls:  []string{"POST /workflows/api/mock/apollo/person-enrichment"},
			fields: []field{{"firstName", ""}, {"lastName", ""}, {"company", ""}},
		},
		"📧 Simple Notification": {
			nodes:  []string{"message-input", "processing-delay", "send-message"},
			edges:  []string{"message-input:out->processing-delay:in", "processing-delay:out->send-message:in"},
			fields: []field{{"recipient", ""}, {"message", ""}, {"priority", "medium"}},
			delays: []float64{5},
		},
		"🔀 Temperature Alert System": {
			nodes: []string{"city-input", "weather-api", "temperature-check", "hot-alert", "normal-alert"},
			edges: []string{"city-input:out->weather-api:in", "weather-api:out->temperature-check:in",
				"temperature-check:out-true->hot-alert:in", "temperature-check:out-false->normal-alert:in"},
			calls:  []string{"GET /workflows/api/test-weather"},
			fields: []field{{"city", ""}},
			rules:  []ifElseRule{{"data.temperature", 25}},
		},
		"🎯 LinkedIn Lead Qualification": {
			nodes: []string{"lead-input", "lead-scoring-api", "score-check", "qualified-alert", "unqualified-alert"},
			edges: []string{"lead-input:out->lead-scoring-api:in", "lead-scoring-api:out->score-check:in",
				"score-check:out-true->qualified-alert:in", "score-check:out-false->unqualified-alert:in"},
			calls:  []string{"POST /workflows/api/mock/lead-scoring/analyze"},
			fields: []field{{"lead_source", "LinkedIn"}, {"company", "TechCorp Inc"}, {"title", "CEO"}, {"email", "ceo@techcorp.com"}},
			rules:  []ifElseRule{{"data.score", 75}},
		},
		"🏢 Smart Building Cooling System": {
			nodes: []string{"zone-input", "temperature-sensor", "temperature-check", "cooling-alert", "normal-status"},
			edges: []string{"zone-input:out->temperature-sensor:in", "temperature-sensor:out->temperature-check:in",
				"temperature-check:out-true->cooling-alert:in", "temperature-check:out-false->normal-status:in"},
			calls:  []string{"GET /workflows/api/mock/building/temperature"},
			fields: []field{{"zone", "server_room"}},
			rules:  []ifElseRule{{"data.temperature", 30}},
		},
		"🏢 Advanced Building Cooling System": {
			nodes: []string{"sensor-reading", "ac-control", "cooling-delay", "sensor-recheck", "temperature-check", "manager-alert", "cooling-success"},
			edges: []string{"sensor-reading:out->ac-control:in", "ac-control:out->cooling-delay:in",
				"cooling-delay:out->sensor-recheck:in", "sensor-recheck:out->temperature-check:in",
				"temperature-check:out-true->manager-alert:in", "temperature-check:out-false->cooling-success:in"},
			calls: []string{"GET /workflows/api/mock/sensors/temperature/live", "POST /workflows/api/mock/building/ac/control",
				"GET /workflows/api/mock/sensors/temperature/live", "POST /workflows/api/mock/building/notifications/manager"},
			delays: []float64{10},
			rules:  []ifElseRule{{"data.temperature", 30}},
		},
	}
	wfs, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if len(wfs) != len(want) {
		t.Fatalf("got %d workflows, want %d", len(wfs), len(want))
	}
	for _, wf := range wfs {
		t.Run(wf.Name, func(t *testing.T) {
			t.Parallel()
			w, ok := want[wf.Name]
			if !ok {
				t.Fatalf("unexpected workflow %q", wf.Name)
			}
			def := decodeDefinition(t, wf)
			var nodes, edges, calls []string
			var fields []field
			var delays []float64
			var rules []ifElseRule
			for _, n := range def.Nodes {
				nodes = append(nodes, n.ID)
				switch n.Base.Type {
				case "apiCall":
					cfg := decodeAPICall(t, n)
					if r, ok := mockRoute(cfg.Method, cfg.URL); ok {
						calls = append(calls, r.pattern)
					}
				case "inputText":
					for _, f := range decodeFields(t, n) {
						fields = append(fields, field{f.Key, fmt.Sprint(f.DefaultValue)})
					}
				case "delay":
					delays = append(delays, decodeDelay(t, n).DelayValue)
				case "ifElse":
					for _, p := range decodeIfElse(t, n).Condition.Predicates {
						rules = append(rules, ruleOf(t, p))
					}
				}
			}
			for _, e := range def.Edges {
				edges = append(edges, e.String())
			}
			got := []any{nodes, edges, calls, fields, delays, rules}
			wantAll := []any{w.nodes, w.edges, w.calls, w.fields, w.delays, w.rules}
			if diff := cmp.Diff(wantAll, got, cmp.AllowUnexported(field{}, ifElseRule{})); diff != "" {
				t.Errorf("[nodes, edges, calls, fields, delays, rules] (-want +got):\n%s", diff)
			}
		})
	}
}

// ruleOf reads a predicate of the form {"and":[{">":[{"var":"value"},N]}]}.
func ruleOf(t *testing.T, p predicate) ifElseRule {
	t.Helper()
	var logic struct {
		And []struct {
			GT [2]json.RawMessage `json:">"`
		} `json:"and"`
	}
	strictDecode(t, p.ValidationLogic, &logic)
	var threshold float64
	if len(logic.And) != 1 || string(logic.And[0].GT[0]) != `{"var":"value"}` || json.Unmarshal(logic.And[0].GT[1], &threshold) != nil {
		t.Fatalf("predicate %q: validationLogic %s, want {\"and\":[{\">\":[{\"var\":\"value\"},N]}]}", p.ID, p.ValidationLogic)
	}
	return ifElseRule{p.TargetField, threshold}
}

// TestTemplateReferences checks that every {{...}} reference names something the node will
// really see: the response envelope after an API call, the input fields before one, $run.input
// fields, or an upstream node via $nodes. The seed's {{city}} after an API call fails it.
func TestTemplateReferences(t *testing.T) {
	t.Parallel()
	wfs, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, wf := range wfs {
		t.Run(wf.Name, func(t *testing.T) {
			t.Parallel()
			g := newRefGraph(t, decodeDefinition(t, wf))
			for _, n := range g.def.Nodes {
				var texts []string
				switch n.Base.Type {
				case "apiCall":
					cfg := decodeAPICall(t, n)
					texts = append(texts, cfg.URL)
					for _, h := range cfg.Headers {
						texts = append(texts, h.Value)
					}
					if cfg.BodyTemplate != nil {
						texts = append(texts, *cfg.BodyTemplate)
					}
				case "notification":
					var cfg struct {
						Template string `json:"template"`
					}
					strictDecode(t, n.Base.Config, &cfg)
					texts = append(texts, cfg.Template)
				case "ifElse":
					for _, p := range decodeIfElse(t, n).Condition.Predicates {
						if err := g.resolve(n.ID, p.TargetField); err != nil {
							t.Errorf("%s: targetField %q: %v", n.ID, p.TargetField, err)
						}
					}
				}
				for _, text := range texts {
					for _, ref := range references(text) {
						if err := g.resolve(n.ID, ref); err != nil {
							t.Errorf("%s: {{%s}}: %v", n.ID, ref, err)
						}
					}
				}
			}
		})
	}
}

type refGraph struct {
	t       *testing.T
	def     definition
	byID    map[string]node
	parents map[string][]string
}

func newRefGraph(t *testing.T, def definition) *refGraph {
	g := &refGraph{t: t, def: def, byID: map[string]node{}, parents: map[string][]string{}}
	for _, n := range def.Nodes {
		g.byID[n.ID] = n
	}
	for _, e := range def.Edges {
		g.parents[e.TargetID] = append(g.parents[e.TargetID], e.SourceID)
	}
	return g
}

// payloadSource returns the nearest upstream node that makes the payload of id (an inputText
// or apiCall; the other types pass their input through), or false for the run input.
func (g *refGraph) payloadSource(id string) (node, bool) {
	ps := g.parents[id]
	if len(ps) == 0 {
		return node{}, false
	}
	if len(ps) > 1 {
		g.t.Fatalf("%s has %d parents; the samples have no joins", id, len(ps))
	}
	if p := g.byID[ps[0]]; p.Base.Type == "apiCall" || p.Base.Type == "inputText" {
		return p, true
	}
	return g.payloadSource(ps[0])
}

func (g *refGraph) isAncestor(anc, id string) bool {
	return slices.ContainsFunc(g.parents[id], func(p string) bool { return p == anc || g.isAncestor(anc, p) })
}

func (g *refGraph) resolve(at, ref string) error {
	path := strings.Split(ref, ".")
	switch {
	case len(path) >= 3 && path[0] == "$run" && path[1] == "input":
		for _, n := range g.def.Nodes {
			if n.Base.Type == "inputText" && g.hasField(n, path[2]) {
				return nil
			}
		}
		return fmt.Errorf("no input node has a field %q", path[2])
	case len(path) >= 3 && path[0] == "$nodes":
		src, ok := g.byID[path[1]]
		if !ok || !g.isAncestor(path[1], at) {
			return fmt.Errorf("%q is not an upstream node", path[1])
		}
		return g.within(src, path[2:])
	case strings.HasPrefix(ref, "$"):
		return fmt.Errorf("unknown context")
	}
	src, ok := g.payloadSource(at)
	if !ok {
		return fmt.Errorf("the payload here is the run input of a workflow without input fields")
	}
	return g.within(src, path)
}

// within checks that path names something src outputs.
func (g *refGraph) within(src node, path []string) error {
	if src.Base.Type == "inputText" {
		if !g.hasField(src, path[0]) {
			return fmt.Errorf("%s has no field %q", src.ID, path[0])
		}
		return nil
	}
	schema := src.Base.OutputSchema
	for i, seg := range path {
		var s struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(schema, &s); err != nil {
			return err
		}
		if s.Properties == nil {
			return nil // an object whose keys are not described, such as headers
		}
		next, ok := s.Properties[seg]
		if !ok {
			return fmt.Errorf("the outputSchema of %s has no %q", src.ID, strings.Join(path[:i+1], "."))
		}
		schema = next
	}
	return nil
}

func (g *refGraph) hasField(n node, key string) bool {
	return slices.ContainsFunc(decodeFields(g.t, n), func(f inputField) bool { return f.Key == key })
}
