package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/sequenceflow/sequenceflow/internal/httpapi"
	"github.com/sequenceflow/sequenceflow/internal/mockapi"
)

var update = flag.Bool("update", false, "regenerate openapi.json from the operations in openapi_gen_test.go")

// goldenPath is the generated document; docs/openapi.json is a link to it.
const goldenPath = "openapi.json"

// TestOpenAPIGolden: the embedded document is what the generator builds (run with -update
// after changing it), and docs/openapi.json is the same file.
func TestOpenAPIGolden(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(buildOpenAPI(t)); err != nil {
		t.Fatal(err)
	}
	built := buf.Bytes()
	if *update {
		if err := os.WriteFile(goldenPath, built, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", goldenPath, len(built))
		return
	}
	if !bytes.Equal(built, httpapi.OpenAPIDocument) {
		t.Errorf("%s is stale: regenerate it with go test ./internal/httpapi -run OpenAPI -update", goldenPath)
	}
	published, err := os.ReadFile("../../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(published, httpapi.OpenAPIDocument) {
		t.Error("docs/openapi.json differs from internal/httpapi/openapi.json; it must be a link to it")
	}
}

// TestOpenAPIValid validates the document with libopenapi: it builds as an OpenAPI 3.1
// model, and it is valid against the OpenAPI 3.1 schema.
func TestOpenAPIValid(t *testing.T) {
	doc, err := libopenapi.NewDocument(httpapi.OpenAPIDocument)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if v := doc.GetVersion(); v != "3.1.0" {
		t.Errorf("OpenAPI version %q, want 3.1.0", v)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build the 3.1 model: %v", err)
	}
	if model.Model.Paths == nil || model.Model.Paths.PathItems.Len() < 20 {
		t.Fatalf("the model has too few paths")
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, problems := v.ValidateDocument(); !ok {
		for _, p := range problems {
			t.Errorf("invalid: %s: %s", p.Message, p.Reason)
			for _, s := range p.SchemaValidationErrors {
				t.Errorf("  at %s (%s): %s", s.FieldPath, s.KeywordLocation, s.Reason)
			}
		}
	}
}

// TestOpenAPIValidatorCatchesErrors makes sure the validation above can fail.
func TestOpenAPIValidatorCatchesErrors(t *testing.T) {
	broken := bytes.Replace(httpapi.OpenAPIDocument, []byte(`"responses": {`), []byte(`"responses": "none", "x-was": {`), 1)
	doc, err := libopenapi.NewDocument(broken)
	if err != nil {
		return // refused at parse time: fine
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return
	}
	if ok, _ := v.ValidateDocument(); ok {
		t.Error("a document whose responses is a string validates")
	}
}

// excludedRoutes are the router's routes the document leaves out on purpose, by pattern
// prefix: the mock endpoints apiCall nodes call (listed in docs/API.md) and the queue UI
// (Asynqmon and its login form, HTML for browsers).
var excludedRoutes = []string{"/workflows/api/", "/monitoring"}

func excluded(pattern string) bool {
	for _, p := range excludedRoutes {
		if strings.HasPrefix(pattern, p) {
			return true
		}
	}
	return false
}

var chiParam = regexp.MustCompile(`\{[^}]*\}`)

// routeKey is "METHOD /path" with every path parameter written {}, and no trailing slash.
func routeKey(method, pattern string) string {
	if len(pattern) > 1 {
		pattern = strings.TrimSuffix(pattern, "/")
	}
	return strings.ToUpper(method) + " " + chiParam.ReplaceAllString(pattern, "{}")
}

// documentedOperations lists the document's operations as route keys.
func documentedOperations(t *testing.T) map[string]bool {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for p, item := range doc.Paths {
		for m := range item {
			switch m {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out[routeKey(m, p)] = true
			}
		}
	}
	return out
}

// fullRouter is the API's real router with every optional handler set, for walking.
func fullRouter(t *testing.T) chi.Routes {
	t.Helper()
	stub := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "stub") })
	h := httpapi.New(httpapi.Config{}, httpapi.Deps{Mock: mockapi.New(mockapi.Config{}), Metrics: stub, Monitoring: stub})
	routes, ok := h.(chi.Routes)
	if !ok {
		t.Fatalf("httpapi.New returned %T, not a chi router", h)
	}
	return routes
}

// TestOpenAPIRouterAgreement: every route of the router is documented, but for the
// excluded ones, and every documented operation is a route.
func TestOpenAPIRouterAgreement(t *testing.T) {
	documented := documentedOperations(t)
	routed := map[string]bool{}
	used := map[string]bool{}
	err := chi.Walk(fullRouter(t), func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if excluded(pattern) {
			for _, p := range excludedRoutes {
				if strings.HasPrefix(pattern, p) {
					used[p] = true
				}
			}
			return nil
		}
		routed[routeKey(method, pattern)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range excludedRoutes {
		if !used[p] {
			t.Errorf("exclusion %q matches no route: drop it", p)
		}
	}
	var missing, extra []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
		if path := strings.SplitN(k, " ", 2)[1]; excluded(path) {
			t.Errorf("%s is documented but excluded", k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	for _, k := range missing {
		t.Errorf("route %s is not in the OpenAPI document", k)
	}
	for _, k := range extra {
		t.Errorf("documented operation %s is no route", k)
	}
	if len(routed) < 20 {
		t.Errorf("walked only %d routes", len(routed))
	}
}

// TestRouteKey pins the mapping of chi patterns to documented paths.
func TestRouteKey(t *testing.T) {
	for _, tc := range [][3]string{
		{"get", "/workflows/", "GET /workflows"},
		{"GET", "/workflows/{id}/runs/{runID}", "GET /workflows/{}/runs/{}"},
		{"post", "/workflows/runs/{runId}/cancel", "POST /workflows/runs/{}/cancel"},
		{"get", "/", "GET /"},
	} {
		if got := routeKey(tc[0], tc[1]); got != tc[2] {
			t.Errorf("routeKey(%q, %q) = %q, want %q", tc[0], tc[1], got, tc[2])
		}
	}
}

// operationExample returns the example of an operation's request body ("" status) or of a
// response.
func operationExample(t *testing.T, path, method, status string) any {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Content map[string]struct{ Example any } `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]struct{ Example any } `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	op, ok := doc.Paths[path][method]
	if !ok {
		t.Fatalf("no operation %s %s", method, path)
	}
	content := op.RequestBody.Content
	if status != "" {
		content = op.Responses[status].Content
	}
	ex := content["application/json"].Example
	if ex == nil {
		t.Fatalf("%s %s %s has no JSON example", method, path, status)
	}
	return ex
}

// TestOpenAPIExamplesAreSamples: the create body example and the workflow examples are a
// sample workflow, and what GET shows is what PUT takes.
func TestOpenAPIExamplesAreSamples(t *testing.T) {
	samples := exampleWorkflows(t)
	isSample := func(what string, name any, def map[string]any) {
		t.Helper()
		for _, s := range samples {
			if s.Name != name {
				continue
			}
			sameJSON(t, what+" vs sample "+s.Name, decodeJSON(t, s.Definition), def)
			return
		}
		t.Errorf("%s: name %v is no sample workflow", what, name)
	}
	create := operationExample(t, "/workflows", "post", "").(map[string]any)
	if len(create) != 2 {
		t.Errorf("create example has keys %v, want name and workflow", keys(create))
	}
	isSample("create body", create["name"], create["workflow"].(map[string]any))
	for _, at := range [][3]string{{"/workflows", "post", "201"}, {"/workflows/{id}", "get", "200"}, {"/workflows/{id}", "put", "200"}, {"/workflows/{id}", "put", ""}} {
		w := operationExample(t, at[0], at[1], at[2]).(map[string]any)
		isSample(strings.Join(at[:], " "), w["name"], map[string]any{"nodes": w["nodes"], "edges": w["edges"]})
	}
	sameJSON(t, "PUT body example vs GET example", operationExample(t, "/workflows/{id}", "get", "200"), operationExample(t, "/workflows/{id}", "put", ""))
}

// TestOpenAPIServedAndDocsPage: GET /openapi.json serves the document, and GET /docs a
// self-contained page naming every operation.
func TestOpenAPIServedAndDocsPage(t *testing.T) {
	h := httpapi.New(httpapi.Config{APIKeys: []string{"k"}}, httpapi.Deps{})
	get := func(path string, key bool) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", path, nil)
		if key {
			req.Header.Set("X-API-Key", "k")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, p := range []string{"/openapi.json", "/docs"} {
		if rec := get(p, false); rec.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without a key: %d, want 401", p, rec.Code)
		}
	}
	rec := get("/openapi.json", true)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), httpapi.OpenAPIDocument) {
		t.Errorf("GET /openapi.json: %d, body equal to the document: %v", rec.Code, bytes.Equal(rec.Body.Bytes(), httpapi.OpenAPIDocument))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	rec = get("/docs", true)
	page := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), bad) {
			t.Errorf("the docs page contains %q: it must load nothing from elsewhere", bad)
		}
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Summary     string `json:"summary"`
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(httpapi.OpenAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths {
		for m, op := range item {
			if !strings.Contains(page, `id="`+op.OperationID+`"`) || !strings.Contains(page, htmlEscape(op.Summary)) {
				t.Errorf("the docs page lacks %s %s (%s, %q)", m, path, op.OperationID, op.Summary)
			}
		}
	}
	if !strings.Contains(page, "Simple Weather Alert") || !strings.Contains(page, "Idempotency-Key") {
		t.Error("the docs page lacks the examples or parameters")
	}
}

func htmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '+':
			b.WriteString("&#43;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
