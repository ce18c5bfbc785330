-- No plaintext key column remains after this. It refuses to run while a
-- plaintext key is still stored (sealing needs AICONFIG_SECRET_KEY).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM global_integration_defaults WHERE api_key <> '') THEN
        RAISE EXCEPTION 'plaintext API keys are still stored: run `aiconfigd migrate up` with AICONFIG_SECRET_KEY set so they are sealed first';
    END IF;
END $$;
ALTER TABLE global_integration_defaults DROP COLUMN api_key;
