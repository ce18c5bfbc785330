package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/store"
)

// TestMigrationsRoundTrip: down then up again works, and a schema behind
// the binary is refused with MIGRATIONS_PENDING (what `serve` checks).
func TestMigrationsRoundTrip(t *testing.T) {
	ctx := context.Background()
	st, url := openStore(t)
	if err := st.CheckSchema(ctx); err != nil {
		t.Fatalf("migrated schema refused: %v", err)
	}
	for range store.ExpectedVersion() {
		if err := store.MigrateDown(url); err != nil {
			t.Fatal(err)
		}
	}
	var de *domain.Error
	if err := st.CheckSchema(ctx); !errors.As(err, &de) || de.Reason != domain.ReasonMigrationsPending {
		t.Fatalf("empty schema: err = %v, want MIGRATIONS_PENDING", err)
	}
	if err := store.MigrateUp(url, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.CheckSchema(ctx); err != nil {
		t.Fatalf("re-migrated schema refused: %v", err)
	}
	g, err := st.GetGlobal(ctx)
	if err != nil || g.Revision == 0 || len(g.Defaults) != 4 {
		t.Fatalf("seeded singleton after re-migration: %+v, %v", g, err)
	}
}

// TestSchemaInvariants: the constraints hold even for writes that bypass
// the service's validation.
func TestSchemaInvariants(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for name, sql := range map[string]string{
		"second singleton row":      `INSERT INTO global_settings (id, text_integration, image_integration, revision) VALUES (2, 'openai', 'dalle', 1)`,
		"override has no api key":   `SELECT api_key FROM integration_overrides`,
		"NaN temperature":           `UPDATE global_integration_defaults SET temperature = 'NaN' WHERE integration = 'openai'`,
		"image field on text":       `UPDATE global_integration_defaults SET image_size = '1x1' WHERE integration = 'openai'`,
		"unknown plan":              `INSERT INTO accounts (id, plan, revision, config_revision) VALUES ('x', 'enterprise', 1, 1)`,
		"default model not in list": `UPDATE global_integration_defaults SET model = 'gpt-9' WHERE integration = 'openai'`,
	} {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, sql); err == nil {
			t.Errorf("%s: accepted", name)
		}
		_ = tx.Rollback(ctx)
	}
}

func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, url
}

// TestIDChecks: migration 11's faster id checks accept and refuse exactly
// what the bounded regexes they replace did, for accounts and account items.
func TestIDChecks(t *testing.T) {
	ctx := context.Background()
	_, url := openStore(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	long := func(c byte, n int) string { return string(bytes.Repeat([]byte{c}, n)) }
	for _, c := range []struct {
		table, id string
	}{
		{"accounts", ""}, {"accounts", "a"}, {"accounts", "A.b_c:d@e-9"}, {"accounts", long('x', 128)}, {"accounts", long('x', 129)},
		{"accounts", "a/b"}, {"accounts", "a b"}, {"accounts", "é"}, {"accounts", "a\n"},
		{"account_items", ""}, {"account_items", "a"}, {"account_items", "9a_b-c"}, {"account_items", "_a"}, {"account_items", "-a"},
		{"account_items", "Ab"}, {"account_items", long('x', 64)}, {"account_items", long('x', 65)}, {"account_items", "a.b"},
	} {
		var old, cur bool
		re := `^[A-Za-z0-9._:@-]{1,128}$`
		if c.table == "account_items" {
			re = `^[a-z0-9][a-z0-9_-]{0,63}$`
		}
		if err := conn.QueryRow(ctx, `SELECT $1 ~ $2`, c.id, re).Scan(&old); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1`, c.table+"_id_check").Scan(new(string)); err != nil {
			t.Fatal(err)
		}
		q := `SELECT $1 ~ '^[A-Za-z0-9._:@-]+$' AND length($1) <= 128`
		if c.table == "account_items" {
			q = `SELECT $1 ~ '^[a-z0-9][a-z0-9_-]*$' AND length($1) <= 64`
		}
		if err := conn.QueryRow(ctx, q, c.id).Scan(&cur); err != nil {
			t.Fatal(err)
		}
		// And the table itself refuses or takes it.
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ins := `INSERT INTO accounts (id, name, plan, revision, config_revision) VALUES ($1, '', 'free', 1, 1)`
		args := []any{c.id}
		if c.table == "account_items" {
			if _, err := tx.Exec(ctx, `INSERT INTO accounts (id, name, plan, revision, config_revision) VALUES ('owner', '', 'free', 1, 1)`); err != nil {
				t.Fatal(err)
			}
			ins = `INSERT INTO account_items (account_id, kind, id, content, is_customized, revision) VALUES ('owner', 'prompt', $1, '"x"', false, 1)`
		}
		_, insErr := tx.Exec(ctx, ins, args...)
		_ = tx.Rollback(ctx)
		if old != cur || (insErr == nil) != old {
			t.Errorf("%s id %q: old rule %v, new rule %v, insert error %v", c.table, c.id, old, cur, insErr)
		}
	}
}
