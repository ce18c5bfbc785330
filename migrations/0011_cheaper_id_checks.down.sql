ALTER TABLE accounts DROP CONSTRAINT accounts_id_check,
    ADD CONSTRAINT accounts_id_check CHECK (id ~ '^[A-Za-z0-9._:@-]{1,128}$');
ALTER TABLE account_items DROP CONSTRAINT account_items_id_check,
    ADD CONSTRAINT account_items_id_check CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$');
