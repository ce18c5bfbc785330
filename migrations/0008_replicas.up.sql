-- Serving replicas report themselves every few seconds, with the ids of the
-- secret keys they hold, so `aiconfigd secrets rotate` can refuse to seal
-- API keys under a key some live replica could not open.
CREATE TABLE replicas (
    id         text PRIMARY KEY,
    host       text NOT NULL,
    pid        integer NOT NULL,
    key_ids    text[] NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at    timestamptz NOT NULL DEFAULT now()
);
