package nodes_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/nodes"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

func TestForEachConfigProblemsNameTheirField(t *testing.T) {
	r := registry("")
	body := map[string]any{"type": "notification", "config": map[string]any{"template": "x"}}
	for _, tc := range []struct {
		name   string
		config map[string]any
		field  string
	}{
		{"no items", map[string]any{"body": body}, "items"},
		{"items not one placeholder", map[string]any{"items": "list: {{a}}", "body": body}, "items"},
		{"two placeholders", map[string]any{"items": "{{a}}{{b}}", "body": body}, "items"},
		{"no body", map[string]any{"items": "{{a}}"}, "body"},
		{"nested forEach", map[string]any{"items": "{{a}}", "body": map[string]any{"type": "forEach", "config": map[string]any{}}}, "body.type"},
		{"unknown body type", map[string]any{"items": "{{a}}", "body": map[string]any{"type": "shell"}}, "body.type"},
		{"bad body config", map[string]any{"items": "{{a}}", "body": map[string]any{"type": "apiCall", "config": map[string]any{"method": "GET", "url": "", "retries": 99}}}, "body.config.retries"},
		{"concurrency 0", map[string]any{"items": "{{a}}", "body": body, "concurrency": 0}, "concurrency"},
		{"concurrency too high", map[string]any{"items": "{{a}}", "body": body, "concurrency": nodes.MaxForEachConcurrency + 1}, "concurrency"},
		{"fractional concurrency", map[string]any{"items": "{{a}}", "body": body, "concurrency": 1.5}, "concurrency"},
		{"unknown onItemError", map[string]any{"items": "{{a}}", "body": body, "onItemError": "ignore"}, "onItemError"},
		{"maxItems above the cap", map[string]any{"items": "{{a}}", "body": body, "maxItems": nodes.MaxForEachItems + 1}, "maxItems"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := r.ValidateConfig(workflow.TypeForEach, mustJSON(t, tc.config))
			found := false
			for _, p := range problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("problems %+v, want one naming %q", problems, tc.field)
			}
		})
	}
	ok := map[string]any{"items": "{{ $run.input.users }}", "body": body, "concurrency": 10, "onItemError": "skip", "maxItems": 50}
	if problems := r.ValidateConfig(workflow.TypeForEach, mustJSON(t, ok)); len(problems) != 0 {
		t.Errorf("valid config: problems %+v", problems)
	}
	f, err := nodes.ParseForEach(mustJSON(t, map[string]any{"items": "{{a}}", "body": body}))
	if err != nil || f.Concurrency != nodes.DefaultForEachConcurrency || f.OnItemError != nodes.ItemErrorFail || f.MaxItems != nodes.DefaultForEachItems {
		t.Errorf("defaults: %+v %v", f, err)
	}
}

func TestForEachResolvesItemsToElements(t *testing.T) {
	r := registry("")
	body := map[string]any{"type": "notification", "config": map[string]any{"template": "x"}}
	out, err := execute(t, r, workflow.TypeForEach, map[string]any{"items": "{{list}}", "body": body}, map[string]any{"list": []any{"a", map[string]any{"b": 1.0}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Elements) != 2 {
		t.Fatalf("elements %v, want 2", out.Elements)
	}
	if el := out.Elements[1].(nodes.Element); el.Index != 1 || el.Item.(map[string]any)["b"] != 1.0 {
		t.Errorf("element 1 = %+v", el)
	}
	// A string holding a JSON array, as an input field gives it, is that array.
	text, err := execute(t, r, workflow.TypeForEach, map[string]any{"items": "{{list}}", "body": body}, map[string]any{"list": ` ["London", "Dubai"] `})
	if err != nil || len(text.Elements) != 2 || text.Elements[1].(nodes.Element).Item != "Dubai" {
		t.Errorf("items as JSON text: elements %v, err %v; want London and Dubai", text.Elements, err)
	}
	empty, err := execute(t, r, workflow.TypeForEach, map[string]any{"items": "{{list}}", "body": body}, map[string]any{"list": []any{}})
	if err != nil || empty.Elements == nil || len(empty.Elements) != 0 {
		t.Errorf("empty list: elements %v (nil %v), err %v; want an empty, non-nil list", empty.Elements, empty.Elements == nil, err)
	}
	for _, tc := range []struct {
		payload any
		reason  string
		want    string
	}{
		{map[string]any{"list": []any{1, 2, 3}}, "items_limit", "3 elements, more than the limit of 2"},
		{map[string]any{"list": "abc"}, "items", "got a string that is not a JSON array"},
		{map[string]any{"list": `{"a": 1}`}, "items", "got a string that is not a JSON array"},
		{map[string]any{"list": "null"}, "items", "got a string that is not a JSON array"},
		{map[string]any{"list": "[1, 2, 3]"}, "items_limit", "3 elements, more than the limit of 2"},
		{map[string]any{"list": 7.0}, "items", "got a number, want an array"},
		{map[string]any{"other": 1}, "items", "nothing there"},
	} {
		_, err := execute(t, r, workflow.TypeForEach, map[string]any{"items": "{{list}}", "body": body, "maxItems": 2}, tc.payload)
		var ne *nodes.Error
		if !errors.As(err, &ne) || ne.Retryable || ne.Reason != tc.reason || !strings.Contains(ne.Error(), tc.want) {
			t.Errorf("payload %v: error %v, want a permanent %s error containing %q", tc.payload, err, tc.reason, tc.want)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
