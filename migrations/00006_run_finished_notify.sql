-- +goose Up
-- A run becoming terminal notifies channel sequenceflow_run_finished with its id, on commit.
-- API processes LISTEN on it so the synchronous execute route waits without polling; the
-- WHEN clause keeps the trigger off the hot path of the run's counter updates.
-- +goose StatementBegin
CREATE FUNCTION notify_run_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sequenceflow_run_finished', NEW.id::text);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER runs_notify_finished
    AFTER UPDATE OF status ON runs
    FOR EACH ROW
    WHEN (OLD.status IN ('queued', 'running') AND NEW.status IN ('succeeded', 'failed', 'cancelled'))
    EXECUTE FUNCTION notify_run_finished();

-- +goose Down
DROP TRIGGER runs_notify_finished ON runs;
DROP FUNCTION notify_run_finished();
