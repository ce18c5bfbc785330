// Package pgtest gives each test a fresh PostgreSQL database cloned from a
// migrated template (pgtestdb), so tests run against the real schema and
// never share state.
package pgtest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for pgtestdb
	"github.com/peterldowns/pgtestdb"
	"github.com/peterldowns/pgtestdb/migrators/common"

	"github.com/igny8/aiconfig/internal/store"
	"github.com/igny8/aiconfig/migrations"
)

// ServerURLEnv names the admin URL of the test server; `make test` sets it
// from scripts/pg.sh, which finds or starts PostgreSQL.
const ServerURLEnv = "AICONFIG_TEST_DATABASE_URL"

// migrator applies the embedded migrations with the service's own code,
// and hashes them so the template is rebuilt whenever they change.
type migrator struct{}

func (migrator) Hash() (string, error) { return common.HashDirs(migrations.FS, "*.sql", ".") }

func (migrator) Migrate(_ context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	return store.MigrateUp(conf.URL(), nil)
}

// Config is the pgtestdb configuration for the test server.
func Config(t testing.TB) pgtestdb.Config {
	raw := os.Getenv(ServerURLEnv)
	if raw == "" {
		raw = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: %v", ServerURLEnv, err)
	}
	pw, _ := u.User.Password()
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       u.Hostname(),
		Port:       u.Port(),
		User:       u.User.Username(),
		Password:   pw,
		Database:   strings.TrimPrefix(u.Path, "/"),
		Options:    u.RawQuery,
		// A test that stops mid-way may leave pool connections behind.
		ForceTerminateConnections: true,
	}
}

// NewDatabase returns the URL of a fresh migrated database, dropped when
// the test passes.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return pgtestdb.Custom(t, Config(t), migrator{}).URL()
}
