ALTER TABLE audit_events DROP COLUMN peer, DROP COLUMN count;
