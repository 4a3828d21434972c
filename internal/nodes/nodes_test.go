package nodes_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

func registry(selfBase string) *nodes.Registry {
	return nodes.NewRegistry(outbound.NewClient(outbound.Config{MaxResponseBytes: 1024, AllowPrivate: true}), nodes.APICallConfig{SelfBaseURL: selfBase})
}

func execute(t *testing.T, r *nodes.Registry, nodeType string, config any, payload any) (nodes.Output, error) {
	t.Helper()
	raw, err := json.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	exec, ok := r.Executor(nodeType)
	if !ok {
		t.Fatalf("no executor for %s", nodeType)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return exec.Execute(ctx, nodes.Input{NodeID: "n", NodeName: "N", Config: raw, Scope: expr.Scope{Payload: payload}})
}

// recorder keeps the last request an echo server saw.
type recorder struct {
	mu   sync.Mutex
	req  *http.Request
	body []byte
}

func (r *recorder) last() (*http.Request, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.req, r.body
}

// echoServer answers per path and records the last request.
func echoServer(t *testing.T) (*httptest.Server, *recorder) {
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.req, rec.body = r.Clone(context.Background()), body
		rec.mu.Unlock()
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Trace", "abc")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id":7,"name":"x"}`))
		case "/text":
			w.Write([]byte("plain text"))
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/busy":
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/limited":
			w.WriteHeader(http.StatusTooManyRequests)
		case "/big":
			w.Write([]byte(strings.Repeat("x", 5000)))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case "/badjson":
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{not json`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv, rec
}

func TestAPICallEnvelope(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t)
	out, err := execute(t, registry(""), workflow.TypeAPICall, map[string]any{"url": srv.URL + "/json", "expectedStatusCodes": []int{201}}, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	env := out.Payload.(map[string]any)
	if env["status"] != 201 || env["statusText"] != "Created" || env["success"] != true {
		t.Fatalf("envelope %v", env)
	}
	if !reflect.DeepEqual(env["data"], map[string]any{"id": 7.0, "name": "x"}) {
		t.Fatalf("data %v", env["data"])
	}
	if h := env["headers"].(map[string]string); h["x-trace"] != "abc" || h["content-type"] != "application/json" {
		t.Fatalf("headers %v, want lower-cased names", h)
	}
	if len(out.Logs) != 1 || out.Logs[0].Kind != "api" || !strings.HasPrefix(out.Logs[0].Message, "GET "+srv.URL+"/json → 201 Created\nResponse: {") {
		t.Fatalf("logs %+v", out.Logs)
	}
}

func TestAPICallUnexpected2xxIsNotAFailure(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t)
	out, err := execute(t, registry(""), workflow.TypeAPICall, map[string]any{"url": srv.URL + "/json", "expectedStatusCodes": []int{200}}, nil)
	if err != nil {
		t.Fatalf("an unexpected 2xx failed the node: %v", err)
	}
	if out.Payload.(map[string]any)["success"] != false || out.Logs[0].Kind != "api-error" || !strings.Contains(out.Logs[0].Message, "(unexpected status)") {
		t.Fatalf("payload %v logs %+v", out.Payload, out.Logs)
	}
}

func TestAPICallErrorClasses(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := "http://" + ln.Addr().String()
	ln.Close()
	tests := []struct {
		path       string
		url        string
		retryable  bool
		reason     string
		retryAfter time.Duration
		status     any
	}{
		{path: "/missing", retryable: false, reason: "http_status", status: 404},
		{path: "/busy", retryable: true, reason: "http_5xx", retryAfter: 7 * time.Second, status: 503},
		{path: "/limited", retryable: true, reason: "http_429", status: 429},
		{path: "/slow", retryable: true, reason: "timeout", status: 0},
		{path: "/big", retryable: false, reason: "response", status: 0},
		{path: "/badjson", retryable: false, reason: "response", status: 0},
		{url: refused, retryable: true, reason: "connection", status: 0},
	}
	for _, tc := range tests {
		t.Run(tc.reason+tc.path, func(t *testing.T) {
			t.Parallel()
			url := tc.url
			if url == "" {
				url = srv.URL + tc.path
			}
			_, err := execute(t, registry(""), workflow.TypeAPICall, map[string]any{"url": url, "timeoutMs": 200}, nil)
			var ne *nodes.Error
			if !errors.As(err, &ne) {
				t.Fatalf("error %v, want *nodes.Error", err)
			}
			if ne.Retryable != tc.retryable || ne.Reason != tc.reason || ne.RetryAfter != tc.retryAfter {
				t.Fatalf("got retryable=%v reason=%s retryAfter=%s, want %v %s %s", ne.Retryable, ne.Reason, ne.RetryAfter, tc.retryable, tc.reason, tc.retryAfter)
			}
			env, _ := ne.Output.(map[string]any)
			if env["status"] != tc.status || env["success"] != false || env["error"] == "" {
				t.Fatalf("error envelope %v, want status %v, success false and an error", env, tc.status)
			}
			if len(ne.Logs) != 1 || ne.Logs[0].Kind != "api-error" {
				t.Fatalf("logs %+v, want one api-error line", ne.Logs)
			}
		})
	}
}

func TestAPICallRequestBuilding(t *testing.T) {
	t.Parallel()
	srv, rec := echoServer(t)
	payload := map[string]any{"name": `Bob "the" Builder`, "id": 42.0, "city": "New York", "token": "s3cret"}
	_, err := execute(t, registry(""), workflow.TypeAPICall, map[string]any{
		"method": "post", "url": srv.URL + "/text?city={{city}}",
		"headers": []any{
			map[string]any{"key": "Authorization", "value": "Bearer {{token}}", "enabled": true},
			map[string]any{"key": "X-Off", "value": "no", "enabled": false},
			map[string]any{"key": "X-Missing-Enabled", "value": "no"},
			map[string]any{"key": "", "value": "no", "enabled": true},
		},
		"bodyTemplate": `{"name": "{{name}}", "id": {{id}}}`,
	}, payload)
	if err != nil {
		t.Fatal(err)
	}
	last, body := rec.last()
	if last.Method != "POST" || last.URL.Query().Get("city") != "New York" {
		t.Fatalf("request %s %s, want POST with the city query decoded to New York", last.Method, last.URL)
	}
	if last.Header.Get("Authorization") != "Bearer s3cret" || last.Header.Get("X-Off") != "" || last.Header.Get("X-Missing-Enabled") != "" {
		t.Fatalf("headers %v", last.Header)
	}
	if last.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("content type %q, want application/json by default", last.Header.Get("Content-Type"))
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil || got["name"] != `Bob "the" Builder` || got["id"] != 42.0 {
		t.Fatalf("body %s (%v), want valid JSON with the values", body, err)
	}
	// GET never sends a body.
	if _, err := execute(t, registry(""), workflow.TypeAPICall, map[string]any{"url": srv.URL + "/text", "bodyTemplate": `{"a":1}`}, nil); err != nil {
		t.Fatal(err)
	}
	if last, body := rec.last(); len(body) != 0 || last.Method != "GET" {
		t.Fatalf("GET sent a body %q", body)
	}
}

func TestAPICallRewritesLocalhost3000(t *testing.T) {
	t.Parallel()
	srv, rec := echoServer(t)
	if _, err := execute(t, registry(srv.URL), workflow.TypeAPICall, map[string]any{"url": "http://localhost:3000/text"}, nil); err != nil {
		t.Fatal(err)
	}
	if last, _ := rec.last(); last.URL.Path != "/text" {
		t.Fatalf("request went to %s, want the rewritten base URL", last.URL)
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	r := registry("")
	tests := []struct {
		nodeType string
		config   string
		want     string
	}{
		{workflow.TypeAPICall, `{"url":"https://example.com/x"}`, ""},
		{workflow.TypeAPICall, `{"url":"{{base}}/x"}`, ""},
		{workflow.TypeAPICall, `{"url":"ftp://example.com"}`, "url"},
		{workflow.TypeAPICall, `{"url":"not a url"}`, "url"},
		{workflow.TypeAPICall, `{"url":""}`, "url"},
		{workflow.TypeAPICall, `{"url":"https://x","method":"FETCH"}`, "method"},
		{workflow.TypeAPICall, `{"url":"https://x","expectedStatusCodes":[42]}`, "expectedStatusCodes[0]"},
		{workflow.TypeAPICall, `{"url":"https://x","retries":11}`, "retries"},
		{workflow.TypeAPICall, `{"url":"https://x","onError":"explode"}`, "onError"},
		{workflow.TypeAPICall, `{"url":"https://x","timeoutMs":0}`, "timeoutMs"},
		{workflow.TypeDelay, `{"delayType":"seconds","delayValue":5}`, ""},
		{workflow.TypeDelay, `{}`, ""},
		{workflow.TypeDelay, `{"delayType":"weeks","delayValue":1}`, "delayType"},
		{workflow.TypeDelay, `{"delayType":"seconds","delayValue":-1}`, "delayValue"},
		{workflow.TypeDelay, `{"delayType":"days","delayValue":31}`, "delayValue"},
		{workflow.TypeIfElse, `{"condition":{"predicates":[{"id":"p","validationLogic":{">":[{"var":"value"},1]}}]}}`, ""},
		{workflow.TypeIfElse, `{"condition":{"predicates":[{"id":"p","validationLogic":{"frobnicate":[1]}}]}}`, "condition.predicates[0].validationLogic"},
		{workflow.TypeIfElse, `{"condition":{"combiner":"most"}}`, "condition.combiner"},
		{workflow.TypeDecision, `{"decisions":[{"id":"a"},{"id":"a"}]}`, "decisions[1].id"},
		{workflow.TypeDecision, `{"decisions":[{"id":"a","validationLogic":{"nope":[]}}]}`, "decisions[0].validationLogic"},
		{workflow.TypeNotification, `{"template":5}`, "template"},
		{workflow.TypeWait, `{}`, ""},
		{workflow.TypeWait, `{"timeoutMs":86400000}`, ""},
		{workflow.TypeWait, `{"timeoutMs":2592000000,"retries":0}`, ""}, // longer than an attempt's deadline: the wait's own timeout
		{workflow.TypeWait, `{"timeoutType":"days","timeoutValue":30}`, ""},
		{workflow.TypeWait, `{"timeoutMs":0}`, "timeoutMs"},
		{workflow.TypeWait, `{"timeoutMs":2592000001}`, "timeoutMs"},
		{workflow.TypeWait, `{"timeoutType":"days","timeoutValue":31}`, "timeoutValue"},
		{workflow.TypeWait, `{"timeoutType":"weeks","timeoutValue":1}`, "timeoutType"},
		{workflow.TypeWait, `{"timeoutType":"hours"}`, "timeoutValue"},
		{workflow.TypeWait, `{"timeoutMs":"soon"}`, "timeoutMs"},
	}
	for _, tc := range tests {
		problems := r.ValidateConfig(tc.nodeType, json.RawMessage(tc.config))
		if tc.want == "" {
			if len(problems) > 0 {
				t.Errorf("%s %s: unexpected problems %v", tc.nodeType, tc.config, problems)
			}
			continue
		}
		found := false
		for _, p := range problems {
			found = found || p.Field == tc.want
		}
		if !found {
			t.Errorf("%s %s: problems %v, want one at %q", tc.nodeType, tc.config, problems, tc.want)
		}
	}
}

func TestPolicyDefaults(t *testing.T) {
	t.Parallel()
	p, err := nodes.ParsePolicy(workflow.TypeAPICall, json.RawMessage(`{}`), 30*time.Second)
	if err != nil || p != (nodes.Policy{Retries: 3, OnError: "continue", Timeout: 10 * time.Second}) {
		t.Fatalf("apiCall policy %+v %v", p, err)
	}
	p, err = nodes.ParsePolicy(workflow.TypeNotification, json.RawMessage(`{"retries":0,"timeoutMs":250}`), 30*time.Second)
	if err != nil || p != (nodes.Policy{Retries: 0, OnError: "fail", Timeout: 250 * time.Millisecond}) {
		t.Fatalf("notification policy %+v %v", p, err)
	}
	// An invokeWorkflow node's timeoutMs bounds its wait for the child (up to 30 days), not
	// the attempt that starts it; without one it waits until the child finishes.
	p, err = nodes.ParsePolicy(workflow.TypeInvokeWorkflow, json.RawMessage(`{"timeoutMs":2592000000}`), 30*time.Second)
	if err != nil || p != (nodes.Policy{Retries: 0, OnError: "fail", Timeout: 30 * time.Second, ChildTimeout: 30 * 24 * time.Hour}) {
		t.Fatalf("invokeWorkflow policy %+v %v", p, err)
	}
	if p, err = nodes.ParsePolicy(workflow.TypeInvokeWorkflow, json.RawMessage(`{}`), 30*time.Second); err != nil || p.ChildTimeout != 0 {
		t.Fatalf("invokeWorkflow policy without timeoutMs %+v %v, want no child timeout", p, err)
	}
	for _, bad := range []string{`{"timeoutMs":0}`, `{"timeoutMs":-1}`, `{"timeoutMs":2592000001}`} {
		_, err := nodes.ParsePolicy(workflow.TypeInvokeWorkflow, json.RawMessage(bad), 30*time.Second)
		var ve *workflow.ValidationError
		if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "timeoutMs" {
			t.Errorf("invokeWorkflow %s: %v, want a problem naming timeoutMs", bad, err)
		}
	}
}

func TestSimpleNodes(t *testing.T) {
	t.Parallel()
	r := registry("")
	payload := map[string]any{"city": "Oslo", "t": 31.0}
	tests := []struct {
		nodeType string
		config   any
		handles  []string
		wait     time.Duration
		log      string
	}{
		{workflow.TypeInputText, map[string]any{"fields": []any{}}, nil, 0, `Input: {"city":"Oslo","t":31}`},
		{workflow.TypeNotification, map[string]any{"template": "Hi {{city}} {{t}} {{none}}"}, nil, 0, "Hi Oslo 31 "},
		{workflow.TypeDelay, map[string]any{"delayType": "minutes", "delayValue": 90}, nil, 90 * time.Minute, "Delay scheduled: 1 hour(s)"},
		{workflow.TypeDelay, map[string]any{}, nil, 5 * time.Second, "Delay scheduled: 5 second(s)"},
		{workflow.TypeIfElse, map[string]any{"condition": map[string]any{"predicates": []any{map[string]any{"id": "p", "targetField": "t", "validationLogic": map[string]any{">": []any{map[string]any{"var": "value"}, 30}}}}}, "trueLabel": "Hot"},
			[]string{"out-true"}, 0, "If-Else condition evaluated to: Hot"},
		{workflow.TypeIfElse, map[string]any{"condition": map[string]any{"predicates": []any{}}}, []string{"out-false"}, 0, "If-Else condition evaluated to: False"},
		{workflow.TypeDecision, map[string]any{"decisions": []any{
			map[string]any{"id": "hot", "predicates": []any{map[string]any{"id": "p", "targetField": "t", "validationLogic": map[string]any{">": []any{map[string]any{"var": "value"}, 30}}}}},
			map[string]any{"id": "cold", "predicates": []any{map[string]any{"id": "p", "targetField": "t", "validationLogic": map[string]any{"<": []any{map[string]any{"var": "value"}, 0}}}}},
			map[string]any{"id": "any"},
		}}, []string{"out-hot", "out-any"}, 0, "Matched 2 outcome(s): hot, any"},
		{workflow.TypeDecision, map[string]any{"decisions": []any{}}, []string{}, 0, "Matched 0 outcome(s): none"},
	}
	for _, tc := range tests {
		out, err := execute(t, r, tc.nodeType, tc.config, payload)
		if err != nil {
			t.Fatalf("%s: %v", tc.nodeType, err)
		}
		if !reflect.DeepEqual(out.Payload, payload) {
			t.Errorf("%s: payload %v, want it passed through", tc.nodeType, out.Payload)
		}
		if !reflect.DeepEqual(out.Handles, tc.handles) || out.Wait != tc.wait {
			t.Errorf("%s: handles %#v wait %s, want %#v %s", tc.nodeType, out.Handles, out.Wait, tc.handles, tc.wait)
		}
		if len(out.Logs) != 1 || out.Logs[0].Message != tc.log {
			t.Errorf("%s: logs %+v, want %q", tc.nodeType, out.Logs, tc.log)
		}
	}
}
