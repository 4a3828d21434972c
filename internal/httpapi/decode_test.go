package httpapi_test

// Decoding errors: every 400 for malformed JSON, a wrong JSON type or an unknown property
// names the field path in the validator's scheme (nodes[1].base.name), on every route that
// reads a body.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// decodeCase is a body and the start of one message the 400 must carry: a path, then the
// problem.
type decodeCase struct {
	name string
	body string
	want string
}

// wantDecodeProblem fails unless r is a 400 validation body with a message starting with want.
func wantDecodeProblem(t *testing.T, r resp, want string) {
	t.Helper()
	path, _, _ := strings.Cut(want, ": ")
	msgs := r.wantProblem(t, path)
	for _, m := range msgs {
		if strings.HasPrefix(m, want) {
			return
		}
	}
	t.Errorf("no message starts with %q: %q", want, msgs)
}

// graphNode is a valid inputText node.
func graphNode(id string) string {
	return fmt.Sprintf(`{"id":%q,"position":{"x":0,"y":0},"base":{"id":%q,"type":"inputText","name":%q,`+
		`"inputSchema":{},"outputSchema":{},"config":{"fields":[]},"connections":[]}}`, id, id, id)
}

const (
	firstEdge  = `{"id":"e1","sourceId":"a","targetId":"b"}`
	secondEdge = `{"id":"e2","sourceId":"b","targetId":"c","sourceHandleId":"out"}`
)

// graphJSON is {"nodes": [a, node2], "edges": [e1, edge2]}: the second elements carry the
// fault, so the index in the path matters.
func graphJSON(node2, edge2 string) string {
	return `{"nodes":[` + graphNode("a") + `,` + node2 + `],"edges":[` + firstEdge + `,` + edge2 + `]}`
}

// createJSON is a POST /workflows body around graphJSON.
func createJSON(node2, edge2 string) string {
	return `{"name":"x","workflow":` + graphJSON(node2, edge2) + `}`
}

// flatJSON is the flat PUT /workflows/{id} body.
func flatJSON(node2, edge2 string) string {
	return `{"name":"x",` + strings.TrimPrefix(graphJSON(node2, edge2), `{`)
}

// byteAt is encoding/json's offset of the byte just after marker in body (bytes read up to
// and including the offending byte that ends marker).
func byteAt(body, marker string) int {
	i := strings.Index(body, marker)
	if i < 0 {
		panic("marker " + marker + " not in " + body)
	}
	return i + len(marker)
}

// workflowDecodeCases are create-body faults at every level of the graph.
func workflowDecodeCases() []decodeCase {
	nodeB := graphNode("b")
	with := func(old, new string) string { return strings.Replace(nodeB, old, new, 1) }
	valid := createJSON(nodeB, secondEdge)
	truncated := valid[:strings.Index(valid, `"type":"inputText","name":"b"`)]
	trailingObject := createJSON(with(`"connections":[]`, `"connections":[],`), secondEdge)
	trailingArray := strings.Replace(valid, `}}],"edges"`, `}},],"edges"`, 1)
	deepConfig := createJSON(with(`"config":{"fields":[]}`, `"config":{"fields":[{"id":"f1"},{"id":"f2",]}`), secondEdge)
	return []decodeCase{
		// Unknown properties: the path of the object that has one.
		{"unknown at top level", `{"name":"x","workflow":` + graphJSON(nodeB, secondEdge) + `,"extra":1}`, `body: property "extra" should not exist`},
		{"unknown in workflow", `{"name":"x","workflow":{"nodes":[],"edges":[],"extra":1}}`, `workflow: property "extra" should not exist`},
		{"unknown in node", createJSON(with(`{"id":"b",`, `{"id":"b","extra":1,`), secondEdge), `nodes[1]: property "extra" should not exist`},
		{"unknown in base", createJSON(with(`"connections":[]`, `"connections":[],"extra":1`), secondEdge), `nodes[1].base: property "extra" should not exist`},
		{"unknown in position", createJSON(with(`"y":0}`, `"y":0,"z":1}`), secondEdge), `nodes[1].position: property "z" should not exist`},
		{"unknown in edge", createJSON(nodeB, `{"id":"e2","sourceId":"b","targetId":"c","extra":1}`), `edges[1]: property "extra" should not exist`},

		// Wrong JSON types: the path of the value.
		{"name not a string", `{"name":7,"workflow":{"nodes":[],"edges":[]}}`, `name: must be a string, got JSON number`},
		{"workflow not an object", `{"name":"x","workflow":[]}`, `workflow: must be an object, got JSON array`},
		{"body not an object", `["x"]`, `body: must be an object, got JSON array`},
		{"nodes not an array", `{"name":"x","workflow":{"nodes":{},"edges":[]}}`, `nodes: must be an array, got JSON object`},
		{"edges not an array", `{"name":"x","workflow":{"nodes":[],"edges":"none"}}`, `edges: must be an array, got JSON string`},
		{"node not an object", createJSON(`"b"`, secondEdge), `nodes[1]: must be an object, got JSON string`},
		{"node id", createJSON(with(`{"id":"b"`, `{"id":2`), secondEdge), `nodes[1].id: must be a string, got JSON number`},
		{"base not an object", createJSON(`{"id":"b","position":{"x":0,"y":0},"base":[]}`, secondEdge), `nodes[1].base: must be an object, got JSON array`},
		{"base name", createJSON(with(`"name":"b"`, `"name":2`), secondEdge), `nodes[1].base.name: must be a string, got JSON number`},
		{"base type", createJSON(with(`"type":"inputText"`, `"type":true`), secondEdge), `nodes[1].base.type: must be a string, got JSON boolean`},
		{"position not an object", createJSON(with(`"position":{"x":0,"y":0}`, `"position":"here"`), secondEdge), `nodes[1].position: must be an object, got JSON string`},
		{"position y", createJSON(with(`"y":0`, `"y":false`), secondEdge), `nodes[1].position.y: must be a number or a numeric string, got JSON boolean`},
		{"position x text", createJSON(with(`"x":0`, `"x":"left"`), secondEdge), `nodes[1].position.x: must be a number or a numeric string, got "left"`},
		{"position x NaN", createJSON(with(`"x":0`, `"x":"NaN"`), secondEdge), `nodes[1].position.x: must be a number or a numeric string, got "NaN"`},
		{"edge sourceId", createJSON(nodeB, `{"id":"e2","sourceId":2,"targetId":"c"}`), `edges[1].sourceId: must be a string, got JSON number`},
		{"edge targetHandleId", createJSON(nodeB, `{"id":"e2","sourceId":"b","targetId":"c","targetHandleId":{}}`), `edges[1].targetHandleId: must be a string, got JSON object`},
		// The validator's own shape checks use the same paths.
		{"config not an object", createJSON(with(`"config":{"fields":[]}`, `"config":[]`), secondEdge), `nodes[1].base.config: must be an object`},

		// Malformed JSON: the path reached and the byte offset.
		{"truncated", truncated, fmt.Sprintf("nodes[1].base: malformed JSON at byte %d: unexpected end of JSON input", len(truncated))},
		{"trailing comma in an object", trailingObject, fmt.Sprintf("nodes[1].base: malformed JSON at byte %d: invalid character '}'", byteAt(trailingObject, `[],}`))},
		{"trailing comma in an array", trailingArray, fmt.Sprintf("nodes[2]: malformed JSON at byte %d: invalid character ']'", byteAt(trailingArray, `}},]`))},
		{"inside config", deepConfig, fmt.Sprintf("nodes[1].base.config.fields[1]: malformed JSON at byte %d", byteAt(deepConfig, `"f2",]`))},
		{"bad literal", `{"name": nope}`, `name: malformed JSON at byte 11: invalid character 'o'`},
		{"truncated after a key", `{"name":`, `name: malformed JSON at byte 8: unexpected end of JSON input`},
		{"data after the value", valid + ` x`, fmt.Sprintf("body: malformed JSON at byte %d: invalid character 'x' after top-level value", len(valid)+2)},
		{"empty", ``, `body: request body is empty`},
	}
}

func TestDecodeErrorPaths(t *testing.T) {
	t.Parallel()
	base := start(t)
	workflowID := createWorkflow(t, base, "decode target", smallDef())

	t.Run("create workflow", func(t *testing.T) {
		for _, tc := range workflowDecodeCases() {
			t.Run(tc.name, func(t *testing.T) {
				wantDecodeProblem(t, call(t, "POST", base+"/workflows", tc.body), tc.want)
			})
		}
	})

	t.Run("update workflow nested", func(t *testing.T) {
		for _, tc := range workflowDecodeCases() {
			t.Run(tc.name, func(t *testing.T) {
				wantDecodeProblem(t, call(t, "PUT", base+"/workflows/"+workflowID, tc.body), tc.want)
			})
		}
	})

	t.Run("update workflow flat", func(t *testing.T) {
		nodeB := graphNode("b")
		for _, tc := range []decodeCase{
			{"unknown at top level", `{"name":"x","nodes":[],"edges":[],"extra":1}`, `body: property "extra" should not exist`},
			{"unknown in position", flatJSON(strings.Replace(nodeB, `"y":0}`, `"y":0,"z":1}`, 1), secondEdge), `nodes[1].position: property "z" should not exist`},
			{"base name", flatJSON(strings.Replace(nodeB, `"name":"b"`, `"name":2`, 1), secondEdge), `nodes[1].base.name: must be a string, got JSON number`},
			{"edge id", flatJSON(nodeB, `{"id":5,"sourceId":"b","targetId":"c"}`), `edges[1].id: must be a string, got JSON number`},
			{"createdAt", `{"name":"x","nodes":[],"edges":[],"createdAt":"yesterday"}`, `createdAt: must be an integer`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantDecodeProblem(t, call(t, "PUT", base+"/workflows/"+workflowID, tc.body), tc.want)
			})
		}
	})

	t.Run("several problems at once", func(t *testing.T) {
		body := createJSON(strings.Replace(graphNode("b"), `"name":"b"`, `"name":2`, 1), `{"id":"e2","sourceId":"b","targetId":"c","extra":1}`)
		msgs := call(t, "POST", base+"/workflows", body).wantProblem(t, "nodes[1].base.name")
		want := []string{`nodes[1].base.name: must be a string, got JSON number`, `edges[1]: property "extra" should not exist`}
		if len(msgs) != len(want) || msgs[0] != want[0] || msgs[1] != want[1] {
			t.Errorf("messages %q, want %q", msgs, want)
		}
	})

	t.Run("opaque values are not typed", func(t *testing.T) {
		nodeB := strings.Replace(graphNode("b"), `"config":{"fields":[]},"connections":[]`,
			`"config":{"fields":[[1],{"x":[true]}]},"connections":[["x"],{"y":1},300],"extra":1`, 1)
		msgs := call(t, "POST", base+"/workflows", createJSON(nodeB, secondEdge)).wantProblem(t, "nodes[1].base")
		if want := `nodes[1].base: property "extra" should not exist`; len(msgs) != 1 || msgs[0] != want {
			t.Errorf("messages %q, want only %q", msgs, want)
		}
	})

	t.Run("deep nesting", func(t *testing.T) {
		nodeB := strings.Replace(graphNode("b"), `"config":{"fields":[]}`, `"config":`+strings.Repeat(`[`, 1<<19), 1)
		msgs := call(t, "POST", base+"/workflows", createJSON(nodeB, secondEdge)).wantProblem(t, "malformed JSON at byte")
		if !strings.HasPrefix(msgs[0], "nodes[1].base.config[0][0]") || len(msgs[0]) > 400 {
			t.Errorf("message %.500q, want the path reached, shortened", msgs[0])
		}
	})

	t.Run("problems are bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"name":"x","workflow":{"nodes":[],"edges":[]}`)
		for i := range 25 {
			fmt.Fprintf(&b, `,"extra%d":1`, i)
		}
		b.WriteString(`}`)
		msgs := call(t, "POST", base+"/workflows", b.String()).wantProblem(t, `body: property "extra0" should not exist`)
		if len(msgs) != 21 || msgs[20] != "body: 5 more problems not listed" {
			t.Errorf("%d messages ending %q, want 20 and a count of the rest", len(msgs), msgs[len(msgs)-1])
		}
	})

	t.Run("run input", func(t *testing.T) {
		malformed := `{"input":{"city":"Oslo",}}`
		for _, tc := range []decodeCase{
			{"timeoutMs", `{"input":{"city":"Oslo"},"timeoutMs":"soon"}`, `timeoutMs: must be a number, got JSON string`},
			{"idempotencyKey", `{"input":{},"idempotencyKey":5}`, `idempotencyKey: must be a string, got JSON number`},
			{"input not an object", `{"input":["Oslo"]}`, `input: must be a JSON object`},
			{"body not an object", `[]`, `body: must be an object, got JSON array`},
			{"malformed", malformed, fmt.Sprintf("body: malformed JSON at byte %d: invalid character '}'", byteAt(malformed, `"Oslo",}`))},
			{"truncated", `{"input":`, `body: malformed JSON at byte 9: unexpected end of JSON input`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, route := range []string{"/execute-async", "/trigger", "/execute"} {
					wantDecodeProblem(t, call(t, "POST", base+"/workflows/"+workflowID+route, tc.body), tc.want)
				}
			})
		}
	})

	templateJSON := func(extra string) string {
		return `{"name":"x","provider":"p","category":"c","method":"GET","url":"https://example.com"` + extra + `}`
	}
	templateCases := []decodeCase{
		{"unknown property", templateJSON(`,"colour":"red"`), `colour: property colour should not exist`},
		{"timeoutMs text", templateJSON(`,"timeoutMs":"fast"`), `timeoutMs: must be an integer, got JSON string`},
		{"timeoutMs fraction", templateJSON(`,"timeoutMs":1.5`), `timeoutMs: must be an integer, got JSON number 1.5`},
		{"isActive", templateJSON(`,"isActive":"yes"`), `isActive: must be a boolean, got JSON string`},
		{"description", templateJSON(`,"description":[]`), `description: must be a string, got JSON array`},
		{"body not an object", `[]`, `body: must be an object, got JSON array`},
		{"malformed", templateJSON(`,`), fmt.Sprintf("body: malformed JSON at byte %d: invalid character '}'", byteAt(templateJSON(`,`), `.com",}`))},
	}

	t.Run("template create", func(t *testing.T) {
		for _, tc := range append(templateCases, decodeCase{"name", `{"name":5,"provider":"p","category":"c","url":"https://example.com"}`, `name: must be a string, got JSON number`}) {
			t.Run(tc.name, func(t *testing.T) {
				wantDecodeProblem(t, call(t, "POST", base+"/api-templates", tc.body), tc.want)
			})
		}
	})

	t.Run("template update", func(t *testing.T) {
		created := call(t, "POST", base+"/api-templates", templateJSON(``)).object(t, http.StatusCreated)
		id := uuidField(t, created, "id")
		for _, tc := range templateCases {
			t.Run(tc.name, func(t *testing.T) {
				wantDecodeProblem(t, call(t, "PUT", base+"/api-templates/"+id, tc.body), tc.want)
			})
		}
	})
}
