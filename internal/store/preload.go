package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
)

// Preload reads every account with its overrides and items in one
// snapshot and hands them to keep one at a time: the accounts stream, the
// overrides and items (held by a minority of accounts) are read first. It
// returns the newest revision the snapshot includes, so a follower of the
// change feed that starts there misses nothing that came after. keep
// returns false to stop early (the cache is full).
//
//nolint:gocognit // one snapshot read filling every cache table in one pass; issue 22 item 3 tracks splitting it
func (s *Store) Preload(ctx context.Context, keep func(AccountData) bool) (int64, error) {
	var rev int64
	err := s.read(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT revision FROM revisions WHERE id = 1`).Scan(&rev); err != nil {
			return err
		}
		overrides := map[string]map[domain.Integration]*domain.Override{}
		rows, err := tx.Query(ctx, `SELECT `+overrideCols+` FROM integration_overrides`)
		if err != nil {
			return err
		}
		for rows.Next() {
			o, err := scanOverride(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if overrides[o.AccountID] == nil {
				overrides[o.AccountID] = map[domain.Integration]*domain.Override{}
			}
			overrides[o.AccountID][o.Integration] = &o
		}
		if err := rows.Err(); err != nil {
			return err
		}
		items := map[string]map[domain.ItemKey]*domain.AccountItem{}
		// The global content each customization started from is mostly the
		// same for every account (the current global item's): kept once.
		defaults := map[domain.ItemKey]domain.Content{}
		if rows, err = tx.Query(ctx, `SELECT `+accountItemCols+` FROM account_items`); err != nil {
			return err
		}
		for rows.Next() {
			it, err := scanAccountItem(rows)
			if err != nil {
				rows.Close()
				return err
			}
			key := domain.ItemKey{Kind: it.Kind, ID: it.ID}
			if d, ok := defaults[key]; ok && it.Default != nil && d.Equal(it.Default) {
				it.Default = d
			} else if it.Default != nil {
				defaults[key] = it.Default
			}
			if items[it.AccountID] == nil {
				items[it.AccountID] = map[domain.ItemKey]*domain.AccountItem{}
			}
			items[it.AccountID][key] = &it
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, `SELECT `+accountCols+` FROM accounts`); err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			a, err := scanAccount(rows)
			if err != nil {
				return err
			}
			if !keep(AccountData{Account: a, Overrides: overrides[a.ID], Items: items[a.ID]}) {
				return nil
			}
		}
		return rows.Err()
	})
	return rev, mapErr(err)
}
