package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/store"
)

// TestPromptsMoveToItems: migration 9 moves prompts, their customizations
// and their history (ids included) into the item tables, and moving back
// returns them.
func TestPromptsMoveToItems(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	if err := store.MigrateTo(url, 8); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO accounts (id, plan, revision, config_revision) VALUES ('acct', 'starter', 100, 100)`)
	exec(`INSERT INTO account_prompts (account_id, prompt_type, prompt_value, default_prompt, is_customized, revision)
		SELECT 'acct', 'ideas', 'Mine: {{clusters}}', text, true, 101 FROM global_prompts WHERE prompt_type = 'ideas'`)
	exec(`INSERT INTO prompt_history (account_id, prompt_type, action, actor_name, actor_role, old_text, new_text, revision) VALUES
		(NULL, 'ideas', 'upsert_global', 'ops', 'admin', '', 'New type', 99),
		('acct', 'ideas', 'customize', 'web', 'account', 'Seed', 'Mine: {{clusters}}', 101)`)
	// To 9 exactly, so that moving back below is migration 9's down.
	if err := store.MigrateTo(url, 9); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := st.LoadAccountData(ctx, "acct")
	if err != nil {
		t.Fatal(err)
	}
	it := d.Items[domain.ItemKey{Kind: domain.ItemPrompt, ID: "ideas"}]
	g, err := st.GetGlobalItem(ctx, domain.ItemPrompt, "ideas")
	if err != nil {
		t.Fatal(err)
	}
	if it.Content != domain.PromptText("Mine: {{clusters}}") || !it.IsCustomized || !it.Default.Equal(g.Content) || it.Revision != 101 {
		t.Fatalf("moved customization: %+v", it)
	}
	if vars := domain.GlobalPromptOf(g).Variables; len(vars) != 1 || vars[0] != "clusters" {
		t.Fatalf("moved variables: %v", vars)
	}
	h, err := st.ListHistory(ctx, "acct", domain.ItemPrompt, "ideas", 0, 10)
	if err != nil || len(h) != 1 || h[0].ID != 2 || h[0].Old != domain.PromptText("Seed") || h[0].ActorName != "web" {
		t.Fatalf("moved history: %+v, %v", h, err)
	}
	gh, err := st.ListHistory(ctx, "", domain.ItemPrompt, "", 0, 10)
	if err != nil || len(gh) != 1 || gh[0].Old != nil || gh[0].New != domain.PromptText("New type") {
		t.Fatalf("moved global history: %+v, %v", gh, err)
	}

	if err := store.MigrateDown(url); err != nil {
		t.Fatal(err)
	}
	var value string
	var n int
	if err := conn.QueryRow(ctx, `SELECT prompt_value, (SELECT count(*) FROM prompt_history) FROM account_prompts WHERE account_id = 'acct'`).Scan(&value, &n); err != nil {
		t.Fatal(err)
	}
	if value != "Mine: {{clusters}}" || n != 2 {
		t.Fatalf("moved back: %q, %d history rows", value, n)
	}
}

// TestItemInvariants: the item tables' constraints hold for writes that
// bypass the service.
func TestItemInvariants(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO accounts (id, plan, revision, config_revision) VALUES ('a', 'starter', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	for name, sql := range map[string]string{
		"customization without its global": `INSERT INTO account_items (account_id, kind, id, content, default_content, is_customized, revision)
			VALUES ('a', 'author_profile', 'nope', '{}', '{}', true, 1)`,
		"own item marked customized": `INSERT INTO account_items (account_id, kind, id, content, default_content, is_customized, revision)
			VALUES ('a', 'author_profile', 'mine', '{}', NULL, true, 1)`,
		"uncustomized customization that differs": `INSERT INTO account_items (account_id, kind, id, content, default_content, is_customized, revision)
			VALUES ('a', 'prompt', 'ideas', '"x"', '"y"', false, 1)`,
		"unknown kind":           `INSERT INTO global_items (kind, id, content, revision) VALUES ('poem', 'x', '{}', 1)`,
		"bad id":                 `INSERT INTO global_items (kind, id, content, revision) VALUES ('author_profile', 'Bad Id', '{}', 1)`,
		"history is append-only": `UPDATE item_history SET action = 'reset'`,
		"history deletes":        `DELETE FROM item_history`,
		"limit out of range":     `UPDATE plan_limits SET max_items = -1`,
		"limit for free":         `INSERT INTO plan_limits (plan, kind, max_items, revision) VALUES ('free', 'author_profile', 1, 1)`,
		"default not a global":   `UPDATE global_item_defaults SET item_id = 'nope'`,
	} {
		if name == "history is append-only" || name == "history deletes" {
			if _, err := conn.Exec(ctx, `INSERT INTO item_history (kind, account_id, item_id, action, actor_name, actor_role, new_content, revision)
				VALUES ('prompt', 'a', 'ideas', 'customize', 'x', 'admin', '"t"', 1)`); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Refused by a constraint (class 23), a trigger (P0) or a value the
		// column's type rejects (22); a syntax or name error would be this
		// test's own mistake.
		var pe *pgconn.PgError
		if _, err := tx.Exec(ctx, sql); !errors.As(err, &pe) || !slices.Contains([]string{"22", "23", "P0"}, pe.Code[:2]) {
			t.Errorf("%s: not refused by the schema: %v", name, err)
		}
		_ = tx.Rollback(ctx)
	}
}
