package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/apitemplate"
	"github.com/sequenceflow/sequenceflow/internal/store"
	"github.com/sequenceflow/sequenceflow/internal/testenv"
	"github.com/sequenceflow/sequenceflow/internal/workflow/workflowtest"
)

// Several processes starting together on an empty database seed the samples once, and samples
// deleted later are not brought back (the seed's defect D17).
func TestSeedOnceWithConcurrentProcesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{URL: testenv.Database(t), MaxConns: testenv.DefaultConns})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	samples := []store.SampleWorkflow{
		{Name: "one", Definition: workflowtest.New().Input("a").Build()},
		{Name: "two", Definition: workflowtest.New().Input("a").Notify("b", "x").Chain("a", "b").Build()},
	}
	templates := []apitemplate.Template{{Name: "t", Provider: "mock", Category: "data", Method: "GET", URL: "http://x", TimeoutMs: 10000, IsActive: true}}

	var wg sync.WaitGroup
	seeded := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := st.Seed(ctx, samples, templates, time.Now())
			if err != nil {
				t.Errorf("seed: %v", err)
			}
			seeded <- ok
		}()
	}
	wg.Wait()
	close(seeded)
	n := 0
	for ok := range seeded {
		if ok {
			n++
		}
	}
	list, err := st.ListWorkflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tpls, err := st.ListTemplates(ctx, apitemplate.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(list) != 2 || len(tpls) != 1 {
		t.Fatalf("%d processes seeded, %d workflows, %d templates; want 1, 2, 1", n, len(list), len(tpls))
	}
	if list[0].Name != "one" {
		t.Errorf("first listed sample %q, want the first sample (newest first)", list[0].Name)
	}
	for _, w := range list {
		if err := st.DeleteWorkflow(ctx, w.ID); err != nil {
			t.Fatal(err)
		}
	}
	if ok, err := st.Seed(ctx, samples, templates, time.Now()); err != nil || ok {
		t.Fatalf("seed after deleting the samples: seeded=%v err=%v; want nothing seeded", ok, err)
	}
	if list, _ := st.ListWorkflows(ctx); len(list) != 0 {
		t.Fatalf("deleted samples came back: %d workflows", len(list))
	}
}
