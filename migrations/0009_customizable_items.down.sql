-- Back to migration 6: prompts return to their own tables (history with
-- its ids; restores are recorded as the customize or upsert_global they
-- amounted to); author profiles, content strategies, their history, plan
-- limits and defaults are dropped.
CREATE TABLE global_prompts (
    prompt_type text PRIMARY KEY CHECK (prompt_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    text        text NOT NULL CHECK (btrim(text) <> '' AND octet_length(text) <= 65536),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
    variables   text[] NOT NULL DEFAULT '{}',
    revision    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE account_prompts (
    account_id     text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prompt_type    text NOT NULL REFERENCES global_prompts (prompt_type),
    prompt_value   text NOT NULL CHECK (btrim(prompt_value) <> '' AND octet_length(prompt_value) <= 65536),
    default_prompt text NOT NULL,
    is_customized  boolean NOT NULL,
    revision       bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, prompt_type),
    CHECK (is_customized OR prompt_value = default_prompt)
);
CREATE TABLE prompt_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  text,
    prompt_type text NOT NULL,
    action      text NOT NULL CHECK (action IN ('customize', 'reset', 'bulk_reset', 'upsert_global')),
    actor_name  text NOT NULL,
    actor_role  text NOT NULL,
    old_text    text NOT NULL,
    new_text    text NOT NULL,
    revision    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((account_id IS NULL) = (action = 'upsert_global'))
);
CREATE INDEX prompt_history_account ON prompt_history (account_id, id DESC);
CREATE FUNCTION prompt_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'prompt_history is append-only';
END $$;

INSERT INTO global_prompts (prompt_type, text, description, variables, revision, updated_at)
SELECT id, content #>> '{}', COALESCE(meta ->> 'description', ''),
       ARRAY(SELECT jsonb_array_elements_text(COALESCE(meta -> 'variables', '[]'))), revision, updated_at
FROM global_items WHERE kind = 'prompt';
INSERT INTO account_prompts (account_id, prompt_type, prompt_value, default_prompt, is_customized, revision, updated_at)
SELECT account_id, id, content #>> '{}', default_content #>> '{}', is_customized, revision, updated_at
FROM account_items WHERE kind = 'prompt';
INSERT INTO prompt_history (id, account_id, prompt_type, action, actor_name, actor_role, old_text, new_text, revision, created_at)
OVERRIDING SYSTEM VALUE
SELECT id, account_id, item_id,
       CASE WHEN action <> 'restore' THEN action WHEN account_id IS NULL THEN 'upsert_global' ELSE 'customize' END,
       actor_name, actor_role, COALESCE(old_content #>> '{}', ''), COALESCE(new_content #>> '{}', ''), revision, created_at
FROM item_history WHERE kind = 'prompt';
SELECT setval(pg_get_serial_sequence('prompt_history', 'id'), greatest((SELECT max(id) FROM item_history), 1),
              (SELECT count(*) > 0 FROM item_history));
CREATE TRIGGER prompt_history_append_only BEFORE UPDATE OR DELETE ON prompt_history
    FOR EACH ROW EXECUTE FUNCTION prompt_history_append_only();

DROP TABLE account_item_defaults;
DROP TABLE global_item_defaults;
DROP TABLE plan_limits;
DROP TABLE item_history;
DROP FUNCTION item_history_append_only();
DROP TABLE account_items;
DROP TABLE global_items;
DROP TABLE item_kinds;
