package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// BenchmarkFanOutTemplateContext runs a fan-out of 300 notifications that each read the
// city from the payload or from the run input (next to a 1 KB field), to compare the cost of
// $run templates with payload templates.
func BenchmarkFanOutTemplateContext(b *testing.B) {
	for _, c := range []struct{ name, tmpl string }{{"payload", "{{city}}"}, {"run-input", "{{$run.input.city}}"}} {
		b.Run(c.name, func(b *testing.B) {
			h := newHarness(b)
			h.startWorker(4)
			wb := workflowtest.New().Input("in")
			for i := range 300 {
				id := fmt.Sprintf("n%d", i)
				wb.Notify(id, c.tmpl).Chain("in", id)
			}
			w := h.createWorkflow(wb.Build())
			input := map[string]any{"city": "Paris", "blob": strings.Repeat("x", 1<<10)}
			b.ResetTimer()
			for range b.N {
				r := h.waitRun(h.start(w, input))
				if r.Status != workflow.RunSucceeded {
					b.Fatalf("run %s", r.Status)
				}
			}
		})
	}
}
