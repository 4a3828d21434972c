package deploy_test

import (
	"fmt"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// monParseYAML decodes a YAML document into maps, slices and strings: every scalar keeps its
// text ("9091", "1", "0.9"), so the checks compare what the file says, and a null is nil.
func monParseYAML(data []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return monYAMLValue(doc.Content[0])
}

func monYAMLValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return monYAMLValue(n.Alias)
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, nil
		}
		return n.Value, nil
	case yaml.SequenceNode:
		out := []any{}
		for _, c := range n.Content {
			v, err := monYAMLValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := map[string]any{}
		for k := 0; k+1 < len(n.Content); k += 2 {
			key := n.Content[k]
			if key.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: non-scalar mapping key", key.Line)
			}
			v, err := monYAMLValue(n.Content[k+1])
			if err != nil {
				return nil, err
			}
			out[key.Value] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
}

func monYAMLFile(t testing.TB, file string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	v, err := monParseYAML(raw)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a mapping", file)
	}
	return m
}

func monMap(v any) map[string]any { m, _ := v.(map[string]any); return m }
func monList(v any) []any         { l, _ := v.([]any); return l }
func monStr(v any) string         { s, _ := v.(string); return s }
