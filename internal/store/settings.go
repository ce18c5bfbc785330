package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// loadGlobal reads the singleton and its provider rows. (Writes need no row
// locks: every write holds the revision lock, so none runs beside another.)
func loadGlobal(ctx context.Context, tx pgx.Tx) (domain.GlobalSettings, error) {
	g := domain.GlobalSettings{Defaults: map[domain.Integration]domain.Defaults{}}
	var text, image string
	err := tx.QueryRow(ctx, `SELECT text_integration, image_integration, revision FROM global_settings WHERE id = 1`).Scan(&text, &image, &g.Revision)
	if errors.Is(err, pgx.ErrNoRows) {
		return g, errNoGlobal
	}
	if err != nil {
		return g, err
	}
	if g.TextIntegration, err = domain.ParseIntegration(text); err != nil {
		return g, err
	}
	if g.ImageIntegration, err = domain.ParseIntegration(image); err != nil {
		return g, err
	}
	rows, err := tx.Query(ctx, `SELECT integration, api_key_sealed, api_key_hint, model, temperature, max_tokens, image_size, image_quality, image_style
		FROM global_integration_defaults`)
	if err != nil {
		return g, err
	}
	defer rows.Close()
	for rows.Next() {
		var d domain.Defaults
		var integ string
		if err := rows.Scan(&integ, &d.APIKey.Sealed, &d.APIKey.Hint, &d.Params.Model, &d.Params.Temperature, &d.Params.MaxTokens,
			&d.Params.ImageSize, &d.Params.ImageQuality, &d.Params.ImageStyle); err != nil {
			return g, err
		}
		if d.Integration, err = domain.ParseIntegration(integ); err != nil {
			return g, err
		}
		g.Defaults[d.Integration] = d
	}
	return g, rows.Err()
}

// GetGlobal reads the global settings.
func (s *Store) GetGlobal(ctx context.Context) (domain.GlobalSettings, error) {
	var g domain.GlobalSettings
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) (err error) {
		g, err = loadGlobal(ctx, tx)
		return err
	})
	return g, mapErr(err)
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
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("global settings", *expected, cur.Revision)
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

// writeSettings stores the singleton and its provider rows at the write's
// revision, which it sets in next.
func writeSettings(ctx context.Context, w *Write, next *domain.GlobalSettings) error {
	next.Revision = w.Rev
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

// GlobalLayer is the whole global layer, read consistently.
type GlobalLayer struct {
	Settings domain.GlobalSettings
	Models   []domain.Model
	Prompts  []domain.GlobalPrompt
}

// LoadGlobalLayer reads settings, catalog and global prompts in one
// repeatable-read transaction, so the pieces agree with each other.
func (s *Store) LoadGlobalLayer(ctx context.Context) (GlobalLayer, error) {
	var l GlobalLayer
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) (err error) {
		l, err = loadLayer(ctx, tx)
		return err
	})
	return l, mapErr(err)
}

// loadLayer reads the whole global layer inside tx.
func loadLayer(ctx context.Context, tx pgx.Tx) (GlobalLayer, error) {
	var l GlobalLayer
	var err error
	if l.Settings, err = loadGlobal(ctx, tx); err != nil {
		return l, err
	}
	if l.Models, err = listModels(ctx, tx); err != nil {
		return l, err
	}
	l.Prompts, err = listGlobalPrompts(ctx, tx)
	return l, err
}

// AccountData is one account with everything stored for it.
type AccountData struct {
	Account   domain.Account
	Overrides map[domain.Integration]domain.Override
	Prompts   map[string]domain.AccountPrompt
}

// LoadAccountData reads an account, its overrides and its prompts in one
// repeatable-read transaction.
func (s *Store) LoadAccountData(ctx context.Context, accountID string) (AccountData, error) {
	// The maps stay nil when empty: the cached hot path looks prompts up on
	// every call, and a lookup in a nil map reads no memory.
	var d AccountData
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, accountID))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.AccountNotFound(accountID)
		}
		if err != nil {
			return err
		}
		d.Account = a
		ovs, err := listOverrides(ctx, tx, accountID)
		if err != nil {
			return err
		}
		for _, o := range ovs {
			if d.Overrides == nil {
				d.Overrides = map[domain.Integration]domain.Override{}
			}
			d.Overrides[o.Integration] = o
		}
		rows, err := tx.Query(ctx, `SELECT `+accountPromptCols+` FROM account_prompts WHERE account_id = $1`, accountID)
		if err != nil {
			return err
		}
		prompts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.AccountPrompt, error) { return scanAccountPrompt(r) })
		for _, p := range prompts {
			if d.Prompts == nil {
				d.Prompts = map[string]domain.AccountPrompt{}
			}
			d.Prompts[p.PromptType] = p
		}
		return err
	})
	return d, mapErr(err)
}
