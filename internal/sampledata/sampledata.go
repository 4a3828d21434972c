// Package sampledata holds the sample workflows and API templates that SequenceFlow seeds into
// an empty database: the seven workflows and nine templates of the original service
// (API-CONTRACT.md section 12), stored as embedded JSON files under data/.
//
// The data keeps the seed's names, graphs and templates but not its defects (D18):
//
//   - every mock URL is rooted at the base URL given at load time, instead of a hard-coded
//     localhost:3000 or api-dev:3000;
//   - Advanced Building Cooling uses only supported config keys (bodyTemplate, query parameters
//     in the URL, headers with enabled set, trueLabel/falseLabel);
//   - Person Enrichment expects 201, the status the mock really answers, so its call succeeds
//     (the seed expected 200 and logged "unexpected status");
//   - templates after an API call read the response ({{data.city}}) or the run input
//     ({{$run.input.user_email}}) instead of input keys such as {{city}}, which the API call's
//     response envelope replaces and which would render empty.
//
// Beside them, the automation samples (data/automation-*.json) show what the original service
// could not do: schedules, webhooks, waiting for an event, sub-workflows, rate-limited calls.
// They are seeded after the seven, with the same file format.
//
// Files hold the base URL as the placeholder @BASE_URL@, which cannot collide with the {{...}}
// template syntax the engine renders at run time. An automation sample that refers to another
// sample workflow (an invokeWorkflow node) names it as @SAMPLE_ID:<file name without .json>@,
// which the seed replaces with the id it gives that sample (ResolveSampleIDs).
package sampledata

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"strings"
)

//go:embed data/*.json
var files embed.FS

const (
	baseURLPlaceholder = "@BASE_URL@"
	// workflowGlob matches the workflow files; their numeric prefix gives the order of
	// API-CONTRACT.md section 12.
	workflowGlob   = "data/workflow-*.json"
	automationGlob = "data/automation-*.json"
	templatesFile  = "data/api-templates.json"
	// sampleIDPrefix starts a reference to another sample workflow's id.
	sampleIDPrefix = "@SAMPLE_ID:"
)

// Workflow is a sample workflow: its name and its definition {"nodes":[...],"edges":[...]}
// in the persisted format of API-CONTRACT.md section 9.
type Workflow struct {
	// Key is the file name without its directory and .json extension; it names the sample in
	// @SAMPLE_ID:<key>@ references.
	Key        string
	Name       string
	Definition json.RawMessage
}

// Workflows returns the seven sample workflows, in the order of section 12, with every mock URL
// rooted at baseURL (no trailing slash, e.g. "http://localhost:3000" or "http://api:3000").
func Workflows(baseURL string) ([]Workflow, error) {
	return loadWorkflows(workflowGlob, baseURL)
}

// Automations returns the automation samples in file name order, with every mock URL rooted at
// baseURL; references to other samples' ids are left for ResolveSampleIDs.
func Automations(baseURL string) ([]Workflow, error) {
	return loadWorkflows(automationGlob, baseURL)
}

func loadWorkflows(glob, baseURL string) ([]Workflow, error) {
	root, err := normalizeBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(files, glob)
	if err != nil {
		return nil, fmt.Errorf("sampledata: list workflows: %w", err)
	}
	out := make([]Workflow, 0, len(names))
	for _, name := range names {
		raw, err := load(name, root)
		if err != nil {
			return nil, err
		}
		var file struct {
			Name       string          `json:"name"`
			Definition json.RawMessage `json:"definition"`
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			return nil, fmt.Errorf("sampledata: decode %s: %w", name, err)
		}
		if file.Name == "" || len(file.Definition) == 0 {
			return nil, fmt.Errorf("sampledata: %s: name and definition are required", name)
		}
		def, err := compact(file.Definition)
		if err != nil {
			return nil, fmt.Errorf("sampledata: %s: %w", name, err)
		}
		key := strings.TrimSuffix(path.Base(name), ".json")
		out = append(out, Workflow{Key: key, Name: file.Name, Definition: def})
	}
	return out, nil
}

// APITemplates returns the nine API templates of section 12, in that order, each a JSON object
// with the template fields of section 5 except id/createdAt/updatedAt: isActive true, isCustom
// false, defaults filled in (headers [], parameters [], tags [], timeoutMs 10000,
// expectedStatusCodes [200,201,202,204] unless specific), mock URLs rooted at baseURL.
func APITemplates(baseURL string) ([]json.RawMessage, error) {
	root, err := normalizeBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	raw, err := load(templatesFile, root)
	if err != nil {
		return nil, err
	}
	var templates []json.RawMessage
	if err := json.Unmarshal(raw, &templates); err != nil {
		return nil, fmt.Errorf("sampledata: decode %s: %w", templatesFile, err)
	}
	for i, t := range templates {
		if templates[i], err = compact(t); err != nil {
			return nil, fmt.Errorf("sampledata: %s[%d]: %w", templatesFile, i, err)
		}
	}
	return templates, nil
}

// normalizeBaseURL checks that baseURL is an absolute http(s) URL without query or fragment and
// drops any trailing slash, so that root + "/workflows/..." is well formed.
func normalizeBaseURL(baseURL string) (string, error) {
	root := strings.TrimRight(baseURL, "/")
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("sampledata: base URL %q must be an absolute http or https URL without credentials, query or fragment", baseURL)
	}
	return root, nil
}

// load reads an embedded file and replaces the base URL placeholder, which only ever appears
// inside JSON strings, with root escaped as JSON string content.
func load(name, root string) ([]byte, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("sampledata: read %s: %w", name, err)
	}
	quoted, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("sampledata: encode base URL: %w", err)
	}
	raw = bytes.ReplaceAll(raw, []byte(baseURLPlaceholder), quoted[1:len(quoted)-1])
	if !json.Valid(raw) {
		return nil, fmt.Errorf("sampledata: %s is not valid JSON", name)
	}
	return raw, nil
}

// ResolveSampleIDs replaces every @SAMPLE_ID:<key>@ in the samples' definitions with ids[key].
// A reference to a key without an id is an error naming both samples.
func ResolveSampleIDs(samples []Workflow, ids map[string]string) error {
	for i, s := range samples {
		def := string(s.Definition)
		for {
			start := strings.Index(def, sampleIDPrefix)
			if start < 0 {
				break
			}
			end := strings.Index(def[start+len(sampleIDPrefix):], "@")
			if end < 0 {
				return fmt.Errorf("sampledata: %s: unterminated %s reference", s.Key, sampleIDPrefix)
			}
			key := def[start+len(sampleIDPrefix) : start+len(sampleIDPrefix)+end]
			id, ok := ids[key]
			if !ok {
				return fmt.Errorf("sampledata: %s refers to sample %q, which is not seeded", s.Key, key)
			}
			def = def[:start] + id + def[start+len(sampleIDPrefix)+end+1:]
		}
		samples[i].Definition = json.RawMessage(def)
	}
	return nil
}

func compact(raw json.RawMessage) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
