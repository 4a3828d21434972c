-- +goose Up
-- The span contexts (W3C traceparents) of a join's activating parents, appended by the
-- statement that resolves each parent's edges into it, so the join's task span can link to
-- every parent and not only to the one that released it. At most engine.MaxParentLinks are
-- kept; parent_spans_dropped counts the parents beyond them. NULL for tasks with one parent,
-- whose span is a child of that parent's. Neither column is indexed, so updates stay HOT.
ALTER TABLE tasks
    ADD COLUMN parent_spans text[],
    ADD COLUMN parent_spans_dropped int NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE tasks DROP COLUMN parent_spans, DROP COLUMN parent_spans_dropped;
