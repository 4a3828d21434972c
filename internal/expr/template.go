package expr

import (
	"slices"
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
		v, found, err := s.resolve(p.path, m)
		if err != nil {
			return "", err
		}
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
	// AllNodes is set when a path is $nodes itself: every completed node's output is read.
	AllNodes bool
	// Reads are the values of the run's input and of nodes' outputs the paths read, in order
	// of first use, none inside another (a path that reads "a" also serves "a.b").
	Reads []Read
}

// Read is one value a template reads from the run's input (Node empty) or from the output of
// node Node: the value at Path, whose steps are object keys that PostgreSQL's #> operator
// follows exactly as Lookup does. The rest of the template's path (array indexes, length,
// string characters) is resolved by Lookup in the value read. An empty Path is the whole
// value.
type Read struct {
	Node string
	Path []string
}

// ReferencesOf collects the references of the given templates.
func ReferencesOf(tmpls ...string) References {
	var refs References
	for _, tmpl := range tmpls {
		for _, path := range Paths(tmpl) {
			switch {
			case inScope(path, runPrefix):
				refs.Run = true
				steps := strings.Split(rewriteIndexes(path), ".")[1:]
				switch {
				case len(steps) == 0:
					refs.Reads = addRead(refs.Reads, Read{})
				case steps[0] == "input":
					refs.Reads = addRead(refs.Reads, Read{Path: keyPrefix(steps[1:])})
				}
			case path == nodesPrefix:
				refs.AllNodes = true
			case inScope(path, nodesPrefix):
				steps := strings.Split(rewriteIndexes(path), ".")[1:]
				if steps[0] != "" { // no node has an empty id
					refs.Reads = addRead(refs.Reads, Read{Node: steps[0], Path: keyPrefix(steps[1:])})
				}
			}
		}
	}
	return refs
}

// keyPrefix returns the leading steps that are plain object keys: not empty, not "length",
// and not starting like a number (which #> would take as an array index, negative ones from
// the end, where Lookup takes only canonical non-negative indexes).
func keyPrefix(steps []string) []string {
	for i, s := range steps {
		if s == "" || s == "length" || strings.ContainsRune("0123456789+- \t\n\r", rune(s[0])) {
			steps = steps[:i]
			break
		}
	}
	if len(steps) == 0 {
		return nil
	}
	return slices.Clip(steps)
}

// addRead adds r unless a read already covers it, and drops the reads r covers.
func addRead(reads []Read, r Read) []Read {
	kept := reads[:0]
	for _, have := range reads {
		switch {
		case have.Node == r.Node && isPrefix(have.Path, r.Path):
			return reads
		case have.Node == r.Node && isPrefix(r.Path, have.Path):
			continue
		}
		kept = append(kept, have)
	}
	return append(kept, r)
}

func isPrefix(prefix, path []string) bool {
	return len(prefix) <= len(path) && slices.Equal(prefix, path[:len(prefix)])
}
