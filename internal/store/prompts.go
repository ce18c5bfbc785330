package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/audit"

	"github.com/igny8/aiconfig/internal/domain"
)

const globalPromptCols = `prompt_type, text, description, variables, revision`

func scanGlobalPrompt(row pgx.Row) (domain.GlobalPrompt, error) {
	var p domain.GlobalPrompt
	err := row.Scan(&p.PromptType, &p.Text, &p.Description, &p.Variables, &p.Revision)
	return p, err
}

const accountPromptCols = `account_id, prompt_type, prompt_value, default_prompt, is_customized, revision`

func scanAccountPrompt(row pgx.Row) (domain.AccountPrompt, error) {
	var p domain.AccountPrompt
	err := row.Scan(&p.AccountID, &p.PromptType, &p.PromptValue, &p.DefaultPrompt, &p.IsCustomized, &p.Revision)
	return p, err
}

// PromptTypeNotFound is the NOT_FOUND for an unknown prompt type.
func PromptTypeNotFound(promptType string) error {
	e := domain.NotFound(domain.ReasonPromptTypeNotFound, "there is no prompt type %q; ListGlobalPrompts shows the types", promptType)
	e.Metadata = map[string]string{"prompt_type": promptType}
	return e
}

// querier is what a pool and a transaction share for reads.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func listGlobalPrompts(ctx context.Context, q querier) ([]domain.GlobalPrompt, error) {
	rows, err := q.Query(ctx, `SELECT `+globalPromptCols+` FROM global_prompts ORDER BY prompt_type`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.GlobalPrompt, error) { return scanGlobalPrompt(r) })
}

// ListGlobalPrompts returns every global prompt, by type.
func (s *Store) ListGlobalPrompts(ctx context.Context) ([]domain.GlobalPrompt, error) {
	out, err := listGlobalPrompts(ctx, s.pool)
	return out, mapErr(err)
}

// GetGlobalPrompt returns one global prompt.
func (s *Store) GetGlobalPrompt(ctx context.Context, promptType string) (domain.GlobalPrompt, error) {
	p, err := scanGlobalPrompt(s.pool.QueryRow(ctx, `SELECT `+globalPromptCols+` FROM global_prompts WHERE prompt_type = $1`, promptType))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, PromptTypeNotFound(promptType)
	}
	return p, mapErr(err)
}

// appendHistory records a prompt change; the actor is the audit call's.
func appendHistory(ctx context.Context, tx pgx.Tx, accountID *string, promptType, action, oldText, newText string, rev int64) error {
	actor := audit.From(ctx).Actor
	_, err := tx.Exec(ctx, `INSERT INTO prompt_history (account_id, prompt_type, action, actor_name, actor_role, old_text, new_text, revision)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, promptType, action, actor.Name, actor.Role.String(), oldText, newText, rev)
	return err
}

// UpsertGlobalPrompt creates or replaces a global prompt and records it.
func (s *Store) UpsertGlobalPrompt(ctx context.Context, p domain.GlobalPrompt, expected *int64) (domain.GlobalPrompt, error) {
	var out domain.GlobalPrompt
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanGlobalPrompt(tx.QueryRow(ctx, `SELECT `+globalPromptCols+` FROM global_prompts WHERE prompt_type = $1 FOR UPDATE`, p.PromptType))
		before, err := existing(cur, err)
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("global prompt "+p.PromptType, *expected, cur.Revision)
		}
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		if out, err = writeGlobalPrompt(ctx, tx, p, cur.Text, rev); err != nil {
			return err
		}
		if err := announce(ctx, tx, Change{Revision: rev, Kind: ChangeGlobal, Key: "-"}); err != nil {
			return err
		}
		return recordAudit(ctx, tx, "global_prompts/"+p.PromptType, "", before, out)
	})
	return out, err
}

// writeGlobalPrompt creates or replaces a global prompt at rev and records
// the change in the prompt history (old is the previous text, or "").
func writeGlobalPrompt(ctx context.Context, tx pgx.Tx, p domain.GlobalPrompt, old string, rev int64) (domain.GlobalPrompt, error) {
	out, err := scanGlobalPrompt(tx.QueryRow(ctx, `
		INSERT INTO global_prompts (`+globalPromptCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (prompt_type) DO UPDATE SET text = EXCLUDED.text, description = EXCLUDED.description,
			variables = EXCLUDED.variables, revision = EXCLUDED.revision, updated_at = now()
		RETURNING `+globalPromptCols, p.PromptType, p.Text, p.Description, nonNil(p.Variables), rev))
	if err != nil {
		return out, err
	}
	return out, appendHistory(ctx, tx, nil, p.PromptType, domain.ActionUpsertGlobal, old, out.Text, rev)
}

// PromptChange computes an account prompt's next state from the global
// prompt and the stored one (nil when none). write=false means no change.
type PromptChange func(g domain.GlobalPrompt, cur *domain.AccountPrompt) (next domain.AccountPrompt, write bool, err error)

// ChangeAccountPrompt applies change under the account's row lock and
// records the write in the history, in the same transaction.
func (s *Store) ChangeAccountPrompt(ctx context.Context, accountID, promptType, action string, expected *int64, change PromptChange) (domain.AccountPrompt, error) {
	var out domain.AccountPrompt
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := lockAccount(ctx, tx, accountID, rev); err != nil {
			return err
		}
		g, err := scanGlobalPrompt(tx.QueryRow(ctx, `SELECT `+globalPromptCols+` FROM global_prompts WHERE prompt_type = $1 FOR SHARE`, promptType))
		if errors.Is(err, pgx.ErrNoRows) {
			return PromptTypeNotFound(promptType)
		}
		if err != nil {
			return err
		}
		stored, err := scanAccountPrompt(tx.QueryRow(ctx, `SELECT `+accountPromptCols+` FROM account_prompts WHERE account_id = $1 AND prompt_type = $2`, accountID, promptType))
		cur, err := existing(stored, err)
		if err != nil {
			return err
		}
		if expected != nil && *expected != stored.Revision {
			return domain.RevisionMismatch("prompt "+accountID+"/"+promptType, *expected, stored.Revision)
		}
		next, write, err := change(g, cur)
		if err != nil {
			return err
		}
		if !write {
			out = next
			out.Revision = stored.Revision
			return nil
		}
		out, err = scanAccountPrompt(tx.QueryRow(ctx, `
			INSERT INTO account_prompts (`+accountPromptCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account_id, prompt_type) DO UPDATE SET prompt_value = EXCLUDED.prompt_value,
				default_prompt = EXCLUDED.default_prompt, is_customized = EXCLUDED.is_customized,
				revision = EXCLUDED.revision, updated_at = now()
			RETURNING `+accountPromptCols, accountID, promptType, next.PromptValue, next.DefaultPrompt, next.IsCustomized, rev))
		if err != nil {
			return err
		}
		old := g.Text
		if cur != nil {
			old = cur.PromptValue
		}
		if err := appendHistory(ctx, tx, &accountID, promptType, action, old, out.PromptValue, rev); err != nil {
			return err
		}
		if err := announce(ctx, tx, Change{Revision: rev, Kind: ChangeAccount, Key: accountID}); err != nil {
			return err
		}
		return recordAudit(ctx, tx, "accounts/"+accountID+"/prompts/"+promptType, accountID, cur, out)
	})
	return out, err
}

// BulkResetPrompts resets the selected account prompts that differ from
// the live global text (customized, or left on an old global), recording
// each in the history. Empty filters select everything they could; the
// caller decides whether that is allowed.
func (s *Store) BulkResetPrompts(ctx context.Context, accountIDs, promptTypes []string) (int, error) {
	var n int
	actor := audit.From(ctx).Actor
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		rev, err := nextRevision(ctx, tx)
		if err != nil {
			return err
		}
		// Lock accounts first, in id order, as single-account writes do, so
		// the two never deadlock.
		if _, err := tx.Exec(ctx, `SELECT id FROM accounts WHERE id IN (
				SELECT account_id FROM account_prompts WHERE (cardinality($1::text[]) = 0 OR account_id = ANY($1))
					AND (cardinality($2::text[]) = 0 OR prompt_type = ANY($2)))
			ORDER BY id FOR UPDATE`, nonNil(accountIDs), nonNil(promptTypes)); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `
			WITH old AS (
				SELECT ap.account_id, ap.prompt_type, ap.prompt_value
				FROM account_prompts ap JOIN global_prompts g USING (prompt_type)
				WHERE (cardinality($1::text[]) = 0 OR ap.account_id = ANY($1))
					AND (cardinality($2::text[]) = 0 OR ap.prompt_type = ANY($2))
					AND (ap.is_customized OR ap.prompt_value <> g.text)
				FOR UPDATE OF ap
			), reset AS (
				UPDATE account_prompts ap SET prompt_value = g.text, default_prompt = g.text, is_customized = false,
					revision = $3, updated_at = now()
				FROM old, global_prompts g
				WHERE ap.account_id = old.account_id AND ap.prompt_type = old.prompt_type AND g.prompt_type = ap.prompt_type
				RETURNING ap.account_id, ap.prompt_type, old.prompt_value AS old_text, ap.prompt_value AS new_text
			), history AS (
				INSERT INTO prompt_history (account_id, prompt_type, action, actor_name, actor_role, old_text, new_text, revision)
				SELECT account_id, prompt_type, 'bulk_reset', $4, $5, old_text, new_text, $3 FROM reset
			), touched AS (
				UPDATE accounts SET config_revision = $3 WHERE id IN (SELECT account_id FROM reset)
			)
			SELECT count(*) FROM reset`,
			nonNil(accountIDs), nonNil(promptTypes), rev, actor.Name, actor.Role.String()).Scan(&n)
		if err != nil {
			return err
		}
		if err := announce(ctx, tx, Change{Revision: rev, Kind: ChangeAllAccounts, Key: "-"}); err != nil {
			return err
		}
		return recordAudit(ctx, tx, "account_prompts", "", nil, map[string]any{
			"account_ids": nonNil(accountIDs), "prompt_types": nonNil(promptTypes), "reset_count": n})
	})
	return n, err
}

// ListPromptHistory returns up to limit entries with id < before (0: from
// the newest), newest first: one account's, or the global prompts' when
// accountID is empty.
func (s *Store) ListPromptHistory(ctx context.Context, accountID, promptType string, before int64, limit int) ([]domain.PromptHistoryEntry, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, COALESCE(account_id, ''), prompt_type, action, actor_name, actor_role, old_text, new_text, revision, created_at
		FROM prompt_history
		WHERE account_id IS NOT DISTINCT FROM NULLIF($1, '') AND ($2 = '' OR prompt_type = $2) AND ($3 = 0 OR id < $3)
		ORDER BY id DESC LIMIT $4`, accountID, promptType, before, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (domain.PromptHistoryEntry, error) {
		var e domain.PromptHistoryEntry
		var role string
		if err := r.Scan(&e.ID, &e.AccountID, &e.PromptType, &e.Action, &e.ActorName, &role, &e.OldText, &e.NewText, &e.Revision, &e.CreatedAt); err != nil {
			return e, err
		}
		e.ActorRole, _ = domain.ParseRole(role)
		return e, nil
	})
	return out, mapErr(err)
}
