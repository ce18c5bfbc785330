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
func appendHistory(ctx context.Context, w *Write, accountID *string, promptType, action, oldText, newText string) error {
	actor := audit.From(ctx).Actor
	_, err := w.Exec(ctx, `INSERT INTO prompt_history (account_id, prompt_type, action, actor_name, actor_role, old_text, new_text, revision)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, accountID, promptType, action, actor.Name, actor.Role.String(), oldText, newText, w.Rev)
	return err
}

// UpsertGlobalPrompt creates or replaces a global prompt and records it.
func (s *Store) UpsertGlobalPrompt(ctx context.Context, p domain.GlobalPrompt, expected *int64) (domain.GlobalPrompt, error) {
	var out domain.GlobalPrompt
	err := s.write(ctx, func(w *Write) error {
		cur, err := scanGlobalPrompt(w.QueryRow(ctx, `SELECT `+globalPromptCols+` FROM global_prompts WHERE prompt_type = $1`, p.PromptType))
		before, err := existing(cur, err)
		if err != nil {
			return err
		}
		if expected != nil && *expected != cur.Revision {
			return domain.RevisionMismatch("global prompt "+p.PromptType, *expected, cur.Revision)
		}
		out, err = writeGlobalPrompt(ctx, w, p, before)
		return err
	})
	return out, err
}

// writeGlobalPrompt creates or replaces a global prompt (before is the one
// it replaces, or nil) and records it, in the history too.
func writeGlobalPrompt(ctx context.Context, w *Write, p domain.GlobalPrompt, before *domain.GlobalPrompt) (domain.GlobalPrompt, error) {
	out, err := scanGlobalPrompt(w.QueryRow(ctx, `
		INSERT INTO global_prompts (`+globalPromptCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (prompt_type) DO UPDATE SET text = EXCLUDED.text, description = EXCLUDED.description,
			variables = EXCLUDED.variables, revision = EXCLUDED.revision, updated_at = now()
		RETURNING `+globalPromptCols, p.PromptType, p.Text, p.Description, nonNil(p.Variables), w.Rev))
	if err != nil {
		return out, err
	}
	old := ""
	if before != nil {
		old = before.Text
	}
	if err := appendHistory(ctx, w, nil, p.PromptType, domain.ActionUpsertGlobal, old, out.Text); err != nil {
		return out, err
	}
	w.Record(ChangeGlobal, "", "global_prompts/"+p.PromptType, before, out)
	return out, nil
}

// PromptChange computes an account prompt's next state from the global
// prompt and the stored one (nil when none). write=false means no change.
type PromptChange func(g domain.GlobalPrompt, cur *domain.AccountPrompt) (next domain.AccountPrompt, write bool, err error)

// ChangeAccountPrompt applies change to one account prompt as one write,
// with its history entry. A change that writes nothing commits nothing.
func (s *Store) ChangeAccountPrompt(ctx context.Context, accountID, promptType, action string, expected *int64, change PromptChange) (domain.AccountPrompt, error) {
	var out domain.AccountPrompt
	err := s.write(ctx, func(w *Write) error {
		if _, err := touchAccount(ctx, w, accountID); err != nil {
			return err
		}
		g, err := scanGlobalPrompt(w.QueryRow(ctx, `SELECT `+globalPromptCols+` FROM global_prompts WHERE prompt_type = $1`, promptType))
		if errors.Is(err, pgx.ErrNoRows) {
			return PromptTypeNotFound(promptType)
		}
		if err != nil {
			return err
		}
		stored, err := scanAccountPrompt(w.QueryRow(ctx, `SELECT `+accountPromptCols+` FROM account_prompts WHERE account_id = $1 AND prompt_type = $2`, accountID, promptType))
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
			w.Unchanged(accountID, "accounts/"+accountID+"/prompts/"+promptType)
			return nil
		}
		out, err = scanAccountPrompt(w.QueryRow(ctx, `
			INSERT INTO account_prompts (`+accountPromptCols+`) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (account_id, prompt_type) DO UPDATE SET prompt_value = EXCLUDED.prompt_value,
				default_prompt = EXCLUDED.default_prompt, is_customized = EXCLUDED.is_customized,
				revision = EXCLUDED.revision, updated_at = now()
			RETURNING `+accountPromptCols, accountID, promptType, next.PromptValue, next.DefaultPrompt, next.IsCustomized, w.Rev))
		if err != nil {
			return err
		}
		old := g.Text
		if cur != nil {
			old = cur.PromptValue
		}
		if err := appendHistory(ctx, w, &accountID, promptType, action, old, out.PromptValue); err != nil {
			return err
		}
		w.Record(ChangeAccount, accountID, "accounts/"+accountID+"/prompts/"+promptType, cur, out)
		return nil
	})
	return out, err
}

// BulkResetPrompts resets the selected account prompts that differ from
// the live global text (customized, or left on an old global), recording
// each in the history, as one write. Empty filters select everything they
// could; the caller decides whether that is allowed.
func (s *Store) BulkResetPrompts(ctx context.Context, accountIDs, promptTypes []string) (int, error) {
	var n int
	actor := audit.From(ctx).Actor
	err := s.write(ctx, func(w *Write) error {
		var unknown string
		err := w.QueryRow(ctx, `SELECT t FROM unnest($1::text[]) t WHERE NOT EXISTS (SELECT 1 FROM global_prompts WHERE prompt_type = t) LIMIT 1`,
			nonNil(promptTypes)).Scan(&unknown)
		if err == nil {
			return PromptTypeNotFound(unknown)
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var accounts []string
		err = w.QueryRow(ctx, `
			WITH old AS (
				SELECT ap.account_id, ap.prompt_type, ap.prompt_value
				FROM account_prompts ap JOIN global_prompts g USING (prompt_type)
				WHERE (cardinality($1::text[]) = 0 OR ap.account_id = ANY($1))
					AND (cardinality($2::text[]) = 0 OR ap.prompt_type = ANY($2))
					AND (ap.is_customized OR ap.prompt_value <> g.text)
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
			SELECT count(*), COALESCE(array_agg(DISTINCT account_id), '{}') FROM reset`,
			nonNil(accountIDs), nonNil(promptTypes), w.Rev, actor.Name, actor.Role.String()).Scan(&n, &accounts)
		if err != nil {
			return err
		}
		if n == 0 {
			w.Unchanged("", "account_prompts")
			return nil
		}
		account := "" // several accounts: caches drop them all
		if len(accounts) == 1 {
			account = accounts[0]
		}
		w.Record(ChangeAccount, account, "account_prompts", nil, map[string]any{
			"account_ids": nonNil(accountIDs), "prompt_types": nonNil(promptTypes), "reset_count": n})
		return nil
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
