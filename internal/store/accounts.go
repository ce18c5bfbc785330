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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1 FOR UPDATE`, a.ID))
		before, err := existing(cur, err)
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("account "+a.ID, *expected, cur.Revision)
		}
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		// ON CONFLICT also covers a concurrent first insert of the same id
		// (no row to lock above); with expected=0 that insert must fail.
		q := `INSERT INTO accounts (id, name, plan, revision, config_revision) VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, plan = EXCLUDED.plan,
				revision = EXCLUDED.revision, config_revision = EXCLUDED.config_revision, updated_at = now()`
		if expected != nil && *expected == 0 {
			q = `INSERT INTO accounts (id, name, plan, revision, config_revision) VALUES ($1, $2, $3, $4, $4)
				ON CONFLICT (id) DO NOTHING`
		}
		q += ` RETURNING ` + accountCols
		out, err = scanAccount(tx.QueryRow(ctx, q, a.ID, a.Name, a.Plan.String(), rev))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.RevisionMismatch("account "+a.ID, 0, -1)
		}
		if err != nil {
			return err
		}
		if err := announce(ctx, tx, Change{Revision: rev, Kind: ChangeAccount, Key: a.ID}); err != nil {
			return err
		}
		return recordAudit(ctx, tx, "accounts/"+a.ID, a.ID, before, out)
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

// DeleteAccount removes an account; its overrides and tokens go with it.
func (s *Store) DeleteAccount(ctx context.Context, id string, expected *int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanAccount(tx.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.AccountNotFound(id)
		}
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("account "+id, *expected, cur.Revision)
		}
		if _, err = tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, id); err != nil {
			return err
		}
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		// Its tokens went with it (ON DELETE CASCADE).
		if err := announce(ctx, tx, Change{Revision: rev, Kind: ChangeAccount, Key: id}); err != nil {
			return err
		}
		if err := announce(ctx, tx, Change{Revision: rev, Kind: ChangeTokens, Key: "-"}); err != nil {
			return err
		}
		return recordAudit(ctx, tx, "accounts/"+id, id, cur, nil)
	})
}
