package sampledata

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testBaseURL = "http://api.test:3000"

// wantNames are the workflow names of API-CONTRACT.md section 12, in order.
var wantNames = []string{
	"🌤️ Simple Weather Alert",
	"👤 Person Enrichment",
	"📧 Simple Notification",
	"🔀 Temperature Alert System",
	"🎯 LinkedIn Lead Qualification",
	"🏢 Smart Building Cooling System",
	"🏢 Advanced Building Cooling System",
}

// placeholderRE matches a runtime template reference {{ path }}, as the engine does.
var placeholderRE = regexp.MustCompile(`\{\{\s*([^}]*?)\s*\}\}`)

// withNumbers replaces every {{...}} reference by a number, the worst case for a body template:
// a quoted placeholder stays a string, an unquoted one becomes a number.
func withNumbers(s string) string { return placeholderRE.ReplaceAllString(s, "1") }

// references returns the paths of the {{...}} references in s.
func references(s string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestEmbeddedFilesAreValidJSON(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(files, "data/*.json")
	if err != nil {
		t.Fatal(err)
	}
	originals := 0 // the automation samples (data/automation-*.json) are counted by their own test
	for _, name := range names {
		if !strings.HasPrefix(name, "data/automation-") {
			originals++
		}
	}
	if originals != len(wantNames)+1 {
		t.Fatalf("data/ holds %d JSON files besides the automation samples, want %d workflows and one template file: %v", originals, len(wantNames), names)
	}
	for _, name := range names {
		raw, err := files.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(raw) {
			t.Errorf("%s is not valid JSON", name)
		}
		if !bytes.Contains(raw, []byte(baseURLPlaceholder)) && !strings.Contains(name, "simple-notification") {
			t.Errorf("%s never uses %s; mock URLs must be rooted at the base URL", name, baseURLPlaceholder)
		}
		for _, bad := range []string{"localhost:3000", "api-dev:3000", "{{$baseUrl}}"} {
			if bytes.Contains(raw, []byte(bad)) {
				t.Errorf("%s contains the hard-coded %q (D18)", name, bad)
			}
		}
	}
}

func TestWorkflowNamesAndOrder(t *testing.T) {
	t.Parallel()
	wfs, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, wf := range wfs {
		got = append(got, wf.Name)
	}
	if diff := cmp.Diff(wantNames, got); diff != "" {
		t.Errorf("workflow names (-want +got):\n%s", diff)
	}
}

func TestBaseURLSubstitution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		baseURL string
		root    string // what mock URLs must start with
	}{
		{"http://localhost:3000", "http://localhost:3000/workflows/api/"},
		{"http://api:3000", "http://api:3000/workflows/api/"},
		{"http://api:3000/", "http://api:3000/workflows/api/"},
		{"https://flows.example.com/prefix", "https://flows.example.com/prefix/workflows/api/"},
	}
	for _, tt := range tests {
		t.Run(tt.baseURL, func(t *testing.T) {
			t.Parallel()
			wfs, err := Workflows(tt.baseURL)
			if err != nil {
				t.Fatal(err)
			}
			var mockURLs int
			for _, wf := range wfs {
				if bytes.Contains(wf.Definition, []byte(baseURLPlaceholder)) {
					t.Errorf("%s: placeholder left in the definition", wf.Name)
				}
				for _, n := range decodeDefinition(t, wf).Nodes {
					if n.Base.Type != "apiCall" {
						continue
					}
					u := decodeAPICall(t, n).URL
					if !strings.HasPrefix(u, tt.root) {
						t.Errorf("%s/%s: url %q does not start with %q", wf.Name, n.ID, u, tt.root)
					}
					mockURLs++
				}
			}
			if mockURLs == 0 {
				t.Error("no apiCall node found")
			}
			templates, err := APITemplates(tt.baseURL)
			if err != nil {
				t.Fatal(err)
			}
			for _, raw := range templates {
				if bytes.Contains(raw, []byte(baseURLPlaceholder)) {
					t.Errorf("placeholder left in template %s", raw)
				}
				tpl := decodeTemplate(t, raw)
				if tpl.Provider == "jsonplaceholder" {
					continue
				}
				if !strings.HasPrefix(tpl.URL, tt.root+"mock/") {
					t.Errorf("template %q: url %q does not start with %q", tpl.Name, tpl.URL, tt.root+"mock/")
				}
			}
		})
	}
}

func TestBaseURLIsJSONEscaped(t *testing.T) {
	t.Parallel()
	// A quote in the base URL must not break the JSON it is inserted into.
	const odd = `http://host:3000/a"b`
	wfs, err := Workflows(odd)
	if err != nil {
		t.Fatal(err)
	}
	n := decodeDefinition(t, wfs[0]).Nodes[1]
	if got := decodeAPICall(t, n).URL; !strings.HasPrefix(got, odd+"/workflows/api/") {
		t.Errorf("url = %q, want it rooted at %q", got, odd)
	}
}

func TestBaseURLRejected(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "/", "localhost:3000", "ftp://host", "http://", "http://host?x=1", "http://host#top", "http://u:p@host"} {
		if _, err := Workflows(bad); err == nil {
			t.Errorf("Workflows(%q): want an error", bad)
		}
		if _, err := APITemplates(bad); err == nil {
			t.Errorf("APITemplates(%q): want an error", bad)
		}
	}
}

func TestResultsAreIndependentCopies(t *testing.T) {
	t.Parallel()
	a, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	a[0].Definition[0] = 'X'
	b, err := Workflows(testBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b[0].Definition) {
		t.Error("changing one result changed the next one")
	}
}
