package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/loadgen"
)

func TestReportChecksViolations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := loadgen.SaveResults(good, []loadgen.Result{{Name: "chain-10", Mode: "c=20", Started: 5, Succeeded: 5}}); err != nil {
		t.Fatal(err)
	}
	if err := loadgen.SaveResults(bad, []loadgen.Result{{Name: "fanout-10", Mode: "c=20", Started: 5, Succeeded: 4, Stuck: 1, JoinRuns: 4, JoinExact: 3}}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), []string{"report", "-check", good}, &out, io.Discard); err != nil {
		t.Errorf("report of a clean result: %v", err)
	}
	if !strings.Contains(out.String(), "chain-10") || !strings.Contains(out.String(), "Targets:") {
		t.Errorf("report output lacks the table or the targets:\n%s", out.String())
	}
	err := run(context.Background(), []string{"report", "-check", good, bad}, io.Discard, io.Discard)
	if !errors.Is(err, errViolations) || !strings.Contains(err.Error(), "fanout-10 c=20: 1 stuck, join ran other than once in 1 runs") {
		t.Errorf("report -check of a stuck run: %v", err)
	}
	if err := run(context.Background(), []string{"report", bad}, io.Discard, io.Discard); err != nil {
		t.Errorf("report without -check must not fail: %v", err)
	}
}

func TestLoadRejectsBadFlags(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-base", "http://example.com:3000"}, "not on this machine"},
		{[]string{"-concurrency", "2", "-rate", "5"}, "exactly one"},
		{[]string{"-format", "html"}, "-format"},
		{[]string{"-shapes", "star"}, "unknown shape"},
		{[]string{"-poll", "push"}, "-poll"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		err := run(context.Background(), tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("sfload %v: %v, want an error mentioning %q", tt.args, err, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	if err := run(context.Background(), []string{"limits"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if want := "chain 500\nfanout 498\n"; out.String() != want {
		t.Errorf("sfload limits = %q, want %q (workflow.DefaultLimits: 500 nodes, 2000 edges)", out.String(), want)
	}
}
