package nodes_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/outbound"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// reflector echoes the request's X-Token header back in every way a target can: in a JSON
// body (as sent, base64, URL-encoded, as a key), in a response header, in an HTML error page,
// in its status line's reason phrase, and in a redirect's location.
func reflector(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Token")
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Echo", tok)
			json.NewEncoder(w).Encode(map[string]any{"headers": r.Header, "b64": base64.StdEncoding.EncodeToString([]byte(tok)),
				"urlenc": url.QueryEscape(tok), tok: "as a key", "text": "token=" + tok + ";"})
		case "/number":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"pin":%s}`, r.Header.Get("X-Pin"))
		case "/error-page":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, "<html><body>bad token <b>%s</b></body></html>", html.EscapeString(tok))
		case "/reason":
			conn, buf, _ := http.NewResponseController(w).Hijack()
			fmt.Fprintf(buf, "HTTP/1.1 403 Forbidden %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", tok)
			buf.Flush()
			conn.Close()
		case "/redirect":
			http.Redirect(w, r, "/json?echo="+url.QueryEscape(tok), http.StatusFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A secret sent in a header never comes back in the node's output, logs or error, whatever
// the target reflects and however it encodes it; the reflection is replaced by [redacted].
// A redirect whose location carries the secret is not followed.
func TestReflectedSecretsAreScrubbed(t *testing.T) {
	t.Parallel()
	const secret = `s3cr3t&<"value">/+?`
	srv := reflector(t)
	reg := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{
		Secret: func(name string) (string, bool) {
			return map[string]string{"TOKEN": secret, "PIN": "482913"}[name], name == "TOKEN" || name == "PIN"
		},
	})
	forms := map[string]string{"as sent": secret, "base64": base64.StdEncoding.EncodeToString([]byte(secret)),
		"URL-encoded": url.QueryEscape(secret), "HTML-escaped": html.EscapeString(secret), "PIN": "482913"}
	tests := []struct {
		path      string
		redirect  bool
		wantError string
	}{
		{path: "/json"},
		{path: "/number"},
		{path: "/error-page", wantError: "unexpected status 400"},
		{path: "/reason", wantError: "unexpected status 403"},
		{path: "/redirect", redirect: true, wantError: "redirect refused"},
	}
	for _, tc := range tests {
		cfg := map[string]any{"url": srv.URL + tc.path, "retries": 0, "headers": []any{
			map[string]any{"key": "X-Token", "value": "{{$secrets.TOKEN}}", "enabled": true},
			map[string]any{"key": "X-Pin", "value": "{{$secrets.PIN}}", "enabled": true},
		}}
		out, err := execute(t, reg, workflow.TypeAPICall, cfg, map[string]any{})
		var ne *nodes.Error
		if tc.wantError != "" && (!errors.As(err, &ne) || !strings.Contains(err.Error(), tc.wantError)) {
			t.Fatalf("%s: %v, want an error with %q", tc.path, err, tc.wantError)
		}
		if tc.wantError == "" && err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		dump := reported(out, err)
		for what, form := range forms {
			if strings.Contains(dump, form) {
				t.Errorf("%s: the secret (%s) leaked: %s", tc.path, what, dump)
			}
		}
		if !tc.redirect && !strings.Contains(dump, outbound.Redacted) {
			t.Errorf("%s: nothing was redacted, so the target reflected nothing: %s", tc.path, dump)
		}
	}
}

// A secret's value is sent as it is, never rendered as a template, and text rendered from the
// payload never becomes a secret reference.
func TestSecretsAreNotTemplates(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Header.Clone()
		mu.Unlock()
	}))
	defer srv.Close()
	reg := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{
		Secret: func(name string) (string, bool) { return "raw-{{name}}-value", name == "TOKEN" },
	})
	cfg := map[string]any{"url": srv.URL, "headers": []any{
		map[string]any{"key": "Authorization", "value": "Bearer {{$secrets.TOKEN}} for {{name}}", "enabled": true},
		map[string]any{"key": "X-From-Input", "value": "{{ref}}", "enabled": true},
	}}
	if _, err := execute(t, reg, workflow.TypeAPICall, cfg, map[string]any{"name": "ada", "ref": "{{$secrets.TOKEN}}"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if a := got.Get("Authorization"); a != "Bearer raw-{{name}}-value for ada" {
		t.Errorf("Authorization %q, want the secret verbatim and the rest rendered", a)
	}
	if v := got.Get("X-From-Input"); v != "{{$secrets.TOKEN}}" {
		t.Errorf("X-From-Input %q, want the payload's text, not the secret", v)
	}
}

// A secret that is not set fails the node permanently with a message naming only the
// reference the workflow made: neither the names nor the values of the secrets that exist.
func TestUnknownSecretRevealsNothing(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{"API_TOKEN": "tok-value-1", "DB_PASSWORD": "pw-value-2"}
	reg := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{
		Secret: func(name string) (string, bool) { v, ok := secrets[name]; return v, ok },
	})
	cfg := map[string]any{"url": "http://127.0.0.1:1/", "headers": []any{
		map[string]any{"key": "X-A", "value": "{{$secrets.API_TOKEN}}", "enabled": true},
		map[string]any{"key": "X-B", "value": "{{$secrets.API_TOKN}}", "enabled": true},
	}}
	out, err := execute(t, reg, workflow.TypeAPICall, cfg, map[string]any{})
	var ne *nodes.Error
	if !errors.As(err, &ne) || ne.Retryable || !strings.Contains(err.Error(), "secret API_TOKN is not set") {
		t.Fatalf("%v, want a permanent error naming the reference API_TOKN", err)
	}
	dump := reported(out, err)
	for _, leak := range []string{"API_TOKEN", "DB_PASSWORD", "tok-value-1", "pw-value-2"} {
		if strings.Contains(dump, leak) {
			t.Errorf("the failure reveals %q: %s", leak, dump)
		}
	}
}

// A header whose value, once rendered from the run's input, holds CR, LF or NUL is a permanent
// error naming the header (not its value); nothing is sent. A header name that is not a token
// is refused when the workflow is saved.
func TestInvalidHeaderFromInput(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	reg := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{})
	for _, v := range []string{"evil\r\nX-Injected: 1", "nul\x00byte", "lf\nonly"} {
		cfg := map[string]any{"url": srv.URL, "headers": []any{map[string]any{"key": "X-Customer", "value": "id={{v}}", "enabled": true}}}
		out, err := execute(t, reg, workflow.TypeAPICall, cfg, map[string]any{"v": v})
		var ne *nodes.Error
		if !errors.As(err, &ne) || ne.Retryable || ne.Reason != "invalid_header" || !strings.Contains(err.Error(), `header "X-Customer"`) {
			t.Fatalf("value %q: %v, want a permanent invalid_header error naming X-Customer", v, err)
		}
		if dump := reported(out, err); strings.Contains(dump, "Injected") {
			t.Fatalf("the error quotes the value: %s", dump)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the target got %d requests, want none", n)
	}
	raw, _ := json.Marshal(map[string]any{"url": srv.URL, "headers": []any{map[string]any{"key": "Bad Name", "value": "v", "enabled": true}}})
	if problems := reg.ValidateConfig(workflow.TypeAPICall, raw); len(problems) != 1 || problems[0].Field != "headers[0].key" {
		t.Fatalf("problems %v, want one naming headers[0].key", problems)
	}
}

// reported is everything a node execution hands the engine to store and log, as raw text.
func reported(out nodes.Output, err error) string {
	s := fmt.Sprintf("payload=%v logs=%v", out.Payload, out.Logs)
	var ne *nodes.Error
	if errors.As(err, &ne) {
		s += fmt.Sprintf(" error=%s output=%v logs=%v", ne.Error(), ne.Output, ne.Logs)
	} else if err != nil {
		s += " error=" + err.Error()
	}
	return s
}

// A body that is not text is kept as base64 with its content type, and a secret the target
// reflects inside it is scrubbed from its bytes before they are encoded.
func TestBinaryBodyIsBase64AndScrubbed(t *testing.T) {
	t.Parallel()
	const secret = "b1nary-s3cret"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write([]byte("\x89PNG\x00\xff" + r.Header.Get("X-Token") + "\x00end"))
	}))
	t.Cleanup(srv.Close)
	reg := nodes.NewRegistry(outbound.NewClient(outbound.Config{AllowPrivate: true}), nodes.APICallConfig{
		Secret: func(name string) (string, bool) { return secret, name == "TOKEN" },
	})
	out, err := execute(t, reg, workflow.TypeAPICall, map[string]any{"url": srv.URL, "headers": []any{
		map[string]any{"key": "X-Token", "value": "{{$secrets.TOKEN}}", "enabled": true},
	}}, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(out.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Data struct{ Data, Encoding, ContentType string }
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	body, err := base64.StdEncoding.DecodeString(env.Data.Data)
	if err != nil || env.Data.Encoding != "base64" || env.Data.ContentType != "image/png" {
		t.Fatalf("data %+v (%v), want base64 with the content type", env.Data, err)
	}
	if want := "\x89PNG\x00\xff" + outbound.Redacted + "\x00end"; string(body) != want {
		t.Fatalf("body %q, want %q", body, want)
	}
}
