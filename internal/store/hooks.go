package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sequenceflow/sequenceflow/internal/webhook"
	"github.com/sequenceflow/sequenceflow/internal/workflow"
)

// MaxHooksPerWorkflow bounds a workflow's hooks, so that its hook list is one bounded page.
const MaxHooksPerWorkflow = 100

// hookSettings is the stored form of a hook's settings (hooks.settings): everything but the
// secret, which has its own column.
type hookSettings struct {
	Signature *struct {
		SecretRef        string `json:"secretRef,omitempty"`
		Header           string `json:"header"`
		TimestampHeader  string `json:"timestampHeader"`
		ToleranceSeconds int64  `json:"toleranceSeconds"`
	} `json:"signature"`
	Dedup   webhook.Dedup `json:"dedup"`
	Respond struct {
		Mode      string `json:"mode"`
		NodeID    string `json:"nodeId,omitempty"`
		TimeoutMs int64  `json:"timeoutMs,omitempty"`
	} `json:"respond"`
}

func settingsOf(h webhook.Hook) ([]byte, *string) {
	var s hookSettings
	var secret *string
	if sig := h.Signature; sig != nil {
		s.Signature = &struct {
			SecretRef        string `json:"secretRef,omitempty"`
			Header           string `json:"header"`
			TimestampHeader  string `json:"timestampHeader"`
			ToleranceSeconds int64  `json:"toleranceSeconds"`
		}{sig.SecretRef, sig.Header, sig.TimestampHeader, int64(sig.Tolerance / time.Second)}
		if sig.Secret != "" {
			secret = &sig.Secret
		}
	}
	s.Dedup = h.Dedup
	s.Respond.Mode, s.Respond.NodeID, s.Respond.TimeoutMs = h.Respond.Mode, h.Respond.NodeID, h.Respond.Timeout.Milliseconds()
	raw, _ := json.Marshal(s) // plain strings and numbers: cannot fail
	return raw, secret
}

func hookOf(h *webhook.Hook, settings []byte, version *int32, secret *string) error {
	var s hookSettings
	if err := json.Unmarshal(settings, &s); err != nil {
		return fmt.Errorf("decode hook %s settings: %w", h.ID, err)
	}
	if version != nil {
		h.Version = int(*version)
	}
	if sig := s.Signature; sig != nil {
		h.Signature = &webhook.Signature{SecretRef: sig.SecretRef, Header: sig.Header, TimestampHeader: sig.TimestampHeader,
			Tolerance: time.Duration(sig.ToleranceSeconds) * time.Second}
		if secret != nil {
			h.Signature.Secret = *secret
		}
	}
	h.Dedup = s.Dedup
	h.Respond = webhook.Respond{Mode: s.Respond.Mode, NodeID: s.Respond.NodeID, Timeout: time.Duration(s.Respond.TimeoutMs) * time.Millisecond}
	return nil
}

// CreateHook stores a hook (its id and creation time set by the caller): ErrNotFound when the
// workflow is missing, ErrTooLarge when it has MaxHooksPerWorkflow hooks already.
func (s *Store) CreateHook(ctx context.Context, h webhook.Hook) error {
	workflowID, err := lookupID("create hook of workflow", h.WorkflowID)
	if err != nil {
		return err
	}
	settings, secret := settingsOf(h)
	var version *int
	if h.Version > 0 {
		version = &h.Version
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The workflow's row lock orders concurrent creations, so the bound holds.
		if err := tx.QueryRow(ctx, `SELECT id FROM workflows WHERE id = $1 FOR UPDATE`, workflowID).Scan(new(any)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM hooks WHERE workflow_id = $1`, workflowID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxHooksPerWorkflow {
			return fmt.Errorf("%w: the workflow has %d hooks, the most it may have; delete one first", workflow.ErrTooLarge, n)
		}
		_, err := tx.Exec(ctx, `INSERT INTO hooks (id, workflow_id, name, version, settings, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			h.ID, workflowID, h.Name, version, settings, secret, h.CreatedAt)
		return err
	})
	if err != nil {
		if errors.Is(err, workflow.ErrTooLarge) {
			return err
		}
		return fmt.Errorf("create hook of workflow %s: %w", workflowID, translate(err))
	}
	return nil
}

// ListHooks returns a workflow's hooks, oldest first, without their secrets (Signature.Secret
// is empty; a signed hook still has a Signature); ErrNotFound when the workflow is missing.
func (s *Store) ListHooks(ctx context.Context, workflowID string) ([]webhook.Hook, error) {
	workflowID, err := lookupID("list hooks of workflow", workflowID)
	if err != nil {
		return nil, err
	}
	if ok, err := s.WorkflowExists(ctx, workflowID); err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("list hooks of workflow %s: %w", workflowID, workflow.ErrNotFound)
		}
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, workflow_id::text, name, version, settings, created_at FROM hooks
		WHERE workflow_id = $1 ORDER BY created_at, id LIMIT $2`, workflowID, MaxHooksPerWorkflow)
	if err != nil {
		return nil, fmt.Errorf("list hooks of workflow %s: %w", workflowID, translate(err))
	}
	hooks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (webhook.Hook, error) {
		var h webhook.Hook
		var version *int32
		var settings []byte
		if err := r.Scan(&h.ID, &h.WorkflowID, &h.Name, &version, &settings, &h.CreatedAt); err != nil {
			return h, err
		}
		return h, hookOf(&h, settings, version, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("list hooks of workflow %s: %w", workflowID, translate(err))
	}
	return hooks, nil
}

// Hook returns a hook with its secret, for checking a request's signature; ErrNotFound when
// there is none.
func (s *Store) Hook(ctx context.Context, id string) (webhook.Hook, error) {
	h := webhook.Hook{ID: id}
	if !webhook.ValidID(id) {
		return h, fmt.Errorf("get hook: %w", workflow.ErrNotFound)
	}
	var version *int32
	var settings []byte
	var secret *string
	err := s.pool.QueryRow(ctx, `SELECT workflow_id::text, name, version, settings, secret, created_at FROM hooks WHERE id = $1`, id).
		Scan(&h.WorkflowID, &h.Name, &version, &settings, &secret, &h.CreatedAt)
	if err != nil {
		return h, fmt.Errorf("get hook: %w", translate(err))
	}
	return h, hookOf(&h, settings, version, secret)
}

// DeleteHook deletes a hook; ErrNotFound when there is none.
func (s *Store) DeleteHook(ctx context.Context, id string) error {
	if !webhook.ValidID(id) {
		return fmt.Errorf("delete hook: %w", workflow.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM hooks WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete hook: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete hook: %w", workflow.ErrNotFound)
	}
	return nil
}
