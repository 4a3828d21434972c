package expr

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderJSON(t *testing.T) {
	t.Parallel()
	payload := decode(t, `{
		"name": "O\"Brien \\ co", "lines": "a\nb\tc\u0001", "sep": "x\u2028y",
		"userId": 1, "idText": "1", "price": 25.5, "big": 1e21, "ok": true, "nothing": null,
		"tags": ["a", "b"], "person": {"first": "Ada", "langs": ["en"]}
	}`).(map[string]any)
	payload["nan"] = math.NaN()
	payload["bad"] = "a\xffb"
	scope := Scope{Payload: payload, Run: map[string]any{"id": "r\"1"}}
	tests := []struct {
		name string
		tmpl string
		want string // the exact body
	}{
		{"quote and backslash inside a string", `{"name": "{{name}}"}`, `{"name": "O\"Brien \\ co"}`},
		{"control characters inside a string", `{"s": "{{lines}}"}`, `{"s": "a\nb\tc\u0001"}`},
		{"line separator inside a string", `{"s": "{{sep}}"}`, `{"s": "x\u2028y"}`},
		{"invalid UTF-8 inside a string", `{"s": "{{bad}}"}`, `{"s": "a\ufffdb"}`},
		{"text around the placeholder", `{"greeting": "Hi {{person.first}}!"}`, `{"greeting": "Hi Ada!"}`},
		{"number inside a string", `{"p": "{{price}}"}`, `{"p": "25.5"}`},
		{"missing inside a string", `{"m": "{{missing}}"}`, `{"m": ""}`},
		{"null inside a string", `{"m": "{{nothing}}"}`, `{"m": ""}`},
		{"object inside a string", `{"o": "{{person}}"}`, `{"o": "[object Object]"}`},
		{"array inside a string", `{"t": "{{tags}}"}`, `{"t": "a,b"}`},
		{"unquoted number", `{"userId": {{userId}}}`, `{"userId": 1}`},
		{"unquoted string is quoted", `{"userId": {{idText}}}`, `{"userId": "1"}`},
		{"unquoted string is escaped", `{"name": {{name}}}`, `{"name": "O\"Brien \\ co"}`},
		{"unquoted large number", `{"n": {{big}}}`, `{"n": 1e+21}`},
		{"unquoted NaN", `{"n": {{nan}}}`, `{"n": null}`},
		{"unquoted boolean", `{"ok": {{ok}}}`, `{"ok": true}`},
		{"unquoted null", `{"n": {{nothing}}}`, `{"n": null}`},
		{"unquoted missing", `{"n": {{missing}}}`, `{"n": null}`},
		{"unquoted object", `{"p": {{person}}}`, `{"p": {"first":"Ada","langs":["en"]}}`},
		{"unquoted array", `[{{tags}}, {{userId}}]`, `[["a","b"], 1]`},
		{"placeholder as a key", `{"{{idText}}": 1}`, `{"1": 1}`},
		{"run data", `{"run": "{{$run.id}}"}`, `{"run": "r\"1"}`},
		{"escaped quote before a placeholder", `{"s": "\"{{idText}}\""}`, `{"s": "\"1\""}`},
		{"backslash right before a placeholder", `{"s": "\{{idText}}"}`, `{"s": "\\1"}`},
		{"whole body is one placeholder", `{{person}}`, `{"first":"Ada","langs":["en"]}`},
		{"whole body is a quoted placeholder", `"{{name}}"`, `"O\"Brien \\ co"`},
		{"seed Person Enrichment body",
			`{"first_name": "{{name}}", "last_name": "{{lines}}", "organization_name": "{{missing}}"}`,
			`{"first_name": "O\"Brien \\ co", "last_name": "a\nb\tc\u0001", "organization_name": ""}`},
		{"seed Create Post body",
			`{"title": "{{name}}", "body": "{{lines}}", "userId": {{userId}}}`,
			`{"title": "O\"Brien \\ co", "body": "a\nb\tc\u0001", "userId": 1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := RenderJSON(tt.tmpl, scope)
			if got != tt.want {
				t.Errorf("RenderJSON(%s)\n got %s\nwant %s", tt.tmpl, got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("RenderJSON(%s) = %s is not valid JSON", tt.tmpl, got)
			}
		})
	}
}

// TestRenderJSONRoundTrip checks what the receiver decodes: the exact value, whatever
// characters it holds.
func TestRenderJSONRoundTrip(t *testing.T) {
	t.Parallel()
	values := []string{`"`, `\`, `\"`, "\n\r\t\b\f", "\x00\x1f", `{{x}}`, "}", `", "injected": "`, "é😀", "\u2028\u2029", "</script>"}
	for _, v := range values {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			scope := Scope{Payload: map[string]any{"v": v}}
			body := RenderJSON(`{"quoted": "<{{v}}>", "bare": {{v}}}`, scope)
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %s is not valid JSON: %v", body, err)
			}
			want := map[string]any{"quoted": "<" + v + ">", "bare": v}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decoded body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderJSONNotJSON(t *testing.T) {
	t.Parallel()
	scope := Scope{Payload: map[string]any{"name": `O"Brien`, "n": 2.0}}
	tests := []struct {
		name string
		tmpl string
		want string
	}{
		{"form data is rendered like Render", "name={{name}}&n={{n}}", `name=O"Brien&n=2`},
		{"plain text", "Hello {{name}}", `Hello O"Brien`},
		{"two bare placeholders", "{{n}}{{n}}", "22"},
		{"no placeholders", `{"a": 1}`, `{"a": 1}`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := RenderJSON(tt.tmpl, scope); got != tt.want {
				t.Errorf("RenderJSON(%q) = %q, want %q", tt.tmpl, got, tt.want)
			}
		})
	}
}

func TestRenderJSONMalformed(t *testing.T) {
	t.Parallel()
	scope := Scope{Payload: map[string]any{"v": `a"b`}}
	tests := []struct {
		name string
		tmpl string
		want string
	}{
		{"unterminated string", `{"a": "{{v}}`, `{"a": "a\"b`},
		{"unterminated object", `{"a": {{v}}`, `{"a": "a\"b"`},
		{"stray quote flips the string state", `{"a": "x"", "b": "{{v}}"}`, `{"a": "x"", "b": ""a\"b""}`},
		{"trailing backslash", `["{{v}}\`, `["a\"b\`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := RenderJSON(tt.tmpl, scope); got != tt.want {
				t.Errorf("RenderJSON(%q) = %q, want %q", tt.tmpl, got, tt.want)
			}
		})
	}
}

func TestLooksLikeJSON(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		`{"a": {{x}}}`:   true,
		` [ {{x}} ]`:     true,
		`"{{x}}"`:        true,
		`{{x}}`:          true,
		`  {{x}}  `:      true,
		`{{x}}{{y}}`:     false,
		`a={{x}}`:        false,
		`Dear {{x}},`:    false,
		`1{{x}}`:         false,
		`{{x}} trailing`: false,
	}
	for tmpl, want := range tests {
		t.Run(tmpl, func(t *testing.T) {
			t.Parallel()
			if got := looksLikeJSON(tmpl, placeholders(tmpl)); got != want {
				t.Errorf("looksLikeJSON(%q) = %v, want %v", tmpl, got, want)
			}
		})
	}
}
