DROP TABLE tokens;
DROP TABLE integration_overrides;
DROP TABLE global_integration_defaults;
DROP TABLE global_settings;
DROP TABLE models;
DROP TABLE accounts;
DROP SEQUENCE revision_seq;
