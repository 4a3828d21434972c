package engine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sequenceflow/sequenceflow/internal/engine"
	"github.com/sequenceflow/sequenceflow/internal/expr"
)

// TestNewRefusesInvalidConfig: the engine refuses settings it could not honour instead of
// misbehaving later (a negative timeout expires every node at once).
func TestNewRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  engine.Config
		says string
	}{
		{"negative node timeout", engine.Config{NodeTimeout: -time.Second}, "NodeTimeout"},
		{"node timeout beyond a node's limit", engine.Config{NodeTimeout: time.Hour}, "NodeTimeout"},
		{"negative retry delay", engine.Config{RetryBaseDelay: -time.Second}, "RetryBaseDelay"},
		{"retry base beyond max", engine.Config{RetryBaseDelay: time.Hour, RetryMaxDelay: time.Minute}, "RetryBaseDelay"},
		{"retry max beyond a day", engine.Config{RetryMaxDelay: 48 * time.Hour}, "RetryMaxDelay"},
		{"negative run timeout", engine.Config{RunTimeout: -time.Minute}, "RunTimeout"},
		{"negative output limit", engine.Config{MaxOutputBytes: -1}, "MaxOutputBytes"},
		{"negative evaluation budget", engine.Config{EvalBudget: expr.Budget{Steps: -1}}, "EvalBudget"},
		{"no prepared versions", engine.Config{PreparedVersions: -1}, "PreparedVersions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := engine.New(tc.cfg, engine.Deps{}); err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("New(%+v): %v, want an error naming %s", tc.cfg, err, tc.says)
			}
		})
	}
	if _, err := engine.New(engine.Config{}, engine.Deps{}); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}

// TestRunReconcilerRefusesInvalidConfig: a negative interval used to panic inside the
// process (time.NewTicker); now the reconciler returns an error before its first pass, as it
// does for a StaleAfter that a live execution could outlast.
func TestRunReconcilerRefusesInvalidConfig(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(engine.Config{}, engine.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  engine.ReconcilerConfig
		says string
	}{
		{"negative interval", engine.ReconcilerConfig{Interval: -time.Second}, "Interval"},
		{"negative after", engine.ReconcilerConfig{After: -time.Second}, "After"},
		{"negative stale after", engine.ReconcilerConfig{StaleAfter: -time.Second}, "StaleAfter"},
		{"negative batch", engine.ReconcilerConfig{Batch: -1}, "Batch"},
		{"stale after within a node's timeout", engine.ReconcilerConfig{StaleAfter: 5 * time.Minute}, "longest node timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Returns at once: ctx is never cancelled, so a reconciler that started would hang.
			err := eng.RunReconciler(context.Background(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("RunReconciler(%+v): %v, want an error naming %s", tc.cfg, err, tc.says)
			}
		})
	}
	if _, err := eng.Reconcile(context.Background(), engine.ReconcilerConfig{Interval: -time.Second}); err == nil {
		t.Fatal("Reconcile accepted a negative interval")
	}
}
