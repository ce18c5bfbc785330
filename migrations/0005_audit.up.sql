-- Audit log: one row per successful write RPC, written in the write's own
-- transaction (a rolled-back write leaves none), and one per denied write
-- attempt. Before/after never hold secrets: API keys appear as their hint.
CREATE TABLE audit_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_token_id text NOT NULL DEFAULT '',
    actor_name     text NOT NULL,
    actor_role     text NOT NULL,
    rpc            text NOT NULL,
    resource       text NOT NULL,
    account_id     text,
    outcome        text NOT NULL CHECK (outcome IN ('ok', 'denied')),
    reason         text NOT NULL DEFAULT '',
    before         jsonb,
    after          jsonb,
    request_id     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_account ON audit_events (account_id, id DESC);
CREATE INDEX audit_events_resource ON audit_events (resource, id DESC);
CREATE INDEX audit_events_actor ON audit_events (actor_name, id DESC);
CREATE INDEX audit_events_time ON audit_events (created_at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
