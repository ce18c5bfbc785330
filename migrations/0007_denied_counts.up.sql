-- Denied write attempts are recorded in aggregate under a flood (SPEC 16):
-- one row per (caller, RPC, reason) per minute, counting the attempts,
-- with the peer address they came from.
ALTER TABLE audit_events
    ADD COLUMN peer  text NOT NULL DEFAULT '',
    ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1);
