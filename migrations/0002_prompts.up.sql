-- Prompt templates: global defaults, per-account customizations, and an
-- append-only history of every change to either.

CREATE TABLE global_prompts (
    prompt_type text PRIMARY KEY CHECK (prompt_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    text        text NOT NULL CHECK (btrim(text) <> '' AND octet_length(text) <= 65536),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
    variables   text[] NOT NULL DEFAULT '{}',
    revision    bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_prompts (
    account_id     text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prompt_type    text NOT NULL REFERENCES global_prompts (prompt_type),
    prompt_value   text NOT NULL CHECK (btrim(prompt_value) <> '' AND octet_length(prompt_value) <= 65536),
    -- The global text when the account last customized or reset.
    default_prompt text NOT NULL,
    is_customized  boolean NOT NULL,
    revision       bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, prompt_type),
    -- Not customized means the stored value is the default it was reset to.
    CHECK (is_customized OR prompt_value = default_prompt)
);

-- Append-only: rows are never updated or deleted (no foreign keys, so the
-- history of a deleted account stays).
CREATE TABLE prompt_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  text,  -- NULL for a global prompt change
    prompt_type text NOT NULL,
    action      text NOT NULL CHECK (action IN ('customize', 'reset', 'bulk_reset', 'upsert_global')),
    actor_name  text NOT NULL,
    actor_role  text NOT NULL,
    old_text    text NOT NULL,
    new_text    text NOT NULL,
    revision    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((account_id IS NULL) = (action = 'upsert_global'))
);
CREATE INDEX prompt_history_account ON prompt_history (account_id, id DESC);

CREATE FUNCTION prompt_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'prompt_history is append-only';
END $$;
CREATE TRIGGER prompt_history_append_only BEFORE UPDATE OR DELETE ON prompt_history
    FOR EACH ROW EXECUTE FUNCTION prompt_history_append_only();

INSERT INTO global_prompts (prompt_type, description, variables, revision, text) VALUES
('clustering', 'Groups a keyword list into topic clusters.', '{keywords}', nextval('revision_seq'),
$p$You are an SEO strategist. Group the keywords below into topic clusters that a single article (or a small set of closely linked articles) could rank for.

Rules:
- Put keywords in the same cluster only when they share search intent (informational, commercial, transactional or navigational), not merely a word.
- Every keyword belongs to exactly one cluster; do not invent keywords.
- Name each cluster with a short, descriptive phrase a reader would search for.
- Prefer 3 to 12 keywords per cluster; a keyword that fits nowhere gets a cluster of its own.

Keywords (one per line):
{{keywords}}

Answer with JSON only, in this shape:
{"clusters": [{"name": "...", "intent": "informational|commercial|transactional|navigational", "keywords": ["..."], "description": "one sentence on what the cluster covers"}]}$p$),

('ideas', 'Turns keyword clusters into article ideas.', '{clusters}', nextval('revision_seq'),
$p$You are a content strategist for an SEO content platform. For each keyword cluster below, propose article ideas that would satisfy the searcher and earn links.

Clusters (JSON):
{{clusters}}

For every idea give:
- a working title under 65 characters that contains the cluster's main keyword naturally;
- the primary keyword and up to five secondary keywords, taken from the cluster;
- the content type (how-to guide, listicle, comparison, explainer, case study or review);
- a four-to-six point outline of H2 headings;
- one sentence on the angle that makes it better than what already ranks.

Propose one to three ideas per cluster and never repeat an angle. Answer with JSON only:
{"ideas": [{"cluster": "...", "title": "...", "primary_keyword": "...", "secondary_keywords": ["..."], "content_type": "...", "outline": ["..."], "angle": "..."}]}$p$),

('content_generation', 'Writes a full article from an idea.', '{idea,keywords}', nextval('revision_seq'),
$p$You are an experienced writer producing a publish-ready article for the web.

Article brief:
{{idea}}

Keywords to cover (use each naturally; never stuff them):
{{keywords}}

Write the article in HTML using only <h2>, <h3>, <p>, <ul>, <ol>, <li>, <strong>, <em> and <blockquote>:
- open with a two-to-three sentence introduction that states what the reader will learn;
- follow the outline in the brief, one <h2> per point, with <h3> sub-sections where they help;
- prefer concrete steps, numbers and examples to generalities; say so plainly when something depends on the reader's situation;
- keep paragraphs under 90 words and sentences mostly under 25;
- end with a short conclusion and a clear next step for the reader;
- do not include a title tag, meta description, images or links to invented sources.$p$),

('image_prompt_extraction', 'Finds the places in an article that deserve an image and describes them.', '{content,max_images}', nextval('revision_seq'),
$p$Read the article below and choose up to {{max_images}} moments that an illustration would make clearer or more engaging: the featured image first, then in-article images in reading order.

Article:
{{content}}

For each image describe, in one or two sentences, a concrete scene an illustrator could draw: the subject, the setting, the mood and the composition. Describe no text, logos, watermarks or real people's faces.

Answer with JSON only:
{"featured_image": "...", "in_article_images": [{"after_heading": "...", "description": "..."}]}$p$),

('image_prompt_template', 'Wraps an image description into a prompt for the image model.', '{image_type,description}', nextval('revision_seq'),
$p$Create a {{image_type}} image: {{description}}. Professional quality, balanced composition, natural lighting, sharp focus, rich but realistic colours, suitable as a blog illustration. No text, letters, logos or watermarks.$p$),

('negative_prompt', 'What image models should avoid.', '{}', nextval('revision_seq'),
$p$text, letters, words, captions, watermark, signature, logo, blurry, out of focus, low resolution, jpeg artifacts, noise, distorted anatomy, extra fingers, extra limbs, deformed hands, disfigured face, cropped head, duplicate subject, oversaturated, overexposed, underexposed, cartoonish when realism is asked, nsfw$p$);
