package workflow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

func TestDefinitionHash(t *testing.T) {
	decode := func(s string) workflow.Definition {
		var d workflow.Definition
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	hash := func(s string) string {
		h, err := workflow.DefinitionHash(decode(s))
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := `{"nodes":[{"id":"a","position":{"x":1,"y":2},"base":{"id":"a","type":"notification","name":"A","config":{"message":"hi","channel":"log"}}}],"edges":[]}`
	reordered := `{"edges":[], "nodes":[{"base":{"config":{"channel":"log","message":"hi"},"name":"A","type":"notification","id":"a"},"position":{"y":2,"x":1},"id":"a"}]}`
	changed := strings.Replace(base, `"hi"`, `"ho"`, 1)
	moved := strings.Replace(base, `"x":1`, `"x":3`, 1)
	h := hash(base)
	if !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+64 {
		t.Fatalf("hash %q is not sha256:<64 hex digits>", h)
	}
	if got := hash(reordered); got != h {
		t.Errorf("key order and spacing changed the hash: %s vs %s", got, h)
	}
	for name, s := range map[string]string{"config": changed, "position": moved} {
		if hash(s) == h {
			t.Errorf("a changed %s kept the hash %s", name, h)
		}
	}
	canonical, err := workflow.CanonicalDefinition(decode(reordered))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(canonical), " ") || !strings.HasPrefix(string(canonical), `{"edges":[],"nodes":[{"base":{"config":{"channel"`) {
		t.Errorf("canonical form %s: want sorted keys and no spaces", canonical)
	}
}
