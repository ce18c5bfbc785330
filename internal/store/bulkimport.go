package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/secret"
)

// A bulk import (aiconfigd import-django, SPEC 18) streams a legacy dump's
// per-account rows into a temporary table with COPY (import_stage), then
// works set-based in SQL: it checks them, derives what aiconfig should
// hold (import_accounts, import_overrides, import_prompts), diffs that
// with what it holds, and, when applying, writes only the differences as
// one write (store.Write): one revision, one audit row per resource
// changed, one GLOBAL change event. The Go side holds one dump row at a
// time whatever the dump's size.

// Dump row kinds.
const (
	RowAccount  = "a"
	RowOverride = "o"
	RowPrompt   = "p"
)

// DumpRow is one per-account row of a legacy dump as the legacy code
// stored it (values unchecked: the import decides what it keeps).
type DumpRow struct {
	Kind string // RowAccount, RowOverride, RowPrompt
	PK   string // the Django row's own primary key
	// AccountPK is the account's primary key (its own, for an account).
	AccountPK string
	// Accounts: the aiconfig id, name and the pk of its plan row.
	AccountID, Name, PlanRef string
	// Overrides: the aiconfig integration, the config's values, and the
	// names (never the values) of the key-like config keys left out.
	Integration string
	Params      domain.Params
	KeyFields   []string
	// Prompts (PromptType already mapped to aiconfig's).
	PromptType, Value, Default string
	Customized                 bool
}

var stageCols = []string{"kind", "pk", "account_pk", "account_id", "name", "plan_ref", "integration", "model", "temperature",
	"max_tokens", "image_size", "image_quality", "image_style", "key_fields", "prompt_type", "value", "dflt", "customized"}

func (r *DumpRow) Values() []any {
	p := r.Params
	return []any{r.Kind, r.PK, r.AccountPK, r.AccountID, r.Name, r.PlanRef, r.Integration, p.Model, p.Temperature,
		p.MaxTokens, p.ImageSize, p.ImageQuality, p.ImageStyle, r.KeyFields, r.PromptType, r.Value, r.Default, r.Customized}
}

// DumpRows is a stream of dump rows (a decoder reading the dump).
type DumpRows interface {
	// Next returns the next row, or nil at the end (then Err).
	Next() (*DumpRow, error)
}

// copySource adapts DumpRows to COPY.
type copySource struct {
	rows DumpRows
	cur  *DumpRow
	err  error
	n    int
}

func (c *copySource) Next() bool {
	c.cur, c.err = c.rows.Next()
	if c.cur != nil {
		c.n++
	}
	return c.cur != nil && c.err == nil
}
func (c *copySource) Values() ([]any, error) { return c.cur.Values(), nil }
func (c *copySource) Err() error             { return c.err }

// DumpPlan is a plan row of the dump: its pk, slug and the aiconfig plan
// the mapping gives it (PlanUnknown: unmapped).
type DumpPlan struct {
	PK, Slug string
	Plan     domain.Plan
}

// DumpGlobal is the small part of a dump, known once its rows are read.
type DumpGlobal struct {
	// Settings are the global settings the dump holds (nil: it holds
	// none); APIKeys the plaintext platform keys ("" none).
	Settings *domain.GlobalSettings
	APIKeys  map[domain.Integration]string
	// Prompts are the global prompts the dump holds.
	Prompts []domain.GlobalItem
	Plans   []DumpPlan
}

// DumpSource is a dump being read: Rows, then (once they are all read)
// Finish for the rest.
type DumpSource struct {
	Rows   DumpRows
	Finish func() (DumpGlobal, error)
}

// ImportCounts counts what an import changes in one kind of resource.
type ImportCounts struct {
	Kind                                string
	InDump, New, Changed, Deleted, Same int
}

// ImportFinding is one kind of warning an import reports: how many, and
// the first few, one line each (never a key).
type ImportFinding struct {
	Reason  string
	Count   int
	Samples []string
}

// ImportReport is what an import would change, or changed.
type ImportReport struct {
	Counts   []ImportCounts
	Findings []ImportFinding
	// Global is the stored global settings and what the dump makes them;
	// GlobalChanged whether they differ (API keys compared by value).
	Global, NextGlobal domain.GlobalSettings
	GlobalChanged      bool
	KeysChanged        []domain.Integration
	// PromptChanges are the global prompts the dump creates or changes,
	// with what they replace (nil: new).
	PromptChanges []PromptChange
	Revision      int64 // the write's revision; 0: nothing written
}

// PromptChange is a global prompt the import writes.
type PromptChange struct {
	Before *domain.GlobalItem
	After  domain.GlobalItem
}

// Changes is the number of resources the import changes.
func (r *ImportReport) Changes() int {
	n := len(r.PromptChanges)
	if r.GlobalChanged {
		n++
	}
	for _, c := range r.Counts {
		n += c.New + c.Changed + c.Deleted
	}
	return n
}

// ImportOptions are an import's settings.
type ImportOptions struct {
	Apply bool
	// Keys seal the dump's API keys and open the stored ones to compare.
	Keys *secret.Keyring
	// Samples is how many lines each finding keeps.
	Samples int
	// DumpSHA256 is called once the dump is read; audit rows carry it.
	DumpSHA256 func() string
	// CheckGlobal validates the global settings the dump makes against
	// the catalog (internal/validate: the store only reads and writes).
	CheckGlobal func(next domain.GlobalSettings, models []domain.Model) error
}

// ImportDump stages a dump and computes what it changes; with Apply, it
// writes the changes as one write (nothing at all when there are none).
func (s *Store) ImportDump(ctx context.Context, src DumpSource, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	var g DumpGlobal
	stage := func(tx pgx.Tx) (err error) {
		g, err = stageDump(ctx, tx, src)
		return err
	}
	plan := func(tx pgx.Tx) (err error) {
		rep, err = planImport(ctx, tx, g, opt)
		return err
	}
	if !opt.Apply {
		err := s.rolledBack(ctx, func(tx pgx.Tx) error {
			if err := stage(tx); err != nil {
				return err
			}
			return plan(tx)
		})
		return rep, mapErr(err)
	}
	err := s.writeStaged(ctx, stage, func(w *Write) error {
		if err := plan(w.Tx); err != nil {
			return err
		}
		if rep.Changes() == 0 {
			return nil // records nothing: rolls back, takes no revision
		}
		rep.Revision = w.Rev
		return applyImport(ctx, w, &rep, opt)
	})
	if err != nil {
		rep.Revision = 0
	}
	return rep, err
}

// rolledBack runs fn in a transaction that is always rolled back (a dry
// run stages into temporary tables, which a read-only one refuses).
func (s *Store) rolledBack(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	return fn(tx)
}

// A dump's sorts and hashes (100,000 accounts: some 30 MB) spilled to
// disk at the default work_mem of 4 MB.
const stageDDL = `
SET LOCAL work_mem = '64MB';
CREATE TEMP TABLE import_stage (
	kind text NOT NULL, pk text NOT NULL, account_pk text NOT NULL, account_id text, name text, plan_ref text,
	integration text, model text, temperature double precision, max_tokens integer,
	image_size text, image_quality text, image_style text, key_fields text[],
	prompt_type text, value text, dflt text, customized boolean
) ON COMMIT DROP;
CREATE TEMP TABLE import_plans (pk text PRIMARY KEY, slug text NOT NULL, plan text) ON COMMIT DROP;
CREATE TEMP TABLE import_gprompts (prompt_type text PRIMARY KEY, text text NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE import_gmodels (integration text PRIMARY KEY, model text) ON COMMIT DROP`

// stageDump creates the temporary tables, COPYs the dump's rows into
// import_stage as they are read, then stores its small part beside them.
func stageDump(ctx context.Context, tx pgx.Tx, src DumpSource) (DumpGlobal, error) {
	// Temporary tables live in the session's own buffers (8 MB by
	// default): a dump's tables spilled to disk at each step. Their size
	// can be set only before the session first uses one; if this one
	// has, the default stays (in a savepoint, so the transaction goes on).
	if sp, err := tx.Begin(ctx); err == nil {
		if _, err := sp.Exec(ctx, `SET LOCAL temp_buffers = '256MB'`); err != nil {
			_ = sp.Rollback(ctx)
		} else if err := sp.Commit(ctx); err != nil {
			return DumpGlobal{}, err
		}
	}
	if _, err := tx.Exec(ctx, stageDDL); err != nil {
		return DumpGlobal{}, err
	}
	cs := &copySource{rows: src.Rows}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"import_stage"}, stageCols, cs); err != nil {
		if cs.err != nil {
			return DumpGlobal{}, cs.err // the dump's fault, not the database's
		}
		return DumpGlobal{}, err
	}
	g, err := src.Finish()
	if err != nil {
		return g, err
	}
	var pks, slugs, plans, ptypes, texts, integs, models []string
	for _, p := range g.Plans {
		plan := ""
		if p.Plan.Valid() {
			plan = p.Plan.String()
		}
		pks, slugs, plans = append(pks, p.PK), append(slugs, p.Slug), append(plans, plan)
	}
	for _, p := range g.Prompts {
		ptypes, texts = append(ptypes, p.ID), append(texts, promptText(p.Content))
	}
	if g.Settings != nil {
		for i, d := range g.Settings.Defaults {
			integs, models = append(integs, i.String()), append(models, domain.Deref(d.Params.Model))
		}
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO import_plans SELECT pk, slug, NULLIF(plan, '') FROM unnest($1::text[], $2::text[], $3::text[]) AS t(pk, slug, plan)`, pks, slugs, plans)
	b.Queue(`INSERT INTO import_gprompts SELECT * FROM unnest($1::text[], $2::text[])`, ptypes, texts)
	// The global model of each integration after the import (the stored
	// one where the dump has no settings).
	b.Queue(`INSERT INTO import_gmodels SELECT integration, model FROM global_integration_defaults`)
	b.Queue(`UPDATE import_gmodels g SET model = t.model FROM unnest($1::text[], $2::text[]) AS t(integration, model)
		WHERE g.integration = t.integration`, integs, models)
	// No index for an import: its statements read a whole kind of staged
	// rows, which hash joins do from a scan; building one cost more than it
	// saved (VerifyDump, which looks rows up per account, builds its own).
	// The statistics tell the planner how many rows of each kind there are.
	b.Queue(`ANALYZE import_stage (kind, account_pk, plan_ref)`)
	return g, tx.SendBatch(ctx, b).Close()
}

func promptText(c domain.Content) string {
	if t, ok := c.(domain.PromptText); ok {
		return string(t)
	}
	return ""
}

// listError is an INVALID_ARGUMENT naming up to 20 offenders and how many.
func listError(format string, items []string, total int) error {
	more := ""
	if total > len(items) {
		more = fmt.Sprintf(" (and %d more)", total-len(items))
	}
	return domain.InvalidField("dump", format, strings.Join(items, "; ")+more)
}

// collect runs query, whose rows are one finding line each, and returns
// the first limit lines (in line order) and how many there are.
func collect(ctx context.Context, tx pgx.Tx, limit int, query string, args ...any) ([]string, int, error) {
	rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT line, count(*) OVER () FROM (%s) q(line) ORDER BY line LIMIT %d`, query, max(limit, 1)), args...)
	if err != nil {
		return nil, 0, err
	}
	var out []string
	var line string
	var total int
	_, err = pgx.ForEachRow(rows, []any{&line, &total}, func() error {
		if len(out) < limit {
			out = append(out, line)
		}
		return nil
	})
	return out, total, err
}

// importAudit returns the call an import's rows are audited under: the
// context's, with the dump's digest as its request id.
func importAudit(ctx context.Context, sha string) audit.Call {
	c := audit.From(ctx)
	if sha != "" {
		c.RequestID = "dump-sha256:" + sha
	}
	return c
}

// VerifyAccount is one account of a staged dump beside what aiconfig
// holds for it, for import-django --verify.
type VerifyAccount struct {
	AccountID string
	// Stored is aiconfig's account (nil: it has none of that id).
	Stored *domain.Account
	// LegacyOverrides are the dump's config values by integration name,
	// as the legacy code reads them; Overrides aiconfig's.
	LegacyOverrides map[string]domain.Params
	Overrides       map[domain.Integration]*domain.Override
	// LegacyPrompts are the dump's AIPrompt rows by prompt type; Items
	// aiconfig's prompt items.
	LegacyPrompts map[string]LegacyPrompt
	Items         map[string]*domain.AccountItem
}

// LegacyPrompt is an AIPrompt row of a dump.
type LegacyPrompt struct {
	Value      string `json:"value"`
	Default    string `json:"default"`
	Customized bool   `json:"customized"`
}

const paramsJSON = `jsonb_strip_nulls(jsonb_build_object('model', %[1]s.model, 'temperature', %[1]s.temperature,
	'max_tokens', %[1]s.max_tokens, 'image_size', %[1]s.image_size, 'image_quality', %[1]s.image_quality, 'image_style', %[1]s.image_style))`

var verifySQL = `SELECT a.account_id, acc.id IS NOT NULL, coalesce(acc.name, ''), coalesce(acc.plan, 'free'),
	coalesce(acc.revision, 0), coalesce(acc.config_revision, 0),
	(SELECT jsonb_object_agg(o.integration, ` + fmt.Sprintf(paramsJSON, "o") + `) FROM import_stage o
		WHERE o.kind = 'o' AND o.account_pk = a.account_pk),
	(SELECT jsonb_object_agg(io.integration, jsonb_build_object('params', ` + fmt.Sprintf(paramsJSON, "io") + `, 'revision', io.revision))
		FROM integration_overrides io WHERE io.account_id = a.account_id),
	(SELECT jsonb_object_agg(p.prompt_type, jsonb_build_object('value', p.value, 'default', p.dflt, 'customized', p.customized))
		FROM import_stage p WHERE p.kind = 'p' AND p.account_pk = a.account_pk),
	(SELECT jsonb_object_agg(ai.id, jsonb_build_object('content', ai.content, 'default', ai.default_content,
		'customized', ai.is_customized, 'revision', ai.revision))
		FROM account_items ai WHERE ai.account_id = a.account_id AND ai.kind = 'prompt')
FROM import_stage a LEFT JOIN accounts acc ON acc.id = a.account_id WHERE a.kind = 'a' ORDER BY a.account_id`

// storedItem is an account prompt item as verifySQL returns it.
type storedItem struct {
	Content    string `json:"content"`
	Default    string `json:"default"`
	Customized bool   `json:"customized"`
	Revision   int64  `json:"revision"`
}

// VerifyDump stages a dump (changing nothing), then calls start with its
// small part and aiconfig's global layer, and each with every account of
// the dump, in id order, all from one snapshot.
func (s *Store) VerifyDump(ctx context.Context, src DumpSource, start func(DumpGlobal, GlobalLayer) error, each func(*VerifyAccount) error) error {
	return mapErr(s.rolledBack(ctx, func(tx pgx.Tx) error {
		g, err := stageDump(ctx, tx, src)
		if err != nil {
			return err
		}
		var l GlobalLayer
		b := &pgx.Batch{}
		b.Queue(`CREATE INDEX ON import_stage (kind, account_pk)`) // verifySQL's per-account lookups
		b.Queue(`ANALYZE import_stage (kind, account_pk)`)
		queueLayer(b, &l)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if err := start(g, l); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, verifySQL)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVerify(rows)
			if err != nil {
				return err
			}
			if err := each(v); err != nil {
				return err
			}
		}
		return rows.Err()
	}))
}

func scanVerify(rows pgx.Rows) (*VerifyAccount, error) {
	v := &VerifyAccount{}
	var a domain.Account
	var exists bool
	var plan string
	var stored map[string]struct {
		Params   domain.Params `json:"params"`
		Revision int64         `json:"revision"`
	}
	var items map[string]storedItem
	if err := rows.Scan(&v.AccountID, &exists, &a.Name, &plan, &a.Revision, &a.ConfigRevision,
		&v.LegacyOverrides, &stored, &v.LegacyPrompts, &items); err != nil {
		return nil, err
	}
	if exists {
		a.ID = v.AccountID
		p, err := domain.ParsePlan(plan)
		if err != nil {
			return nil, err
		}
		a.Plan = p
		v.Stored = &a
	}
	for name, o := range stored {
		integ, err := domain.ParseIntegration(name)
		if err != nil {
			return nil, err
		}
		if v.Overrides == nil {
			v.Overrides = map[domain.Integration]*domain.Override{}
		}
		v.Overrides[integ] = &domain.Override{AccountID: v.AccountID, Integration: integ, Params: o.Params, Revision: o.Revision}
	}
	for id, it := range items {
		if v.Items == nil {
			v.Items = map[string]*domain.AccountItem{}
		}
		v.Items[id] = &domain.AccountItem{AccountID: v.AccountID, Kind: domain.ItemPrompt, ID: id, Content: domain.PromptText(it.Content),
			Default: domain.PromptText(it.Default), IsCustomized: it.Customized, Revision: it.Revision}
	}
	return v, nil
}
