package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

const overrideCols = `account_id, integration, model, temperature, max_tokens, image_size, image_quality, image_style, revision`

func scanOverride(row pgx.Row) (domain.Override, error) {
	var o domain.Override
	var integ string
	p := &o.Params
	if err := row.Scan(&o.AccountID, &integ, &p.Model, &p.Temperature, &p.MaxTokens, &p.ImageSize, &p.ImageQuality, &p.ImageStyle, &o.Revision); err != nil {
		return o, err
	}
	var err error
	o.Integration, err = domain.ParseIntegration(integ)
	return o, err
}

func listOverrides(ctx context.Context, tx pgx.Tx, accountID string) ([]domain.Override, error) {
	rows, err := tx.Query(ctx, `SELECT `+overrideCols+` FROM integration_overrides WHERE account_id = $1 ORDER BY integration`, accountID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Override, error) { return scanOverride(r) })
}

// touchAccount moves an account's config_revision to the write's revision
// (a write to its data), so readers see the change in the revision.
func touchAccount(ctx context.Context, w *Write, accountID string) (domain.Account, error) {
	a, err := scanAccount(w.QueryRow(ctx, `UPDATE accounts SET config_revision = $2 WHERE id = $1 RETURNING `+accountCols, accountID, w.Rev))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, domain.AccountNotFound(accountID)
	}
	return a, err
}

func overrideResource(accountID string, integ domain.Integration) string {
	return "accounts/" + accountID + "/overrides/" + integ.String()
}

func overrideNotFound(accountID string, integ domain.Integration) error {
	e := domain.NotFound(domain.ReasonOverrideNotFound, "account %q has no override for %s", accountID, integ)
	e.Metadata = map[string]string{"account_id": accountID, "integration": integ.String()}
	return e
}

// GetOverride loads one override and its account.
func (s *Store) GetOverride(ctx context.Context, accountID string, integ domain.Integration) (domain.Override, domain.Account, error) {
	a, err := s.GetAccount(ctx, accountID)
	if err != nil {
		return domain.Override{}, a, err
	}
	o, err := scanOverride(s.pool.QueryRow(ctx, `SELECT `+overrideCols+` FROM integration_overrides WHERE account_id = $1 AND integration = $2`,
		accountID, integ.String()))
	if errors.Is(err, pgx.ErrNoRows) {
		return o, a, overrideNotFound(accountID, integ)
	}
	return o, a, mapErr(err)
}

// ListOverrides loads an account and all its overrides.
func (s *Store) ListOverrides(ctx context.Context, accountID string) ([]domain.Override, domain.Account, error) {
	var out []domain.Override
	var a domain.Account
	err := s.read(ctx, func(tx pgx.Tx) (err error) {
		a, err = scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, accountID))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.AccountNotFound(accountID)
		}
		if err != nil {
			return err
		}
		out, err = listOverrides(ctx, tx, accountID)
		return err
	})
	return out, a, mapErr(err)
}

// OverrideChange computes an override's new parameters from its current
// ones (zero Params when there is none yet) and the global layer.
type OverrideChange func(cur domain.Params, g domain.GlobalSettings, models []domain.Model) (domain.Params, error)

// UpsertOverride applies change to one override as one write, in few
// round trips: the reads in one, the writes with the audit and change rows.
func (s *Store) UpsertOverride(ctx context.Context, accountID string, integ domain.Integration, expected *int64, change OverrideChange) (domain.Override, domain.Account, error) {
	var out domain.Override
	var a domain.Account
	err := s.write(ctx, func(w *Write) error {
		var cur domain.Override
		var before *domain.Override
		var g domain.GlobalSettings
		var models []domain.Model
		b := &pgx.Batch{}
		b.Queue(`UPDATE accounts SET config_revision = $2 WHERE id = $1 RETURNING `+accountCols, accountID, w.Rev).QueryRow(func(row pgx.Row) (err error) {
			if a, err = scanAccount(row); errors.Is(err, pgx.ErrNoRows) {
				return domain.AccountNotFound(accountID)
			}
			return err
		})
		b.Queue(`SELECT `+overrideCols+` FROM integration_overrides WHERE account_id = $1 AND integration = $2`,
			accountID, integ.String()).QueryRow(func(row pgx.Row) (err error) {
			cur, err = scanOverride(row)
			before, err = existing(cur, err)
			return err
		})
		queueGlobal(b, &g)
		queueModels(b, &models)
		if err := w.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if err := checkExpected(fmt.Sprintf("override %s/%s", accountID, integ), expected, cur.Revision); err != nil {
			return err
		}
		p, err := change(cur.Params, g, models)
		if err != nil {
			return err
		}
		w.Queue(`
			INSERT INTO integration_overrides (`+overrideCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (account_id, integration) DO UPDATE SET model = EXCLUDED.model, temperature = EXCLUDED.temperature,
				max_tokens = EXCLUDED.max_tokens, image_size = EXCLUDED.image_size, image_quality = EXCLUDED.image_quality,
				image_style = EXCLUDED.image_style, revision = EXCLUDED.revision, updated_at = now()`,
			accountID, integ.String(), p.Model, p.Temperature, p.MaxTokens, p.ImageSize, p.ImageQuality, p.ImageStyle, w.Rev)
		out = domain.Override{AccountID: accountID, Integration: integ, Params: p, Revision: w.Rev}
		w.Record(ChangeAccount, accountID, overrideResource(accountID, integ), before, out)
		return nil
	})
	return out, a, err
}

// DeleteOverride removes one override.
func (s *Store) DeleteOverride(ctx context.Context, accountID string, integ domain.Integration, expected *int64) error {
	return s.write(ctx, func(w *Write) error {
		if _, err := touchAccount(ctx, w, accountID); err != nil {
			return err
		}
		cur, err := scanOverride(w.QueryRow(ctx, `DELETE FROM integration_overrides WHERE account_id = $1 AND integration = $2 RETURNING `+overrideCols,
			accountID, integ.String()))
		if errors.Is(err, pgx.ErrNoRows) {
			return overrideNotFound(accountID, integ)
		}
		if err != nil {
			return err
		}
		if err := checkExpected(fmt.Sprintf("override %s/%s", accountID, integ), expected, cur.Revision); err != nil {
			return err
		}
		w.Record(ChangeAccount, accountID, overrideResource(accountID, integ), cur, nil)
		return nil
	})
}
