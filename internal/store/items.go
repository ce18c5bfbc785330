package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/audit"
	"github.com/igny8/aiconfig/internal/domain"
)

// Customizable items (prompts, author profiles, content strategies): one
// set of tables and one set of operations for every kind (see
// domain.ItemKinds). Content is stored as JSON in the kind's shape.

// querier is what a pool and a transaction share for reads.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func globalResource(k domain.ItemKind, id string) string {
	return "global_" + k.Info().Collection + "/" + id
}

func accountResource(accountID string, k domain.ItemKind, id string) string {
	return "accounts/" + accountID + "/" + k.Info().Collection + "/" + id
}

// ItemNotFound is the NOT_FOUND for an item id an account (or, with
// accountID "", the platform) has no usable item of; why says why, if
// more than "there is none".
func ItemNotFound(k domain.ItemKind, accountID, id, why string) error {
	info := k.Info()
	e := domain.NotFound(info.NotFound, "there is no %s %q", info.Noun, id)
	if accountID != "" {
		e.Message += fmt.Sprintf(" for account %q", accountID)
	}
	if why != "" {
		e.Message += ": " + why
	}
	e.Metadata = map[string]string{info.Name + "_id": id}
	if k == domain.ItemPrompt { // the prompt API's own name for the id
		e.Metadata = map[string]string{"prompt_type": id}
	}
	return e
}

// ItemAlreadyExists is the ALREADY_EXISTS (AIP-133) for an own item whose
// id the account already uses: for an item of its own, or (global true)
// for a global item, which the account sees under that id. The violation
// names field, so a form shows it at the id.
func ItemAlreadyExists(k domain.ItemKind, accountID, id, field string, global bool) error {
	info := k.Info()
	e := &domain.Error{Code: domain.CodeAlreadyExists, Reason: domain.ReasonItemAlreadyExists,
		Message:  fmt.Sprintf("account %q already has %s %q", accountID, info.ANoun(), id),
		Metadata: map[string]string{"account_id": accountID, info.Name + "_id": id, "owner": "account"}}
	how := "taken by the account's own; Update" + k.MessageName() + " changes it, or pick another id"
	if global {
		e.Message = fmt.Sprintf("%q is the id of a global %s, which account %q uses", id, info.Noun, accountID)
		e.Metadata["owner"] = "platform"
		how = "taken by a global " + info.Noun + "; Update" + k.MessageName() + " customizes it, or pick another id for one of the account's own"
	}
	e.Violations = []domain.Violation{{Field: field, Description: how}}
	return e
}

const globalItemCols = `kind, id, content, meta, archived, revision`

func scanGlobalItem(row pgx.Row) (domain.GlobalItem, error) {
	var g domain.GlobalItem
	var kind string
	var content, meta []byte
	if err := row.Scan(&kind, &g.ID, &content, &meta, &g.Archived, &g.Revision); err != nil {
		return g, err
	}
	var err error
	if g.Kind, err = domain.ParseItemKind(kind); err != nil {
		return g, err
	}
	if g.Content, err = g.Kind.DecodeContent(content); err != nil {
		return g, err
	}
	g.Meta, err = g.Kind.DecodeMeta(meta)
	return g, err
}

const accountItemCols = `account_id, kind, id, content, default_content, is_customized, revision`

func scanAccountItem(row pgx.Row) (domain.AccountItem, error) {
	var a domain.AccountItem
	var kind string
	var content, def []byte
	if err := row.Scan(&a.AccountID, &kind, &a.ID, &content, &def, &a.IsCustomized, &a.Revision); err != nil {
		return a, err
	}
	var err error
	if a.Kind, err = domain.ParseItemKind(kind); err != nil {
		return a, err
	}
	if a.Content, err = a.Kind.DecodeContent(content); err != nil {
		return a, err
	}
	if def != nil {
		a.Default, err = a.Kind.DecodeContent(def)
	}
	return a, err
}

func listGlobalItems(ctx context.Context, q querier, k domain.ItemKind) ([]domain.GlobalItem, error) {
	rows, err := q.Query(ctx, `SELECT `+globalItemCols+` FROM global_items WHERE ($1 = '' OR kind = $1) ORDER BY kind, id`, kindFilter(k))
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.GlobalItem, error) { return scanGlobalItem(r) })
}

func kindFilter(k domain.ItemKind) string {
	if k == domain.ItemKindUnknown {
		return ""
	}
	return k.String()
}

// ListGlobalItems returns the global items of kind k, by id.
func (s *Store) ListGlobalItems(ctx context.Context, k domain.ItemKind) ([]domain.GlobalItem, error) {
	out, err := listGlobalItems(ctx, s.pool, k)
	return out, mapErr(err)
}

// GetGlobalItem returns one global item, NOT_FOUND when there is none.
func (s *Store) GetGlobalItem(ctx context.Context, k domain.ItemKind, id string) (domain.GlobalItem, error) {
	g, err := getGlobalItem(ctx, s.pool, k, id)
	switch {
	case err != nil:
		return domain.GlobalItem{}, mapErr(err)
	case g == nil:
		return domain.GlobalItem{}, ItemNotFound(k, "", id, "")
	}
	return *g, nil
}

// getGlobalItem reads one global item; nil when there is none.
func getGlobalItem(ctx context.Context, q querier, k domain.ItemKind, id string) (*domain.GlobalItem, error) {
	g, err := scanGlobalItem(q.QueryRow(ctx, `SELECT `+globalItemCols+` FROM global_items WHERE kind = $1 AND id = $2`, k.String(), id))
	return existing(g, err)
}

// getAccountItem reads what an account stores for one item; nil when nothing.
func getAccountItem(ctx context.Context, q querier, accountID string, k domain.ItemKind, id string) (*domain.AccountItem, error) {
	a, err := scanAccountItem(q.QueryRow(ctx, `SELECT `+accountItemCols+` FROM account_items WHERE account_id = $1 AND kind = $2 AND id = $3`,
		accountID, k.String(), id))
	return existing(a, err)
}

// appendHistory records a change to an item; the actor is the audit call's.
// accountID "" is a global item, whose archived flag is recorded too.
func appendHistory(ctx context.Context, w *Write, accountID string, k domain.ItemKind, id, action string, old, new domain.Content, archived bool) (domain.HistoryEntry, error) {
	actor := audit.From(ctx).Actor
	e := domain.HistoryEntry{Kind: k, AccountID: accountID, ItemID: id, Action: action, ActorName: actor.Name, ActorRole: actor.Role,
		Old: old, New: new, Archived: archived, Revision: w.Rev}
	oldJSON, err := toJSON(old)
	if err != nil {
		return e, err
	}
	newJSON, err := toJSON(new)
	if err != nil {
		return e, err
	}
	var acct, arch any
	if accountID == "" {
		arch = archived
	} else {
		acct = accountID
	}
	err = w.QueryRow(ctx, `INSERT INTO item_history (kind, account_id, item_id, action, actor_name, actor_role, old_content, new_content, archived, revision)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, created_at`,
		k.String(), acct, id, action, actor.Name, roleName(actor.Role), oldJSON, newJSON, arch, w.Rev).Scan(&e.ID, &e.CreatedAt)
	return e, err
}

// UpsertGlobalItem creates or replaces a global item (validated by the
// caller) as one write.
func (s *Store) UpsertGlobalItem(ctx context.Context, it domain.GlobalItem, expected *int64) (domain.GlobalItem, error) {
	var out domain.GlobalItem
	err := s.write(ctx, func(w *Write) error {
		cur, err := getGlobalItem(ctx, w, it.Kind, it.ID)
		if err != nil {
			return err
		}
		if err := checkExpected(globalResource(it.Kind, it.ID), expected, cur.Rev()); err != nil {
			return err
		}
		out, _, err = writeGlobalItem(ctx, w, it, cur, domain.ActionUpsertGlobal)
		return err
	})
	return out, err
}

// writeGlobalItem creates or replaces a global item (before is the one it
// replaces, or nil) with its history entry, and records it. The platform's
// default may not be archived. Any id may be published: an account that
// already has an own item of that id keeps it, and it shadows the global
// for that account only (resolve.Item; docs/items.md).
func writeGlobalItem(ctx context.Context, w *Write, it domain.GlobalItem, before *domain.GlobalItem, action string) (domain.GlobalItem, domain.HistoryEntry, error) {
	info := it.Kind.Info()
	if it.Archived && info.Own {
		var isDefault bool
		if err := w.QueryRow(ctx, `SELECT EXISTS (SELECT FROM global_item_defaults WHERE kind = $1 AND item_id = $2)`,
			info.Name, it.ID).Scan(&isDefault); err != nil {
			return it, domain.HistoryEntry{}, err
		}
		if isDefault {
			return it, domain.HistoryEntry{}, &domain.Error{Code: domain.CodeFailedPrecondition, Reason: domain.ReasonItemInUse,
				Message: fmt.Sprintf("%s %q is the platform's default (global settings default_%s_id) and cannot be archived; name another default first",
					info.Noun, it.ID, info.Name),
				Metadata: map[string]string{info.Name + "_id": it.ID}}
		}
	}
	content, err := toJSON(it.Content)
	if err != nil {
		return it, domain.HistoryEntry{}, err
	}
	meta := []byte("{}")
	if it.Meta != nil {
		if meta, err = toJSON(it.Meta); err != nil {
			return it, domain.HistoryEntry{}, err
		}
	}
	out, err := scanGlobalItem(w.QueryRow(ctx, `
		INSERT INTO global_items (`+globalItemCols+`) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (kind, id) DO UPDATE SET content = EXCLUDED.content, meta = EXCLUDED.meta, archived = EXCLUDED.archived,
			revision = EXCLUDED.revision, updated_at = now()
		RETURNING `+globalItemCols, info.Name, it.ID, content, meta, it.Archived, w.Rev))
	if err != nil {
		return out, domain.HistoryEntry{}, err
	}
	var old domain.Content
	if before != nil {
		old = before.Content
	}
	e, err := appendHistory(ctx, w, "", out.Kind, out.ID, action, old, out.Content, out.Archived)
	if err != nil {
		return out, e, err
	}
	w.Record(ChangeGlobal, "", globalResource(out.Kind, out.ID), before, out)
	return out, e, nil
}

// ItemChange computes an account item's next state from the live global
// item of its id (nil: none), what the account stores (nil: nothing) and
// the account, and names the change for the history (domain.Action...).
// next nil deletes what is stored; action "" changes nothing (the call is
// audited as a no-op).
type ItemChange func(g *domain.GlobalItem, cur *domain.AccountItem, a domain.Account) (next *domain.AccountItem, action string, err error)

// ItemState is an account item after a change, with what it resolves from.
type ItemState struct {
	Account domain.Account
	Global  *domain.GlobalItem  // nil: none of that id
	Stored  *domain.AccountItem // nil: the account stores none (any more)
	// Entry is the history entry the change added (nil: nothing changed).
	Entry *domain.HistoryEntry
}

// ChangeAccountItem applies change to one account item as one write, with
// its history entry.
func (s *Store) ChangeAccountItem(ctx context.Context, accountID string, key domain.ItemKey, expected *int64, change ItemChange) (ItemState, error) {
	var out ItemState
	err := s.write(ctx, func(w *Write) (err error) {
		out, err = changeAccountItem(ctx, w, accountID, key, expected, change)
		return err
	})
	return out, err
}

func changeAccountItem(ctx context.Context, w *Write, accountID string, key domain.ItemKey, expected *int64, change ItemChange) (ItemState, error) {
	var st ItemState
	var err error
	if st.Account, err = touchAccount(ctx, w, accountID); err != nil {
		return st, err
	}
	if st.Global, err = getGlobalItem(ctx, w, key.Kind, key.ID); err != nil {
		return st, err
	}
	cur, err := getAccountItem(ctx, w, accountID, key.Kind, key.ID)
	if err != nil {
		return st, err
	}
	resource := accountResource(accountID, key.Kind, key.ID)
	if err := checkExpected(resource, expected, cur.Rev()); err != nil {
		return st, err
	}
	next, action, err := change(st.Global, cur, st.Account)
	if err != nil {
		return st, err
	}
	st.Stored = cur
	if action == "" {
		w.Unchanged(accountID, resource)
		return st, nil
	}
	if next != nil && next.Own() && cur == nil {
		if err := checkOwnLimit(ctx, w, st.Account, key.Kind); err != nil {
			return st, err
		}
	}
	st.Stored = nil
	if next == nil {
		if _, err := w.Exec(ctx, `DELETE FROM account_items WHERE account_id = $1 AND kind = $2 AND id = $3`, accountID, key.Kind.String(), key.ID); err != nil {
			return st, err
		}
	} else {
		content, err := toJSON(next.Content)
		if err != nil {
			return st, err
		}
		def, err := toJSON(next.Default)
		if err != nil {
			return st, err
		}
		stored, err := scanAccountItem(w.QueryRow(ctx, `
			INSERT INTO account_items (`+accountItemCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (account_id, kind, id) DO UPDATE SET content = EXCLUDED.content, default_content = EXCLUDED.default_content,
				is_customized = EXCLUDED.is_customized, revision = EXCLUDED.revision, updated_at = now()
			RETURNING `+accountItemCols, accountID, key.Kind.String(), key.ID, content, def, next.IsCustomized, w.Rev))
		if err != nil {
			return st, err
		}
		st.Stored = &stored
	}
	// The history says what the account used before: its stored item, or
	// the global one.
	var old, new domain.Content
	switch {
	case cur != nil:
		old = cur.Content
	case st.Global != nil:
		old = st.Global.Content
	}
	if st.Stored != nil {
		new = st.Stored.Content
	}
	e, err := appendHistory(ctx, w, accountID, key.Kind, key.ID, action, old, new, false)
	if err != nil {
		return st, err
	}
	st.Entry = &e
	w.Record(ChangeAccount, accountID, resource, cur, st.Stored)
	return st, nil
}

// checkOwnLimit refuses an account's next own item of kind k when it keeps
// as many as its plan allows (RESOURCE_EXHAUSTED PLAN_LIMIT_REACHED).
func checkOwnLimit(ctx context.Context, w *Write, a domain.Account, k domain.ItemKind) error {
	var limit, n int
	err := w.QueryRow(ctx, `SELECT COALESCE((SELECT max_items FROM plan_limits WHERE plan = $2 AND kind = $3), 0),
		(SELECT count(*) FROM account_items WHERE account_id = $1 AND kind = $3 AND default_content IS NULL)`,
		a.ID, a.Plan.String(), k.String()).Scan(&limit, &n)
	if err != nil || n < limit {
		return err
	}
	info := k.Info()
	plan := a.Plan.EnumName()
	return &domain.Error{Code: domain.CodeResourceExhausted, Reason: domain.ReasonPlanLimitReached,
		Message: fmt.Sprintf("account %q keeps %d %s items of its own, the limit of %s; delete one or upgrade the plan",
			a.ID, n, info.Noun, plan),
		Metadata: map[string]string{"plan": plan, "limit": strconv.Itoa(limit), "kind": info.Name, "account_id": a.ID}}
}

// BulkReset resets the selected account customizations of kind k that
// differ from the live global content (customized, or left on an old
// global), recording each in the history, as one write. Empty filters
// select everything they could; the caller decides whether that is
// allowed.
func (s *Store) BulkReset(ctx context.Context, k domain.ItemKind, accountIDs, ids []string) (int, error) {
	var n int
	actor := audit.From(ctx).Actor
	err := s.write(ctx, func(w *Write) error {
		var unknown string
		err := w.QueryRow(ctx, `SELECT t FROM unnest($1::text[]) t
			WHERE NOT EXISTS (SELECT 1 FROM global_items WHERE kind = $2 AND id = t) LIMIT 1`, nonNil(ids), k.String()).Scan(&unknown)
		if err == nil {
			return ItemNotFound(k, "", unknown, "")
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var accounts []string
		err = w.QueryRow(ctx, `
			WITH old AS (
				SELECT a.account_id, a.id, a.content
				FROM account_items a JOIN global_items g ON g.kind = a.kind AND g.id = a.global_id
				WHERE a.kind = $6 AND (cardinality($1::text[]) = 0 OR a.account_id = ANY($1))
					AND (cardinality($2::text[]) = 0 OR a.id = ANY($2))
					AND (a.is_customized OR a.content <> g.content)
			), reset AS (
				UPDATE account_items a SET content = g.content, default_content = g.content, is_customized = false,
					revision = $3, updated_at = now()
				FROM old, global_items g
				WHERE a.account_id = old.account_id AND a.kind = $6 AND a.id = old.id AND g.kind = a.kind AND g.id = a.id
				RETURNING a.account_id, a.id, old.content AS old_content, a.content AS new_content
			), history AS (
				INSERT INTO item_history (kind, account_id, item_id, action, actor_name, actor_role, old_content, new_content, revision)
				SELECT $6, account_id, id, 'bulk_reset', $4, $5, old_content, new_content, $3 FROM reset
			), touched AS (
				UPDATE accounts SET config_revision = $3 WHERE id IN (SELECT account_id FROM reset)
			)
			SELECT count(*), COALESCE(array_agg(DISTINCT account_id), '{}') FROM reset`,
			nonNil(accountIDs), nonNil(ids), w.Rev, actor.Name, roleName(actor.Role), k.String()).Scan(&n, &accounts)
		if err != nil {
			return err
		}
		resource := "account_" + k.Info().Collection
		if n == 0 {
			w.Unchanged("", resource)
			return nil
		}
		account := "" // several accounts: caches drop them all
		if len(accounts) == 1 {
			account = accounts[0]
		}
		w.Record(ChangeAccount, account, resource, nil, map[string]any{
			"account_ids": nonNil(accountIDs), "ids": nonNil(ids), "reset_count": n})
		return nil
	})
	return n, err
}

const historyCols = `id, kind, COALESCE(account_id, ''), item_id, action, actor_name, actor_role, old_content, new_content,
	COALESCE(archived, false), revision, created_at`

func scanHistory(row pgx.Row) (domain.HistoryEntry, error) {
	var e domain.HistoryEntry
	var kind, role string
	var old, new []byte
	if err := row.Scan(&e.ID, &kind, &e.AccountID, &e.ItemID, &e.Action, &e.ActorName, &role, &old, &new, &e.Archived, &e.Revision, &e.CreatedAt); err != nil {
		return e, err
	}
	var err error
	if e.Kind, err = domain.ParseItemKind(kind); err != nil {
		return e, err
	}
	e.ActorRole, _ = domain.ParseRole(role)
	if old != nil {
		if e.Old, err = e.Kind.DecodeContent(old); err != nil {
			return e, err
		}
	}
	if new != nil {
		e.New, err = e.Kind.DecodeContent(new)
	}
	return e, err
}

// ListHistory returns up to limit entries with id < before (0: from the
// newest), newest first: one account's, or the global items' when
// accountID is empty; k (0: every kind) and itemID ("": every item)
// narrow it.
func (s *Store) ListHistory(ctx context.Context, accountID string, k domain.ItemKind, itemID string, before int64, limit int) ([]domain.HistoryEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+historyCols+` FROM item_history
		WHERE account_id IS NOT DISTINCT FROM NULLIF($1, '') AND ($2 = '' OR kind = $2) AND ($3 = '' OR item_id = $3) AND ($4 = 0 OR id < $4)
		ORDER BY id DESC LIMIT $5`, accountID, kindFilter(k), itemID, before, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.HistoryEntry, error) { return scanHistory(r) })
	return out, mapErr(err)
}

// Restore says what restoring a history entry's content does: to a
// global item, its next state from the current one; to an account's, the
// change (as for ChangeAccountItem). Both validate the content first.
type Restore struct {
	Global  func(e domain.HistoryEntry, cur domain.GlobalItem) (domain.GlobalItem, error)
	Account func(e domain.HistoryEntry) ItemChange
}

// RestoreVersion sets the item of history entry entryID back to the
// content the entry recorded after its change, as one write, itself
// recorded in the history (as the restore's change says: "restore").
// accountID must be the entry's ("" for a global item): another account's
// entries are NOT_FOUND. It returns the new history entry and the item's
// revision.
func (s *Store) RestoreVersion(ctx context.Context, accountID string, entryID int64, expected *int64, r Restore) (domain.HistoryEntry, int64, error) {
	var entry domain.HistoryEntry
	var rev int64
	err := s.write(ctx, func(w *Write) error {
		e, err := scanHistory(w.QueryRow(ctx, `SELECT `+historyCols+` FROM item_history WHERE id = $1`, entryID))
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && e.AccountID != accountID) {
			where := "the global items"
			if accountID != "" {
				where = fmt.Sprintf("account %q", accountID)
			}
			return &domain.Error{Code: domain.CodeNotFound, Reason: domain.ReasonHistoryEntryNotFound,
				Message:  fmt.Sprintf("the history of %s has no entry %d; ListHistory shows the entries", where, entryID),
				Metadata: map[string]string{"entry_id": strconv.FormatInt(entryID, 10)}}
		}
		if err != nil {
			return err
		}
		if e.New == nil {
			return domain.InvalidField("entry_id", "entry %d records a deletion; restore an entry that holds a version (e.g. the one before it)", entryID)
		}
		if accountID != "" {
			st, err := changeAccountItem(ctx, w, accountID, domain.ItemKey{Kind: e.Kind, ID: e.ItemID}, expected, r.Account(e))
			switch {
			case err != nil:
				return err
			case st.Entry == nil:
				return fmt.Errorf("restoring entry %d changed nothing", entryID) // a Restore always writes
			}
			entry, rev = *st.Entry, st.Stored.Rev()
			return nil
		}
		cur, err := getGlobalItem(ctx, w, e.Kind, e.ItemID)
		if err != nil {
			return err
		}
		if cur == nil {
			return ItemNotFound(e.Kind, "", e.ItemID, "")
		}
		if err := checkExpected(globalResource(e.Kind, e.ItemID), expected, cur.Revision); err != nil {
			return err
		}
		next, err := r.Global(e, *cur)
		if err != nil {
			return err
		}
		out, added, err := writeGlobalItem(ctx, w, next, cur, domain.ActionRestore)
		entry, rev = added, out.Revision
		return err
	})
	return entry, rev, err
}
