package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sequenceflow/sequenceflow/internal/apitemplate"
)

const templateColumns = `id::text, name, description, provider, category, method, url, headers, body_template, parameters,
	timeout_ms, expected_status_codes, sample_response, documentation, tags, is_active, is_custom, created_at, updated_at`

func scanTemplate(row pgx.CollectableRow) (apitemplate.Template, error) {
	var t apitemplate.Template
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.Provider, &t.Category, &t.Method, &t.URL, &t.Headers, &t.BodyTemplate,
		&t.Parameters, &t.TimeoutMs, &t.ExpectedStatusCodes, &t.SampleResponse, &t.Documentation, &t.Tags, &t.IsActive,
		&t.IsCustom, &t.CreatedAt, &t.UpdatedAt)
	return t, err
}

// ListTemplates returns active templates: by provider (ordered category, name) when given,
// else by category (ordered provider, name), else all (ordered provider, category, name).
func (s *Store) ListTemplates(ctx context.Context, f apitemplate.Filter) ([]apitemplate.Template, error) {
	q := `SELECT ` + templateColumns + ` FROM api_templates WHERE is_active`
	var args []any
	switch {
	case f.Provider != "":
		q, args = q+` AND provider = $1 ORDER BY category, name, created_at`, []any{f.Provider}
	case f.Category != "":
		q, args = q+` AND category = $1 ORDER BY provider, name, created_at`, []any{f.Category}
	default:
		q += ` ORDER BY provider, category, name, created_at`
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, scanTemplate)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", translate(err))
	}
	return out, nil
}

// GetTemplate returns a template, active or not.
func (s *Store) GetTemplate(ctx context.Context, id string) (apitemplate.Template, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+templateColumns+` FROM api_templates WHERE id = $1`, id)
	if err != nil {
		return apitemplate.Template{}, fmt.Errorf("get template %s: %w", id, translate(err))
	}
	t, err := pgx.CollectExactlyOneRow(rows, scanTemplate)
	if err != nil {
		return t, fmt.Errorf("get template %s: %w", id, translate(err))
	}
	return t, nil
}

// CreateTemplate stores a template; ID and timestamps are assigned here.
func (s *Store) CreateTemplate(ctx context.Context, t apitemplate.Template, now time.Time) (apitemplate.Template, error) {
	t.ID, t.CreatedAt, t.UpdatedAt = uuid.NewString(), now, now
	if err := insertTemplate(ctx, s.pool, t); err != nil {
		return t, fmt.Errorf("create template: %w", translate(err))
	}
	return s.GetTemplate(ctx, t.ID)
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertTemplate(ctx context.Context, db execer, t apitemplate.Template) error {
	_, err := db.Exec(ctx, `
		INSERT INTO api_templates (id, name, description, provider, category, method, url, headers, body_template, parameters,
			timeout_ms, expected_status_codes, sample_response, documentation, tags, is_active, is_custom, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		t.ID, t.Name, t.Description, t.Provider, t.Category, t.Method, t.URL, jsonOr(t.Headers, "[]"), t.BodyTemplate,
		jsonOr(t.Parameters, "[]"), t.TimeoutMs, jsonOr(t.ExpectedStatusCodes, "[200,201,202,204]"), nullJSON(t.SampleResponse),
		t.Documentation, jsonOr(t.Tags, "[]"), t.IsActive, t.IsCustom, t.CreatedAt, t.UpdatedAt)
	return err
}

// UpdateTemplate replaces a template's editable fields.
func (s *Store) UpdateTemplate(ctx context.Context, t apitemplate.Template, now time.Time) (apitemplate.Template, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE api_templates SET name = $2, description = $3, provider = $4, category = $5, method = $6, url = $7, headers = $8,
			body_template = $9, parameters = $10, timeout_ms = $11, expected_status_codes = $12, sample_response = $13,
			documentation = $14, tags = $15, is_active = $16, is_custom = $17, updated_at = $18
		WHERE id = $1`,
		t.ID, t.Name, t.Description, t.Provider, t.Category, t.Method, t.URL, jsonOr(t.Headers, "[]"), t.BodyTemplate,
		jsonOr(t.Parameters, "[]"), t.TimeoutMs, jsonOr(t.ExpectedStatusCodes, "[200,201,202,204]"), nullJSON(t.SampleResponse),
		t.Documentation, jsonOr(t.Tags, "[]"), t.IsActive, t.IsCustom, now)
	if err != nil {
		return t, fmt.Errorf("update template %s: %w", t.ID, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return t, fmt.Errorf("update template %s: %w", t.ID, translate(pgx.ErrNoRows))
	}
	return s.GetTemplate(ctx, t.ID)
}

// DeleteTemplate soft-deletes a template (isActive false). A missing id is not an error.
func (s *Store) DeleteTemplate(ctx context.Context, id string, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE api_templates SET is_active = false, updated_at = $2 WHERE id = $1`, id, now); err != nil {
		return fmt.Errorf("delete template %s: %w", id, translate(err))
	}
	return nil
}

func jsonOr(b json.RawMessage, fallback string) []byte {
	if len(b) == 0 || string(b) == "null" {
		return []byte(fallback)
	}
	return b
}
