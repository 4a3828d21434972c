package nodes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sequenceflow/sequenceflow/internal/expr"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// onItemError values of a forEach node: what an element whose body failed does.
const (
	// ItemErrorFail fails the run, like a node failing with onError "fail".
	ItemErrorFail = "fail"
	// ItemErrorSkip leaves the failed element out of the results.
	ItemErrorSkip = "skip"
	// ItemErrorContinue keeps the failed element's error payload at its place in the results.
	ItemErrorContinue = "continue"
)

// Bounds of a forEach node.
const (
	// DefaultForEachConcurrency is how many elements run at once when the node sets none.
	DefaultForEachConcurrency = 4
	// MaxForEachConcurrency bounds concurrency.
	MaxForEachConcurrency = 100
	// DefaultForEachItems is the element limit of a node that sets no maxItems.
	DefaultForEachItems = 1000
	// MaxForEachItems bounds maxItems: every element is a task row.
	MaxForEachItems = 10000
)

// ForEach is a forEach node's config: the array to map over, the node each element runs, how
// many run at once, what a failed element does and how many elements are allowed.
type ForEach struct {
	// Items is a template of one placeholder ("{{path}}") naming an array in the node's scope,
	// or text holding a JSON array.
	Items       string
	Body        ForEachBody
	Concurrency int
	OnItemError string
	MaxItems    int
}

// ForEachBody is the node each element runs: a type other than forEach, with its config.
type ForEachBody struct {
	Type   string          `json:"type"`
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config"`
}

// ParseForEach reads and checks a forEach node's config; problems name their field.
func ParseForEach(config json.RawMessage) (ForEach, error) {
	var raw struct {
		Items       *string      `json:"items"`
		Body        *ForEachBody `json:"body"`
		Concurrency *float64     `json:"concurrency"`
		OnItemError *string      `json:"onItemError"`
		MaxItems    *float64     `json:"maxItems"`
	}
	f := ForEach{Concurrency: DefaultForEachConcurrency, OnItemError: ItemErrorFail, MaxItems: DefaultForEachItems}
	if err := json.Unmarshal(config, &raw); err != nil {
		return f, workflow.Invalid("", "forEach config must be {items, body, concurrency?, onItemError?, maxItems?}: %v", err)
	}
	v := &workflow.ValidationError{}
	switch {
	case raw.Items == nil || strings.TrimSpace(*raw.Items) == "":
		v.Add("items", `is required: a template of one placeholder naming an array, e.g. "{{$run.input.users}}"`)
	case !singlePlaceholder(*raw.Items):
		v.Add("items", `must be exactly one placeholder naming an array, e.g. "{{$run.input.users}}", got %q`, *raw.Items)
	default:
		f.Items = strings.TrimSpace(*raw.Items)
	}
	switch {
	case raw.Body == nil:
		v.Add("body", "is required: the node each element runs, {type, name?, config}")
	case raw.Body.Type == workflow.TypeForEach:
		v.Add("body.type", "a forEach body cannot be another forEach")
	case raw.Body.Type == "":
		v.Add("body.type", "is required")
	default:
		f.Body = *raw.Body
		if len(f.Body.Config) == 0 || string(f.Body.Config) == "null" {
			f.Body.Config = json.RawMessage(`{}`)
		}
	}
	if raw.Concurrency != nil {
		if c := *raw.Concurrency; c != float64(int(c)) || c < 1 || c > MaxForEachConcurrency {
			v.Add("concurrency", "must be a whole number from 1 to %d", MaxForEachConcurrency)
		} else {
			f.Concurrency = int(c)
		}
	}
	if raw.OnItemError != nil {
		switch *raw.OnItemError {
		case ItemErrorFail, ItemErrorSkip, ItemErrorContinue:
			f.OnItemError = *raw.OnItemError
		default:
			v.Add("onItemError", "must be %q, %q or %q, got %q", ItemErrorFail, ItemErrorSkip, ItemErrorContinue, *raw.OnItemError)
		}
	}
	if raw.MaxItems != nil {
		if m := *raw.MaxItems; m != float64(int(m)) || m < 1 || m > MaxForEachItems {
			v.Add("maxItems", "must be a whole number from 1 to %d", MaxForEachItems)
		} else {
			f.MaxItems = int(m)
		}
	}
	return f, v.OrNil()
}

// singlePlaceholder reports whether tmpl is one {{path}} placeholder and nothing else.
func singlePlaceholder(tmpl string) bool {
	t := strings.TrimSpace(tmpl)
	return strings.HasPrefix(t, "{{") && strings.HasSuffix(t, "}}") && strings.Count(t, "{{") == 1 && len(expr.Paths(t)) == 1
}

// BodyNode is the node an element of forEach node n runs: the body's type and config under
// the forEach node's id, named after the body (or the forEach node when the body has no name).
func (f ForEach) BodyNode(n workflow.Node) workflow.Node {
	body := n
	body.Base.Type, body.Base.Config = f.Body.Type, f.Body.Config
	if f.Body.Name != "" {
		body.Base.Name = f.Body.Name
	}
	return body
}

// Element is the input of one element's task: the array's element and its index.
type Element struct {
	Item  any `json:"item"`
	Index int `json:"index"`
}

// forEach evaluates its items; the engine creates one task per element.
type forEach struct {
	// registry checks the body's type and config as it checks a node's.
	registry *Registry
}

// Prepare parses the config once per workflow version.
func (x forEach) Prepare(config json.RawMessage) (Executor, error) {
	f, err := ParseForEach(config)
	if err != nil {
		return nil, &Error{Reason: "config", Err: fmt.Errorf("forEach config: %w", err)}
	}
	return preparedForEach{f}, nil
}

func (x forEach) Execute(ctx context.Context, in Input) (Output, error) {
	p, err := x.Prepare(in.Config)
	if err != nil {
		return Output{}, err
	}
	return p.Execute(ctx, in)
}

// Validate checks the forEach config and its body's config with the body type's validator.
func (x forEach) Validate(config json.RawMessage) []workflow.Problem {
	f, err := ParseForEach(config)
	var problems []workflow.Problem
	if err != nil {
		problems = problemsOf(err)
	}
	if _, known := x.registry.executors[f.Body.Type]; f.Body.Type != "" && f.Body.Type != workflow.TypeForEach && !known {
		problems = append(problems, workflow.Problem{Field: "body.type", Message: fmt.Sprintf("unknown node type %q", f.Body.Type)})
	} else if known {
		for _, p := range x.registry.ValidateConfig(f.Body.Type, f.Body.Config) {
			p.Field = strings.TrimSuffix("body.config."+p.Field, ".")
			problems = append(problems, p)
		}
	}
	return problems
}

type preparedForEach struct{ f ForEach }

// Execute resolves the items to an array within the limit; Output.Elements are the inputs of
// the element tasks, in order.
func (p preparedForEach) Execute(_ context.Context, in Input) (Output, error) {
	path := expr.Paths(p.f.Items)[0]
	v, found, err := in.Scope.ResolveBounded(path, in.meter())
	if err != nil {
		return Output{}, budgetError("forEach items", err)
	}
	if text, isText := v.(string); isText {
		// An input field always holds text: a run started from a form names its list as JSON.
		var list []any
		if err := json.Unmarshal([]byte(strings.TrimSpace(text)), &list); err != nil || list == nil {
			return Output{}, Permanent("items", "forEach items %s: got a string that is not a JSON array (write the list as [\"a\", \"b\"])", p.f.Items)
		}
		v = list
	}
	items, ok := v.([]any)
	switch {
	case !found || v == nil:
		return Output{}, Permanent("items", "forEach items %s: nothing there (want an array)", p.f.Items)
	case !ok:
		return Output{}, Permanent("items", "forEach items %s: got %s, want an array", p.f.Items, jsonKind(v))
	case len(items) > p.f.MaxItems:
		return Output{}, Permanent("items_limit", "forEach items %s: %d elements, more than the limit of %d (maxItems)", p.f.Items, len(items), p.f.MaxItems)
	}
	elements := make([]any, len(items))
	for i, item := range items {
		elements[i] = Element{Item: item, Index: i}
	}
	return Output{
		Payload:  map[string]any{"elements": len(items)},
		Elements: elements,
		Logs:     []Log{{Kind: "forEach", Message: fmt.Sprintf("forEach over %d element(s), %d at a time", len(items), min(p.f.Concurrency, max(1, len(items))))}},
	}, nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}
