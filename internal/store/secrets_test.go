package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/igny8/aiconfig/internal/domain"
	"github.com/igny8/aiconfig/internal/pgtest"
	"github.com/igny8/aiconfig/internal/resolve"
	"github.com/igny8/aiconfig/internal/secret"
	"github.com/igny8/aiconfig/internal/store"
)

const plainKey = "sk-legacy-PLAINTEXT-0000-1111"

// setKey stores a sealed key through the same path UpdateGlobalSettings uses.
func setKey(t *testing.T, st *store.Store, keys *secret.Keyring, integ domain.Integration, key string) {
	t.Helper()
	sealed, err := keys.Seal(key, domain.KeyAAD(integ))
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.UpdateGlobal(context.Background(), nil, func(cur domain.GlobalSettings, models []domain.Model) (domain.GlobalSettings, error) {
		next, _, err := resolve.ApplyGlobalPatch(cur, resolve.GlobalPatch{Defaults: map[domain.Integration]resolve.DefaultsPatch{
			integ: {APIKey: &domain.SealedKey{Sealed: sealed, Hint: secret.Hint(key)}},
		}}, domain.NewCatalog(models))
		return next, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump returns every text value of the settings table, as a reader of the
// database would see it.
func dump(t *testing.T, url string) string {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var out string
	if err := conn.QueryRow(context.Background(), `SELECT string_agg(d::text, E'\n') FROM global_integration_defaults d`).Scan(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLegacyPlaintextKeysAreSealedByMigration(t *testing.T) {
	// A database at version 2, before keys were sealed, holding a plaintext key.
	url := pgtest.EmptyDatabase(t)
	if err := store.MigrateTo(url, 2); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `UPDATE global_integration_defaults SET api_key = $1 WHERE integration = 'openai'`, plainKey); err != nil {
		t.Fatal(err)
	}
	// Without a secret key the upgrade refuses and says why.
	err = store.MigrateUp(url, nil)
	if err == nil || !strings.Contains(err.Error(), "AICONFIG_SECRET_KEY") || strings.Contains(err.Error(), plainKey) {
		t.Fatalf("upgrade without a key: %v", err)
	}
	keys, _ := secret.NewKeyring(secret.NewKey())
	if err := store.MigrateUp(url, keys); err != nil {
		t.Fatal(err)
	}
	if d := dump(t, url); strings.Contains(d, plainKey) || !strings.Contains(d, "aicenc:v1:") {
		t.Fatalf("after upgrade the table reads:\n%s", d)
	}
	var cols int
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM information_schema.columns
		WHERE table_name IN ('global_integration_defaults', 'integration_overrides') AND column_name = 'api_key'`).Scan(&cols); err != nil || cols != 0 {
		t.Fatalf("plaintext api_key columns left: %d (%v)", cols, err)
	}
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g, err := st.GetGlobal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got, err := keys.Open(g.Defaults[domain.OpenAI].APIKey.Sealed, domain.KeyAAD(domain.OpenAI))
	if err != nil || got != plainKey || g.Defaults[domain.OpenAI].APIKey.Hint != "…1111" {
		t.Fatalf("sealed legacy key opens to %q, %v", got, err)
	}
}

func TestKeyRotationAndWrongKeys(t *testing.T) {
	ctx := context.Background()
	st, url := openStore(t)
	oldKey, newKey := secret.NewKey(), secret.NewKey()
	oldRing, _ := secret.NewKeyring(oldKey)
	setKey(t, st, oldRing, domain.OpenAI, "sk-openai-ROTATE-aaaa-1111")
	setKey(t, st, oldRing, domain.DallE, "sk-dalle-ROTATE-bbbb-2222")
	if d := dump(t, url); strings.Contains(d, "ROTATE") {
		t.Fatalf("plaintext in the table:\n%s", d)
	}
	if err := st.CheckKeys(ctx, oldRing); err != nil {
		t.Fatal(err)
	}
	// Missing or wrong key: a clear error at start, never an empty key.
	if err := st.CheckKeys(ctx, nil); err == nil || !strings.Contains(err.Error(), "AICONFIG_SECRET_KEY") {
		t.Fatalf("no key configured: %v", err)
	}
	wrong, _ := secret.NewKeyring(secret.NewKey())
	if err := st.CheckKeys(ctx, wrong); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Fatalf("wrong key: %v", err)
	}

	both, _ := secret.NewKeyring(newKey, oldKey)
	n, err := st.RotateKeys(ctx, both)
	if err != nil || n != 2 {
		t.Fatalf("rotate = %d, %v", n, err)
	}
	newOnly, _ := secret.NewKeyring(newKey)
	if err := st.CheckKeys(ctx, newOnly); err != nil {
		t.Fatalf("after rotation the new key alone must open every key: %v", err)
	}
	d := dump(t, url)
	if strings.Contains(d, ":"+oldRing.ActiveID()+":") || strings.Count(d, ":"+newOnly.ActiveID()+":") != 2 {
		t.Fatalf("old-key ciphertexts remain after rotation:\n%s", d)
	}
	g, _ := st.GetGlobal(ctx)
	if k, err := newOnly.Open(g.Defaults[domain.DallE].APIKey.Sealed, domain.KeyAAD(domain.DallE)); err != nil || k != "sk-dalle-ROTATE-bbbb-2222" {
		t.Fatalf("rotated dalle key = %q, %v", k, err)
	}
}
