-- Keys stay sealed; the old column comes back empty.
ALTER TABLE global_integration_defaults ADD COLUMN api_key text NOT NULL DEFAULT '';
