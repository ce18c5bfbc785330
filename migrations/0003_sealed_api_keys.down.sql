ALTER TABLE global_integration_defaults DROP COLUMN api_key_sealed, DROP COLUMN api_key_hint;
