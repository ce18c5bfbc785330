-- Customizable items: prompts, author profiles and content strategies are
-- one shape, stored in one set of tables. A kind is a row of item_kinds.
--
--   global_items    the platform library (admins), by kind and id;
--   account_items   an account's customization of a global item (with the
--                   global content it started from), or an item of its own;
--   item_history    every change to either, append-only;
--   plan_limits     how many own items each plan may keep, per kind;
--   global_item_defaults, account_item_defaults
--                   the item a generation job gets when it names none.
--
-- Content is JSON in the kind's shape (a prompt's is its text); the Go
-- code validates it before every write. The prompt tables of migration 2
-- move here, their history with its ids.

CREATE TABLE item_kinds (
    kind text PRIMARY KEY,
    -- Accounts may create items of their own (counted by plan_limits) and
    -- name defaults.
    own  boolean NOT NULL
);
INSERT INTO item_kinds (kind, own) VALUES ('prompt', false), ('author_profile', true), ('content_strategy', true);

CREATE TABLE global_items (
    kind       text NOT NULL REFERENCES item_kinds (kind),
    -- Prompt types are lower snake case, the other kinds' ids slugs; each
    -- kind's rule is checked before a write, this is their union.
    id         text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    -- What an account may customize.
    content    jsonb NOT NULL,
    -- Global-only fields (a prompt's description and variables).
    meta       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(meta) = 'object'),
    -- Not offered for new use; accounts that customized it keep theirs.
    archived   boolean NOT NULL DEFAULT false,
    revision   bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, id)
);

CREATE TABLE account_items (
    account_id      text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind            text NOT NULL REFERENCES item_kinds (kind),
    id              text NOT NULL CHECK (id ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    content         jsonb NOT NULL,
    -- A customization: the global content when the account last customized
    -- or reset. NULL: the account's own item.
    default_content jsonb,
    is_customized   boolean NOT NULL,
    revision        bigint NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- A customization must have its global item (an own item has none, and
    -- its id is kept distinct from every global id by the code).
    global_id       text GENERATED ALWAYS AS (CASE WHEN default_content IS NOT NULL THEN id END) STORED,
    PRIMARY KEY (account_id, kind, id),
    FOREIGN KEY (kind, global_id) REFERENCES global_items (kind, id),
    -- Own items are never "customized"; a customization that is not
    -- customized holds the default it was reset to.
    CHECK (CASE WHEN default_content IS NULL THEN NOT is_customized
                ELSE is_customized OR content = default_content END)
);
CREATE INDEX account_items_own ON account_items (account_id, kind) WHERE default_content IS NULL;

-- Append-only: rows are never updated or deleted (no foreign keys, so the
-- history of a deleted account stays).
CREATE TABLE item_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL,
    account_id  text,  -- NULL for a global item
    item_id     text NOT NULL,
    action      text NOT NULL CHECK (action IN ('upsert_global', 'customize', 'reset', 'bulk_reset', 'create', 'update', 'delete', 'restore')),
    actor_name  text NOT NULL,
    actor_role  text NOT NULL,
    -- The item's content as the account (or the platform) used it before
    -- and after the change; NULL: it did not exist / was deleted.
    old_content jsonb,
    new_content jsonb,
    -- Global items: archived after the change.
    archived    boolean,
    revision    bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK ((account_id IS NULL) = (archived IS NOT NULL)),
    CHECK (account_id IS NOT NULL OR action IN ('upsert_global', 'restore'))
);
CREATE INDEX item_history_account ON item_history (account_id, id DESC);

CREATE FUNCTION item_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'item_history is append-only';
END $$;
CREATE TRIGGER item_history_append_only BEFORE UPDATE OR DELETE ON item_history
    FOR EACH ROW EXECUTE FUNCTION item_history_append_only();

-- The prompts move, history ids included.
INSERT INTO global_items (kind, id, content, meta, revision, updated_at)
SELECT 'prompt', prompt_type, to_jsonb(text), jsonb_build_object('description', description, 'variables', to_jsonb(variables)),
       revision, updated_at
FROM global_prompts;
INSERT INTO account_items (account_id, kind, id, content, default_content, is_customized, revision, updated_at)
SELECT account_id, 'prompt', prompt_type, to_jsonb(prompt_value), to_jsonb(default_prompt), is_customized, revision, updated_at
FROM account_prompts;
INSERT INTO item_history (id, kind, account_id, item_id, action, actor_name, actor_role, old_content, new_content, archived, revision, created_at)
OVERRIDING SYSTEM VALUE
SELECT id, 'prompt', account_id, prompt_type, action, actor_name, actor_role,
       CASE WHEN account_id IS NULL AND old_text = '' THEN NULL ELSE to_jsonb(old_text) END, to_jsonb(new_text),
       CASE WHEN account_id IS NULL THEN false END, revision, created_at
FROM prompt_history;
SELECT setval(pg_get_serial_sequence('item_history', 'id'), greatest((SELECT max(id) FROM item_history), 1),
              (SELECT count(*) > 0 FROM item_history));
DROP TABLE prompt_history;
DROP FUNCTION prompt_history_append_only();
DROP TABLE account_prompts;
DROP TABLE global_prompts;

CREATE TABLE plan_limits (
    plan      text NOT NULL CHECK (plan IN ('starter', 'growth', 'scale')),
    kind      text NOT NULL REFERENCES item_kinds (kind),
    max_items integer NOT NULL CHECK (max_items BETWEEN 0 AND 10000),
    revision  bigint NOT NULL,
    PRIMARY KEY (plan, kind)
);

CREATE TABLE global_item_defaults (
    kind    text PRIMARY KEY REFERENCES item_kinds (kind),
    item_id text NOT NULL,
    FOREIGN KEY (kind, item_id) REFERENCES global_items (kind, id)
);

-- An account's default may name an item that later goes away (deleted,
-- archived, hidden by a downgrade): it then falls back to the platform's.
CREATE TABLE account_item_defaults (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       text NOT NULL REFERENCES item_kinds (kind),
    item_id    text NOT NULL,
    PRIMARY KEY (account_id, kind)
);

-- Seeds, at the current revision (as the first migrations' seeds).
INSERT INTO plan_limits (plan, kind, max_items, revision)
SELECT p.plan, k.kind, p.max_items, (SELECT revision FROM revisions WHERE id = 1)
FROM (VALUES ('starter', 5), ('growth', 25), ('scale', 100)) AS p (plan, max_items), item_kinds k
WHERE k.own;

INSERT INTO global_items (kind, id, content, revision)
SELECT 'author_profile', id, jsonb_build_object('name', name, 'description', description, 'tone', tone,
       'language', language, 'audience', audience, 'style_guide', style_guide), (SELECT revision FROM revisions WHERE id = 1)
FROM (VALUES
('expert-practitioner', 'Expert practitioner',
 'Writes as someone who does the work every day: specific, experienced and candid about trade-offs.',
 'confident, precise, candid', 'en',
 'Professionals and serious hobbyists who know the basics and want depth they can act on.',
$s$Write as a practitioner with years of hands-on experience in the subject, explaining to a capable peer.

Voice
- State the recommendation first, then the reasoning behind it.
- Show judgement: say when an approach fails, what it costs and what you would do instead.
- "We" is fine for how practitioners work; never invent personal anecdotes, clients or credentials.

Substance
- Prefer specifics to generalities: name tools, settings, thresholds, numbers and time frames when they are well established.
- When the answer depends on context, say what it depends on and give the rule of thumb for each case.
- Mark uncertainty once and plainly ("in most setups", "as of the current version") instead of hedging every sentence.
- Never invent statistics, studies or quotations; if you are unsure of a figure, describe the trend instead.

Style
- Paragraphs of two to four sentences; sentences mostly under 25 words.
- Use the terms the audience uses; define a term only where it is genuinely unfamiliar.
- Numbered steps for procedures, bullet lists for options and criteria, prose for reasoning.
- No filler openers ("In today's fast-paced world"), empty intensifiers ("very", "extremely") or clichés ("game-changer", "unlock", "delve").
- End each section with a concrete takeaway, not a summary of what was just said.$s$),
('friendly-guide', 'Friendly guide',
 'Patient, encouraging explanations for newcomers; no jargon without a plain-language explanation.',
 'warm, encouraging, plain-spoken', 'en',
 'Beginners and busy non-specialists who want to understand a topic and take a first confident step.',
$s$Write like a knowledgeable friend sitting next to the reader: patient, encouraging and clear.

Voice
- Address the reader as "you". Warm but not gushing: one encouraging line per section is plenty.
- Assume intelligence, not knowledge: explain every technical term in plain words the first time it appears.
- Never make the reader feel behind ("as everyone knows", "simply", "obviously").

Structure
- Start from the reader's situation or question, then explain the idea, then show how to act on it.
- Break tasks into small numbered steps, one action per step, each saying what the reader should see when it worked.
- Use an everyday analogy for an abstract idea, then come back to the real thing.
- Where beginners usually get stuck, add a short "Common mistakes" or "If this doesn't work" note.

Style
- Sentences mostly under 20 words; paragraphs of one to three sentences.
- Prefer common words: "use" over "utilise", "help" over "facilitate".
- Headings are the questions or plain statements a beginner would search for.
- Close with a clear, achievable next step, and reassurance that starting small is fine.
- Never invent statistics, testimonials or sources.$s$),
('news-reporter', 'News reporter',
 'Neutral, factual reporting in the inverted pyramid, with every claim attributed.',
 'neutral, factual, concise', 'en',
 'General readers and industry followers who want to know what happened, why it matters and what comes next.',
$s$Write as a professional news reporter: accurate, neutral and quick to the point.

Structure (inverted pyramid)
- Lead with one sentence of at most 35 words that says who did what, when and where.
- Then why it matters to the reader, then supporting detail, background and context, in falling order of importance.
- End with what happens next (dates, decisions, open questions), not with a conclusion or an opinion.

Accuracy and attribution
- Report only facts given in the brief or the source material. Never invent names, quotations, figures, dates or reactions.
- Attribute every claim that is not established fact ("according to the company's announcement", "the regulator said").
- Keep confirmed facts apart from expectations and analysis, and label analysis as such.
- Give exact numbers and dates when known; avoid vague time words such as "recently".

Style
- Neutral third person: no "I" or "you", no exclamation marks, no promotional adjectives.
- Short paragraphs of one to three sentences, in the active voice.
- Attribute with "said"; avoid loaded verbs such as "admitted", "slammed" or "claimed".
- Spell out an acronym on first use; follow AP style for numbers, titles and dates.
- Headlines and subheadings state facts; they are never questions or teasers.$s$)
) AS p (id, name, description, tone, language, audience, style_guide);

INSERT INTO global_items (kind, id, content, revision)
SELECT 'content_strategy', id, jsonb_build_object('name', name, 'description', description, 'objective', objective,
       'audience', audience, 'article_types', to_jsonb(article_types), 'word_count_min', word_count_min,
       'word_count_max', word_count_max, 'keyword_guidelines', keyword_guidelines, 'structure_guidelines', structure_guidelines),
       (SELECT revision FROM revisions WHERE id = 1)
FROM (VALUES
('pillar-cluster-seo', 'Pillar and cluster SEO',
 'Comprehensive pillar pages supported by focused, interlinked cluster articles, to build topical authority.',
 'Rank for a competitive head term and its long tail by covering the topic completely and linking related pages into one cluster.',
 'Searchers researching a topic in depth, from their first question to comparing options.',
 ARRAY['guide', 'how_to', 'listicle', 'comparison'], 1500, 4000,
$s$- One primary keyword per article, taken from its cluster: in the title, the first 100 words, one H2 and the meta description.
- Secondary keywords and close variants where they fit naturally in headings and body; never repeat a phrase to raise its count.
- Answer the questions searchers ask about the primary keyword in short, direct paragraphs.
- The pillar page targets the broad head term; each cluster article targets one long-tail query and never competes with the pillar for it.
- Name the related cluster topics so they can be linked, with descriptive anchor text (never "click here").$s$,
$s$Pillar page
- A title under 60 characters with the head term, and an introduction that defines the topic and says what the page covers.
- A short table of contents, then one H2 per subtopic: 150-300 words each, pointing to the cluster article that covers it in depth.
- A comparison table or checklist where the topic allows, and an FAQ of four to six questions at the end.

Cluster article
- A title built on one long-tail query, answered directly in the first paragraph (40-60 words, featured-snippet style).
- H2s follow the searcher's next questions in order; H3s for steps or options.
- Link to the pillar page within the first two sections, and to two or three sibling articles where relevant.
- End with a short summary of the answer and a next step leading to the pillar or a sibling article.

Both
- Paragraphs under 90 words; lists, tables and examples to break up long explanations.
- Keep date-sensitive statements explicit ("as of 2025").$s$),
('product-led', 'Product-led content',
 'Content that solves the reader''s problem with the product as part of the solution: real workflows, not a pitch.',
 'Turn problem-aware readers into trial sign-ups by showing how the product solves a problem they already have.',
 'Practitioners working out how to solve a specific problem, often comparing tools or approaches.',
 ARRAY['how_to', 'comparison', 'review', 'landing_page', 'product_description'], 800, 2500,
$s$- Target problem and job-to-be-done queries ("how to ...", "... template", "best way to ...") and comparison queries ("X vs Y", "X alternatives"), not only the brand name.
- Use the product name where it is part of the solution; never stuff it into headings about the problem.
- Use the plain names readers search for beside the product's own feature names.
- On comparison pages, put each compared product's name in the title and in an H2.$s$,
$s$- Open with the reader's problem and what it costs them; do not mention the product in the first paragraph.
- Explain the approach in a tool-neutral way first, so the article helps even a reader who never signs up.
- Then show the workflow in the product step by step: what to click or configure, and what the result looks like (describe screenshots in brackets, e.g. [Screenshot: the report filtered by region]).
- Be fair in comparisons: a table of criteria, where each option wins, and who should choose something else.
- Give one concrete example with realistic numbers from the brief; never invent customer names or results.
- Close with one call to action that fits the reader's stage (use the template, start a trial, book a demo), with at most one mention of it mid-article.$s$),
('news-and-trends', 'News and trends',
 'Timely coverage of industry news and emerging trends, with analysis of what they mean for the reader.',
 'Earn visibility in news surfaces and build authority by being early, accurate and useful about developments in the industry.',
 'Industry professionals who follow developments and need to know what changed and how it affects them.',
 ARRAY['news', 'blog_post', 'listicle'], 400, 1200,
$s$- Lead with the entity and event searchers will use: the company, product, regulation or event name and the action ("launches", "announces", "bans").
- Put the main entity, and the year or date when the story is date-specific, in the title.
- Official names of products, people and organisations on first mention; common abbreviations after.
- No speculative headlines to chase keywords: accuracy beats volume in news.
- For trend pieces, target "trends", "predictions" and "what is ..." queries with the year.$s$,
$s$News story
- A headline under 70 characters that states the news, and a lead that answers who, what, when and where.
- Second paragraph: why it matters to the reader. Then details, reactions attributed to sources named in the brief, and background.
- A short "What happens next" section with the known dates and pending decisions.

Trend analysis
- Introduce the trend with the evidence in the brief (launches, data, announcements), then explain what drives it.
- One H2 per trend or implication, each ending with what the reader should do or watch.
- Keep facts and forecasts apart, and label forecasts clearly.

Both
- Give the date wherever timing matters; never "recently" or "this week" without one.
- Keep it tight: no padding, no generic introductions.$s$)
) AS s (id, name, description, objective, audience, article_types, word_count_min, word_count_max, keyword_guidelines, structure_guidelines);

INSERT INTO global_item_defaults (kind, item_id) VALUES
    ('author_profile', 'expert-practitioner'),
    ('content_strategy', 'pillar-cluster-seo');
