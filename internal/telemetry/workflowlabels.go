package telemetry

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds of the per-workflow dimension and of the names spans carry.
const (
	// DefaultWorkflowLabels is how many distinct workflow names a process gives their own
	// value of the workflow label (METRICS_WORKFLOW_LABELS).
	DefaultWorkflowLabels = 100
	// MaxWorkflowLabels bounds METRICS_WORKFLOW_LABELS.
	MaxWorkflowLabels = 10_000
	// MaxWorkflowLabelBytes is the longest workflow label value: longer names are cut at a
	// rune boundary.
	MaxWorkflowLabelBytes = 100
	// OtherWorkflow is the workflow label of names beyond the cap.
	OtherWorkflow = "other"
	// MaxSpanNameBytes is the longest workflow.name and node.name a span carries: longer
	// names are cut at a rune boundary.
	MaxSpanNameBytes = 256
)

// WorkflowLabels maps workflow names to the bounded values of the workflow label. The first
// limit distinct names a process sees (each cut to MaxWorkflowLabelBytes) keep their own
// value for the life of the process; later names read OtherWorkflow. With limit 0 the
// dimension is off and every name reads "". It holds at most limit names and is safe for
// concurrent use.
type WorkflowLabels struct {
	limit int
	mu    sync.RWMutex
	names map[string]struct{}
}

// NewWorkflowLabels returns a label set of at most limit names (0: the dimension is off; a
// negative limit counts as 0).
func NewWorkflowLabels(limit int) *WorkflowLabels {
	limit = max(limit, 0)
	return &WorkflowLabels{limit: limit, names: make(map[string]struct{}, min(limit, DefaultWorkflowLabels))}
}

// Label returns the workflow label value of a workflow name; an unknown (empty) name reads
// OtherWorkflow, so "" only ever means the dimension is off.
func (l *WorkflowLabels) Label(name string) string {
	if l.limit == 0 {
		return ""
	}
	if name == "" {
		return OtherWorkflow
	}
	name = cutUTF8(name, MaxWorkflowLabelBytes)
	l.mu.RLock()
	_, known := l.names[name]
	l.mu.RUnlock()
	if known {
		return name
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, known := l.names[name]; known {
		return name
	}
	if len(l.names) >= l.limit {
		return OtherWorkflow
	}
	l.names[name] = struct{}{}
	return name
}

// cutUTF8 returns s as valid UTF-8 (Prometheus refuses anything else) cut to at most n bytes
// at a rune boundary.
func cutUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
