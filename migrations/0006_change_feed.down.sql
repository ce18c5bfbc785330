CREATE SEQUENCE revision_seq;
SELECT setval('revision_seq', (SELECT revision FROM revisions WHERE id = 1));
DROP TABLE changes;
DROP TABLE revisions;
