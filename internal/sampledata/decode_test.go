package sampledata

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// The test's own view of the persisted format (API-CONTRACT.md section 9). Decoding rejects
// unknown keys, as the seed's validator does for everything outside config and the schemas.
type definition struct {
	Nodes []node `json:"nodes"`
	Edges []edge `json:"edges"`
}

type node struct {
	ID       string `json:"id"`
	Position struct {
		X *float64 `json:"x"`
		Y *float64 `json:"y"`
	} `json:"position"`
	Base struct {
		ID              string          `json:"id"`
		Type            string          `json:"type"`
		Name            string          `json:"name"`
		InputSchema     json.RawMessage `json:"inputSchema"`
		OutputSchema    json.RawMessage `json:"outputSchema"`
		Config          json.RawMessage `json:"config"`
		ValidationLogic json.RawMessage `json:"validationLogic"`
		Connections     []string        `json:"connections"`
	} `json:"base"`
}

type edge struct {
	ID             string  `json:"id"`
	SourceID       string  `json:"sourceId"`
	TargetID       string  `json:"targetId"`
	SourceHandleID *string `json:"sourceHandleId"`
	TargetHandleID *string `json:"targetHandleId"`
}

func (e edge) String() string {
	return fmt.Sprintf("%s:%s->%s:%s", e.SourceID, deref(e.SourceHandleID), e.TargetID, deref(e.TargetHandleID))
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

type header struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Value       string `json:"value"`
	Enabled     *bool  `json:"enabled"`
	Description string `json:"description"`
}

type apiCallConfig struct {
	Method              string   `json:"method"`
	URL                 string   `json:"url"`
	Headers             []header `json:"headers"`
	BodyTemplate        *string  `json:"bodyTemplate"`
	TimeoutMs           int      `json:"timeoutMs"`
	ExpectedStatusCodes []int    `json:"expectedStatusCodes"`
}

type inputField struct {
	ID           string `json:"id"`
	Key          string `json:"key"`
	Label        string `json:"label"`
	InputKind    string `json:"inputKind"`
	Placeholder  string `json:"placeholder"`
	DefaultValue any    `json:"defaultValue"`
}

type predicate struct {
	ID               string          `json:"id"`
	TargetField      string          `json:"targetField"`
	ValidationLogic  json.RawMessage `json:"validationLogic"`
	ValidationConfig json.RawMessage `json:"validationConfig"`
}

type ifElseConfig struct {
	Condition struct {
		ID         string      `json:"id"`
		Name       string      `json:"name"`
		Combiner   string      `json:"combiner"`
		Predicates []predicate `json:"predicates"`
	} `json:"condition"`
	TrueLabel  string `json:"trueLabel"`
	FalseLabel string `json:"falseLabel"`
}

type delayConfig struct {
	DelayType  string  `json:"delayType"`
	DelayValue float64 `json:"delayValue"`
}

// configKeys are the config keys the engine reads per node type (section 10); anything else
// (the seed's queryParams, body, trueText, ...) would be silently ignored.
var configKeys = map[string][]string{
	"inputText":    {"fields"},
	"apiCall":      {"method", "url", "headers", "bodyTemplate", "timeoutMs", "expectedStatusCodes"},
	"notification": {"template"},
	"delay":        {"delayType", "delayValue"},
	"ifElse":       {"condition", "trueLabel", "falseLabel"},
	"decision":     {"decisions"},
}

func strictDecode(t *testing.T, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %.120s...: %v", raw, err)
	}
}

func decodeDefinition(t *testing.T, wf Workflow) definition {
	t.Helper()
	var def definition
	strictDecode(t, wf.Definition, &def)
	return def
}

func decodeAPICall(t *testing.T, n node) apiCallConfig {
	t.Helper()
	var cfg apiCallConfig
	strictDecode(t, n.Base.Config, &cfg)
	return cfg
}

func decodeFields(t *testing.T, n node) []inputField {
	t.Helper()
	var cfg struct {
		Fields []inputField `json:"fields"`
	}
	strictDecode(t, n.Base.Config, &cfg)
	return cfg.Fields
}

func decodeIfElse(t *testing.T, n node) ifElseConfig {
	t.Helper()
	var cfg ifElseConfig
	strictDecode(t, n.Base.Config, &cfg)
	return cfg
}

func decodeDelay(t *testing.T, n node) delayConfig {
	t.Helper()
	var cfg delayConfig
	strictDecode(t, n.Base.Config, &cfg)
	return cfg
}

// sourceHandles returns the source handles a node may emit (section 9).
func sourceHandles(t *testing.T, n node) []string {
	t.Helper()
	switch n.Base.Type {
	case "inputText", "apiCall", "delay":
		return []string{"out"}
	case "ifElse":
		return []string{"out-true", "out-false"}
	case "decision":
		var cfg struct {
			Decisions []struct {
				ID string `json:"id"`
			} `json:"decisions"`
		}
		if err := json.Unmarshal(n.Base.Config, &cfg); err != nil {
			t.Fatalf("%s: decision config: %v", n.ID, err)
		}
		var out []string
		for _, d := range cfg.Decisions {
			out = append(out, "out-"+d.ID)
		}
		return out
	}
	return nil // notification: no source handle
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// cycleNodes returns the nodes a topological sort cannot order, or nil for an acyclic graph.
func cycleNodes(def definition) []string {
	indegree := map[string]int{}
	next := map[string][]string{}
	for _, e := range def.Edges {
		indegree[e.TargetID]++
		next[e.SourceID] = append(next[e.SourceID], e.TargetID)
	}
	var queue []string
	for _, n := range def.Nodes {
		if indegree[n.ID] == 0 {
			queue = append(queue, n.ID)
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, t := range next[id] {
			if indegree[t]--; indegree[t] == 0 {
				queue = append(queue, t)
			}
		}
	}
	var left []string
	for _, n := range def.Nodes {
		if indegree[n.ID] > 0 {
			left = append(left, n.ID)
		}
	}
	return left
}
