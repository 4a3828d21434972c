package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// The store translates driver errors by SQLSTATE, precisely: each class of failure becomes the
// one domain error the API maps to a 4xx or a 503, and nothing the request caused is hidden as
// "not found" or left for a 500.
func TestTranslateBySQLState(t *testing.T) {
	t.Parallel()
	pg := func(code string) error {
		return fmt.Errorf("query: %w", &pgconn.PgError{Code: code, Message: "server says " + code})
	}
	tests := []struct {
		name string
		err  error
		want error // nil: no domain error, an unknown failure (500)
	}{
		{"no rows", pgx.ErrNoRows, workflow.ErrNotFound},
		{"unique violation", pg("23505"), workflow.ErrConflict},
		{"foreign key violation (parent deleted meanwhile)", pg("23503"), workflow.ErrNotFound},
		{"invalid text representation (malformed uuid or json)", pg("22P02"), workflow.ErrInvalidData},
		{"untranslatable character (\\u0000 in jsonb)", pg("22P05"), workflow.ErrInvalidData},
		{"character not in repertoire (NUL or bad UTF-8 in text)", pg("22021"), workflow.ErrInvalidData},
		{"string too long", pg("22001"), workflow.ErrInvalidData},
		{"numeric out of range", pg("22003"), workflow.ErrInvalidData},
		{"statement timeout", pg("57014"), workflow.ErrUnavailable},
		{"lock timeout", pg("55P03"), workflow.ErrUnavailable},
		{"too many connections", pg("53300"), workflow.ErrUnavailable},
		{"out of memory", pg("53200"), workflow.ErrUnavailable},
		{"disk full", pg("53100"), workflow.ErrUnavailable},
		{"admin shutdown", pg("57P01"), workflow.ErrUnavailable},
		{"connection failure", pg("08006"), workflow.ErrUnavailable},
		{"connection dropped", io.ErrUnexpectedEOF, workflow.ErrUnavailable},
		{"syntax error (a bug)", pg("42601"), nil},
		{"check violation (a bug)", pg("23514"), nil},
		{"caller gave up", context.Canceled, nil},
	}
	domain := []error{workflow.ErrNotFound, workflow.ErrConflict, workflow.ErrInvalidData, workflow.ErrUnavailable}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := translate(tc.err)
			for _, d := range domain {
				if is := errors.Is(got, d); is != (d == tc.want) {
					t.Errorf("translate(%v) = %v: errors.Is(%v) = %v, want %v", tc.err, got, d, is, d == tc.want)
				}
			}
		})
	}
}

// FuzzTranslate: whatever SQLSTATE the server sends, translation yields at most one domain
// error, keeps the driver error in the chain for logs, and maps every data exception (class 22)
// to ErrInvalidData.
func FuzzTranslate(f *testing.F) {
	for _, code := range []string{"22P02", "22P05", "22021", "23503", "23505", "57014", "08006", "53300", "XX000", "", "2", "22"} {
		f.Add(code)
	}
	domain := []error{workflow.ErrNotFound, workflow.ErrConflict, workflow.ErrInvalidData, workflow.ErrUnavailable}
	f.Fuzz(func(t *testing.T, code string) {
		pe := &pgconn.PgError{Code: code, Message: "m"}
		got := translate(pe)
		n := 0
		for _, d := range domain {
			if errors.Is(got, d) {
				n++
			}
		}
		if n > 1 {
			t.Fatalf("translate(%q) = %v matches %d domain errors", code, got, n)
		}
		if strings.HasPrefix(code, "22") && !errors.Is(got, workflow.ErrInvalidData) {
			t.Fatalf("translate(%q) = %v, want ErrInvalidData", code, got)
		}
		var back *pgconn.PgError
		if n == 0 && !errors.As(got, &back) {
			t.Fatalf("translate(%q) = %v lost the driver error", code, got)
		}
	})
}
