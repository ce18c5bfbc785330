package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// Finding reasons: what the note's rules make an import report.
const (
	FindingAPIKeyInOverride        = "api_key_in_override_ignored"
	FindingFreeOverride            = "free_plan_override_suppressed"
	FindingFreeCustomization       = "free_plan_customization_suppressed"
	FindingPlanMapped              = "plan_mapped"
	FindingModelNotInCatalog       = "model_not_in_catalog"
	FindingOutsideLimits           = "outside_catalog_limits"
	FindingStaleDefaultServed      = "stale_default_prompt_served_by_legacy"
	FindingCustomizedDefaultStale  = "customized_prompt_default_changed"
	FindingEmptyCustomizationSkips = "empty_customization_not_imported"
)

// overrideHas is true when a staged override sets anything.
const overrideHas = `(s.model IS NOT NULL OR s.temperature IS NOT NULL OR s.max_tokens IS NOT NULL
	OR s.image_size IS NOT NULL OR s.image_quality IS NOT NULL OR s.image_style IS NOT NULL)`

// effModel joins, for a staged override s of account a, the model it
// resolves to (its own when the catalog has it, else the global one).
const effModel = `JOIN import_gmodels gm ON gm.integration = s.integration
	LEFT JOIN models om ON om.integration = s.integration AND om.model = s.model AND om.enabled
	JOIN models em ON em.integration = s.integration AND em.model = coalesce(om.model, gm.model)`

var findingQueries = []struct{ reason, query string }{
	{FindingAPIKeyInOverride, `SELECT format('account %s (%s): config %s not imported: accounts always use the platform key', a.id, s.integration,
		array_to_string(s.key_fields, ', ')) FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		WHERE s.kind = 'o' AND cardinality(s.key_fields) > 0`},
	{FindingFreeOverride, `SELECT format('account %s (%s): imported, and suppressed while the account is on PLAN_FREE (the legacy code applied it)',
		a.id, s.integration) FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		WHERE s.kind = 'o' AND a.plan = 'free' AND ` + overrideHas},
	{FindingFreeCustomization, `SELECT format('account %s, prompt %s: customization imported, and suppressed while the account is on PLAN_FREE',
		a.id, s.prompt_type) FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		WHERE s.kind = 'p' AND s.customized AND a.plan = 'free'`},
	{FindingPlanMapped, `SELECT format('account %s: plan %s imported as PLAN_%s', a.id, p.slug, upper(p.plan))
		FROM import_stage s JOIN import_plans p ON p.pk = s.plan_ref JOIN import_accounts a ON a.pk = s.account_pk
		WHERE s.kind = 'a' AND p.slug <> p.plan`},
	{FindingModelNotInCatalog, `SELECT format('account %s (%s): model %s is %s; the account gets the global model', a.id, s.integration, s.model,
		CASE WHEN m.model IS NULL THEN 'not in the catalog, not imported' ELSE 'disabled in the catalog, imported' END)
		FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		LEFT JOIN models m ON m.integration = s.integration AND m.model = s.model
		WHERE s.kind = 'o' AND s.model IS NOT NULL AND m.enabled IS DISTINCT FROM true`},
	{FindingOutsideLimits, `SELECT format('account %s (%s): %s', a.id, s.integration, x.what)
		FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk ` + effModel + `
		CROSS JOIN LATERAL (VALUES
			(CASE WHEN s.max_tokens < 1 THEN format('max_tokens %s is below 1, not imported', s.max_tokens)
				WHEN s.max_tokens > em.max_output_tokens THEN format('max_tokens %s is above %s''s limit %s: imported, clamped when read',
					s.max_tokens, em.model, em.max_output_tokens) END),
			(CASE WHEN s.temperature IS NULL OR em.max_output_tokens IS NULL THEN NULL
				WHEN em.min_temperature IS NULL THEN format('temperature %s: %s takes none, %s', s.temperature, em.model,
					CASE WHEN s.temperature BETWEEN 0 AND 2 THEN 'imported, dropped when read' ELSE 'not imported' END)
				WHEN s.temperature NOT BETWEEN em.min_temperature AND em.max_temperature THEN format('temperature %s is outside %s''s range %s..%s: %s',
					s.temperature, em.model, em.min_temperature, em.max_temperature,
					CASE WHEN s.temperature BETWEEN 0 AND 2 THEN 'imported, clamped when read' ELSE 'not imported' END) END),
			(CASE WHEN s.image_size IS NOT NULL AND em.max_output_tokens IS NULL AND NOT s.image_size = ANY (em.image_sizes)
				THEN format('image_size %s is not offered by %s: imported, replaced when read', s.image_size, em.model) END),
			(CASE WHEN s.image_quality IS NOT NULL AND em.max_output_tokens IS NULL AND NOT s.image_quality = ANY (em.image_qualities)
				THEN format('image_quality %s is not offered by %s: imported, replaced when read', s.image_quality, em.model) END),
			(CASE WHEN s.image_style IS NOT NULL AND em.max_output_tokens IS NULL AND NOT s.image_style = ANY (em.image_styles)
				THEN format('image_style %s is not offered by %s: imported, replaced when read', s.image_style, em.model) END),
			(CASE WHEN em.max_output_tokens IS NOT NULL AND (s.image_size IS NOT NULL OR s.image_quality IS NOT NULL OR s.image_style IS NOT NULL)
				THEN 'image options on a text provider, not imported'
				WHEN em.max_output_tokens IS NULL AND (s.temperature IS NOT NULL OR s.max_tokens IS NOT NULL)
				THEN 'text options on an image provider, not imported' END)
		) AS x(what) WHERE s.kind = 'o' AND x.what IS NOT NULL`},
	{FindingStaleDefaultServed, `SELECT format('account %s, prompt %s: not customized; the legacy code served its stored default_prompt, which is not the current global prompt; aiconfig serves the global',
		a.id, s.prompt_type) FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		JOIN import_gprompts g ON g.prompt_type = s.prompt_type
		WHERE s.kind = 'p' AND NOT s.customized AND s.dflt IS DISTINCT FROM g.text`},
	{FindingCustomizedDefaultStale, `SELECT format('account %s, prompt %s: customized from an older global prompt; imported with that default, so default_changed shows',
		a.id, s.prompt_type) FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		JOIN import_gprompts g ON g.prompt_type = s.prompt_type
		WHERE s.kind = 'p' AND s.customized AND s.dflt IS DISTINCT FROM g.text`},
	{FindingEmptyCustomizationSkips, `SELECT format('account %s, prompt %s: customized to an empty or over-64-KiB text, not imported', a.id, s.prompt_type)
		FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
		WHERE s.kind = 'p' AND s.customized AND (btrim(s.value) = '' OR octet_length(s.value) > 65536)`},
}

// findings runs every finding query, keeping samples lines of each.
func findings(ctx context.Context, tx pgx.Tx, samples int, rep *ImportReport) error {
	for _, f := range findingQueries {
		lines, n, err := collect(ctx, tx, samples, f.query)
		if err != nil {
			return err
		}
		if n > 0 {
			rep.Findings = append(rep.Findings, ImportFinding{Reason: f.reason, Count: n, Samples: lines})
		}
	}
	return nil
}

// applyImport writes the planned differences at the write's revision:
// the global settings and prompts through the usual write functions, the
// per-account rows set-based from the diff tables, with their audit rows.
func applyImport(ctx context.Context, w *Write, rep *ImportReport, opt ImportOptions) error {
	sha := ""
	if opt.DumpSHA256 != nil {
		sha = opt.DumpSHA256()
	}
	call := importAudit(ctx, sha)
	w.requestID = call.RequestID
	if rep.GlobalChanged {
		next := rep.NextGlobal
		if err := writeSettings(ctx, w, &next); err != nil {
			return err
		}
		w.Record(ChangeGlobal, "", "global_settings", rep.Global, next)
		rep.NextGlobal = next
	}
	for _, p := range rep.PromptChanges {
		if _, _, err := writeGlobalItem(ctx, w, p.After, p.Before, domain.ActionUpsertGlobal); err != nil {
			return err
		}
	}
	actor := call.Actor
	b := &pgx.Batch{}
	b.Queue(applyAccountsSQL, w.Rev)
	b.Queue(applyOverridesSQL, w.Rev)
	b.Queue(applyPromptsSQL, w.Rev, actor.Name, roleName(actor.Role))
	b.Queue(auditSQL, w.Rev, actor.TokenID, actor.Name, roleName(actor.Role), call.RPC, call.RequestID,
		domain.ItemPrompt.Info().Collection)
	if err := w.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	// One change for the whole import, GLOBAL: every cache drops all.
	w.RecordAudited(ChangeGlobal, ResourceBulkImport)
	return nil
}

// applyAccountsSQL inserts the new accounts (a plain insert: no conflict
// to arbitrate, the import holds the revision lock), updates the changed
// ones, and moves config_revision for those whose overrides or prompts
// change.
const applyAccountsSQL = `
WITH ins AS (
	INSERT INTO accounts (id, name, plan, revision, config_revision)
	SELECT id, name, plan, $1, $1 FROM import_diff_accounts WHERE before IS NULL ORDER BY id),
upd AS (
	UPDATE accounts a SET name = d.name, plan = d.plan, revision = $1, config_revision = $1, updated_at = now()
	FROM import_diff_accounts d WHERE d.before IS NOT NULL AND a.id = d.id)
UPDATE accounts SET config_revision = $1
WHERE id IN (SELECT account_id FROM import_diff_overrides UNION SELECT account_id FROM import_diff_prompts)
	AND id NOT IN (SELECT id FROM import_diff_accounts)`

const applyOverridesSQL = `
WITH del AS (
	DELETE FROM integration_overrides o USING import_diff_overrides d
	WHERE d.op = 'deleted' AND o.account_id = d.account_id AND o.integration = d.integration)
INSERT INTO integration_overrides (account_id, integration, model, temperature, max_tokens, image_size, image_quality, image_style, revision)
SELECT account_id, integration, model, temperature, max_tokens, image_size, image_quality, image_style, $1
FROM import_diff_overrides WHERE op <> 'deleted'
ON CONFLICT (account_id, integration) DO UPDATE SET model = EXCLUDED.model, temperature = EXCLUDED.temperature,
	max_tokens = EXCLUDED.max_tokens, image_size = EXCLUDED.image_size, image_quality = EXCLUDED.image_quality,
	image_style = EXCLUDED.image_style, revision = EXCLUDED.revision, updated_at = now()`

// applyPromptsSQL customizes, or resets to the live global (as ResetPrompt
// does) a customization the dump no longer has; with history entries.
const applyPromptsSQL = `
WITH up AS (
	INSERT INTO account_items (account_id, kind, id, content, default_content, is_customized, revision)
	SELECT d.account_id, 'prompt', d.prompt_type,
		CASE WHEN d.op = 'reset' THEN g.content ELSE to_jsonb(d.value) END,
		CASE WHEN d.op = 'reset' THEN g.content ELSE to_jsonb(d.dflt) END, d.op <> 'reset', $1
	FROM import_diff_prompts d JOIN global_items g ON g.kind = 'prompt' AND g.id = d.prompt_type
	ON CONFLICT (account_id, kind, id) DO UPDATE SET content = EXCLUDED.content, default_content = EXCLUDED.default_content,
		is_customized = EXCLUDED.is_customized, revision = EXCLUDED.revision, updated_at = now()
	RETURNING account_id, id, content)
INSERT INTO item_history (kind, account_id, item_id, action, actor_name, actor_role, old_content, new_content, revision)
SELECT 'prompt', d.account_id, d.prompt_type, CASE WHEN d.op = 'reset' THEN 'reset' ELSE 'customize' END, $2, $3,
	d.old_content, up.content, $1
FROM import_diff_prompts d JOIN up ON up.account_id = d.account_id AND up.id = d.prompt_type`

// auditSQL writes one audit row per account resource the import changed.
const auditSQL = `
INSERT INTO audit_events (actor_token_id, actor_name, actor_role, rpc, resource, account_id, outcome, before, after, request_id)
SELECT $2, $3, $4, $5, x.resource, x.account_id, 'ok', x.before, x.after, $6 FROM (
	SELECT 'accounts/' || id, id, before, jsonb_build_object('id', id, 'name', name, 'plan', plan, 'revision', $1::bigint)
	FROM import_diff_accounts
	UNION ALL
	SELECT 'accounts/' || account_id || '/overrides/' || integration, account_id, before,
		CASE WHEN op <> 'deleted' THEN jsonb_build_object('account_id', account_id, 'integration', integration,
			'params', jsonb_strip_nulls(jsonb_build_object('model', model, 'temperature', temperature, 'max_tokens', max_tokens,
				'image_size', image_size, 'image_quality', image_quality, 'image_style', image_style)), 'revision', $1::bigint) END
	FROM import_diff_overrides
	UNION ALL
	SELECT 'accounts/' || d.account_id || '/' || $7 || '/' || d.prompt_type, d.account_id, d.before,
		jsonb_build_object('account_id', d.account_id, 'kind', 'prompt', 'id', d.prompt_type,
			'content', CASE WHEN d.op = 'reset' THEN g.content ELSE to_jsonb(d.value) END,
			'default', CASE WHEN d.op = 'reset' THEN g.content ELSE to_jsonb(d.dflt) END,
			'is_customized', d.op <> 'reset', 'revision', $1::bigint)
	FROM import_diff_prompts d JOIN global_items g ON g.kind = 'prompt' AND g.id = d.prompt_type
) AS x(resource, account_id, before, after)
ORDER BY x.account_id, x.resource` // in index order: far fewer index pages touched
