-- Idempotent writes (SPEC 17). A write sent with an idempotency key
-- records, in its own transaction, the key, the caller's token, the
-- method, a hash of the request and the answer it gave; a retry with the
-- same key is answered from here and writes nothing. One row per (token,
-- key): two calls with one key cannot both write (the second waits for the
-- first's transaction, then finds its row). Rows older than the retention
-- (AICONFIG_IDEMPOTENCY_RETENTION, at least 24 h) are pruned.
--
-- No foreign key to tokens: a row outlives nothing but its retention, and
-- a write may delete the token that made it (an account with its tokens).
CREATE TABLE idempotency_keys (
    token_id     text NOT NULL,
    key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 128),
    -- the full gRPC method, e.g. /aiconfig.v1.AccountService/UpsertAccount
    method       text NOT NULL,
    -- SHA-256 of the request's deterministic protobuf encoding
    request_hash bytea NOT NULL CHECK (length(request_hash) = 32),
    -- the response message, protobuf-encoded (secrets shown once are not kept)
    answer       bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (token_id, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
