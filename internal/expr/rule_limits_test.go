package expr_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sequenceflow/sequenceflow/internal/expr"
)

func TestRuleLimits(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"!":[`, expr.MaxRuleDepth) + "true" + strings.Repeat(`]}`, expr.MaxRuleDepth)
	if _, err := expr.ParseRule([]byte(deep)); !errors.Is(err, expr.ErrInvalidRule) || !strings.Contains(err.Error(), "limit of 32 levels") {
		t.Fatalf("deep rule: %v, want the depth limit named", err)
	}
	ok := strings.Repeat(`{"!":[`, 10) + "true" + strings.Repeat(`]}`, 10)
	if _, err := expr.ParseRule([]byte(ok)); err != nil {
		t.Fatalf("10 levels: %v", err)
	}
	big := `{"in":["` + strings.Repeat("x", expr.MaxRuleBytes) + `",{"var":"value"}]}`
	if _, err := expr.ParseRule([]byte(big)); !errors.Is(err, expr.ErrInvalidRule) || !strings.Contains(err.Error(), "limit of 16384 bytes") {
		t.Fatalf("large rule: %v, want the size limit named", err)
	}
}
