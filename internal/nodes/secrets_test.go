package nodes_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// {{$secrets.NAME}} in a header is resolved at execution time and sent, but neither the secret
// nor credential headers appear in the node's output or logs; elsewhere the reference renders
// nothing; a missing secret fails the node permanently, naming the variable.
func TestSecretsInHeaders(t *testing.T) {
	t.Parallel()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "cookie-value"})
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"echo":"` + r.URL.Query().Get("q") + `"}`))
	}))
	defer srv.Close()
	secrets := map[string]string{"API_TOKEN": "s3cr3t-value"}
	reg := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{
		Secret: func(name string) (string, bool) { v, ok := secrets[name]; return v, ok },
	})
	cfg := map[string]any{"url": srv.URL + "/?q={{$secrets.API_TOKEN}}", "headers": []any{
		map[string]any{"key": "Authorization", "value": "Bearer {{$secrets.API_TOKEN}}", "enabled": true},
	}}
	out, err := execute(t, reg, workflow.TypeAPICall, cfg, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	if got != "Bearer s3cr3t-value" {
		t.Fatalf("the endpoint got Authorization %q, want the resolved secret", got)
	}
	dump, _ := json.Marshal(out)
	if strings.Contains(string(dump), "s3cr3t-value") || strings.Contains(string(dump), "cookie-value") {
		t.Fatalf("a secret or a cookie leaked into the output or logs: %s", dump)
	}
	if h := out.Payload.(map[string]any)["headers"].(map[string]string); h["set-cookie"] != "[redacted]" {
		t.Fatalf("set-cookie is %q, want redacted", h["set-cookie"])
	}

	cfg["headers"] = []any{map[string]any{"key": "Authorization", "value": "Bearer {{$secrets.MISSING}}", "enabled": true}}
	_, err = execute(t, reg, workflow.TypeAPICall, cfg, map[string]any{})
	var ne *nodes.Error
	if !errors.As(err, &ne) || ne.Retryable || !strings.Contains(err.Error(), "SECRET_MISSING") {
		t.Fatalf("missing secret: %v, want a permanent error naming SECRET_MISSING", err)
	}
}
