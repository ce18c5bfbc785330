package store

import (
	"context"
	"errors"
	"maps"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// accountCols reads an account with its item defaults (a subquery, so
// every statement that returns an account returns them too).
const accountCols = `id, name, plan, revision, config_revision,
	(SELECT jsonb_object_agg(d.kind, d.item_id) FROM account_item_defaults d WHERE d.account_id = accounts.id)`

func scanAccount(row pgx.Row) (domain.Account, error) {
	var a domain.Account
	var plan string
	var defaults map[string]string
	if err := row.Scan(&a.ID, &a.Name, &plan, &a.Revision, &a.ConfigRevision, &defaults); err != nil {
		return a, err
	}
	var err error
	if a.Plan, err = domain.ParsePlan(plan); err != nil {
		return a, err
	}
	a.ItemDefaults, err = itemDefaults(defaults)
	return a, err
}

// itemDefaults turns stored (kind name → item id) pairs into a map by kind
// (nil when there are none).
func itemDefaults(stored map[string]string) (map[domain.ItemKind]string, error) {
	var out map[domain.ItemKind]string
	for name, id := range stored {
		k, err := domain.ParseItemKind(name)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = map[domain.ItemKind]string{}
		}
		out[k] = id
	}
	return out, nil
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
		if err := checkExpected("account "+a.ID, expected, cur.Revision); err != nil {
			return err
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
		if err := checkExpected("account "+id, expected, cur.Revision); err != nil {
			return err
		}
		w.Record(ChangeAccount, id, "accounts/"+id, cur, nil)
		return nil
	})
}

// ItemUsable reports whether an account can use the item of a kind and id:
// g is the global item of that id and stored the account's (each nil when
// there is none). internal/resolve decides; the store only reads.
type ItemUsable func(g *domain.GlobalItem, stored *domain.AccountItem, a domain.Account) bool

// SetAccountDefaults changes an account's default items as one write:
// defaults maps each kind to change to its new item id ("" clears it).
// A default set must name an item the account can use now.
//
//nolint:gocognit // one transaction's checks and writes, which must stay in one write function; issue 22 item 3 tracks splitting the checks out
func (s *Store) SetAccountDefaults(ctx context.Context, accountID string, defaults map[domain.ItemKind]string, expected *int64, usable ItemUsable) (domain.Account, error) {
	var out domain.Account
	err := s.write(ctx, func(w *Write) error {
		cur, err := scanAccount(w.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, accountID))
		if errors.Is(err, pgx.ErrNoRows) {
			return domain.AccountNotFound(accountID)
		}
		if err != nil {
			return err
		}
		if err := checkExpected("account "+accountID, expected, cur.Revision); err != nil {
			return err
		}
		var c domain.Collector
		for _, k := range domain.OwnKinds {
			id, ok := defaults[k]
			if !ok || id == "" {
				continue
			}
			g, err := getGlobalItem(ctx, w, k, id)
			if err != nil {
				return err
			}
			stored, err := getAccountItem(ctx, w, accountID, k, id)
			if err != nil {
				return err
			}
			if (g == nil && stored == nil) || !usable(g, stored, cur) {
				info := k.Info()
				c.Add("default_"+info.Name+"_id", "account %q cannot use %s %q (there is none, it is archived, or its plan does not apply the account's own items); List%s shows the ones it can",
					accountID, info.Noun, id, k.ListName())
			}
		}
		if err := c.Err(domain.ReasonValidationFailed); err != nil {
			return err
		}
		for k, id := range defaults {
			if id == "" {
				_, err = w.Exec(ctx, `DELETE FROM account_item_defaults WHERE account_id = $1 AND kind = $2`, accountID, k.String())
			} else {
				_, err = w.Exec(ctx, `INSERT INTO account_item_defaults (account_id, kind, item_id) VALUES ($1, $2, $3)
					ON CONFLICT (account_id, kind) DO UPDATE SET item_id = EXCLUDED.item_id`, accountID, k.String(), id)
			}
			if err != nil {
				return err
			}
		}
		out, err = scanAccount(w.QueryRow(ctx, `UPDATE accounts SET revision = $2, config_revision = $2, updated_at = now() WHERE id = $1
			RETURNING `+accountCols, accountID, w.Rev))
		if err != nil {
			return err
		}
		if maps.Equal(out.ItemDefaults, cur.ItemDefaults) {
			w.Unchanged(accountID, "accounts/"+accountID)
			return nil
		}
		w.Record(ChangeAccount, accountID, "accounts/"+accountID, cur, out)
		return nil
	})
	return out, err
}
