package store_test

import (
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
