package store

import (
	"context"
	"fmt"
	"reflect"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
)

// planImport checks the staged dump, derives what aiconfig should hold
// and diffs it with what it holds (see bulkimport.go).
func planImport(ctx context.Context, tx pgx.Tx, g DumpGlobal, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	if err := checkDump(ctx, tx); err != nil {
		return rep, err
	}
	if err := planGlobal(ctx, tx, g, opt, &rep); err != nil {
		return rep, err
	}
	if _, err := tx.Exec(ctx, desiredSQL); err != nil {
		return rep, err
	}
	if err := countImport(ctx, tx, &rep); err != nil {
		return rep, err
	}
	return rep, findings(ctx, tx, opt.Samples, &rep)
}

// dumpChecks are the errors that stop an import: each query lists the
// offenders, and the message says what to do.
var dumpChecks = []struct{ query, message string }{
	{`SELECT format('account %s (%s): plan %s', s.account_id, s.name, coalesce(p.slug, 'pk ' || s.plan_ref))
		FROM import_stage s LEFT JOIN import_plans p ON p.pk = s.plan_ref WHERE s.kind = 'a' AND p.plan IS NULL`,
		"accounts on a plan the mapping does not map to one of the four plans (map it, e.g. plans: {enterprise: PLAN_SCALE}): %s"},
	{`SELECT format('account id %L', account_id) FROM import_stage WHERE kind = 'a' GROUP BY account_id HAVING count(*) > 1`,
		"account ids given to several accounts (the mapping's models.accounts.id names a field that is not unique): %s"},
	{`SELECT format('%s pk %s: account pk %s', CASE kind WHEN 'o' THEN 'IntegrationSettings' ELSE 'AIPrompt' END, pk, account_pk)
		FROM import_stage s WHERE kind <> 'a'
		AND NOT EXISTS (SELECT FROM import_stage a WHERE a.kind = 'a' AND a.account_pk = s.account_pk)`,
		"rows whose account is not in the dump (dump accounts.Account with the settings models): %s"},
	{`SELECT DISTINCT format('prompt type %L', t) FROM (SELECT prompt_type FROM import_stage WHERE kind = 'p'
		UNION SELECT prompt_type FROM import_gprompts) AS x(t)
		WHERE NOT EXISTS (SELECT FROM global_items g WHERE g.kind = 'prompt' AND g.id = t)`,
		"prompt types aiconfig does not have (map each to one it has under prompt_types:, or create it first with UpsertGlobalPrompt): %s"},
	{`SELECT format('%s pk %s: account pk %s, %s', CASE kind WHEN 'o' THEN 'IntegrationSettings' ELSE 'AIPrompt' END, min(pk), account_pk,
		CASE kind WHEN 'o' THEN integration ELSE prompt_type END) FROM import_stage WHERE kind <> 'a'
		GROUP BY kind, account_pk, CASE kind WHEN 'o' THEN integration ELSE prompt_type END HAVING count(*) > 1`,
		"several rows for one account and integration or prompt type (two legacy names mapped to one?): %s"},
}

func checkDump(ctx context.Context, tx pgx.Tx) error {
	for _, c := range dumpChecks {
		lines, n, err := collect(ctx, tx, 20, c.query)
		if err != nil {
			return err
		}
		if n > 0 {
			return listError(c.message, lines, n)
		}
	}
	return nil
}

// desiredSQL derives what aiconfig should hold for the dump's accounts,
// then the differences with what it holds. Values aiconfig cannot store
// are left out (the findings name them): a model not in the catalog, a
// temperature outside 0..2, max_tokens below 1, a field of the other kind
// of provider. Values the catalog's limits would change at read time (a
// max_tokens above the model's, a temperature outside its range) are
// stored as they are: resolution clamps them, as for any stored override.
const desiredSQL = `
CREATE TEMP TABLE import_accounts ON COMMIT DROP AS
	SELECT s.account_pk AS pk, s.account_id AS id, s.name, p.plan
	FROM import_stage s JOIN import_plans p ON p.pk = s.plan_ref WHERE s.kind = 'a';
CREATE UNIQUE INDEX ON import_accounts (pk);
CREATE TEMP TABLE import_overrides ON COMMIT DROP AS
	SELECT a.id AS account_id, s.integration,
		CASE WHEN m.model IS NOT NULL THEN s.model END AS model,
		CASE WHEN t.text AND s.temperature BETWEEN 0 AND 2 THEN s.temperature END AS temperature,
		CASE WHEN t.text AND s.max_tokens > 0 THEN s.max_tokens END AS max_tokens,
		CASE WHEN NOT t.text THEN s.image_size END AS image_size,
		CASE WHEN NOT t.text THEN s.image_quality END AS image_quality,
		CASE WHEN NOT t.text THEN s.image_style END AS image_style
	FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
	CROSS JOIN LATERAL (SELECT s.integration IN ('openai', 'anthropic') AS text) t
	LEFT JOIN models m ON m.integration = s.integration AND m.model = s.model
	WHERE s.kind = 'o';
CREATE TEMP TABLE import_prompts ON COMMIT DROP AS
	SELECT a.id AS account_id, s.prompt_type, s.value, s.dflt
	FROM import_stage s JOIN import_accounts a ON a.pk = s.account_pk
	WHERE s.kind = 'p' AND s.customized AND btrim(s.value) <> '' AND octet_length(s.value) <= 65536;

CREATE TEMP TABLE import_diff_accounts ON COMMIT DROP AS
	SELECT i.id, i.name, i.plan, CASE WHEN a.id IS NOT NULL THEN jsonb_build_object('id', a.id, 'name', a.name, 'plan', a.plan,
		'revision', a.revision, 'config_revision', a.config_revision) END AS before
	FROM import_accounts i LEFT JOIN accounts a ON a.id = i.id
	WHERE a.id IS NULL OR a.name <> i.name OR a.plan <> i.plan;
CREATE TEMP TABLE import_diff_overrides ON COMMIT DROP AS
	SELECT coalesce(i.account_id, o.account_id) AS account_id, coalesce(i.integration, o.integration) AS integration,
		CASE WHEN o.account_id IS NULL THEN 'new' WHEN i.account_id IS NULL THEN 'deleted' ELSE 'changed' END AS op,
		i.model, i.temperature, i.max_tokens, i.image_size, i.image_quality, i.image_style,
		CASE WHEN o.account_id IS NOT NULL THEN jsonb_build_object('account_id', o.account_id, 'integration', o.integration,
			'params', jsonb_strip_nulls(jsonb_build_object('model', o.model, 'temperature', o.temperature, 'max_tokens', o.max_tokens,
				'image_size', o.image_size, 'image_quality', o.image_quality, 'image_style', o.image_style)),
			'revision', o.revision) END AS before
	FROM import_overrides i
	FULL JOIN (SELECT o.* FROM integration_overrides o JOIN import_accounts a ON a.id = o.account_id) o
		ON o.account_id = i.account_id AND o.integration = i.integration
	WHERE i.account_id IS NULL OR o.account_id IS NULL
		OR (i.model, i.temperature, i.max_tokens, i.image_size, i.image_quality, i.image_style)
			IS DISTINCT FROM (o.model, o.temperature, o.max_tokens, o.image_size, o.image_quality, o.image_style);
CREATE TEMP TABLE import_diff_prompts ON COMMIT DROP AS
	SELECT coalesce(i.account_id, o.account_id) AS account_id, coalesce(i.prompt_type, o.id) AS prompt_type,
		CASE WHEN o.account_id IS NULL THEN 'new' WHEN i.account_id IS NULL THEN 'reset' ELSE 'changed' END AS op,
		i.value, i.dflt, o.content AS old_content,
		CASE WHEN o.account_id IS NOT NULL THEN jsonb_build_object('account_id', o.account_id, 'kind', 'prompt', 'id', o.id,
			'content', o.content, 'default', o.default_content, 'is_customized', o.is_customized, 'revision', o.revision) END AS before
	FROM import_prompts i
	FULL JOIN (SELECT ai.* FROM account_items ai JOIN import_accounts a ON a.id = ai.account_id
		WHERE ai.kind = 'prompt' AND ai.is_customized) o ON o.account_id = i.account_id AND o.id = i.prompt_type
	WHERE i.account_id IS NULL OR o.account_id IS NULL
		OR o.content IS DISTINCT FROM to_jsonb(i.value) OR o.default_content IS DISTINCT FROM to_jsonb(i.dflt)`

// countImport counts, per kind, the dump's rows and the differences.
func countImport(ctx context.Context, tx pgx.Tx, rep *ImportReport) error {
	rep.Counts = []ImportCounts{{Kind: "accounts"}, {Kind: "overrides"}, {Kind: "prompt customizations"}}
	a, o, p := &rep.Counts[0], &rep.Counts[1], &rep.Counts[2]
	err := tx.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM import_accounts),
		(SELECT count(*) FILTER (WHERE before IS NULL) FROM import_diff_accounts),
		(SELECT count(*) FILTER (WHERE before IS NOT NULL) FROM import_diff_accounts),
		(SELECT count(*) FROM import_overrides),
		(SELECT count(*) FILTER (WHERE op = 'new') FROM import_diff_overrides),
		(SELECT count(*) FILTER (WHERE op = 'changed') FROM import_diff_overrides),
		(SELECT count(*) FILTER (WHERE op = 'deleted') FROM import_diff_overrides),
		(SELECT count(*) FROM import_prompts),
		(SELECT count(*) FILTER (WHERE op = 'new') FROM import_diff_prompts),
		(SELECT count(*) FILTER (WHERE op = 'changed') FROM import_diff_prompts),
		(SELECT count(*) FILTER (WHERE op = 'reset') FROM import_diff_prompts)`).Scan(
		&a.InDump, &a.New, &a.Changed, &o.InDump, &o.New, &o.Changed, &o.Deleted, &p.InDump, &p.New, &p.Changed, &p.Deleted)
	for i := range rep.Counts {
		c := &rep.Counts[i]
		c.Same = c.InDump - c.New - c.Changed
	}
	return err
}

// planGlobal computes the global settings and prompts the dump makes.
func planGlobal(ctx context.Context, tx pgx.Tx, g DumpGlobal, opt ImportOptions, rep *ImportReport) error {
	cur, err := loadGlobal(ctx, tx)
	if err != nil {
		return err
	}
	models, err := listModels(ctx, tx)
	if err != nil {
		return err
	}
	rep.Global, rep.NextGlobal = cur, mergeGlobal(cur, g.Settings)
	for _, integ := range domain.Integrations {
		key, ok := g.APIKeys[integ]
		if !ok {
			continue
		}
		changed, sealed, err := keyChange(opt, integ, cur.Defaults[integ].APIKey, key)
		if err != nil {
			return err
		}
		if changed {
			d := rep.NextGlobal.Defaults[integ]
			d.APIKey = sealed
			rep.NextGlobal.Defaults[integ] = d
			rep.KeysChanged = append(rep.KeysChanged, integ)
		}
	}
	rep.GlobalChanged = len(rep.KeysChanged) > 0 || !reflect.DeepEqual(cur, rep.NextGlobal)
	if rep.GlobalChanged && opt.CheckGlobal != nil {
		if err := opt.CheckGlobal(rep.NextGlobal, models); err != nil {
			return err
		}
	}
	for _, p := range g.Prompts {
		before, err := getGlobalItem(ctx, tx, domain.ItemPrompt, p.ID)
		if err != nil {
			return err
		}
		if before != nil && before.Content.Equal(p.Content) && reflect.DeepEqual(before.Meta, p.Meta) && !before.Archived {
			continue
		}
		rep.PromptChanges = append(rep.PromptChanges, PromptChange{Before: before, After: p})
	}
	return nil
}

// mergeGlobal is cur with every value the dump's settings hold (nil: cur).
func mergeGlobal(cur domain.GlobalSettings, d *domain.GlobalSettings) domain.GlobalSettings {
	next := cur
	next.Defaults = map[domain.Integration]domain.Defaults{}
	for i, v := range cur.Defaults {
		next.Defaults[i] = v
	}
	if d == nil {
		return next
	}
	if d.TextIntegration.Valid() {
		next.TextIntegration = d.TextIntegration
	}
	if d.ImageIntegration.Valid() {
		next.ImageIntegration = d.ImageIntegration
	}
	for i, dd := range d.Defaults {
		nd := next.Defaults[i]
		for _, f := range domain.FieldsFor(i.Kind()) {
			if dd.Params.IsSet(f) {
				nd.Params.CopyField(f, dd.Params)
			}
		}
		next.Defaults[i] = nd
	}
	return next
}

// keyChange compares a dump's plaintext key with the stored sealed one
// (by value: sealing is randomized) and seals it when it differs.
func keyChange(opt ImportOptions, integ domain.Integration, cur domain.SealedKey, key string) (bool, domain.SealedKey, error) {
	aad := domain.KeyAAD(integ)
	if key == "" {
		return cur.IsSet(), domain.SealedKey{}, nil
	}
	if cur.IsSet() && opt.Keys != nil {
		if plain, err := opt.Keys.Open(cur.Sealed, aad); err == nil && plain == key {
			return false, cur, nil
		}
	}
	if opt.Keys == nil {
		return false, cur, &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonValidationFailed,
			Message: fmt.Sprintf("the dump holds a %s API key; set AICONFIG_SECRET_KEY so that it can be sealed", integ)}
	}
	sealed, err := opt.Keys.Seal(key, aad)
	return true, domain.SealedKey{Sealed: sealed, Hint: secret.Hint(key)}, err
}
