-- Revisions in commit order, and the change feed.
--
-- Revisions used to come from a sequence taken before a write locked
-- anything, so the write that committed last could carry the lower
-- revision, and caches that never step back kept an overwritten value.
-- Now every write transaction first increments the one row below: the row
-- lock is held until commit, so writes are serialized and a write that
-- commits after another always has the higher revision (for any two
-- writes, not only writes to one row). A rolled-back write gives its
-- revision back, so revisions are also dense.
CREATE TABLE revisions (
    id                int PRIMARY KEY CHECK (id = 1),
    -- The newest committed revision.
    revision          bigint NOT NULL,
    -- Changes at or below this revision may have been deleted from
    -- `changes` (retention); a feed reader behind it must start over.
    compacted_through bigint NOT NULL DEFAULT 0 CHECK (compacted_through <= revision)
);
INSERT INTO revisions (id, revision)
SELECT 1, greatest(
    (SELECT last_value FROM revision_seq),
    (SELECT COALESCE(max(revision), 0) FROM accounts),
    (SELECT COALESCE(max(config_revision), 0) FROM accounts),
    (SELECT COALESCE(max(revision), 0) FROM models),
    (SELECT revision FROM global_settings WHERE id = 1),
    (SELECT COALESCE(max(revision), 0) FROM integration_overrides),
    (SELECT COALESCE(max(revision), 0) FROM global_prompts),
    (SELECT COALESCE(max(revision), 0) FROM account_prompts));
DROP SEQUENCE revision_seq;

-- One row per committed write, at the write's revision: what a cache must
-- drop. Replicas follow it (NOTIFY only wakes them), and clients through
-- ChangeService.WatchChanges.
CREATE TABLE changes (
    revision   bigint PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('global', 'catalog', 'account', 'token')),
    -- NULL: no account, or (kind 'account') several accounts at once.
    account_id text,
    resource   text NOT NULL,
    -- The database's clock when the row was written, after the revision
    -- lock was taken: ordered like revisions, so retention deletes a prefix.
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX changes_created_at ON changes (created_at);
