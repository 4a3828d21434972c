-- +goose Up
-- Guards for run transitions. A transition is sent to the server as a pipeline that ends in
-- COMMIT, so its preconditions must fail inside the transaction, not in the client: these raise
-- errors the store maps to the engine's ErrNotFound, ErrRunFinished and ErrLostRace.

-- +goose StatementBegin
CREATE FUNCTION sf_lock_running_run(run uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s text;
BEGIN
    SELECT status INTO s FROM runs WHERE id = run FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'sf:not_found' USING ERRCODE = 'P0002';
    END IF;
    IF s IN ('succeeded', 'failed', 'cancelled') THEN
        RAISE EXCEPTION 'sf:run_finished' USING ERRCODE = 'P0001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION sf_require(ok boolean, reason text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ok THEN
        RAISE EXCEPTION '%', reason USING ERRCODE = 'P0001';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION sf_require(boolean, text);
DROP FUNCTION sf_lock_running_run(uuid);
