package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// loadGlobal reads the singleton, its provider rows and default items, in
// one round trip. (Writes need no row locks: every write holds the
// revision lock, so none runs beside another.)
func loadGlobal(ctx context.Context, tx pgx.Tx) (domain.GlobalSettings, error) {
	var g domain.GlobalSettings
	b := &pgx.Batch{}
	queueGlobal(b, &g)
	return g, tx.SendBatch(ctx, b).Close()
}

// queueGlobal queues the reads of the global settings into g.
func queueGlobal(b *pgx.Batch, g *domain.GlobalSettings) {
	*g = domain.GlobalSettings{Defaults: map[domain.Integration]domain.Defaults{}}
	b.Queue(`SELECT text_integration, image_integration, revision FROM global_settings WHERE id = 1`).QueryRow(func(row pgx.Row) error {
		var text, image string
		err := row.Scan(&text, &image, &g.Revision)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNoGlobal
		}
		if err != nil {
			return err
		}
		if g.TextIntegration, err = domain.ParseIntegration(text); err != nil {
			return err
		}
		g.ImageIntegration, err = domain.ParseIntegration(image)
		return err
	})
	b.Queue(`SELECT integration, api_key_sealed, api_key_hint, model, temperature, max_tokens, image_size, image_quality, image_style
		FROM global_integration_defaults`).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var d domain.Defaults
			var integ string
			if err := rows.Scan(&integ, &d.APIKey.Sealed, &d.APIKey.Hint, &d.Params.Model, &d.Params.Temperature, &d.Params.MaxTokens,
				&d.Params.ImageSize, &d.Params.ImageQuality, &d.Params.ImageStyle); err != nil {
				return err
			}
			var err error
			if d.Integration, err = domain.ParseIntegration(integ); err != nil {
				return err
			}
			g.Defaults[d.Integration] = d
		}
		return rows.Err()
	})
	// Rows rather than one JSON object: decoding JSON costs more per call.
	b.Queue(`SELECT kind, item_id FROM global_item_defaults`).Query(func(rows pgx.Rows) error {
		var kind, id string
		_, err := pgx.ForEachRow(rows, []any{&kind, &id}, func() error {
			k, err := domain.ParseItemKind(kind)
			if g.ItemDefaults == nil {
				g.ItemDefaults = map[domain.ItemKind]string{}
			}
			g.ItemDefaults[k] = id
			return err
		})
		return err
	})
}

// GetGlobal reads the global settings.
func (s *Store) GetGlobal(ctx context.Context) (domain.GlobalSettings, error) {
	var g domain.GlobalSettings
	err := s.readBatch(ctx, func(b *pgx.Batch) { queueGlobal(b, &g) })
	return g, err
}

// GlobalChange computes new settings from the current ones and the catalog.
type GlobalChange func(cur domain.GlobalSettings, models []domain.Model) (domain.GlobalSettings, error)

// UpdateGlobal applies change to the global settings as one write.
func (s *Store) UpdateGlobal(ctx context.Context, expected *int64, change GlobalChange) (domain.GlobalSettings, error) {
	var out domain.GlobalSettings
	err := s.write(ctx, func(w *Write) error {
		cur, err := loadGlobal(ctx, w)
		if err != nil {
			return err
		}
		if err := checkExpected("global settings", expected, cur.Revision); err != nil {
			return err
		}
		models, err := listModels(ctx, w)
		if err != nil {
			return err
		}
		if out, err = change(cur, models); err != nil {
			return err
		}
		if err := writeSettings(ctx, w, &out); err != nil {
			return err
		}
		w.Record(ChangeGlobal, "", "global_settings", cur, out)
		return nil
	})
	return out, err
}

// writeSettings stores the singleton, its provider rows and the platform's
// default items at the write's revision, which it sets in next. A default
// item must be a global item that is not archived.
func writeSettings(ctx context.Context, w *Write, next *domain.GlobalSettings) error {
	next.Revision = w.Rev
	var c domain.Collector
	for _, k := range domain.OwnKinds {
		if err := writeDefaultItem(ctx, w, &c, k, next.ItemDefaults[k]); err != nil {
			return err
		}
	}
	if err := c.Err(domain.ReasonValidationFailed); err != nil {
		return err
	}
	if _, err := w.Exec(ctx, `UPDATE global_settings SET text_integration = $1, image_integration = $2, revision = $3, updated_at = now() WHERE id = 1`,
		next.TextIntegration.String(), next.ImageIntegration.String(), w.Rev); err != nil {
		return err
	}
	for _, integ := range domain.Integrations {
		d := next.Defaults[integ]
		p := d.Params
		if _, err := w.Exec(ctx, `UPDATE global_integration_defaults SET api_key_sealed = $2, api_key_hint = $9, model = $3,
			temperature = $4, max_tokens = $5, image_size = $6, image_quality = $7, image_style = $8 WHERE integration = $1`,
			integ.String(), d.APIKey.Sealed, p.Model, p.Temperature, p.MaxTokens, p.ImageSize, p.ImageQuality, p.ImageStyle, d.APIKey.Hint); err != nil {
			return err
		}
	}
	return nil
}

// writeDefaultItem stores the platform's default item of kind k ("":
// none), which must be a global item that is not archived (else a
// violation in c).
func writeDefaultItem(ctx context.Context, w *Write, c *domain.Collector, k domain.ItemKind, id string) error {
	if id == "" {
		_, err := w.Exec(ctx, `DELETE FROM global_item_defaults WHERE kind = $1`, k.String())
		return err
	}
	g, err := getGlobalItem(ctx, w, k, id)
	field, info := "settings.default_"+k.String()+"_id", k.Info()
	switch {
	case err != nil:
		return err
	case g == nil:
		c.Add(field, "there is no global %s %q; ListGlobal%s shows them", info.Noun, id, k.ListName())
	case g.Archived:
		c.Add(field, "global %s %q is archived; name one that is not", info.Noun, id)
	default:
		_, err = w.Exec(ctx, `INSERT INTO global_item_defaults (kind, item_id) VALUES ($1, $2)
			ON CONFLICT (kind) DO UPDATE SET item_id = EXCLUDED.item_id`, k.String(), id)
	}
	return err
}

// GlobalLayer is the whole global layer, read consistently.
type GlobalLayer struct {
	Settings domain.GlobalSettings
	Models   []domain.Model
	// Items are the global items of every kind, by kind and id.
	Items      []domain.GlobalItem
	PlanLimits []domain.PlanLimit
}

// LoadGlobalLayer reads settings, catalog, global items and plan limits in
// one repeatable-read snapshot, in one round trip.
func (s *Store) LoadGlobalLayer(ctx context.Context) (GlobalLayer, error) {
	var l GlobalLayer
	err := s.readBatch(ctx, func(b *pgx.Batch) { queueLayer(b, &l) })
	return l, err
}

// queueLayer queues the reads of the whole global layer into l.
func queueLayer(b *pgx.Batch, l *GlobalLayer) {
	queueGlobal(b, &l.Settings)
	queueModels(b, &l.Models)
	b.Queue(`SELECT ` + globalItemCols + ` FROM global_items ORDER BY kind, id`).Query(func(rows pgx.Rows) (err error) {
		l.Items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.GlobalItem, error) { return scanGlobalItem(r) })
		return err
	})
	queuePlanLimits(b, &l.PlanLimits)
}

// AccountData is one account with everything stored for it.
type AccountData struct {
	Account domain.Account
	// Overrides and Items hold pointers: a Go map keeps its values in
	// groups of eight slots, and most accounts that have any have one.
	Overrides map[domain.Integration]*domain.Override
	// Items are its customizations and own items of every kind.
	Items map[domain.ItemKey]*domain.AccountItem
}

// LoadAccountData reads an account, its overrides and its items in one
// repeatable-read snapshot, in one round trip.
func (s *Store) LoadAccountData(ctx context.Context, accountID string) (AccountData, error) {
	var d AccountData
	err := s.readBatch(ctx, func(b *pgx.Batch) { queueAccountData(b, accountID, &d) })
	if err == nil && d.Account.ID == "" {
		err = domain.AccountNotFound(accountID)
	}
	return d, err
}

// LoadAccountAndLayer reads an account's data and the global layer in one
// snapshot and one round trip: the whole read of an uncached answer.
// Without items it leaves out what only items need (the account's and
// the global items, the plan limits): a model configuration reads none.
func (s *Store) LoadAccountAndLayer(ctx context.Context, accountID string, items bool) (AccountData, GlobalLayer, error) {
	var d AccountData
	var l GlobalLayer
	err := s.readBatch(ctx, func(b *pgx.Batch) { queueAccountAndLayer(b, accountID, items, &d, &l) })
	if err == nil && d.Account.ID == "" {
		err = domain.AccountNotFound(accountID)
	}
	return d, l, err
}

func queueAccountAndLayer(b *pgx.Batch, accountID string, items bool, d *AccountData, l *GlobalLayer) {
	if items {
		queueAccountData(b, accountID, d)
		queueLayer(b, l)
		return
	}
	*d, *l = AccountData{}, GlobalLayer{}
	queueAccount(b, accountID, &d.Account)
	queueOverrides(b, accountID, d)
	queueGlobal(b, &l.Settings)
	queueModels(b, &l.Models)
}

// UncachedCallSQL is what an uncached call sends the database, for the
// bench to replay with pgbench: the token lookup ($1 the secret's hash),
// then LoadAccountAndLayer's pipeline without items ($1 the account id).
func UncachedCallSQL() (auth string, pipeline []string) {
	b := snapshotBatch(func(b *pgx.Batch) {
		queueAccountAndLayer(b, "", false, &AccountData{}, &GlobalLayer{})
	})
	for _, q := range b.QueuedQueries {
		pipeline = append(pipeline, q.SQL)
	}
	return authenticateSQL, pipeline
}

// queueAccountData queues the reads of an account's data into d.
func queueAccountData(b *pgx.Batch, accountID string, d *AccountData) {
	// The maps stay nil when empty: the cached hot path looks items up on
	// every call, and a lookup in a nil map reads no memory.
	*d = AccountData{}
	queueAccount(b, accountID, &d.Account)
	queueOverrides(b, accountID, d)
	b.Queue(`SELECT `+accountItemCols+` FROM account_items WHERE account_id = $1`, accountID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			it, err := scanAccountItem(rows)
			if err != nil {
				return err
			}
			if d.Items == nil {
				d.Items = map[domain.ItemKey]*domain.AccountItem{}
			}
			d.Items[domain.ItemKey{Kind: it.Kind, ID: it.ID}] = &it
		}
		return rows.Err()
	})
}

// queueAccount queues the read of an account into a, left zero (no ID)
// when there is none: the caller answers NOT_FOUND after the batch, as an
// error inside it would make pgx forget the connection's prepared
// statements, and the next read prepare them again.
func queueAccount(b *pgx.Batch, accountID string, a *domain.Account) {
	b.Queue(`SELECT `+accountCols+` FROM accounts WHERE id = $1`, accountID).QueryRow(func(row pgx.Row) (err error) {
		*a, err = scanAccount(row)
		if errors.Is(err, pgx.ErrNoRows) {
			*a = domain.Account{}
			return nil
		}
		return err
	})
}

func queueOverrides(b *pgx.Batch, accountID string, d *AccountData) {
	b.Queue(`SELECT `+overrideCols+` FROM integration_overrides WHERE account_id = $1`, accountID).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			o, err := scanOverride(rows)
			if err != nil {
				return err
			}
			if d.Overrides == nil {
				d.Overrides = map[domain.Integration]*domain.Override{}
			}
			d.Overrides[o.Integration] = &o
		}
		return rows.Err()
	})
}
