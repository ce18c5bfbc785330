-- Core schema: accounts, model catalog, global settings singleton,
-- per-account integration overrides, bearer tokens.
--
-- Every write takes its revision from one sequence, so revisions are
-- comparable across resources and a resolved configuration can report the
-- newest revision it was computed from.
CREATE SEQUENCE revision_seq;

CREATE TABLE accounts (
    id              text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9._:@-]{1,128}$'),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 256),
    plan            text NOT NULL CHECK (plan IN ('free', 'starter', 'growth', 'scale')),
    revision        bigint NOT NULL,
    -- Bumped by every write to the account or its overrides (deletes
    -- included), so the revision of a resolved config never goes backwards.
    config_revision bigint NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE models (
    integration       text NOT NULL CHECK (integration IN ('openai', 'anthropic', 'dalle', 'runware')),
    model             text NOT NULL CHECK (model ~ '^[A-Za-z0-9._:@/-]{1,128}$'),
    display_name      text NOT NULL DEFAULT '',
    enabled           boolean NOT NULL DEFAULT true,
    max_output_tokens integer CHECK (max_output_tokens > 0),
    min_temperature   double precision,
    max_temperature   double precision,
    image_sizes       text[] NOT NULL DEFAULT '{}',
    image_qualities   text[] NOT NULL DEFAULT '{}',
    image_styles      text[] NOT NULL DEFAULT '{}',
    revision          bigint NOT NULL,
    PRIMARY KEY (integration, model),
    -- Temperature range: both or neither, finite, ordered (NaN sorts above all).
    CHECK ((min_temperature IS NULL) = (max_temperature IS NULL)),
    CHECK (min_temperature IS NULL OR (min_temperature >= 0 AND min_temperature <= max_temperature AND max_temperature <= 2)),
    -- Text models have token limits and no image options; image models the reverse.
    CHECK (CASE WHEN integration IN ('openai', 'anthropic')
                THEN max_output_tokens IS NOT NULL AND image_sizes = '{}' AND image_qualities = '{}' AND image_styles = '{}'
                ELSE max_output_tokens IS NULL AND min_temperature IS NULL AND image_sizes <> '{}' END)
);

-- The singleton: exactly one row, created here and never by a read.
CREATE TABLE global_settings (
    id                int PRIMARY KEY CHECK (id = 1),
    text_integration  text NOT NULL CHECK (text_integration IN ('openai', 'anthropic')),
    image_integration text NOT NULL CHECK (image_integration IN ('dalle', 'runware')),
    revision          bigint NOT NULL,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- The singleton's per-provider part: one row per integration, all four
-- created here. The default model must exist in the catalog.
CREATE TABLE global_integration_defaults (
    settings_id   int NOT NULL DEFAULT 1 REFERENCES global_settings (id),
    integration   text PRIMARY KEY CHECK (integration IN ('openai', 'anthropic', 'dalle', 'runware')),
    api_key       text NOT NULL DEFAULT '',
    model         text NOT NULL,
    temperature   double precision CHECK (temperature >= 0 AND temperature <= 2),
    max_tokens    integer CHECK (max_tokens > 0),
    image_size    text,
    image_quality text,
    image_style   text,
    FOREIGN KEY (integration, model) REFERENCES models (integration, model),
    CHECK (CASE WHEN integration IN ('openai', 'anthropic')
                THEN image_size IS NULL AND image_quality IS NULL AND image_style IS NULL
                ELSE temperature IS NULL AND max_tokens IS NULL END)
);

-- Per-account overrides. There is deliberately no API-key column: accounts
-- always use the platform's keys.
CREATE TABLE integration_overrides (
    account_id    text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    integration   text NOT NULL CHECK (integration IN ('openai', 'anthropic', 'dalle', 'runware')),
    model         text,
    temperature   double precision CHECK (temperature >= 0 AND temperature <= 2),
    max_tokens    integer CHECK (max_tokens > 0),
    image_size    text,
    image_quality text,
    image_style   text,
    revision      bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, integration),
    FOREIGN KEY (integration, model) REFERENCES models (integration, model),
    CHECK (CASE WHEN integration IN ('openai', 'anthropic')
                THEN image_size IS NULL AND image_quality IS NULL AND image_style IS NULL
                ELSE temperature IS NULL AND max_tokens IS NULL END)
);

-- Bearer tokens, stored only as SHA-256 of the secret.
CREATE TABLE tokens (
    id          text PRIMARY KEY,
    name        text NOT NULL CHECK (name <> '' AND length(name) <= 128),
    role        text NOT NULL CHECK (role IN ('admin', 'service', 'account')),
    account_id  text REFERENCES accounts (id) ON DELETE CASCADE,
    secret_hash bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'account') = (account_id IS NOT NULL))
);

-- Seed catalog: current models and their published limits.
INSERT INTO models (integration, model, display_name, max_output_tokens, min_temperature, max_temperature, revision) VALUES
    ('openai', 'gpt-4o-mini',   'GPT-4o mini',    16384, 0, 2, nextval('revision_seq')),
    ('openai', 'gpt-4o',        'GPT-4o',         16384, 0, 2, nextval('revision_seq')),
    ('openai', 'gpt-4.1',       'GPT-4.1',        32768, 0, 2, nextval('revision_seq')),
    ('openai', 'gpt-4.1-mini',  'GPT-4.1 mini',   32768, 0, 2, nextval('revision_seq')),
    ('openai', 'gpt-4.1-nano',  'GPT-4.1 nano',   32768, 0, 2, nextval('revision_seq')),
    -- GPT-5 models are reasoning models: the API refuses any temperature but
    -- its default, so they take none.
    ('openai', 'gpt-5',         'GPT-5',         128000, NULL, NULL, nextval('revision_seq')),
    ('openai', 'gpt-5-mini',    'GPT-5 mini',    128000, NULL, NULL, nextval('revision_seq')),
    ('openai', 'gpt-5-nano',    'GPT-5 nano',    128000, NULL, NULL, nextval('revision_seq')),
    -- Anthropic's temperature range is 0..1.
    ('anthropic', 'claude-sonnet-4-5', 'Claude Sonnet 4.5', 64000, 0, 1, nextval('revision_seq')),
    ('anthropic', 'claude-haiku-4-5',  'Claude Haiku 4.5',  64000, 0, 1, nextval('revision_seq')),
    ('anthropic', 'claude-opus-4-5',   'Claude Opus 4.5',   64000, 0, 1, nextval('revision_seq')),
    ('anthropic', 'claude-opus-4-1',   'Claude Opus 4.1',   32000, 0, 1, nextval('revision_seq')),
    ('anthropic', 'claude-sonnet-4-0', 'Claude Sonnet 4',   64000, 0, 1, nextval('revision_seq'));

-- The first value of each image list is the one resolution uses when an
-- inherited global value does not fit the model (see internal/resolve).
INSERT INTO models (integration, model, display_name, image_sizes, image_qualities, image_styles, revision) VALUES
    ('dalle', 'dall-e-3', 'DALL·E 3', '{1024x1024,1792x1024,1024x1792}', '{standard,hd}', '{vivid,natural}', nextval('revision_seq')),
    ('dalle', 'dall-e-2', 'DALL·E 2', '{256x256,512x512,1024x1024}', '{standard}', '{}', nextval('revision_seq')),
    ('dalle', 'gpt-image-1', 'GPT Image 1', '{1024x1024,1536x1024,1024x1536,auto}', '{auto,low,medium,high}', '{}', nextval('revision_seq')),
    -- Runware takes any width/height in multiples of 64; these are the
    -- aspect ratios the platform offers.
    ('runware', 'runware:101@1', 'FLUX.1 [dev]',     '{1024x1024,1344x768,768x1344,1152x896,896x1152}', '{}', '{}', nextval('revision_seq')),
    ('runware', 'runware:100@1', 'FLUX.1 [schnell]', '{1024x1024,1344x768,768x1344,1152x896,896x1152}', '{}', '{}', nextval('revision_seq'));

INSERT INTO global_settings (id, text_integration, image_integration, revision)
VALUES (1, 'openai', 'dalle', nextval('revision_seq'));

INSERT INTO global_integration_defaults (integration, model, temperature, max_tokens, image_size, image_quality, image_style) VALUES
    ('openai',    'gpt-4o-mini',       0.7, 4000, NULL, NULL, NULL),
    ('anthropic', 'claude-sonnet-4-5', 0.7, 4000, NULL, NULL, NULL),
    ('dalle',     'dall-e-3',          NULL, NULL, '1024x1024', 'standard', 'vivid'),
    ('runware',   'runware:101@1',     NULL, NULL, '1024x1024', NULL, NULL);
