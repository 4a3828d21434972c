package httpapi_test

// The OpenAPI document is generated here, from the operations below, the JSON Schema of a
// workflow definition (docs/workflow.schema.json) and the sample workflows (examples), and kept
// as the golden file openapi.json, which the API embeds and serves. After changing routes or
// shapes, regenerate it:
//
//	go test ./internal/httpapi -run OpenAPI -update

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/sampledata"
)

type obj = map[string]any

// exampleBaseURL roots the sample workflows of the examples.
const exampleBaseURL = "http://localhost:3000"

// Example ids and times of the document.
const (
	exWorkflowID = "6f1c2f9e-8a57-4f7e-9c61-2a0d3b1f0c11"
	exRunID      = "0b6f3c1e-5d2a-4f4e-9a7b-3c2d1e0f9a8b"
	exHookID     = "q3Jt8yVZ0cN5mB2xL7wK4dR9sP1aE6fH"
	exTraceID    = "4bf92f3577b34da6a3ce929d0e0e4736"
	exScheduleID = "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
	exCreated    = int64(1735725600000)
	exStarted    = "2025-01-01T10:00:00.000Z"
	exFinished   = "2025-01-01T10:00:00.412Z"
)

func schemaRef(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
func paramRef(name string) obj  { return obj{"$ref": "#/components/parameters/" + name} }
func arrayOf(items obj) obj     { return obj{"type": "array", "items": items} }

// jsonContent is a JSON body with its schema and an example (nil: none).
func jsonContent(schema obj, example any) obj {
	m := obj{"schema": schema}
	if example != nil {
		m["example"] = example
	}
	return obj{"application/json": m}
}

func response(desc string, schema obj, example any) obj {
	return obj{"description": desc, "content": jsonContent(schema, example)}
}

func errorResponse(desc string, status int, message any) obj {
	reason := map[int]string{400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict", 413: "Payload Too Large",
		422: "Unprocessable Entity", 429: "Too Many Requests", 503: "Service Unavailable"}[status]
	return response(desc, schemaRef("Error"), obj{"statusCode": status, "message": message, "error": reason})
}

// operation is one documented route.
type operation struct {
	method, path, tag, id, summary, description string
	params                                      []obj
	body                                        obj // request body, nil for none
	responses                                   obj
	public                                      bool // served without an API key
}

func (o operation) render() obj {
	m := obj{"tags": []string{o.tag}, "operationId": o.id, "summary": o.summary, "responses": o.responses}
	if o.description != "" {
		m["description"] = o.description
	}
	if len(o.params) > 0 {
		m["parameters"] = o.params
	}
	if o.body != nil {
		m["requestBody"] = o.body
	}
	if o.public {
		m["security"] = []obj{}
	}
	return m
}

// definitionSchemas turns docs/workflow.schema.json into component schemas: the definition
// itself as WorkflowDefinition and each of its $defs as Definition<Name>, with references
// rewritten to the components.
func definitionSchemas(t *testing.T) obj {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "docs", "workflow.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var root obj
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	name := func(def string) string { return "Definition" + strings.ToUpper(def[:1]) + def[1:] }
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch x := v.(type) {
		case obj:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$ref" {
					x[k] = "#/components/schemas/" + name(strings.TrimPrefix(s, "#/$defs/"))
					continue
				}
				x[k] = rewrite(e)
			}
		case []any:
			for i, e := range x {
				x[i] = rewrite(e)
			}
		}
		return v
	}
	defs, _ := root["$defs"].(obj)
	delete(root, "$defs")
	delete(root, "$schema")
	delete(root, "$id")
	out := obj{"WorkflowDefinition": rewrite(root)}
	for k, d := range defs {
		out[name(k)] = rewrite(d)
	}
	return out
}

// exampleWorkflows are the sample workflows the examples show.
func exampleWorkflows(t *testing.T) []sampledata.Workflow {
	t.Helper()
	samples, err := sampledata.Workflows(exampleBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

func decodeJSON(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// buildOpenAPI builds the document.
func buildOpenAPI(t *testing.T) obj {
	t.Helper()
	samples := exampleWorkflows(t)
	weather := samples[0]
	def := decodeJSON(t, weather.Definition).(obj)
	workflowExample := obj{"id": exWorkflowID, "name": weather.Name, "version": 1, "nodes": def["nodes"], "edges": def["edges"],
		"createdAt": exCreated, "updatedAt": exCreated}
	createExample := obj{"name": weather.Name, "workflow": def}
	var summaries []obj
	for i, s := range samples[:3] {
		summaries = append(summaries, obj{"id": []string{exWorkflowID, "9d2c7a41-3b8e-4c55-8f0a-6e1d2b3c4a5f", "2a7e9c13-4d6b-4f81-a2c3-5b6d7e8f9a0b"}[i],
			"name": s.Name, "updatedAt": exCreated - int64(i)*3600000})
	}
	nodeIDs := []string{}
	nodeTypes := []string{}
	for _, n := range def["nodes"].([]any) {
		nodeIDs = append(nodeIDs, n.(obj)["id"].(string))
		nodeTypes = append(nodeTypes, n.(obj)["base"].(obj)["type"].(string))
	}
	input := obj{"city": "Dubai", "user_email": "me@example.com"}
	weatherData := obj{"id": "weather-1735725600200", "city": "Dubai", "name": "Weather for Dubai", "count": 1, "value": "35°C", "result": "success",
		"message": "Current weather in Dubai", "humidity": 60, "condition": "sunny", "temperature": 35, "timestamp": "2025-01-01T10:00:00.200Z"}
	outputs := []any{input, obj{"status": 200, "statusText": "OK", "data": weatherData,
		"headers": obj{"content-type": "application/json; charset=utf-8"}, "success": true}, obj{"status": 200, "statusText": "OK", "data": weatherData,
		"headers": obj{"content-type": "application/json; charset=utf-8"}, "success": true}}
	var tasks []obj
	for i, id := range nodeIDs {
		taskID := []string{"7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f", "8d2e3f4a-5b6c-4d7e-9f0a-1b2c3d4e5f6a", "9e3f4a5b-6c7d-4e8f-8a1b-2c3d4e5f6a7b"}[i%3]
		tasks = append(tasks, obj{"id": taskID, "nodeId": id, "nodeType": nodeTypes[i], "status": "completed", "attempt": 1, "redeliveries": 0,
			"startedAt": exStarted, "completedAt": exFinished, "error": nil, "output": outputs[i%3],
			"outputUrl": "/workflows/" + exWorkflowID + "/runs/" + exRunID + "/tasks/" + taskID + "/output"})
	}
	logs := []obj{
		{"id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b", "type": "system", "message": "Async workflow run started", "timestamp": exStarted, "nodeId": nil, "nodePersistedId": nil, "data": nil},
		{"id": "2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d", "type": "node-output", "message": `Input: {"city":"Dubai","user_email":"me@example.com"}`, "timestamp": exStarted,
			"nodeId": nodeIDs[0], "nodePersistedId": nodeIDs[0], "data": obj{"name": "City Input", "kind": "input"}},
		{"id": "3b4c5d6e-7f8a-4b9c-8d1e-2f3a4b5c6d7e", "type": "system", "message": "Workflow run succeeded", "timestamp": exFinished, "nodeId": nil, "nodePersistedId": nil, "data": nil},
	}
	runExample := obj{"id": exRunID, "workflowId": exWorkflowID, "version": 1, "status": "succeeded", "startedAt": exStarted, "finishedAt": exFinished,
		"input": input, "result": obj{"completedTasks": 3, "failedTasks": 0, "skippedTasks": 0, "cancelledTasks": 0, "totalTasks": 3},
		"error": nil, "traceId": exTraceID, "tasks": tasks, "logs": logs, "logsNextCursor": nil, "reruns": []obj{}}
	cancelledExample := obj{"id": exRunID, "workflowId": exWorkflowID, "version": 1, "status": "failed", "cancelled": true, "startedAt": exStarted, "finishedAt": exFinished,
		"input": input, "result": obj{"cancelled": true, "completedTasks": 1, "failedTasks": 0, "skippedTasks": 0, "cancelledTasks": 2, "totalTasks": 3},
		"error": nil, "traceId": exTraceID, "tasks": []obj{}, "logs": []obj{}, "logsNextCursor": nil, "reruns": []obj{}}
	templates, err := sampledata.APITemplates(exampleBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	template := decodeJSON(t, templates[0]).(obj)
	template["id"] = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
	template["createdAt"], template["updatedAt"] = exStarted, exStarted

	schemas := definitionSchemas(t)
	for k, v := range componentSchemas() {
		schemas[k] = v
	}

	bad := func(msg string) obj {
		return errorResponse("Invalid request: every problem, naming its field", 400, []string{msg})
	}
	wfNotFound := errorResponse("No workflow with this id", 404, "Workflow not found")
	runNotFound := errorResponse("No such run (of this workflow, on the routes that name one)", 404, "Workflow run not found")
	tplNotFound := errorResponse("No API template with this id", 404, "API template not found")
	startResponses := obj{
		"201": response("The run was created and its root tasks enqueued", schemaRef("RunStarted"), obj{"runId": exRunID, "traceId": exTraceID}),
		"400": bad("input must be a JSON object"),
		"404": wfNotFound,
		"413": errorResponse("Input larger than the limit (256 KiB)", 413, "input is 300000 bytes, larger than the limit of 262144 bytes"),
		"422": errorResponse("The idempotency key was used with another body", 422, `Idempotency key "k1" was already used with a different request body (input or timeoutMs); send the same body or use a new key`),
		"429": errorResponse("Run-start rate limit exceeded (RATE_LIMIT_RUNS_PER_SECOND); see Retry-After", 429, "too many runs started: the limit is 5 per second per API key; retry after the Retry-After delay"),
		"503": errorResponse("The queue refuses writes; see Retry-After", 503, "The queue is refusing writes; retry shortly"),
	}
	executeBody := obj{"required": false, "content": jsonContent(schemaRef("ExecuteRequest"), obj{"input": input})}
	runParams := []obj{paramRef("WorkflowId"), paramRef("RunId")}
	bareRunParams := []obj{paramRef("RunId")}

	ops := []operation{
		{method: "get", path: "/health", tag: "health", id: "health", summary: "Liveness", public: true,
			responses: obj{"200": response("The process is up", schemaRef("Health"), obj{"status": "ok", "timestamp": exStarted})}},
		{method: "get", path: "/healthz", tag: "health", id: "healthz", summary: "Liveness (Kubernetes spelling)", public: true,
			responses: obj{"200": response("The process is up", schemaRef("Health"), obj{"status": "ok", "timestamp": exStarted})}},
		{method: "get", path: "/readyz", tag: "health", id: "readyz", summary: "Readiness: PostgreSQL and Redis reachable", public: true,
			responses: obj{
				"200": response("Ready", schemaRef("Readiness"), obj{"status": "ready", "timestamp": exStarted}),
				"503": response("A dependency is unreachable", schemaRef("Readiness"), obj{"status": "unavailable", "error": "postgres: connection refused", "timestamp": exStarted}),
			}},
		{method: "get", path: "/metrics", tag: "health", id: "metrics", summary: "Prometheus metrics", public: true,
			description: "Prometheus text format (OpenMetrics with exemplars when asked for).",
			responses: obj{"200": obj{"description": "The metrics", "content": obj{"text/plain": obj{"schema": obj{"type": "string"},
				"example": "sequenceflow_runs_started_total{workflow=\"Simple Weather Alert\"} 12\n"}}}}},
		{method: "get", path: "/openapi.json", tag: "documentation", id: "openapi", summary: "This OpenAPI document",
			responses: obj{"200": obj{"description": "The OpenAPI 3.1 document", "content": obj{"application/json": obj{"schema": obj{"type": "object"}}}}}},
		{method: "get", path: "/docs", tag: "documentation", id: "docs", summary: "API reference page rendered from this document",
			description: "A self-contained HTML page (no scripts): the operations grouped by tag with their parameters and examples.",
			responses:   obj{"200": obj{"description": "The page", "content": obj{"text/html": obj{"schema": obj{"type": "string"}}}}}},

		{method: "get", path: "/workflows", tag: "workflows", id: "listWorkflows", summary: "List workflows, newest updatedAt first",
			responses: obj{"200": response("Every workflow (no pagination)", arrayOf(schemaRef("WorkflowSummary")), summaries)}},
		{method: "post", path: "/workflows", tag: "workflows", id: "createWorkflow", summary: "Create a workflow",
			description: "The body is {name, workflow: {nodes, edges}}. The definition is validated (graph rules and node configs); every problem is named with its field path.",
			body:        obj{"required": true, "content": jsonContent(schemaRef("CreateWorkflowRequest"), createExample)},
			responses: obj{
				"201": response("The workflow at version 1", schemaRef("Workflow"), workflowExample),
				"400": bad(`nodes[1] (weather-api).base.config.url: must not be empty`),
			}},
		{method: "get", path: "/workflows/{id}", tag: "workflows", id: "getWorkflow", summary: "Get a workflow at its current version",
			params:    []obj{paramRef("WorkflowId")},
			responses: obj{"200": response("The workflow; PUT accepts this object unchanged", schemaRef("Workflow"), workflowExample), "404": wfNotFound}},
		{method: "put", path: "/workflows/{id}", tag: "workflows", id: "updateWorkflow", summary: "Replace a workflow's definition (writes a new version)",
			description: "Accepts what GET returns, unchanged (id, version and timestamps are checked and ignored), or {name, workflow: {nodes, edges}}. Runs keep the version they started with.",
			params:      []obj{paramRef("WorkflowId")},
			body:        obj{"required": true, "content": jsonContent(schemaRef("UpdateWorkflowRequest"), workflowExample)},
			responses: obj{
				"200": response("The workflow at its new version", schemaRef("Workflow"), workflowExample),
				"400": bad("version: must be a positive integer (the version GET returned; it is ignored)"),
				"404": wfNotFound,
			}},
		{method: "delete", path: "/workflows/{id}", tag: "workflows", id: "deleteWorkflow", summary: "Delete a workflow and its history",
			description: "Answers {deleted: true} for any id, as the original did. With runs queued or running: 409, unless force=true cancels them first.",
			params:      []obj{paramRef("WorkflowId"), paramRef("Force")},
			responses: obj{
				"200": response("Deleted (or never existed)", schemaRef("Deleted"), obj{"deleted": true}),
				"409": errorResponse("Runs in flight and no force", 409, "Workflow has runs queued or running; cancel them or delete with ?force=true"),
			}},

		{method: "post", path: "/workflows/{id}/execute-async", tag: "runs", id: "executeAsync", summary: "Start a run",
			description: "Body {input}; a missing input is {}. Idempotency-Key (header, or idempotencyKey in the body) makes a repeated request answer the first run. timeoutMs sets the run's deadline.",
			params:      []obj{paramRef("WorkflowId"), paramRef("IdempotencyKey")}, body: executeBody, responses: startResponses},
		{method: "post", path: "/workflows/{id}/trigger", tag: "runs", id: "trigger", summary: "Start a run (same as execute-async)",
			params: []obj{paramRef("WorkflowId"), paramRef("IdempotencyKey")}, body: executeBody, responses: startResponses},
		{method: "post", path: "/workflows/{id}/execute", tag: "runs", id: "executeSync", summary: "Start a run and wait for it (legacy)",
			description: "Waits up to SYNC_EXECUTE_TIMEOUT (60 s) and answers the run's status so far with its node logs in the original's legacy shape.",
			params:      []obj{paramRef("WorkflowId"), paramRef("IdempotencyKey")}, body: executeBody,
			responses: obj{
				"201": response("The run's status and node logs", schemaRef("SyncRunResult"), obj{"runId": exRunID, "status": "succeeded",
					"logs": []obj{{"kind": "input", "nodeId": nodeIDs[0], "name": "City Input", "content": `Input: {"city":"Dubai","user_email":"me@example.com"}`}}}),
				"400": startResponses["400"], "404": wfNotFound, "429": startResponses["429"], "503": startResponses["503"],
			}},
		{method: "get", path: "/workflows/{id}/runs", tag: "runs", id: "listWorkflowRuns", summary: "A workflow's runs, newest first",
			description: "An array (the original's shape) with epoch-millisecond times; finishedAt is left out while unset. The next page is named by the Link header (rel=\"next\") and X-Next-Cursor.",
			params:      []obj{paramRef("WorkflowId"), paramRef("Limit100"), paramRef("Cursor"), paramRef("Status")},
			responses: obj{
				"200": obj{"description": "One page of runs", "headers": obj{
					"Link":          obj{"description": "<...?cursor=...>; rel=\"next\" when there are more", "schema": obj{"type": "string"}},
					"X-Next-Cursor": obj{"description": "The next page's cursor", "schema": obj{"type": "string"}},
				}, "content": jsonContent(arrayOf(schemaRef("RunSummary")), []obj{{"id": exRunID, "status": "succeeded", "startedAt": exCreated, "finishedAt": exCreated + 412, "traceId": exTraceID}})},
				"400": bad(`status: "done" is not a run status (one of queued, running, succeeded, failed, cancelled)`),
				"404": wfNotFound,
			}},
	}
	statusDesc := "The run status object: the original's {status, startedAt, finishedAt, tasks, logs} plus id, workflowId, version, input, result, error and trace id. " +
		"A cancelled run reads status \"failed\" with cancelled: true (and result.cancelled: true), so the original front end stops polling. " +
		"Logs are the first 200 lines; logsNextCursor continues them on the logs route. Large outputs are cut (outputTruncated) and served by outputUrl."
	for _, v := range []struct {
		path, id, summary string
		params            []obj
	}{
		{"/workflows/runs/{runId}/status", "runStatus", "A run's status", bareRunParams},
		{"/workflows/{id}/runs/{runId}", "workflowRun", "A run of this workflow", runParams},
		{"/workflows/{id}/runs/{runId}/status", "workflowRunStatus", "A run's status, through its workflow", runParams},
	} {
		ops = append(ops, operation{method: "get", path: v.path, tag: "runs", id: v.id, summary: v.summary, description: statusDesc, params: v.params,
			responses: obj{"200": obj{"description": "The run", "content": obj{"application/json": obj{"schema": schemaRef("Run"),
				"examples": obj{"succeeded": obj{"value": runExample}, "cancelled": obj{"summary": "A cancelled run, as the seed-compatible routes show it", "value": cancelledExample}}}}},
				"404": runNotFound}})
	}
	for _, v := range []struct {
		prefix, suffix string
		params         []obj
	}{{"/workflows/runs/{runId}", "", bareRunParams}, {"/workflows/{id}/runs/{runId}", "ViaWorkflow", runParams}} {
		ops = append(ops,
			operation{method: "get", path: v.prefix + "/logs", tag: "runs", id: "runLogs" + v.suffix, summary: "One page of a run's logs, oldest first",
				params:    append(append([]obj{}, v.params...), paramRef("Limit200"), paramRef("Cursor")),
				responses: obj{"200": response("A page of log lines", schemaRef("LogsPage"), obj{"logs": logs, "nextCursor": nil}), "400": bad("limit: must be a positive integer"), "404": runNotFound}},
			operation{method: "post", path: v.prefix + "/cancel", tag: "runs", id: "cancelRun" + v.suffix, summary: "Cancel a run",
				description: "Cancels the run and every unfinished task in one transaction and stops in-flight calls.",
				params:      v.params,
				responses: obj{"201": response("Cancelled", schemaRef("Cancelled"), obj{"cancelled": true}), "404": runNotFound,
					"409": errorResponse("The run already finished", 409, "Workflow run is already finished and cannot be cancelled")}},
			operation{method: "get", path: v.prefix + "/tasks/{taskId}/output", tag: "runs", id: "taskOutput" + v.suffix, summary: "A task's full output",
				params: append(append([]obj{}, v.params...), paramRef("TaskId")),
				responses: obj{"200": response("The task's stored output", schemaRef("TaskOutput"), obj{"taskId": tasks[1]["id"], "nodeId": nodeIDs[1], "status": "completed",
					"completedAt": exFinished, "output": outputs[1]}), "404": errorResponse("No such task in this run", 404, "Task not found")}},
		)
	}
	// Events for wait nodes: by run and node (keyed), or by a waiting task's resume URL (public).
	eventBody := obj{"required": false, "description": "Any JSON value (at most 256 KiB); empty means {}. The wait node's output, so its children's input.",
		"content": jsonContent(obj{}, obj{"approved": true, "by": "ops@example.com"})}
	resumed := response("The event completed the waiting task, which continues on handle out", schemaRef("EventDelivered"),
		obj{"runId": exRunID, "nodeId": "approval", "taskId": "5b1f0c7e-2a9d-5e3b-8c4f-6d7e8f9a0b1c", "status": "completed", "handle": "out"})
	eventConflict := errorResponse("The task is not waiting: not yet, already resumed or timed out, or its run finished (cancelled)", 409, "Node approval already resumed: an event resumed it")
	for _, v := range []struct {
		prefix, suffix string
		params         []obj
	}{{"/workflows/runs/{runId}", "", bareRunParams}, {"/workflows/{id}/runs/{runId}", "ViaWorkflow", runParams}} {
		ops = append(ops, operation{method: "post", path: v.prefix + "/events/{nodeId}", tag: "runs", id: "deliverEvent" + v.suffix,
			summary:     "Deliver an event to a waiting wait node",
			description: "Completes the wait node's task with the body as its output, once: a second delivery, a delivery after the timeout or to a cancelled run answers 409. See docs/WAITING.md.",
			params:      append(append([]obj{}, v.params...), paramRef("NodeId")), body: eventBody,
			responses: obj{"200": resumed, "400": bad("body: must be JSON (the event the wait node continues with)"),
				"404": errorResponse("No such run, or no such node in it", 404, "Workflow run or node not found"), "409": eventConflict,
				"413": errorResponse("Event too large", 413, "event is 300000 bytes, larger than the limit of 262144 bytes"),
				"422": errorResponse("The node is not a wait node", 422, "Node notify is of type notification, not a wait node: only wait nodes take events")}})
	}
	ops = append(ops, operation{method: "post", path: "/resume/{token}", tag: "runs", id: "resumeByToken", public: true,
		summary:     "Deliver an event through a waiting task's resume URL",
		description: "The resumeUrl in a waiting wait node's task output. The token is the credential: no API key is needed. Answers like the events route; an unknown token answers 404.",
		params:      []obj{{"name": "token", "in": "path", "required": true, "description": "The resume token (43 characters of base64url)", "schema": obj{"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}}},
		body:        eventBody,
		responses: obj{"200": resumed, "400": bad("body: must be JSON (the event the wait node continues with)"),
			"404": errorResponse("No such resume URL", 404, "Resume URL not found"), "409": eventConflict,
			"413": errorResponse("Event too large", 413, "event is 300000 bytes, larger than the limit of 262144 bytes")}})
	// Retry and re-run, run search, bulk actions and versions.
	rerunConflict := errorResponse("The run is in flight, nothing would execute again, or an upstream node has no output", 409, `Upstream node "weather-api" of "weather-report" has no output to reuse: it is failed in run 0b6f3c1e-5d2a-4f4e-9a7b-3c2d1e0f9a8b; retry the run or re-run from an earlier node`)
	rerunInvalid := errorResponse("Invalid body, naming the field, or an idempotency key used with another request", 422, []string{`fromNodeId: node "nope" does not exist in version 1 of the workflow`})
	for _, v := range []struct {
		prefix, suffix string
		params         []obj
	}{{"/workflows/runs/{runId}", "", bareRunParams}, {"/workflows/{id}/runs/{runId}", "ViaWorkflow", runParams}} {
		params := append(append([]obj{}, v.params...), paramRef("IdempotencyKey"))
		ops = append(ops,
			operation{method: "post", path: v.prefix + "/retry", tag: "run operations", id: "retryRun" + v.suffix, summary: "Retry a finished run",
				description: "A new run of the same version and input that reuses the output of every node that completed and executes the failed, cancelled and skipped-because-of-failure ones again. See docs/RUN-OPERATIONS.md.",
				params:      params,
				body:        obj{"required": false, "content": jsonContent(schemaRef("RetryRequest"), obj{"idempotencyKey": "retry-order-7"})},
				responses: obj{
					"201": response("The new run", schemaRef("RerunStarted"), obj{"runId": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "parentRunId": exRunID, "rerunKind": "retry"}),
					"200": response("The idempotency key already made this run from the same request", schemaRef("RerunStarted"), nil),
					"404": runNotFound, "409": rerunConflict, "422": rerunInvalid, "429": startResponses["429"], "503": startResponses["503"],
				}},
			operation{method: "post", path: v.prefix + "/rerun", tag: "run operations", id: "rerunRun" + v.suffix, summary: "Re-run a finished run from a node",
				description: "A new run that copies the outputs upstream of fromNodeId and executes from there, on the pinned version (default) or the current one, with the original input or a new one.",
				params:      params,
				body:        obj{"required": true, "content": jsonContent(schemaRef("RerunRequest"), obj{"fromNodeId": nodeIDs[1], "version": "current"})},
				responses: obj{
					"201": response("The new run", schemaRef("RerunStarted"), obj{"runId": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "parentRunId": exRunID, "rerunKind": "rerun", "rerunFromNodeId": nodeIDs[1]}),
					"200": response("The idempotency key already made this run from the same request", schemaRef("RerunStarted"), nil),
					"404": runNotFound, "409": rerunConflict, "422": rerunInvalid, "429": startResponses["429"], "503": startResponses["503"],
				}},
		)
	}
	searchParams := []obj{paramRef("SearchStatus"), paramRef("HasFailedNodes"), paramRef("SearchWorkflowId"), paramRef("Version"), paramRef("StartedAfter"),
		paramRef("StartedBefore"), paramRef("SearchIdempotencyKey"), paramRef("FailedNode"), paramRef("ErrorText")}
	searchItem := obj{"id": exRunID, "workflowId": exWorkflowID, "workflowName": weather.Name, "version": 1, "status": "failed", "failedNodes": 1,
		"startedAt": exStarted, "finishedAt": exFinished, "error": "Node weather-api failed: Request timeout", "idempotencyKey": nil}
	bulkDesc := "Acts on one page of the run search given in the query string (the filters of GET /runs; at least one is required), newest first: limit runs (default 100, at most 500); nextCursor continues. Idempotent."
	ops = append(ops,
		operation{method: "get", path: "/runs", tag: "run operations", id: "searchRuns", summary: "Search the runs of every workflow, newest first",
			description: "Filters combine with AND; an unknown parameter, or a single-valued one given twice, is a 400 naming it. A cancelled run has status cancelled here. Pages are stable under inserts; nextCursor is left out after the last page.",
			params:      append(append([]obj{}, searchParams...), paramRef("Limit100"), paramRef("Cursor")),
			responses: obj{
				"200": response("One page of runs", schemaRef("RunSearchPage"), obj{"runs": []obj{searchItem}}),
				"400": bad("startedAfter: must be an RFC 3339 time (2026-12-01T18:00:00Z) or epoch milliseconds"),
			}},
		operation{method: "post", path: "/runs/retry", tag: "run operations", id: "bulkRetry", summary: "Retry every run a search finds (one page per call)",
			description: bulkDesc + " Without status, takes the failed and cancelled runs; a run's retry is keyed bulk-retry:<run id>, so calling again makes no second retry.",
			params:      append(append([]obj{}, searchParams...), paramRef("BulkLimit"), paramRef("Cursor")),
			responses: obj{
				"200": response("What was done to each run of the page", schemaRef("BulkResult"), obj{"matched": 2, "nextCursor": nil, "results": []obj{
					{"runId": exRunID, "outcome": "retried", "newRunId": "c4d5e6f7-a8b9-4c0d-9e1f-2a3b4c5d6e7f", "created": true},
					{"runId": "d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f8a", "outcome": "skipped", "reason": "Workflow run d5e6f7a8-b9c0-4d1e-8f2a-3b4c5d6e7f8a is running; only a finished run can be retried or re-run (cancel it first)"}}}),
				"400": bad("filter: a bulk action needs at least one search filter with a value (status, hasFailedNodes, workflowId, version, startedAfter, startedBefore, idempotencyKey, failedNode, error)"),
				"503": startResponses["503"],
			}},
		operation{method: "post", path: "/runs/cancel", tag: "run operations", id: "bulkCancel", summary: "Cancel every run a search finds (one page per call)",
			description: bulkDesc + " Without status, takes the queued and running runs; a run that already finished is skipped.",
			params:      append(append([]obj{}, searchParams...), paramRef("BulkLimit"), paramRef("Cursor")),
			responses: obj{
				"200": response("What was done to each run of the page", schemaRef("BulkResult"), obj{"matched": 1, "nextCursor": nil, "results": []obj{
					{"runId": exRunID, "outcome": "cancelled"}}}),
				"400": bad("filter: a bulk action needs at least one search filter with a value (status, hasFailedNodes, workflowId, version, startedAfter, startedBefore, idempotencyKey, failedNode, error)"),
			}},
		operation{method: "get", path: "/workflows/{id}/versions", tag: "workflows", id: "listVersions", summary: "A workflow's versions, newest first",
			params: []obj{paramRef("WorkflowId"), paramRef("Limit100"), paramRef("Cursor")},
			responses: obj{"200": response("One page of versions", schemaRef("VersionList"), obj{"versions": []obj{{"version": 1, "current": true, "createdAt": exStarted,
				"hash": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "nodes": len(nodeIDs), "edges": len(def["edges"].([]any))}}, "nextCursor": nil}),
				"404": wfNotFound}},
		operation{method: "get", path: "/workflows/{id}/versions/{version}", tag: "workflows", id: "getVersion", summary: "One version of a workflow, with its definition",
			params: []obj{paramRef("WorkflowId"), paramRef("VersionPath")},
			responses: obj{"200": response("The version", schemaRef("Version"), obj{"workflowId": exWorkflowID, "version": 1, "current": true, "createdAt": exStarted,
				"hash": "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "nodes": def["nodes"], "edges": def["edges"]}),
				"404": errorResponse("No such workflow or version", 404, "Workflow version not found")}},
	)
	hookExample := obj{"id": exHookID, "url": "/hooks/" + exHookID, "workflowId": exWorkflowID, "name": "GitHub push", "version": "current", "signed": true,
		"signature": obj{"header": "X-Signature-256", "timestampHeader": "X-Signature-Timestamp", "toleranceSeconds": 300},
		"dedup":     obj{"header": "Idempotency-Key", "bodyField": "event.id"}, "respond": obj{"mode": "accepted"}, "createdAt": exStarted}
	hookNotFound := errorResponse("No hook with this id", 404, "Hook not found")
	ops = append(ops,
		operation{method: "post", path: "/workflows/{id}/hooks", tag: "hooks", id: "createHook", summary: "Create a webhook trigger of the workflow",
			description: "The hook's id is random (192 bits) and its url, /hooks/{hookId}, starts runs. signature.secret is write-only: no answer shows it again (signed: true); " +
				"signature.secretRef names a configured secret (SECRET_<NAME>) instead. See docs/WEBHOOKS.md.",
			params: []obj{paramRef("WorkflowId")},
			body: obj{"required": true, "content": jsonContent(schemaRef("HookRequest"), obj{"name": "GitHub push", "signature": obj{"secret": "whsec-change-me-0123456789"},
				"dedup": obj{"bodyField": "event.id"}})},
			responses: obj{"201": response("The hook", schemaRef("Hook"), hookExample), "400": bad("signature.toleranceSeconds: must be an integer from 1 to 3600"), "404": wfNotFound}},
		operation{method: "get", path: "/workflows/{id}/hooks", tag: "hooks", id: "listHooks", summary: "The workflow's webhook triggers, oldest first (at most 100)",
			params:    []obj{paramRef("WorkflowId")},
			responses: obj{"200": response("The hooks, without secrets", arrayOf(schemaRef("Hook")), []obj{hookExample}), "404": wfNotFound}},
		operation{method: "delete", path: "/hooks/{hookId}", tag: "hooks", id: "deleteHook", summary: "Delete a webhook trigger",
			params:    []obj{paramRef("HookId")},
			responses: obj{"204": obj{"description": "Deleted"}, "404": hookNotFound}},
		operation{method: "post", path: "/hooks/{hookId}", tag: "hooks", id: "triggerHook", summary: "Trigger a webhook: start a run with the request as input", public: true,
			description: "Needs no API key: a signed hook's signature authenticates the request (sha256=<hex HMAC-SHA256(secret, timestamp \".\" raw body)> in the signature header, " +
				"unix seconds in the timestamp header, within the hook's tolerance), an unsigned hook's unguessable id does. The run's input is {body, headers, query}, " +
				"credential headers left out. A dedup value (Idempotency-Key, or the hook's body field) answers the run it started before with 200 and created: false. " +
				"With respond mode node the answer is that node's output once the run finished (200), 202 when it did not finish in time, 502 when it failed.",
			params: []obj{paramRef("HookId"), obj{"name": "X-Signature-256", "in": "header", "required": false, "description": "sha256=<hex HMAC> (signed hooks; the header the hook names)", "schema": obj{"type": "string"}},
				obj{"name": "X-Signature-Timestamp", "in": "header", "required": false, "description": "Unix seconds the signature covers (signed hooks)", "schema": obj{"type": "string"}},
				obj{"name": "Idempotency-Key", "in": "header", "required": false, "description": "Dedup key (at most 200 bytes), namespaced by the hook", "schema": obj{"type": "string", "maxLength": 200}},
				obj{"name": "traceparent", "in": "header", "required": false, "description": "W3C trace context: the run joins the caller's trace", "schema": obj{"type": "string"}}},
			body: obj{"required": false, "content": obj{"application/json": obj{"schema": obj{}, "example": obj{"event": obj{"id": "evt_1", "type": "push"}}},
				"text/plain": obj{"schema": obj{"type": "string"}}}},
			responses: obj{
				"202": response("A run was started (respond mode accepted), or did not finish within the hook's timeout (mode node)", schemaRef("HookRun"),
					obj{"runId": exRunID, "workflowId": exWorkflowID, "status": "queued", "created": true, "traceId": exTraceID}),
				"200": obj{"description": "The dedup value named a run already started (created: false, mode accepted); or, with mode node, the node's output",
					"content": jsonContent(obj{"oneOf": []obj{schemaRef("HookRun"), obj{"description": "The node's output"}}},
						obj{"runId": exRunID, "workflowId": exWorkflowID, "status": "succeeded", "created": false})},
				"400": bad("Idempotency-Key header: Idempotency-Key header is 201 bytes, longer than the limit of 200"),
				"401": errorResponse("The signature is missing, malformed or wrong, or its timestamp is missing or outside the tolerance", 401,
					"X-Signature-256 header does not match the body: sign timestamp \".\" raw body with the hook's secret"),
				"404": hookNotFound,
				"413": errorResponse("Body larger than the API's limit, or the input it makes larger than 256 KiB", 413, "request body larger than the limit of 1048576 bytes"),
				"422": errorResponse("The dedup value was used with another body", 422, "The dedup key was already used with a different body; a redelivery must send the same body"),
				"429": startResponses["429"],
				"502": response("Respond mode node: the run failed, or the node produced no output", schemaRef("HookFailure"),
					obj{"statusCode": 502, "message": "The run failed: node boom: 404 Not Found", "error": "Bad Gateway", "runId": exRunID, "status": "failed"}),
				"503": startResponses["503"],
			}},
	)
	// Schedules.
	exSchedule := obj{"id": exScheduleID, "workflowId": exWorkflowID, "name": "weekday report", "cron": "0 9 * * 1-5", "timezone": "Europe/Berlin",
		"input": obj{"city": "Berlin"}, "version": "current", "overlap": "skip", "catchUp": "one", "catchUpLimit": 10, "paused": false,
		"nextFireAt": "2025-01-02T08:00:00.000Z", "lastFireAt": nil, "lastRunId": nil, "createdAt": exStarted, "updatedAt": exStarted}
	scheduleNotFound := errorResponse("No schedule with this id", 404, "Schedule not found")
	scheduleParams := []obj{paramRef("ScheduleId")}
	ops = append(ops,
		operation{method: "post", path: "/workflows/{id}/schedules", tag: "schedules", id: "createSchedule", summary: "Schedule a workflow: a cron expression in a time zone, or an interval",
			description: "Each tick starts one run, keyed schedule:<scheduleId>:<tick in epoch ms>, however many workers fire schedules. At most 100 schedules per workflow. See docs/SCHEDULES.md.",
			params:      []obj{paramRef("WorkflowId")},
			body: obj{"required": true, "content": obj{"application/json": obj{"schema": schemaRef("ScheduleRequest"), "examples": obj{
				"cron":     obj{"value": obj{"cron": "0 9 * * 1-5", "timezone": "Europe/Berlin", "input": obj{"city": "Berlin"}, "name": "weekday report"}},
				"interval": obj{"value": obj{"interval": "30s", "overlap": "allow", "catchUp": "none"}},
			}}}},
			responses: obj{
				"201": response("The schedule", schemaRef("Schedule"), exSchedule),
				"404": wfNotFound,
				"409": errorResponse("The workflow already has 100 schedules", 409, "The workflow already has 100 schedules, the most allowed; delete one first"),
				"413": errorResponse("The input is too large", 413, "input is 300000 bytes, larger than the limit of 262144 bytes"),
				"422": errorResponse("Invalid body, naming the field", 422, []string{`cron: "61 * * * *" is not a cron expression (5 fields, 6 with seconds first, or a descriptor such as @hourly): end of range (61) above maximum (59): 61`}),
			}},
		operation{method: "get", path: "/workflows/{id}/schedules", tag: "schedules", id: "listSchedules", summary: "A workflow's schedules, oldest first (at most 100)",
			params:    []obj{paramRef("WorkflowId")},
			responses: obj{"200": response("The schedules", arrayOf(schemaRef("Schedule")), []obj{exSchedule}), "404": wfNotFound}},
		operation{method: "get", path: "/schedules/{scheduleId}", tag: "schedules", id: "getSchedule", summary: "One schedule",
			params: scheduleParams, responses: obj{"200": response("The schedule", schemaRef("Schedule"), exSchedule), "404": scheduleNotFound}},
		operation{method: "delete", path: "/schedules/{scheduleId}", tag: "schedules", id: "deleteSchedule", summary: "Delete a schedule (its runs stay)",
			params: scheduleParams, responses: obj{"204": obj{"description": "Deleted"}, "404": scheduleNotFound}},
		operation{method: "post", path: "/schedules/{scheduleId}/pause", tag: "schedules", id: "pauseSchedule", summary: "Pause a schedule: it fires nothing until resumed",
			params: scheduleParams, responses: obj{"200": response("The schedule", schemaRef("Schedule"), nil), "404": scheduleNotFound}},
		operation{method: "post", path: "/schedules/{scheduleId}/resume", tag: "schedules", id: "resumeSchedule", summary: "Resume a paused schedule",
			description: "nextFireAt is recomputed from now: with catchUp none the first tick after now; otherwise the latest tick of the pause fires once, then the timetable goes on. The pause's other ticks never fire.",
			params:      scheduleParams, responses: obj{"200": response("The schedule", schemaRef("Schedule"), nil), "404": scheduleNotFound}},
	)
	templateBody := obj{"required": true, "content": jsonContent(schemaRef("ApiTemplateInput"), obj{"name": "My webhook", "provider": "custom", "category": "notification",
		"method": "POST", "url": "https://hooks.example.com/{{channel}}", "bodyTemplate": `{"text": "{{message}}"}`})}
	ops = append(ops,
		operation{method: "get", path: "/api-templates", tag: "api-templates", id: "listTemplates", summary: "Active API templates",
			params:    []obj{paramRef("Provider"), paramRef("Category")},
			responses: obj{"200": response("The templates (provider wins over category)", arrayOf(schemaRef("ApiTemplate")), []obj{template})}},
		operation{method: "get", path: "/api-templates/grouped", tag: "api-templates", id: "groupedTemplates", summary: "Active API templates by provider and category",
			responses: obj{"200": response("{provider: {category: [template]}}", obj{"type": "object", "additionalProperties": obj{"type": "object", "additionalProperties": arrayOf(schemaRef("ApiTemplate"))}},
				obj{template["provider"].(string): obj{template["category"].(string): []obj{template}}})}},
		operation{method: "post", path: "/api-templates", tag: "api-templates", id: "createTemplate", summary: "Create an API template (isCustom is set)",
			body:      templateBody,
			responses: obj{"201": response("The template", schemaRef("ApiTemplate"), template), "400": bad("url should not be empty")}},
		operation{method: "get", path: "/api-templates/{id}", tag: "api-templates", id: "getTemplate", summary: "Get an API template",
			params: []obj{paramRef("TemplateId")}, responses: obj{"200": response("The template", schemaRef("ApiTemplate"), template), "404": tplNotFound}},
		operation{method: "put", path: "/api-templates/{id}", tag: "api-templates", id: "updateTemplate", summary: "Change an API template (the properties sent)",
			params: []obj{paramRef("TemplateId")}, body: templateBody,
			responses: obj{"200": response("The template", schemaRef("ApiTemplate"), template), "400": bad("body: must change at least one property"), "404": tplNotFound}},
		operation{method: "delete", path: "/api-templates/{id}", tag: "api-templates", id: "deleteTemplate", summary: "Deactivate an API template",
			params: []obj{paramRef("TemplateId")}, responses: obj{"200": response("Done (also for an unknown id)", schemaRef("Success"), obj{"success": true}), "404": tplNotFound}},
	)

	paths := obj{}
	for _, o := range ops {
		item, _ := paths[o.path].(obj)
		if item == nil {
			item = obj{}
			paths[o.path] = item
		}
		if _, dup := item[o.method]; dup {
			t.Fatalf("operation %s %s defined twice", o.method, o.path)
		}
		item[o.method] = o.render()
	}
	return obj{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info": obj{
			"title":   "SequenceFlow",
			"version": "1.0.0",
			"description": "A workflow engine for HTTP-heavy automations. The routes under /workflows and /api-templates are wire-compatible with the original NestJS service. " +
				"With API_KEYS set, every operation but the health, metrics and mock endpoints needs Authorization: Bearer <key> or X-API-Key: <key>. " +
				"The mock endpoints (/workflows/api/...) and the queue UI (/monitoring) are not described here; see docs/API.md.",
			"license": obj{"name": "Apache-2.0", "identifier": "Apache-2.0"},
		},
		"servers": []obj{{"url": exampleBaseURL, "description": "make run (the dev role)"}},
		"tags": []obj{
			{"name": "workflows", "description": "Workflow definitions. Every edit writes a new immutable version."},
			{"name": "runs", "description": "Start, watch and cancel runs."},
			{"name": "hooks", "description": "Webhook triggers: POST /hooks/{hookId} starts a run, signed with HMAC-SHA256 or not."},
			{"name": "run operations", "description": "Retry and re-run finished runs, search every run, and act on many at once."},
			{"name": "schedules", "description": "Start runs of a workflow on a timetable (cron in a time zone, or an interval), exactly once per tick."},
			{"name": "api-templates", "description": "Reusable apiCall configurations for the builder."},
			{"name": "health", "description": "Liveness, readiness and metrics; never need a key."},
			{"name": "documentation", "description": "This document and its reference page."},
		},
		"security": []obj{{"bearerAuth": []string{}}, {"apiKeyHeader": []string{}}},
		"paths":    paths,
		"components": obj{
			"securitySchemes": obj{
				"bearerAuth":   obj{"type": "http", "scheme": "bearer", "description": "One of API_KEYS; needed only when API_KEYS is set."},
				"apiKeyHeader": obj{"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "One of API_KEYS; needed only when API_KEYS is set."},
			},
			"parameters": componentParameters(),
			"schemas":    schemas,
		},
	}
}

func componentParameters() obj {
	uuid := obj{"type": "string", "format": "uuid"}
	path := func(name, desc string) obj {
		return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": uuid}
	}
	query := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
	}
	return obj{
		"WorkflowId": path("id", "The workflow's id (a malformed id answers 404)"),
		"RunId":      path("runId", "The run's id"),
		"TaskId":     path("taskId", "The task's id (tasks[].id of the run)"),
		"NodeId":     obj{"name": "nodeId", "in": "path", "required": true, "description": "The wait node's id in the run's workflow version", "schema": obj{"type": "string"}},
		"TemplateId": path("id", "The API template's id"),
		"HookId": obj{"name": "hookId", "in": "path", "required": true, "description": "The hook's id (32 URL-safe characters; any other answers 404)",
			"schema": obj{"type": "string", "pattern": "^[A-Za-z0-9_-]{32}$"}},
		"Limit100":   query("limit", "Page size, 1-1000 (default 100)", obj{"type": "integer", "minimum": 1, "maximum": 1000}),
		"Limit200":   query("limit", "Page size, 1-1000 (default 200)", obj{"type": "integer", "minimum": 1, "maximum": 1000}),
		"Cursor":     query("cursor", "The cursor of the page to read (from the previous page)", obj{"type": "string"}),
		"ScheduleId": path("scheduleId", "The schedule's id"),
		"Status": query("status", "Keep runs in any of these statuses (comma-separated or repeated)",
			obj{"type": "string", "examples": []string{"failed,cancelled"}}),
		"Force":    query("force", "Cancel the workflow's runs in flight, then delete", obj{"type": "boolean"}),
		"Provider": query("provider", "Only this provider's templates", obj{"type": "string"}),
		"Category": query("category", "Only this category's templates (ignored with provider)", obj{"type": "string"}),
		"SearchStatus": query("status", "Run statuses, comma-separated or repeated (queued, running, succeeded, failed, cancelled)",
			obj{"type": "string", "examples": []string{"failed,cancelled"}}),
		"HasFailedNodes":       query("hasFailedNodes", "true: runs with a failed node (also succeeded ones whose failure continued); false: without", obj{"type": "boolean"}),
		"SearchWorkflowId":     query("workflowId", "Runs of this workflow", obj{"type": "string", "format": "uuid"}),
		"Version":              query("version", "Runs of this version (needs workflowId)", obj{"type": "integer", "minimum": 1}),
		"StartedAfter":         query("startedAfter", "Runs started at or after this time: RFC 3339 or epoch milliseconds", obj{"type": "string", "examples": []string{"2026-12-01T18:00:00Z"}}),
		"StartedBefore":        query("startedBefore", "Runs started before this time: RFC 3339 or epoch milliseconds", obj{"type": "string"}),
		"SearchIdempotencyKey": query("idempotencyKey", "The run started with this idempotency key", obj{"type": "string"}),
		"FailedNode":           query("failedNode", "Runs in which this node id failed", obj{"type": "string"}),
		"ErrorText":            query("error", "Text the run's error, or a failed node's, contains (any case)", obj{"type": "string"}),
		"BulkLimit":            query("limit", "Runs of this page, 1-500 (default 100)", obj{"type": "integer", "minimum": 1, "maximum": 500}),
		"VersionPath":          obj{"name": "version", "in": "path", "required": true, "description": "The version number", "schema": obj{"type": "integer", "minimum": 1}},
		"IdempotencyKey": obj{"name": "Idempotency-Key", "in": "header", "required": false,
			"description": "At most 200 characters; a repeated key with the same body answers the first run, with another body 422",
			"schema":      obj{"type": "string", "maxLength": 200}},
	}
}

func componentSchemas() obj {
	str := obj{"type": "string"}
	strOrNull := obj{"type": []string{"string", "null"}}
	ms := obj{"type": "integer", "description": "Epoch milliseconds"}
	iso := obj{"type": "string", "format": "date-time", "description": "ISO-8601 with milliseconds and Z"}
	isoOrNull := obj{"type": []string{"string", "null"}, "format": "date-time"}
	runStatus := obj{"enum": []string{"queued", "running", "succeeded", "failed", "cancelled"}}
	object := func(required []string, props obj) obj {
		return obj{"type": "object", "required": required, "properties": props}
	}
	return obj{
		"Error": obj{"type": "object", "required": []string{"statusCode", "message"}, "description": "The original service's error shape; message is an array of problems for validation errors (400).",
			"properties": obj{"statusCode": obj{"type": "integer"}, "message": obj{"oneOf": []obj{str, arrayOf(str)}}, "error": str}},
		"Health":          object([]string{"status", "timestamp"}, obj{"status": obj{"const": "ok"}, "timestamp": iso}),
		"Readiness":       object([]string{"status", "timestamp"}, obj{"status": obj{"enum": []string{"ready", "unavailable"}}, "error": str, "timestamp": iso}),
		"WorkflowSummary": object([]string{"id", "name", "updatedAt"}, obj{"id": obj{"type": "string", "format": "uuid"}, "name": str, "updatedAt": ms}),
		"Workflow": obj{"type": "object", "required": []string{"id", "name", "version", "nodes", "edges", "createdAt", "updatedAt"},
			"description": "A workflow at its current version. PUT /workflows/{id} accepts it unchanged.",
			"properties": obj{"id": obj{"type": "string", "format": "uuid"}, "name": str, "version": obj{"type": "integer", "minimum": 1},
				"nodes": arrayOf(schemaRef("DefinitionNode")), "edges": arrayOf(schemaRef("DefinitionEdge")), "createdAt": ms, "updatedAt": ms}},
		"CreateWorkflowRequest": obj{"type": "object", "required": []string{"name", "workflow"}, "additionalProperties": false,
			"properties": obj{"name": obj{"type": "string", "minLength": 1}, "workflow": schemaRef("WorkflowDefinition")}},
		"UpdateWorkflowRequest": obj{"description": "What GET returns (the front end's flat form), or the create body's form.", "oneOf": []obj{
			{"title": "flat", "type": "object", "required": []string{"name", "nodes", "edges"}, "additionalProperties": false,
				"properties": obj{"id": str, "name": obj{"type": "string", "minLength": 1}, "version": obj{"type": []string{"integer", "null"}, "minimum": 1},
					"nodes": arrayOf(schemaRef("DefinitionNode")), "edges": arrayOf(schemaRef("DefinitionEdge")),
					"createdAt": obj{"type": []string{"integer", "null"}}, "updatedAt": obj{"type": []string{"integer", "null"}}}},
			{"title": "nested", "type": "object", "required": []string{"name", "workflow"}, "additionalProperties": false,
				"not": obj{"required": []string{"nodes", "edges"}},
				"properties": obj{"id": str, "name": obj{"type": "string", "minLength": 1}, "workflow": schemaRef("WorkflowDefinition"),
					"createdAt": obj{"type": []string{"integer", "null"}}, "updatedAt": obj{"type": []string{"integer", "null"}}}},
		}},
		"Deleted":   object([]string{"deleted"}, obj{"deleted": obj{"const": true}}),
		"Success":   object([]string{"success"}, obj{"success": obj{"const": true}}),
		"Cancelled": object([]string{"cancelled"}, obj{"cancelled": obj{"const": true}}),
		"EventDelivered": object([]string{"runId", "nodeId", "taskId", "status", "handle"}, obj{"runId": obj{"type": "string", "format": "uuid"}, "nodeId": str,
			"taskId": obj{"type": "string", "format": "uuid"}, "status": obj{"const": "completed"}, "handle": obj{"const": "out"}}),
		"ExecuteRequest": obj{"type": "object", "description": "Other keys are ignored.", "properties": obj{
			"input":          obj{"type": []string{"object", "null"}, "description": "The run input (at most 256 KiB); templates read it as {{$run.input.x}}"},
			"idempotencyKey": obj{"type": "string", "maxLength": 200},
			"timeoutMs":      obj{"type": "number", "minimum": 1, "maximum": 2592000000, "description": "The run's deadline (default RUN_TIMEOUT, none)"},
			"version":        obj{"type": "integer", "minimum": 1, "description": "Run this version instead of the current one"}}},
		"HookRequest": obj{"type": "object", "additionalProperties": false, "properties": obj{
			"name":    obj{"type": "string", "maxLength": 200},
			"version": obj{"oneOf": []obj{{"const": "current"}, {"type": "integer", "minimum": 1}}, "description": "current (default) or a version number to pin"},
			"signature": obj{"type": "object", "additionalProperties": false, "description": "Leave out for an unsigned hook. Exactly one of secret and secretRef.", "properties": obj{
				"secret":           obj{"type": "string", "minLength": 16, "maxLength": 512, "writeOnly": true, "description": "Stored with the hook (in PostgreSQL) and never shown again"},
				"secretRef":        obj{"type": "string", "pattern": "^[A-Za-z0-9_]{1,100}$", "description": "The name of a configured secret: the API's environment variable SECRET_<NAME>"},
				"header":           obj{"type": "string", "default": "X-Signature-256"},
				"timestampHeader":  obj{"type": "string", "default": "X-Signature-Timestamp"},
				"toleranceSeconds": obj{"type": "integer", "minimum": 1, "maximum": 3600, "default": 300}}},
			"dedup": obj{"type": "object", "additionalProperties": false, "properties": obj{
				"header":    obj{"type": "string", "default": "Idempotency-Key", "description": "\"\" for none"},
				"bodyField": obj{"type": "string", "description": "A dotted path into a JSON body (event.id), used when the header is absent"}}},
			"respond": obj{"type": "object", "additionalProperties": false, "properties": obj{
				"mode":      obj{"enum": []string{"accepted", "node"}, "default": "accepted"},
				"nodeId":    obj{"type": "string", "description": "Mode node: the node whose output is the answer"},
				"timeoutMs": obj{"type": "integer", "minimum": 1, "maximum": 60000, "default": 10000}}}}},
		"Hook": object([]string{"id", "url", "workflowId", "name", "version", "signed", "signature", "dedup", "respond", "createdAt"}, obj{
			"id": obj{"type": "string", "pattern": "^[A-Za-z0-9_-]{32}$"}, "url": str, "workflowId": obj{"type": "string", "format": "uuid"}, "name": str,
			"version": obj{"oneOf": []obj{{"const": "current"}, {"type": "integer"}}}, "signed": obj{"type": "boolean"},
			"signature": obj{"type": []string{"object", "null"}, "description": "Never the secret", "properties": obj{"secretRef": str, "header": str, "timestampHeader": str, "toleranceSeconds": obj{"type": "integer"}}},
			"dedup":     object([]string{"header"}, obj{"header": str, "bodyField": str}),
			"respond":   object([]string{"mode"}, obj{"mode": obj{"enum": []string{"accepted", "node"}}, "nodeId": str, "timeoutMs": obj{"type": "integer"}}),
			"createdAt": iso}),
		"HookRun": object([]string{"runId", "workflowId", "status", "created"}, obj{"runId": obj{"type": "string", "format": "uuid"},
			"workflowId": obj{"type": "string", "format": "uuid"}, "status": runStatus, "created": obj{"type": "boolean", "description": "false: the dedup value named this earlier run"},
			"traceId": obj{"type": "string", "description": "Only when the run's trace was sampled and exported"}}),
		"HookFailure": object([]string{"statusCode", "message", "runId", "status"}, obj{"statusCode": obj{"type": "integer"}, "message": str, "error": str,
			"runId": obj{"type": "string", "format": "uuid"}, "status": runStatus}),
		"RunStarted": object([]string{"runId"}, obj{"runId": obj{"type": "string", "format": "uuid"},
			"traceId": obj{"type": "string", "description": "Only when the run's trace was sampled and exported"}}),
		"SyncRunResult": object([]string{"runId", "status", "logs"}, obj{"runId": obj{"type": "string", "format": "uuid"},
			"status": runStatus, "cancelled": obj{"const": true, "description": "A cancelled run (its status reads failed)"}, "traceId": str,
			"logs": arrayOf(object([]string{"kind", "nodeId", "name", "content"}, obj{"kind": str, "nodeId": str, "name": str, "content": str}))}),
		"RunSummary": object([]string{"id", "status", "startedAt"}, obj{"id": obj{"type": "string", "format": "uuid"},
			"status":    obj{"enum": []string{"queued", "running", "succeeded", "failed"}, "description": "A cancelled run reads failed here, with cancelled: true"},
			"cancelled": obj{"const": true}, "startedAt": ms, "finishedAt": ms, "traceId": str}),
		"RetryRequest": obj{"type": "object", "additionalProperties": false, "properties": obj{"idempotencyKey": obj{"type": "string", "maxLength": 200}}},
		"RerunRequest": obj{"type": "object", "additionalProperties": false, "required": []string{"fromNodeId"}, "properties": obj{
			"fromNodeId":     obj{"type": "string", "minLength": 1, "maxLength": 200, "description": "The node to execute from"},
			"version":        obj{"enum": []string{"pinned", "current"}, "description": "pinned (default): the original's version; current: the workflow's current version"},
			"input":          obj{"type": []string{"object", "null"}, "description": "Replaces the original's input"},
			"idempotencyKey": obj{"type": "string", "maxLength": 200}}},
		"RerunStarted": object([]string{"runId", "parentRunId", "rerunKind"}, obj{"runId": obj{"type": "string", "format": "uuid"},
			"parentRunId": obj{"type": "string", "format": "uuid"}, "rerunKind": obj{"enum": []string{"retry", "rerun"}}, "rerunFromNodeId": str, "traceId": str}),
		"RerunSummary": object([]string{"id", "status", "kind", "fromNodeId", "startedAt"}, obj{"id": obj{"type": "string", "format": "uuid"},
			"status":    obj{"enum": []string{"queued", "running", "succeeded", "failed"}, "description": "A cancelled run reads failed here, with cancelled: true"},
			"cancelled": obj{"const": true}, "kind": obj{"enum": []string{"retry", "rerun"}}, "fromNodeId": strOrNull, "startedAt": iso}),
		"RunSearchItem": object([]string{"id", "workflowId", "workflowName", "version", "status", "failedNodes", "startedAt", "finishedAt", "error", "idempotencyKey"}, obj{
			"id": obj{"type": "string", "format": "uuid"}, "workflowId": obj{"type": "string", "format": "uuid"}, "workflowName": str, "version": obj{"type": "integer"},
			"status": runStatus, "failedNodes": obj{"type": "integer", "description": "Nodes that failed, continued or not"}, "startedAt": iso, "finishedAt": isoOrNull,
			"error": obj{"type": []string{"string", "null"}, "description": "A preview (errorTruncated when cut)"}, "errorTruncated": obj{"type": "boolean"},
			"idempotencyKey": strOrNull, "traceId": str}),
		"RunSearchPage": object([]string{"runs"}, obj{"runs": arrayOf(schemaRef("RunSearchItem")), "nextCursor": obj{"type": "string", "description": "Left out after the last page"}}),
		"BulkResult": object([]string{"matched", "results", "nextCursor"}, obj{"matched": obj{"type": "integer"}, "nextCursor": strOrNull,
			"results": arrayOf(object([]string{"runId", "outcome"}, obj{"runId": obj{"type": "string", "format": "uuid"},
				"outcome": obj{"enum": []string{"retried", "cancelled", "skipped"}}, "newRunId": obj{"type": "string", "format": "uuid"},
				"created": obj{"type": "boolean", "description": "false when an earlier call made this retry"}, "reason": str}))}),
		"VersionSummary": object([]string{"version", "current", "createdAt", "hash", "nodes", "edges"}, obj{"version": obj{"type": "integer"}, "current": obj{"type": "boolean"},
			"createdAt": iso, "hash": obj{"type": "string", "description": "sha256: and the SHA-256 of the definition's canonical JSON"},
			"nodes": obj{"type": "integer"}, "edges": obj{"type": "integer"}}),
		"ScheduleRequest": obj{"type": "object", "additionalProperties": false, "description": "Exactly one of cron and interval.", "properties": obj{
			"name":         obj{"type": "string", "maxLength": 200},
			"cron":         obj{"type": "string", "maxLength": 200, "description": "5 fields (minute first), 6 with seconds first, or @yearly, @monthly, @weekly, @daily, @hourly"},
			"timezone":     obj{"type": "string", "description": "IANA time zone the cron expression is read in (default UTC)"},
			"interval":     obj{"type": "string", "description": "A Go duration from 1s to 8784h (30s, 5m, 1h30m); ticks are counted from the schedule's creation"},
			"input":        obj{"type": []string{"object", "null"}, "description": "The input of every run (default {}, at most 256 KiB)"},
			"version":      obj{"oneOf": []obj{{"const": "current"}, {"type": "integer", "minimum": 1}}, "description": "current (default): the workflow's version at each tick; a number pins that version"},
			"overlap":      obj{"enum": []string{"skip", "allow", "cancelPrevious"}, "description": "While the previous tick's run is in flight: skip the tick (default), start anyway, or cancel it and start"},
			"catchUp":      obj{"enum": []string{"none", "one", "all"}, "description": "Ticks missed while no worker ran: fire none, the latest (default), or all up to catchUpLimit"},
			"catchUpLimit": obj{"type": "integer", "minimum": 1, "maximum": 100, "description": "The most missed ticks catchUp all fires (default 10); older ones are skipped"},
			"paused":       obj{"type": "boolean", "description": "Create it paused (default false)"}}},
		"Schedule": object([]string{"id", "workflowId", "timezone", "input", "version", "overlap", "catchUp", "catchUpLimit", "paused", "nextFireAt", "lastFireAt", "lastRunId", "createdAt", "updatedAt"},
			obj{"id": obj{"type": "string", "format": "uuid"}, "workflowId": obj{"type": "string", "format": "uuid"}, "name": str, "cron": str,
				"interval": obj{"type": "string", "description": "Set instead of cron, as a Go duration"}, "timezone": str, "input": obj{"type": "object"},
				"version": obj{"oneOf": []obj{{"const": "current"}, {"type": "integer", "minimum": 1}}}, "overlap": obj{"enum": []string{"skip", "allow", "cancelPrevious"}},
				"catchUp": obj{"enum": []string{"none", "one", "all"}}, "catchUpLimit": obj{"type": "integer"}, "paused": obj{"type": "boolean"},
				"nextFireAt": iso, "lastFireAt": isoOrNull, "lastRunId": obj{"type": []string{"string", "null"}, "format": "uuid", "description": "The run of the latest tick that started one"},
				"createdAt": iso, "updatedAt": iso}),
		"VersionList": object([]string{"versions", "nextCursor"}, obj{"versions": arrayOf(schemaRef("VersionSummary")), "nextCursor": strOrNull}),
		"Version": object([]string{"workflowId", "version", "current", "createdAt", "hash", "nodes", "edges"}, obj{"workflowId": obj{"type": "string", "format": "uuid"},
			"version": obj{"type": "integer"}, "current": obj{"type": "boolean"}, "createdAt": iso, "hash": str,
			"nodes": arrayOf(schemaRef("DefinitionNode")), "edges": arrayOf(schemaRef("DefinitionEdge"))}),
		"Run": obj{"type": "object", "required": []string{"id", "workflowId", "version", "status", "startedAt", "finishedAt", "input", "result", "error", "tasks", "logs", "logsNextCursor", "reruns"},
			"properties": obj{"id": obj{"type": "string", "format": "uuid"}, "workflowId": obj{"type": "string", "format": "uuid"}, "version": obj{"type": "integer"},
				"status":    obj{"enum": []string{"queued", "running", "succeeded", "failed"}, "description": "A cancelled run reads failed here, with cancelled: true"},
				"cancelled": obj{"const": true, "description": "Present (true) only on a cancelled run"},
				"startedAt": iso, "finishedAt": isoOrNull, "input": obj{"type": []string{"object", "null"}},
				"result": obj{"type": []string{"object", "null"}, "description": "Task counts when finished; cancelled: true on a cancelled run"},
				"error":  strOrNull, "traceId": str, "traceUrl": obj{"type": "string", "format": "uri", "description": "With JAEGER_UI_URL, when the trace exists"},
				"tasks": arrayOf(schemaRef("Task")), "logs": arrayOf(schemaRef("LogLine")), "logsNextCursor": strOrNull,
				"parentRunId":     obj{"type": "string", "format": "uuid", "description": "The run this one retries or re-runs, or (with parentTaskId) the run whose invokeWorkflow node started it"},
				"rerunKind":       obj{"enum": []string{"retry", "rerun"}},
				"parentTaskId":    obj{"type": "string", "format": "uuid", "description": "The invokeWorkflow task that started this run as its child"},
				"rerunFromNodeId": str, "reruns": obj{"type": "array", "items": schemaRef("RerunSummary"), "description": "Runs retried or re-run from this one (not the child runs its nodes invoked), newest first, at most 50"}}},
		"Task": object([]string{"id", "nodeId", "nodeType", "status", "attempt", "redeliveries", "startedAt", "completedAt", "error", "output"}, obj{
			"id": obj{"type": "string", "format": "uuid"}, "nodeId": str, "nodeType": str,
			"status":  obj{"enum": []string{"pending", "queued", "running", "waiting", "completed", "failed", "skipped", "cancelled"}},
			"attempt": obj{"type": "integer", "description": "The node's own attempts (its retries)"}, "redeliveries": obj{"type": "integer", "description": "Deliveries begun again after one ended without an outcome"},
			"startedAt": isoOrNull, "completedAt": isoOrNull, "error": strOrNull, "errorTruncated": obj{"type": "boolean"},
			"output": obj{"description": "The output when at most 2 KiB of JSON, else null with outputTruncated"}, "outputTruncated": obj{"type": "boolean"},
			"outputUrl": obj{"type": "string", "description": "The task output route"}}),
		"LogLine": object([]string{"id", "type", "message", "timestamp", "nodeId", "nodePersistedId", "data"}, obj{
			"id": obj{"type": "string", "format": "uuid"}, "type": obj{"enum": []string{"system", "info", "error", "node-output"}},
			"message": obj{"type": "string", "description": "At most 1,000 characters (messageTruncated)"}, "messageTruncated": obj{"type": "boolean"},
			"timestamp": iso, "nodeId": strOrNull, "nodePersistedId": strOrNull, "data": obj{"description": "At most 2 KiB of JSON, else null with dataTruncated"},
			"dataTruncated": obj{"type": "boolean"}, "outputUrl": str}),
		"LogsPage": object([]string{"logs", "nextCursor"}, obj{"logs": arrayOf(schemaRef("LogLine")), "nextCursor": strOrNull}),
		"TaskOutput": object([]string{"taskId", "nodeId", "status", "completedAt", "output"}, obj{"taskId": obj{"type": "string", "format": "uuid"}, "nodeId": str,
			"status": str, "completedAt": isoOrNull, "output": obj{}}),
		"ApiTemplate": obj{"type": "object", "required": []string{"id", "name", "provider", "category", "method", "url", "headers", "parameters", "timeoutMs",
			"expectedStatusCodes", "tags", "isActive", "isCustom", "createdAt", "updatedAt"}, "properties": templateProps(true)},
		"ApiTemplateInput": obj{"type": "object", "additionalProperties": false, "description": "Create: name, provider, category and url required. Update: the properties to change.",
			"properties": templateProps(false)},
	}
}

func templateProps(withMeta bool) obj {
	str := obj{"type": "string"}
	strOrNull := obj{"type": []string{"string", "null"}}
	p := obj{"name": str, "description": strOrNull, "provider": str, "category": str,
		"method":       obj{"enum": []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}},
		"url":          obj{"type": "string", "description": "May contain {{...}} placeholders"},
		"headers":      arrayOf(obj{"type": "object", "properties": obj{"id": str, "key": str, "value": str, "enabled": obj{"type": "boolean"}, "description": str}}),
		"bodyTemplate": strOrNull,
		"parameters":   arrayOf(obj{"type": "object", "properties": obj{"id": str, "key": str, "value": str, "description": str, "required": obj{"type": "boolean"}}}),
		"timeoutMs":    obj{"type": "integer", "minimum": 1, "maximum": 600000}, "expectedStatusCodes": arrayOf(obj{"type": "integer"}),
		"sampleResponse": obj{}, "documentation": strOrNull, "tags": arrayOf(str), "isActive": obj{"type": "boolean"}, "isCustom": obj{"type": "boolean"},
		"id": str, "createdAt": obj{"type": "string"}, "updatedAt": obj{"type": "string"}}
	if withMeta {
		p["id"] = obj{"type": "string", "format": "uuid"}
		p["createdAt"] = obj{"type": "string", "format": "date-time"}
		p["updatedAt"] = obj{"type": "string", "format": "date-time"}
	}
	return p
}
