package sampledata

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAutomationSamplesDecodeWithUniqueNames(t *testing.T) {
	originals, err := Workflows("http://api:3000")
	if err != nil {
		t.Fatal(err)
	}
	automations, err := Automations("http://api:3000")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	keys := map[string]string{}
	for _, w := range append(originals, automations...) {
		if names[w.Name] {
			t.Errorf("sample name %q is used twice", w.Name)
		}
		names[w.Name] = true
		keys[w.Key] = "id-of-" + w.Key
	}
	for _, w := range automations {
		if !strings.HasPrefix(w.Key, "automation-") {
			t.Errorf("automation sample key %q", w.Key)
		}
		var def definition
		if err := json.Unmarshal(w.Definition, &def); err != nil {
			t.Errorf("%s: %v", w.Key, err)
		}
	}
	if err := ResolveSampleIDs(automations, keys); err != nil {
		t.Fatalf("every sample reference resolves: %v", err)
	}
	for _, w := range automations {
		if strings.Contains(string(w.Definition), sampleIDPrefix) {
			t.Errorf("%s still holds a sample reference after resolving", w.Key)
		}
	}
}

func TestResolveSampleIDs(t *testing.T) {
	samples := []Workflow{
		{Key: "automation-09-parent", Definition: json.RawMessage(`{"a":"@SAMPLE_ID:child@","b":"@SAMPLE_ID:child@-x"}`)},
		{Key: "child", Definition: json.RawMessage(`{}`)},
	}
	if err := ResolveSampleIDs(samples, map[string]string{"child": "1234", "automation-09-parent": "5678"}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(samples[0].Definition), `{"a":"1234","b":"1234-x"}`; got != want {
		t.Errorf("resolved %s, want %s", got, want)
	}
	for _, tc := range []struct{ def, want string }{
		{`{"a":"@SAMPLE_ID:missing@"}`, `refers to sample "missing"`},
		{`{"a":"@SAMPLE_ID:open"}`, "unterminated"},
	} {
		err := ResolveSampleIDs([]Workflow{{Key: "k", Definition: json.RawMessage(tc.def)}}, map[string]string{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.def, err, tc.want)
		}
	}
}
