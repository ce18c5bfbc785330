-- API keys are stored sealed (AES-256-GCM, internal/secret), with the
-- last-four hint kept beside them so reads never need the key. Plaintext
-- keys written before this change are sealed by `aiconfigd migrate up`
-- right after this step, and 0004 drops the plaintext column.
ALTER TABLE global_integration_defaults
    ADD COLUMN api_key_sealed text NOT NULL DEFAULT ''
        CHECK (api_key_sealed = '' OR api_key_sealed ~ '^aicenc:v1:[0-9a-f]{8}:[A-Za-z0-9+/]+$'),
    ADD COLUMN api_key_hint text NOT NULL DEFAULT '' CHECK (length(api_key_hint) <= 8),
    ADD CHECK (api_key_hint = '' OR api_key_sealed <> '');
