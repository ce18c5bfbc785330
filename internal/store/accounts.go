package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

const accountCols = `id, name, plan, revision, config_revision`

func scanAccount(row pgx.Row) (domain.Account, error) {
	var a domain.Account
	var plan string
	if err := row.Scan(&a.ID, &a.Name, &plan, &a.Revision, &a.ConfigRevision); err != nil {
		return a, err
	}
	var err error
	a.Plan, err = domain.ParsePlan(plan)
	return a, err
}

// GetAccount loads one account.
func (s *Store) GetAccount(ctx context.Context, id string) (domain.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return a, domain.AccountNotFound(id)
	}
	return a, mapErr(err)
}

// UpsertAccount creates an account or replaces its name and plan. With
// expected set, the current revision must match (0: must not exist yet).
func (s *Store) UpsertAccount(ctx context.Context, a domain.Account, expected *int64) (domain.Account, error) {
	var out domain.Account
	err := s.write(ctx, func(w *Write) error {
		cur, err := scanAccount(w.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, a.ID))
		before, err := existing(cur, err)
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("account "+a.ID, *expected, cur.Revision)
		}
		out, err = scanAccount(w.QueryRow(ctx, `INSERT INTO accounts (id, name, plan, revision, config_revision) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, plan = EXCLUDED.plan,
				revision = EXCLUDED.revision, config_revision = EXCLUDED.config_revision, updated_at = now()
			RETURNING `+accountCols, a.ID, a.Name, a.Plan.String(), w.Rev))
		if err != nil {
			return err
		}
		w.Record(ChangeAccount, a.ID, "accounts/"+a.ID, before, out)
		return nil
	})
	return out, err
}

// ListAccounts returns up to limit accounts with id > after, in id order.
func (s *Store) ListAccounts(ctx context.Context, after string, limit int) ([]domain.Account, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+accountCols+` FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.Account, error) { return scanAccount(r) })
	return out, mapErr(err)
}

// DeleteAccount removes an account; its overrides, prompts and tokens go
// with it (ON DELETE CASCADE).
func (s *Store) DeleteAccount(ctx context.Context, id string, expected *int64) error {
	return s.write(ctx, func(w *Write) error {
		cur, err := scanAccount(w.QueryRow(ctx, `DELETE FROM accounts WHERE id = $1 RETURNING `+accountCols, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.AccountNotFound(id)
		}
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("account "+id, *expected, cur.Revision)
		}
		w.Record(ChangeAccount, id, "accounts/"+id, cur, nil)
		return nil
	})
}
