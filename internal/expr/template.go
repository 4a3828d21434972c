package expr

import (
	"strings"
)

// placeholder is one {{path}} of a template: tmpl[start:end] is what gets replaced.
type placeholder struct {
	start, end int
	path       string
}

// placeholders finds a template's placeholders in order, matching what the seed's
// /\{\{\s*([^}]+)\s*\}\}/g matches: "{{", at least one character other than "}", then "}}".
// The path is the text in between without surrounding white space.
func placeholders(tmpl string) []placeholder {
	var out []placeholder
	for i := 0; ; {
		open := strings.Index(tmpl[i:], "{{")
		if open < 0 {
			return out
		}
		start := i + open
		inner := strings.IndexByte(tmpl[start+2:], '}')
		if inner < 0 {
			return out
		}
		closing := start + 2 + inner
		if inner > 0 && closing+1 < len(tmpl) && tmpl[closing+1] == '}' {
			out = append(out, placeholder{
				start: start,
				end:   closing + 2,
				path:  strings.TrimSpace(tmpl[start+2 : closing]),
			})
			i = closing + 2
			continue
		}
		// No placeholder can start before closing: each would meet the same lone "}".
		i = closing + 1
	}
}

// Render interpolates the {{ path }} placeholders of tmpl with values from s, as the seed
// does for notification templates, URLs and header values: undefined and null become "",
// anything else JavaScript's String() (numbers as JavaScript prints them, arrays
// comma-joined, objects "[object Object]"). Values are inserted as they are, unescaped; use
// RenderJSON for JSON bodies.
//
// Render has no budget: it is for templates checked against an empty or trusted scope. An
// execution renders with RenderBounded.
func Render(tmpl string, s Scope) string {
	out, _ := RenderBounded(tmpl, s, unlimited())
	return out
}

// RenderBounded is Render charging m for every placeholder and the text it inserts; once the
// budget is used up it stops with an error wrapping ErrBudgetExceeded.
func RenderBounded(tmpl string, s Scope, m *Meter) (string, error) {
	phs := placeholders(tmpl)
	if len(phs) == 0 {
		return tmpl, nil
	}
	if err := m.alloc(len(tmpl)); err != nil {
		return "", err
	}
	var b strings.Builder
	last := 0
	for _, p := range phs {
		v, found := s.Resolve(p.path)
		if err := chargeRender(m, v); err != nil {
			return "", err
		}
		b.WriteString(tmpl[last:p.start])
		b.WriteString(renderText(v, found))
		last = p.end
	}
	b.WriteString(tmpl[last:])
	return b.String(), nil
}

// chargeRender charges one placeholder and the text of its value: twice its size, for the
// copy of the value and for the text written (strings are inserted as they are).
func chargeRender(m *Meter, v any) error {
	if err := m.step(1); err != nil {
		return err
	}
	switch v.(type) {
	case string, nil, bool, float64, map[string]any:
		return m.alloc(textSize(v, m.room()+1))
	}
	return m.alloc(2 * jsonSize(v, m.room()/2+1))
}

// Paths returns the distinct placeholder paths of tmpl in order of first use, trimmed as
// Render trims them.
func Paths(tmpl string) []string {
	var paths []string
	seen := make(map[string]bool)
	for _, p := range placeholders(tmpl) {
		if !seen[p.path] {
			seen[p.path] = true
			paths = append(paths, p.path)
		}
	}
	return paths
}

// References says which data besides the payload a set of templates reads, so a caller loads
// only what is needed.
type References struct {
	// Run is set when a path starts with $run.
	Run bool
	// AllNodes is set when a path is $nodes itself.
	AllNodes bool
	// Nodes are the node ids addressed as $nodes.<id>..., in order of first use.
	Nodes []string
}

// ReferencesOf collects the references of the given templates.
func ReferencesOf(tmpls ...string) References {
	var refs References
	seen := make(map[string]bool)
	for _, tmpl := range tmpls {
		for _, path := range Paths(tmpl) {
			switch {
			case inScope(path, runPrefix):
				refs.Run = true
			case path == nodesPrefix:
				refs.AllNodes = true
			case inScope(path, nodesPrefix):
				rest := rewriteIndexes(path[len(nodesPrefix)+1:])
				id, _, _ := strings.Cut(rest, ".")
				if !seen[id] {
					seen[id] = true
					refs.Nodes = append(refs.Nodes, id)
				}
			}
		}
	}
	return refs
}
